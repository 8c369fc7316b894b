"""The OpenAPI document is the contract: schemathesis (its CLI) calls every operation of the
served document with generated input and a valid admin key, on both databases, and no answer
may be a server error or break its own declared schema, content type or status codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from keys import server_keys

CHECKS = ("not_a_server_error,response_schema_conformance,content_type_conformance,"
          "status_code_conformance")


def test_every_operation_keeps_its_contract(server, tmp_path):
    keys = server_keys(server.env)
    key, _ = keys.create("schemathesis", "admin", "tests")
    keys.engine.dispose()
    st = Path(sys.executable).with_name("st")
    run = subprocess.run(
        [str(st), "run", f"{server.base_url}/openapi.json", "--checks", CHECKS,
         "-H", f"Authorization: Bearer {key}", "--max-examples", "2", "--seed", "20261122",
         "--phases", "examples,fuzzing", "--no-color"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
