"""Run as a subprocess by test_runner_crash.py: a runner that dies (os._exit, no cleanup)
inside the transaction of its Nth batch, after writing the batch's rows."""

from __future__ import annotations

import os
import sys

from shipflow.config import Settings
from shipflow.projections.engine.read_models import ReadModels
from shipflow.projections.search import SearchProjection
from shipflow.services.shipments import ShipmentService


class DiesMidBatch(SearchProjection):
    def __init__(self, die_in_batch: int) -> None:
        super().__init__()
        self.batches = 0
        self.die_in_batch = die_in_batch

    def write(self, conn, slot, changes):  # noqa: ANN001, ANN201
        super().write(conn, slot, changes)
        self.batches += 1
        if self.batches == self.die_in_batch:
            print("dying mid-batch", flush=True)
            os._exit(9)


if __name__ == "__main__":
    settings = Settings()
    service = ShipmentService.from_settings(settings)
    rm = ReadModels(settings, service.store, [DiesMidBatch(int(sys.argv[1]))])
    rm.runner(batch_size=int(sys.argv[2])).catch_up()
    print("finished without dying", flush=True)
