"""The DCSA OpenAPI specifications as JSON Schema validators.

The specifications (``dcsa_specs/``, copies of DCSA's own, see its README) are OpenAPI 3.0
documents; a component schema is validated with ``openapi-schema-validator``'s OAS 3.0
validator (JSON Schema draft 4 plus ``nullable``, formats such as ``date-time``, ``date`` and
``uuid`` checked). A refusal names the spec's own field path (``transportCall.modeOfTransport``),
the JSON Schema keyword that failed (``required``, ``enum``, ``maxLength``, ...) and the
message, so a sender can find the field in the specification.

Parsing a specification takes a moment (the booking one is 7,000 lines), so each is read
once per process, on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator, oas30_format_checker

TNT = "TNT_v2.2.0.yaml"
BKG = "BKG_v2.0.5.yaml"
EBL = "EBL_v3.0.4.yaml"
SPECS = (TNT, BKG, EBL)


@dataclass(frozen=True)
class SchemaProblem:
    """One way an instance breaks the schema: where (the spec's field path, dotted, list
    items by index), which keyword failed, and why."""

    path: str
    keyword: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(the document)'}: {self.message}"


def spec_path(name: str) -> Path:
    """Where the packaged copy of a specification is."""
    return Path(str(resources.files("shipflow.integrations") / "dcsa_specs" / name))


@cache
def load_spec(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster
    with path.open("rb") as f:
        return yaml.load(f, Loader=loader)  # noqa: S506 - a safe loader


class SchemaValidator:
    """Validates instances against one component schema of one specification."""

    def __init__(self, spec: dict[str, Any], schema_name: str) -> None:
        if schema_name not in spec["components"]["schemas"]:
            raise KeyError(f"the specification has no schema {schema_name!r}")
        self.schema_name = schema_name
        root = {"components": spec["components"],
                "$ref": f"#/components/schemas/{schema_name}"}
        self._validator = OAS30Validator(root, format_checker=oas30_format_checker)

    def problems(self, instance: Any, limit: int = 20) -> list[SchemaProblem]:
        """Every problem (up to ``limit``), by field path; empty when the instance is valid."""
        found: dict[SchemaProblem, None] = {}  # a schema reached twice reports twice
        for error in sorted(self._validator.iter_errors(instance), key=_order):
            found.update(dict.fromkeys(_explain(error)))
            if len(found) >= limit:
                break
        return list(found)[:limit]

    def is_valid(self, instance: Any) -> bool:
        return bool(self._validator.is_valid(instance))


def _order(error: ValidationError) -> tuple[str, str]:
    return (".".join(str(p) for p in error.absolute_path), error.validator or "")


def _explain(error: ValidationError) -> list[SchemaProblem]:
    where = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [p for p in error.validator_value if p not in error.instance]
        return [SchemaProblem(f"{where}.{p}" if where else p, "required",
                              f"'{p}' is required") for p in missing]
    if error.validator in ("anyOf", "oneOf") and error.context:
        # The alternative that got furthest (deepest path) says most about what is wrong.
        best = max(error.context, key=lambda e: len(e.absolute_path))
        return _explain(best)
    message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
    return [SchemaProblem(where, str(error.validator), message)]


@cache
def validator(spec: str, schema_name: str, path: Path | None = None) -> SchemaValidator:
    """The validator of ``schema_name`` in a packaged specification (or the file at
    ``path``, e.g. the shared copy the conformance tests read)."""
    return SchemaValidator(load_spec(path or spec_path(spec)), schema_name)
