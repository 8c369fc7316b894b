"""The write side: aggregates, events, value objects and review rules.

Pure Python: nothing here knows about HTTP or SQL.
"""
