"""Application services: one per aggregate (``shipments.py``, ``accounts.py``), sharing one
commit loop (``commit.py``: idempotency, expected version, one retry, one save) and the
idempotency records (``idempotency.py``). Dependencies are passed in; nothing here knows
HTTP."""
