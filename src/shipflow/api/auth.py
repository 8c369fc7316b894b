"""Who is calling: an API key (``Authorization: Bearer sfk_…`` or ``X-API-Key``) names its
owner, role and, for a customer key, the one customer it may see.

Missing or bad key: 401; a role that may not do this: 403; another customer's data, for a
customer key: 404 (as if it did not exist). Roles:

| role | may |
|---|---|
| admin | everything |
| manager | what CS may, and approve back-dated / advance B/Ls |
| cs | shipment commands, reads, reports, feeds |
| tracking | milestones, rollovers, exceptions, notices, reads |
| finance | charges, accounts receivable, reads |
| integration | booking requests, confirmations, SI, milestones, feeds, webhooks, reads |
| sales | reads |
| auditor | read-only, all customers: reads, audit checkpoints, verification, audit packages |
| monitoring | `/metrics` (and `/health`) only: a Prometheus scraper |
| customer | reads its customer view: shipments, B/L drafts, SLA state, statements; verifies own |
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from shipflow.api.errors import refuse
from shipflow.auth.keys import Principal

# The auditor reads everything and changes nothing: it is in no role set that writes.
STAFF = frozenset({"admin", "manager", "cs", "tracking", "finance", "integration", "sales",
                   "auditor"})
OPS = frozenset({"admin", "manager", "cs"})
FEEDS = OPS | {"integration"}
TRACKING = FEEDS | {"tracking"}
MONEY = OPS | {"finance"}
FINANCE = frozenset({"admin", "finance"})
ANYONE = STAFF | {"customer"}
#: Who may export the audit evidence: checkpoints, proofs, packages.
AUDIT = frozenset({"admin", "manager", "auditor"})

PUBLIC_PATHS = frozenset({"/health"})


def authenticate(
    request: Request,
    authorization: Annotated[str | None, Header(
        description="`Bearer sfk_…`: an API key (see `shipflow keys create`)")] = None,
    x_api_key: Annotated[str | None, Header(description="the API key, instead of "
                                                        "Authorization")] = None,
) -> None:
    """Authenticate every request (but /health); the principal goes to request.state."""
    if request.url.path in PUBLIC_PATHS:
        return
    key = x_api_key
    if authorization and authorization[:7].lower() == "bearer ":
        key = authorization[7:].strip()
    if not key:
        raise refuse(401, "api_key_required", "Authentication required",
                     "send an API key: Authorization: Bearer sfk_…", "Authorization",
                     headers={"WWW-Authenticate": "Bearer"})
    principal = request.app.state.keys.authenticate(key)
    if principal is None:
        raise refuse(401, "api_key_invalid", "Authentication failed",
                     "the API key is unknown or revoked", "Authorization",
                     headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    request.state.principal = principal


def principal(request: Request) -> Principal:
    return request.state.principal


Caller = Annotated[Principal, Depends(principal)]


def allow(roles: frozenset[str]):  # noqa: ANN201 - a FastAPI dependency
    """Only these roles may call the endpoint."""

    def check(caller: Caller) -> Principal:
        if caller.role not in roles:
            raise refuse(403, "role_forbidden", "Not permitted",
                         f"role {caller.role} may not do this (allowed: "
                         f"{', '.join(sorted(roles))})")
        return caller

    return Depends(check)


def scope_customer(caller: Principal, customer_id: str | None) -> str | None:
    """The customer a query is limited to: a customer key's own, whatever was asked."""
    return caller.customer_id if caller.is_customer else customer_id


def visible(caller: Principal, customer_id: str | None) -> bool:
    """May the caller see data of this customer?"""
    return not caller.is_customer or caller.customer_id == customer_id


def require_visible(caller: Principal, customer_id: str | None, rule: str, detail: str) -> None:
    """404 (not 403) for another customer's data: a customer key learns nothing of it."""
    if not visible(caller, customer_id):
        from shipflow.events.common import NotFound

        raise NotFound(rule, detail)
