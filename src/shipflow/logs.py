"""Logging for ``shipflow serve`` and ``shipflow worker``: JSON lines (one object a line, for
a log shipper) or plain text for a person at a terminal (``SHIPFLOW_LOG_FORMAT``).

Every line carries the time, level, logger and message; access lines (``shipflow.access``)
add the request id, route, status, duration and API key id, so a line leads to the events
whose correlation id is the same request id.
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def formatter(fmt: str = "json") -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                             rename_fields={"asctime": "time", "levelname": "level",
                                            "name": "logger"}, json_ensure_ascii=False)
    return logging.Formatter(TEXT)


def configure(fmt: str = "json", level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):  # uvicorn's own lines through the same handler
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
