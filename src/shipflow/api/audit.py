"""Audit evidence over HTTP: checkpoints of the log and their proofs, verification of a
shipment, its audit package, and what changed between two moments of a shipment or a
statement of account (docs/audit.md).

Exporting evidence (checkpoints, proofs, packages) needs role admin, manager or auditor; a
customer key may verify its own shipments and read the changes of its own statement."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic_core import to_jsonable_python

from shipflow.api.auth import AUDIT, STAFF, Caller, allow, require_visible
from shipflow.api.deps import Accounts, ReadSide, Service, own_shipment
from shipflow.api.errors import ERRORS, refuse
from shipflow.api.shipment_reads import shipment_view
from shipflow.api.sla import SlaTimerOut
from shipflow.audit.changes import RangeError, changes, parse_moment, version_at
from shipflow.audit.raw import stream_rows
from shipflow.audit.service import Audit
from shipflow.audit.signing import SigningKeyInvalid, SigningKeyMissing
from shipflow.projections import bl_draft, customer_view
from shipflow.projections.statements.projection import StatementProjection

router = APIRouter(tags=["audit"], responses=ERRORS)

_NOT_DIFFED = {"version", "modified_at", "charges"}  # every event moves the first two
MAX_INT, MAX_POSITION = 2**31 - 1, 2**63 - 1  # the columns' ranges


def audit(request: Request) -> Audit:
    """The process's audit (made on first use from the app's store and database)."""
    state = request.app.state
    if getattr(state, "audit", None) is None:
        state.audit = Audit(state.settings, state.service.store, state.read_models.engine)
    return state.audit


AuditDep = Annotated[Audit, Depends(audit)]


# --- checkpoints and proofs ----------------------------------------------------------------


@router.get("/audit/checkpoints", dependencies=[allow(AUDIT)],
            summary="Every signed checkpoint of the log (export them: keep copies outside)")
def list_checkpoints(a: AuditDep, since: Annotated[int, Query(
        ge=0, le=MAX_INT, description="only checkpoints numbered above this")] = 0
                     ) -> dict[str, Any]:
    return a.checkpoints(since)


@router.post("/audit/checkpoints", dependencies=[allow(AUDIT)], status_code=201,
             summary="Sign a checkpoint of the log now (the latest, if nothing is new)")
def sign_checkpoint(a: AuditDep) -> dict[str, Any]:
    try:
        cp = a.checkpoint()
    except (SigningKeyMissing, SigningKeyInvalid) as e:
        raise refuse(503, "audit_signing_key_missing", "No signing key", str(e)) from None
    if cp is None:
        raise refuse(409, "log_empty", "Nothing to sign", "the event log is empty")
    return cp


def _checkpoint(a: Audit, number: int, field: str) -> dict[str, Any]:
    found = [cp for cp in a.checkpoints(number - 1)["checkpoints"] if cp["number"] == number]
    if not found:
        raise refuse(404, "checkpoint_not_found", "No such checkpoint",
                     f"{field}: there is no checkpoint {number}", field)
    return found[0]


@router.get("/audit/checkpoints/{number}", dependencies=[allow(AUDIT)],
            summary="One checkpoint")
def get_checkpoint(a: AuditDep, number: Annotated[int, Path(ge=1, le=MAX_INT)]
                   ) -> dict[str, Any]:
    return _checkpoint(a, number, "number")


@router.get("/audit/consistency", dependencies=[allow(AUDIT)],
            summary="Proof that checkpoint `to` extends checkpoint `from` (RFC 9162 §2.1.4)")
def consistency(a: AuditDep, from_: Annotated[int, Query(alias="from", ge=1, le=MAX_INT)],
                to: Annotated[int, Query(ge=1, le=MAX_INT)]) -> dict[str, Any]:
    _checkpoint(a, from_, "from")
    _checkpoint(a, to, "to")
    if from_ > to:
        raise refuse(422, "from_after_to", "Bad range", "from: checkpoint from must not come "
                     "after checkpoint to", "from")
    from shipflow.audit.verify import consistency_proof

    return consistency_proof(a.engine, from_, to)


@router.get("/audit/inclusion", dependencies=[allow(AUDIT)],
            summary="Proof that the event at a log position is under a checkpoint")
def inclusion(a: AuditDep, position: Annotated[int, Query(ge=1, le=MAX_POSITION)],
              checkpoint: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None
              ) -> dict[str, Any]:
    from shipflow.audit.verify import inclusion_proof

    if checkpoint is not None:
        _checkpoint(a, checkpoint, "checkpoint")
    proof = inclusion_proof(a.engine, position, checkpoint)
    if proof is None:
        raise refuse(404, "position_not_checkpointed", "Not under a checkpoint",
                     f"position: no event at position {position} is under "
                     f"{'checkpoint ' + str(checkpoint) if checkpoint else 'a checkpoint'} "
                     "yet", "position")
    return proof


# --- one shipment --------------------------------------------------------------------------


def _shipment_rows(a: Audit, shipment_id: UUID) -> list[dict[str, Any]]:
    rows = stream_rows(a.store, shipment_id)
    if not rows or not rows[0]["topic"].endswith(":BookingRequested"):
        raise refuse(404, "shipment_not_found", "Not found", f"no shipment {shipment_id}")
    return rows


@router.get("/shipments/{shipment_id}/audit/verify",
            dependencies=[allow(AUDIT | {"customer"})],
            summary="Recompute the shipment's hash chain and its inclusion under the latest "
                    "checkpoint")
def verify_shipment(shipment_id: UUID, a: AuditDep, svc: Service,
                    caller: Caller) -> dict[str, Any]:
    _shipment_rows(a, shipment_id)
    if caller.is_customer:
        own_shipment(svc, caller, shipment_id)
    return {"shipment_id": str(shipment_id), **a.verify(shipment_id)}


@router.get("/shipments/{shipment_id}/audit-package", dependencies=[allow(AUDIT)],
            response_class=Response, responses={200: {"content": {"application/zip": {}}}},
            summary="The shipment's audit package (zip), verifiable offline")
def audit_package(shipment_id: UUID, a: AuditDep, svc: Service) -> Response:
    _shipment_rows(a, shipment_id)
    view = bl_draft.as_of(svc.history(shipment_id))
    versions = [{"shipment_id": str(shipment_id), **v.as_dict()}
                for v in (view.versions if view else ())]
    body = a.package(shipment_id, versions, datetime.now(UTC))
    return Response(body, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="audit-{shipment_id}.zip"'})


def _range(events: list[Any], from_: str | None, to: str | None) -> tuple[int, int]:
    now = datetime.now(UTC)
    try:
        start = version_at(events, parse_moment(from_, "from"), "from", now) if from_ else 1
        end = (version_at(events, parse_moment(to, "to"), "to", now) if to
               else len(events))
    except RangeError as e:
        raise refuse(422, e.rule, "Outside the history", e.detail, e.field) from None
    if start > end:
        raise refuse(422, "from_after_to", "Bad range", "from: the first moment must not "
                     "come after the second", "from")
    return start, end


def _facts(a: Audit, stream: UUID) -> dict[int, dict[str, Any]]:
    """Where each event sits in the log and its hash, to name it in the evidence."""
    return {r["originator_version"]: {"position": r["position"],
                                      "hash": (r["state"].get("_chain") or {}).get("hash")}
            for r in stream_rows(a.store, stream)}


Moment = Annotated[str | None, Query(max_length=64, description=(
    "a version number, or an ISO 8601 moment with its offset (by recorded time)"))]


@router.get("/shipments/{shipment_id}/changes", dependencies=[allow(STAFF)],
            summary="What changed between two moments or versions, and which events did it")
def shipment_changes(shipment_id: UUID, svc: Service, rm: ReadSide, a: AuditDep,
                     from_: Annotated[str | None, Query(alias="from", max_length=64)] = None,
                     to: Moment = None) -> dict[str, Any]:
    events = svc.history(shipment_id)
    start, end = _range(events, from_, to)
    sla, bl = rm.get("sla"), bl_draft.BlDraftProjection()

    def step(folded: Any, event: Any) -> Any:
        shipment, s, b = folded or (None, None, None)
        shipment = event.mutate(shipment)
        return shipment, sla.evolve(s, event, shipment), bl.evolve(b, event, shipment)

    def state(f: Any) -> Any:
        view = to_jsonable_python(shipment_view(f[0]))
        return {k: v for k, v in view.items() if k not in _NOT_DIFFED}

    sections = {
        "state": state,
        "charges": lambda f: to_jsonable_python(f[0].charges),
        "sla_timers": lambda f: {t.key: to_jsonable_python(_timer(t)) for t in sorted(
            f[1].timers if f[1] else (), key=lambda t: (t.due_at, t.key))},
        "bl_draft": lambda f: f[2].document if f[2] else None,
    }
    out = changes(events, start, end, step, sections, _facts(a, shipment_id))
    return {"shipment_id": str(shipment_id), "from": _end(events, start),
            "to": _end(events, end), **out}


def _timer(t: Any) -> dict[str, Any]:
    """A timer as ``GET /shipments/{id}/sla`` shows it."""
    return SlaTimerOut(**{f: getattr(t, f) for f in SlaTimerOut.model_fields}).model_dump()


def _end(events: list[Any], version: int) -> dict[str, Any]:
    return {"version": version, "recorded_at": events[version - 1].timestamp}


def _as_customer(out: dict[str, Any]) -> dict[str, Any]:
    def who(d: dict[str, Any]) -> dict[str, Any]:
        return {**{k: v for k, v in d.items() if k != "role"},
                "actor": customer_view.actor_label(d.get("role"))}

    return {"sections": {name: [{**c, "caused_by": [who(w) for w in c["caused_by"]]}
                                for c in section]
                         for name, section in out["sections"].items()},
            "events": [who(w) for w in out["events"]]}


@router.get("/accounts/{customer_id}/statement/changes",
            dependencies=[allow(STAFF | {"customer"})],
            summary="What changed in a statement of account between two moments or versions")
def statement_changes(customer_id: str, svc: Accounts, caller: Caller, a: AuditDep,
                      from_: Annotated[str | None, Query(alias="from", max_length=64)] = None,
                      to: Moment = None,
                      statement_date: Annotated[date | None, Query(description=(
                          "the statement compared (default: the date of `to`)"))] = None,
                      period_from: Annotated[date | None, Query(description=(
                          "its period's first day (default: the 1st of that month)"))] = None,
                      currency: Annotated[str | None, Query(max_length=3)] = None
                      ) -> dict[str, Any]:
    require_visible(caller, customer_id, "account_not_found",
                    f"no account for customer {customer_id}")
    events = svc.history(customer_id)
    start, end = _range(events, from_, to)
    on = statement_date or events[end - 1].timestamp.date()
    first = period_from or on.replace(day=1)
    cur = currency.strip().upper() if currency else None
    projection = StatementProjection()

    def step(folded: Any, event: Any) -> Any:
        account, view = folded or (None, None)
        account = event.mutate(account)
        return account, projection.evolve(view, event, account)

    def statement(f: Any) -> Any:
        st = f[1].statement(first, on, cur, None)
        if caller.is_customer:
            st = customer_view.statement(st)
        return {k: v for k, v in to_jsonable_python(st).items() if k != "as_of"}

    out = changes(events, start, end, step, {"statement": statement},
                  _facts(a, events[0].originator_id))
    if caller.is_customer:  # who did it, as the customer view says it: the organisation
        out = _as_customer(out)
    return {"customer_id": customer_id, "statement_date": on, "period_from": first,
            "from": _end(events, start), "to": _end(events, end), **out}
