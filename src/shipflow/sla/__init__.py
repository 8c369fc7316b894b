"""Service-level timers (domain.md §2.4): business calendars per office, the timer rules and
their ``sla`` projection, and the ticker that records breaches. See ``docs/sla.md``.

Import from the submodules (``shipflow.sla.timers``, ``.config``, ``.calendar``, ``.ticker``);
this package module stays light so that importing the calendar does not load the store.
"""
