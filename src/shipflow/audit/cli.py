"""``shipflow audit``: verify, sign a checkpoint, export checkpoints, manage the signing key."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

app = typer.Typer(help="Audit evidence: hash chains, signed checkpoints (docs/audit.md)",
                  no_args_is_help=True)


@contextmanager
def _audit() -> Iterator[Any]:
    """The audit of the configured database, its connections closed after the command."""
    from shipflow.audit.service import Audit
    from shipflow.cli import _ready, _settings
    from shipflow.database import make_engine
    from shipflow.store import open_store

    settings = _settings()
    _ready(settings)
    store, engine = open_store(settings), make_engine(settings)
    try:
        yield Audit(settings, store, engine)
    finally:
        engine.dispose()
        store.close()


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"shipflow: {message}", err=True)
    raise typer.Exit(code)


@app.command("verify")
def verify(shipment: str = typer.Option(None, help="a shipment (or account, …) id"),
           all_: bool = typer.Option(False, "--all", help="the whole log"),
           as_json: bool = typer.Option(False, "--json", help="the full report as JSON")
           ) -> None:
    """Recompute hash chains and Merkle roots against the signed checkpoints: 'verified up
    to version N at position P, checkpoint C', or the first event that fails and how."""
    if bool(shipment) == all_:
        _fail("name one: --shipment ID or --all", 2)
    if shipment:
        try:
            stream = uuid.UUID(shipment)
        except ValueError:
            _fail(f"--shipment: {shipment!r} is not an id", 2)
        with _audit() as a:
            verdict = a.verify(stream)
        if not verdict["versions"]:
            _fail(f"--shipment: no stream {stream}", 2)
        print(json.dumps(verdict, indent=1, default=str) if as_json else verdict["summary"])
        raise typer.Exit(0 if verdict["verified"] else 1)
    with _audit() as a:
        report = a.verify_all()
    if as_json:
        print(json.dumps(report.__dict__, indent=1, default=str))
    else:
        print(f"{report.events} events in {report.streams} streams; "
              f"{report.checkpoints} checkpoint(s) recomputed from the events")
        if report.halted:
            print(f"the audit log halted at position {report.halted['position']}: "
                  f"{report.halted['reason']}")
        for p in report.problems:
            print(f"checkpoint {p['checkpoint']}: {p['detail']}")
        for stream, verdict in report.streams_failed.items():
            print(f"{stream}: {verdict['summary']}")
        print("verified" if report.verified else "NOT verified")
    raise typer.Exit(0 if report.verified else 1)


@app.command("checkpoint")
def checkpoint() -> None:
    """Fold the log into the tree and sign a checkpoint now."""
    from shipflow.audit.signing import SigningKeyInvalid, SigningKeyMissing

    try:
        with _audit() as a:
            cp = a.checkpoint()
    except (SigningKeyMissing, SigningKeyInvalid) as e:
        _fail(str(e), 2)
    if cp is None:
        _fail("the event log is empty: nothing to sign")
    print(json.dumps(cp, indent=1))


@app.command("export")
def export(since: int = typer.Option(0, help="only checkpoints numbered above this")) -> None:
    """Every checkpoint as JSON (what GET /audit/checkpoints answers): keep a copy."""
    with _audit() as a:
        json.dump(a.checkpoints(since), sys.stdout, indent=1)
    print()


@app.command("new-key")
def new_key() -> None:
    """Print a new Ed25519 private key for SHIPFLOW_AUDIT_SIGNING_KEY."""
    from shipflow.audit.signing import new_key as make

    print(make())


@app.command("public-key")
def public_key() -> None:
    """The public key checkpoints verify with: give it to auditors."""
    from shipflow.audit.signing import SigningKeyInvalid, SigningKeyMissing, load_signer
    from shipflow.cli import _settings

    try:
        print(load_signer(_settings()).public_key)
    except (SigningKeyMissing, SigningKeyInvalid) as e:
        _fail(str(e), 2)
