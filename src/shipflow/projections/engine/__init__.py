"""The machinery every view shares: what a projection is (``base.py``), the runner that keeps
views current (``runner.py``), slots and the position compare-and-set (``slots.py``), a view's
failures and skipped events (``failures.py``), and the read side as one object with status,
retries, skips and blue/green rebuilds (``read_models.py``)."""

# Every view module imports the engine: so the failure tables are on the metadata too.
from shipflow.projections.engine import failures as failures
