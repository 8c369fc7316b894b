"""Service-level timers (domain.md §2.4): business calendars per office, the timer rules and
their ``sla`` projection, its table, and the ticker that records breaches. See
``docs/sla.md``.

Import from the submodules (``.timers``, ``.config``, ``.calendar``, ``.ticker``, ``.tables``);
this package module stays light so that importing the calendar does not load the store.
"""
