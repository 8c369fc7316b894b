"""The machinery every view shares: what a projection is (``base.py``), the runner that keeps
views current (``runner.py``), slots and the position compare-and-set (``slots.py``), and the
read side as one object with status and blue/green rebuilds (``read_models.py``)."""
