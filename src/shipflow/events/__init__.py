"""The write side: aggregates, their events, value objects and rules — pure Python that knows
nothing of HTTP or SQL.

- ``shipment/``: the Shipment aggregate and everything it carries;
- ``account/``: the CustomerAccount aggregate (accounts receivable);
- ``common.py``: what both share (EventMeta, Money, codes, the DomainError family);
- ``topics.py``: the topics stored events name their classes by, old ones included;
- ``transcodings.py``: how value objects are stored inside events and snapshots;
- ``ports.py``: local time at a port.
"""
