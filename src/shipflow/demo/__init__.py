"""The demo set (``shipflow demo``): a lived-in two months of an export desk.

``planner.py`` plans each shipment's life from a scenario (``data.py``: customers, lanes,
twists); ``load.py`` runs the plans through the application service."""

from shipflow.demo.load import DEMO_BASE, load_demo

__all__ = ["DEMO_BASE", "load_demo"]
