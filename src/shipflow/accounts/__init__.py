"""Accounts receivable (domain.md §2.6): the CustomerAccount aggregate, its events, the
statement-of-account view, Excel export and the AR work queue. See docs/accounts.md."""
