"""Domain errors. Each names the rule it enforces so a client can act on it by name.

The API maps the classes to HTTP statuses; the domain only says what went wrong.
"""

from __future__ import annotations

from shipflow.events.values import ValueObject


class Violation(ValueObject):
    rule: str
    detail: str
    field: str | None = None


class DomainError(Exception):
    """A command was refused; nothing was recorded."""

    def __init__(self, rule: str, detail: str, field: str | None = None) -> None:
        super().__init__(f"{rule}: {detail}")
        self.rule = rule
        self.detail = detail
        self.field = field

    @property
    def violations(self) -> list[Violation]:
        return [Violation(rule=self.rule, detail=self.detail, field=self.field)]


class RulesBroken(DomainError):
    """The data breaks one or more review rules (domain.md §2.1)."""

    def __init__(self, violations: list[Violation]) -> None:
        names = ", ".join(v.rule for v in violations)
        super().__init__(violations[0].rule, f"the booking breaks: {names}", violations[0].field)
        self._violations = violations

    @property
    def violations(self) -> list[Violation]:
        return list(self._violations)


class InvalidTransition(DomainError):
    """The command makes no sense in the shipment's current state."""


class NotPermitted(DomainError):
    """The actor may not do this (e.g. an amendment approved by someone other than its CS)."""


class NotFound(DomainError):
    """No such shipment, amendment, exception or charge."""


class VersionConflict(DomainError):
    """The client's expected version is stale."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(
            "version_conflict",
            f"expected version {expected} but the shipment is at version {current}",
        )
        self.expected = expected
        self.current = current


class DuplicateEvent(InvalidTransition):
    """A fact from outside (a carrier's event id) that is recorded already."""

    def __init__(self, external_id: str) -> None:
        super().__init__("duplicate_event", f"event {external_id} is recorded already")
        self.external_id = external_id
