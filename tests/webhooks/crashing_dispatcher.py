"""Run as a subprocess by test_webhooks_crash.py: a dispatcher that dies (os._exit, no
cleanup) inside the transaction of its Nth batch, after writing the batch's deliveries."""

from __future__ import annotations

import os
import sys

from shipflow.config import Settings
from shipflow.database import make_engine
from shipflow.store import open_store
from shipflow.webhooks.dispatcher import Dispatcher


class DiesMidBatch(Dispatcher):
    def __init__(self, *args, die_in_batch: int, **kw) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kw)
        self.batches = 0
        self.die_in_batch = die_in_batch

    def write(self, conn, batch, now):  # noqa: ANN001, ANN201
        super().write(conn, batch, now)
        self.batches += 1
        if self.batches == self.die_in_batch:
            print(f"dying mid-batch with {len(batch.deliveries)} deliveries written", flush=True)
            os._exit(9)


if __name__ == "__main__":
    settings = Settings()
    store = open_store(settings)
    DiesMidBatch(store, make_engine(settings), batch_size=int(sys.argv[2]),
                 die_in_batch=int(sys.argv[1])).catch_up()
    print("finished without dying", flush=True)
