"""shipflow: an event-sourced shipment lifecycle service for freight forwarders."""

__version__ = "0.1.0"
