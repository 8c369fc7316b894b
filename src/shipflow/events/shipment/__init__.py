"""The Shipment stream: the aggregate (``aggregate.py`` on the typed ``state.py``), its events
(``events.py``), the booking order and the values it carries (``booking``, ``documents``,
``tracking``, ``charges``, ``records``), the review rules (``rules.py``), amendments and the
B/L document it implies (``transport_document.py``)."""
