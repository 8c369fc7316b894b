"""The official DCSA specifications the conformance tests validate against: the project's
shared copies (``../shared/standards/dcsa/``). Required in CI; skipped locally, with a
message, when ``../shared`` is absent (the same rule as PostgreSQL, see ``tests/pg.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pg import IN_CI
from shipflow.integrations.dcsa_schema import SchemaValidator, validator

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "standards" / "dcsa"


def shared_spec(name: str) -> Path:
    path = SHARED / name
    if path.exists():
        return path
    if IN_CI:
        pytest.fail(f"the DCSA specification {path} is missing, and CI requires it")
    pytest.skip(f"the DCSA specifications are not at {SHARED} (../shared is absent): "
                "conformance not checked here; CI requires them")


def shared_validator(spec: str, schema: str) -> SchemaValidator:
    return validator(spec, schema, shared_spec(spec))


def assert_valid(spec: str, schema: str, instance: Any, what: str = "") -> None:
    problems = shared_validator(spec, schema).problems(instance)
    assert not problems, f"{what or schema} breaks {spec}: " + "; ".join(map(str, problems))
