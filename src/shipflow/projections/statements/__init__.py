"""The ``statements`` view (accounts receivable, domain.md §2.6): each account's ledger and
documents (``projection.py`` folds, ``tables.py``, ``rows.py`` writes and reads), the
statement of account with aging (``statement.py``) and its Excel export (``excel.py``)."""
