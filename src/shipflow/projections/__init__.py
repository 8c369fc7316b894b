"""The read side: every view is a fold over the events (``engine/base.py``), kept current by
the runner (``engine/runner.py``) in tables it owns, rebuilt blue/green from the log.

- ``engine/``: the machinery (projection base, runner, slots and the position CAS, the
  read side as one object);
- ``search.py``, ``bl_draft.py``, ``sla/``, ``statements/``: the views, each with its tables;
- ``registry.py``: the list of views.
"""
