"""The CustomerAccount stream (accounts receivable, domain.md §2.6): the aggregate
(``aggregate.py`` and ``payments.py`` on the typed ``state.py``), its events, its values,
and the pure billing rules (``invoicing.py``)."""
