"""The ``shipflow`` command: serve the API, run workers, prepare the database, rebuild
views, load demo data."""

from __future__ import annotations

import getpass
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from shipflow.config import Settings, describe_error

app = typer.Typer(help="shipflow: event-sourced shipment lifecycle service",
                  no_args_is_help=True)
db = typer.Typer(help="Database preparation", no_args_is_help=True)
projections = typer.Typer(help="Read models (views) built from the events", no_args_is_help=True)
keys = typer.Typer(help="API keys (only a hash is stored; a key is shown once)",
                   no_args_is_help=True)
app.add_typer(db, name="db")
app.add_typer(projections, name="projections")
app.add_typer(keys, name="keys")
webhooks = typer.Typer(help="Webhook secrets' encryption keys (docs/webhooks.md)",
                       no_args_is_help=True)
app.add_typer(webhooks, name="webhooks")
console = Console()


def _add_audit() -> None:
    from shipflow.audit.cli import app as audit

    app.add_typer(audit, name="audit")


_add_audit()


# --- refusing in one line ----------------------------------------------------------------


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"shipflow: {message}", err=True)  # not rich: it would wrap the line
    raise typer.Exit(code)


def _settings() -> Settings:
    """The settings, or one line saying which one is refused and why (exit code 2)."""
    try:
        return Settings()
    except ValidationError as e:
        _fail(describe_error(e), code=2)


@contextmanager
def _reported(settings: Settings) -> Iterator[None]:
    """An unreachable or full database in one line naming it, instead of a traceback."""
    from shipflow.outages import STORAGE_FULL, DatabaseUnreachable, classify

    try:
        yield
    except DatabaseUnreachable as e:
        _fail(str(e))
    except Exception as e:
        outage = classify(e)
        if outage is None:
            raise
        what = "no room left" if outage.rule == STORAGE_FULL else "unavailable"
        _fail(f"{settings.database_label}: {what}: {outage.reason}")


def _ready(settings: Settings, migrated: bool = True) -> None:
    """Refuse to go on against a database that cannot be reached, or (``migrated``) one
    whose migrations are not the ones this shipflow knows."""
    from shipflow.migrations import migration_state
    from shipflow.outages import check_reachable

    with _reported(settings):
        check_reachable(settings)
        if not migrated:
            return
        state = migration_state(settings)
    if not state.current:
        _fail(f"{settings.database_label} is not prepared yet: run `shipflow db upgrade`")
    if not state.up_to_date:
        _fail(f"{settings.database_label} is at migration {', '.join(sorted(state.current))}"
              f", this shipflow at {', '.join(sorted(state.heads))}: run `shipflow db "
              "upgrade` (with the newest shipflow that uses this database)")


@app.command()
def serve(host: str = typer.Option(None, help="default: SHIPFLOW_HOST or 127.0.0.1"),
          port: int = typer.Option(None, help="default: SHIPFLOW_PORT or 8000")) -> None:
    """Serve the HTTP API (docs at /docs), with the projection and SLA workers in-process."""
    import uvicorn

    from shipflow import logs
    from shipflow.api.app import create_app

    settings = _settings()
    _require_secret_keys(settings)
    _require_signing_key(settings)
    _ready(settings, migrated=not settings.migrate_on_start)
    console.print(f"shipflow on {settings.database_label}")
    logs.configure(settings.log_format, settings.log_level)
    # Our access log (api/middleware.py) has the route, key id and request id; uvicorn's
    # would repeat it with the query string.
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port,
                access_log=False, log_config=None)


@app.command()
def worker() -> None:
    """Run the projection runner, the SLA ticker and the webhook dispatcher and sender alone
    (no API), until interrupted."""
    from shipflow import logs
    from shipflow.projections.engine.read_models import ReadModels
    from shipflow.services.shipments import ShipmentService
    from shipflow.workers import Workers

    settings = _settings()
    _require_secret_keys(settings)
    _require_signing_key(settings)
    _ready(settings)
    logs.configure(settings.log_format, settings.log_level)
    with _reported(settings):
        service = ShipmentService.from_settings(settings)
        workers = Workers(settings, service, ReadModels(settings, service.store))
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    workers.start()
    console.print(f"shipflow worker on {settings.database_label}; Ctrl-C to stop")
    done.wait()
    workers.close()
    service.close()


@db.command("upgrade")
def db_upgrade() -> None:
    """Create the event store, apply the read-model migrations and put the append-only guard
    on the event tables (idempotent)."""
    from shipflow.migrations import upgrade
    from shipflow.store import open_store

    settings = _settings()
    _ready(settings, migrated=False)
    with _reported(settings):
        open_store(settings).close()
        changes = upgrade(settings)
    for change in changes:
        console.print(change, highlight=False, soft_wrap=True)
    console.print(f"database ready: {settings.database_label}", highlight=False, soft_wrap=True)


def _read_models():  # noqa: ANN202 - (service, read models) for the projection commands
    from shipflow.projections.engine.read_models import ReadModels
    from shipflow.services.shipments import ShipmentService

    settings = _settings()
    _ready(settings)
    with _reported(settings):
        service = ShipmentService.from_settings(settings)
        return service, ReadModels(settings, service.store)


def _known_view(rm, name: str) -> None:  # noqa: ANN001 - ReadModels, imported lazily
    if name not in rm.projections:
        raise typer.BadParameter(f"unknown view {name!r}; one of {', '.join(rm.projections)}")


def _operator(by: str | None) -> str:
    """Who acts from the command line: ``--by``, else the user running the command."""
    if by:
        return by
    try:
        return f"{getpass.getuser()} (cli)"
    except Exception:  # no user name in this environment
        return "cli"


def _stopped_lines(s) -> list[str]:  # noqa: ANN001 - a ViewStatus with a failure
    f = s.failure
    return [f"{s.name} stopped at position {f.stopped_at}: {f.summary}",
            f"  {f.attempts} attempt(s), first {f.first_failed_at:%Y-%m-%d %H:%M:%S}, last "
            f"{f.failed_at:%Y-%m-%d %H:%M:%S} UTC (slot {f.slot})"
            + (f"; retry requested by {f.retry_requested_by}" if f.retry_requested_at else ""),
            f"  after a fix: shipflow projections retry {s.name}; or do without it: shipflow "
            f'projections skip {s.name} --position {f.position} --reason "…"']


@projections.command("status")
def projections_status() -> None:
    """Each view's live slot, state (running, or failed: stopped on an event), position in
    the event log, lag, and the events skipped for it."""
    service, rm = _read_models()
    table = Table("view", "live slot", "state", "position", "head", "lag", "skipped")
    with _reported(rm.settings):
        statuses = rm.status()
    service.close()
    for s in statuses:
        table.add_row(s.name, s.active_slot, s.state, str(s.position), str(s.head), str(s.lag),
                      str(len(s.skipped)))
    console.print(table)
    for s in statuses:
        if s.failure is not None:
            for line in _stopped_lines(s):
                typer.echo(line)  # not rich: a wrapped line is harder to copy
    for s in statuses:
        if s.skipped:
            typer.echo(f"skipped for {s.name} (never applied to it, rebuilds too):")
            for k in s.skipped:
                typer.echo(f"  {k.summary}")


@projections.command("retry")
def projections_retry(
    name: str = typer.Argument(..., help="the stopped view: shipments, bl_drafts, sla, "
                                         "statements"),
    by: str = typer.Option(None, help="who retries (default: your user name)"),
) -> None:
    """Try the event a stopped view cannot apply again, after a fix: one batch of the view
    here and now (the running workers follow on). Exit code 1 if it fails again."""
    from shipflow.projections.engine.failures import ViewNotFailed

    service, rm = _read_models()
    try:
        _known_view(rm, name)
        with _reported(rm.settings):
            s = rm.retry(name, _operator(by))
    except ViewNotFailed as e:
        _fail(str(e))
    finally:
        service.close()
    if s.failure is not None:
        typer.echo(f"{name} failed again:", err=True)
        for line in _stopped_lines(s):
            typer.echo(line, err=True)
        raise typer.Exit(1)
    typer.echo(f"{name} is running again: at position {s.position} of {s.head}; the "
               "workers catch up the rest")


@projections.command("skip")
def projections_skip(
    name: str = typer.Argument(..., help="the stopped view"),
    position: int = typer.Option(..., min=1, help="the position of the event it stopped on "
                                                  "(see projections status)"),
    reason: str = typer.Option(..., help="why the view may do without this event"),
    by: str = typer.Option(None, help="who decides (default: your user name)"),
) -> None:
    """Skip the one event a stopped view cannot apply, recording who and why (the dead
    letter); the view goes on after it, and rebuilds leave it out too."""
    from shipflow.projections.engine.failures import NotTheFailingEvent, ViewNotFailed

    if not reason.strip():
        raise typer.BadParameter("say why the view may do without this event",
                                 param_hint="--reason")
    service, rm = _read_models()
    try:
        _known_view(rm, name)
        with _reported(rm.settings):
            s = rm.skip(name, position, reason.strip(), _operator(by))
    except (ViewNotFailed, NotTheFailingEvent) as e:
        _fail(str(e))
    finally:
        service.close()
    [k] = [k for k in s.skipped if k.position == position]
    typer.echo(f"{name}: skipped the event at position {position}; now {s.state} at position "
               f"{s.position} of {s.head}")
    typer.echo(f"  {k.summary}")


@projections.command("rebuild")
def projections_rebuild(
    name: str = typer.Argument(..., help="shipments, bl_drafts, sla, statements, or 'all'"),
    batch_size: int = typer.Option(2000, min=1),
) -> None:
    """Rebuild a view beside the live one, then switch readers to it (blue/green). Events
    skipped for a view stay skipped; a view that stops on an event keeps its live slot (exit
    code 1)."""
    service, rm = _read_models()
    names = list(rm.projections) if name == "all" else [name]
    for view in names:
        _known_view(rm, view)
    head = service.store.recorder.max_notification_id() or 0
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("events"), TimeRemainingColumn(), console=console) as progress:
        task = progress.add_task(f"rebuilding {', '.join(names)}", total=head)
        rebuilt = rm.rebuild(names, lambda n: progress.advance(task, n),
                             batch_size=batch_size)
        live = ", ".join(f"{view} in slot {slot}" for view, slot in rebuilt.switched.items())
        progress.update(task, completed=head, description=f"live: {live or 'unchanged'}")
    for view, skipped in rebuilt.skipped.items():
        if skipped:
            typer.echo(f"{view}: left out {len(skipped)} event(s) skipped for it, as recorded:")
            for k in skipped:
                typer.echo(f"  {k.summary}")
    service.close()
    for view, f in rebuilt.stopped.items():
        typer.echo(f"{view}: the rebuild in slot {f.slot} stopped: {f.summary}; readers stay "
                   f"on the live slot. Fix and rebuild again, or skip it: shipflow projections "
                   f'skip {view} --position {f.position} --reason "…"', err=True)
    if rebuilt.stopped:
        raise typer.Exit(1)


def _keys():  # noqa: ANN202 - the KeyStore of the configured database
    from shipflow.auth.keys import KeyStore
    from shipflow.database import make_engine
    from shipflow.migrations import upgrade

    settings = _settings()
    _ready(settings, migrated=False)
    with _reported(settings):
        upgrade(settings)
    return KeyStore(make_engine(settings))


@keys.command("create")
def keys_create(
    owner: str = typer.Option(..., help="who acts with the key, e.g. cs.wang or tms-prod"),
    role: str = typer.Option(..., help="admin, cs, finance, integration, customer, manager, "
                                       "tracking, sales or auditor"),
    customer: str = typer.Option(None, help="for a customer key: the customer it sees"),
    description: str = typer.Option("", help="what the key is for"),
) -> None:
    """Create an API key and print it (the only time it is shown)."""
    from shipflow.auth.keys import ApiKeyError

    try:
        key, info = _keys().create(owner, role, "cli", customer, description)
    except ApiKeyError as e:
        raise typer.BadParameter(e.detail) from None
    console.print(f"key {info.key_id} for {info.owner} ({info.role}"
                  f"{', ' + info.customer_id if info.customer_id else ''}):")
    print(key)


@keys.command("dev")
def keys_dev() -> None:
    """For the embedded SQLite database only: an admin key for trying shipflow out, created
    once and kept in var/dev-api-key beside the database (`make run` prints it)."""
    settings = _settings()
    if settings.is_postgres:
        raise typer.BadParameter("dev keys are for the embedded SQLite database; on "
                                 "PostgreSQL use `shipflow keys create`")
    path = settings.sqlite_path.with_name("dev-api-key")
    store = _keys()
    key = path.read_text().strip() if path.exists() else ""
    if not key or store.authenticate(key) is None:
        key, _ = store.create("dev-admin", "admin", "shipflow keys dev",
                              description="local trial key (make run)")
        path.write_text(key + "\n")
        path.chmod(0o600)
    console.print(f"API key for this local database (admin; kept in {path}):")
    print(key)
    console.print("  try: curl -H 'Authorization: Bearer <key>' "
                  "http://127.0.0.1:8000/shipments")


@keys.command("list")
def keys_list(revoked: bool = typer.Option(False, help="include revoked keys")) -> None:
    """The keys (never the keys themselves): id, owner, role, customer, created, revoked."""
    table = Table("id", "owner", "role", "customer", "created", "revoked", "description")
    for k in _keys().list(include_revoked=revoked):
        table.add_row(k.key_id, k.owner, k.role, k.customer_id or "",
                      f"{k.created_at:%Y-%m-%d}",
                      f"{k.revoked_at:%Y-%m-%d}" if k.revoked_at else "", k.description)
    console.print(table)


@keys.command("revoke")
def keys_revoke(key_id: str = typer.Argument(..., help="the key's id (see keys list)")) -> None:
    """Revoke a key: it stops working at once (never the last active admin key)."""
    from shipflow.auth.keys import ApiKeyError

    try:
        revoked = _keys().revoke(key_id, "cli")
    except ApiKeyError as e:
        raise typer.BadParameter(e.detail) from None
    if not revoked:
        raise typer.BadParameter(f"no active key {key_id}")
    console.print(f"key {key_id} revoked")


def _require_secret_keys(settings: Settings) -> None:
    """Start-up check: without a key (PostgreSQL) or with a bad one, stop with one line."""
    from shipflow.webhooks.secretbox import SecretBox, SecretKeyInvalid, SecretKeyMissing

    try:
        SecretBox.for_settings(settings).check()
    except (SecretKeyMissing, SecretKeyInvalid) as e:
        typer.echo(f"shipflow: {e}", err=True)
        raise typer.Exit(2) from None


def _require_signing_key(settings: Settings) -> None:
    """Start-up check: without the audit signing key (PostgreSQL) or with a bad one, stop
    with one line."""
    from shipflow.audit.signing import SigningKeyInvalid, SigningKeyMissing, load_signer

    try:
        load_signer(settings)
    except (SigningKeyMissing, SigningKeyInvalid) as e:
        typer.echo(f"shipflow: {e}", err=True)
        raise typer.Exit(2) from None


@webhooks.command("new-key")
def webhooks_new_key() -> None:
    """Print a new key for SHIPFLOW_SECRET_KEYS (put it first in the list)."""
    from shipflow.webhooks.secretbox import new_key

    print(new_key())


@webhooks.command("reencrypt")
def webhooks_reencrypt() -> None:
    """Re-encrypt every webhook secret under the newest key of SHIPFLOW_SECRET_KEYS (and
    encrypt any left in plaintext); after it, older keys can be dropped from the list."""
    from shipflow.database import make_engine
    from shipflow.migrations import upgrade
    from shipflow.webhooks.secretbox import SecretBox, SecretUnreadable, reencrypt
    from shipflow.webhooks.tables import webhook_secrets

    settings = Settings()
    _require_secret_keys(settings)
    upgrade(settings)
    engine = make_engine(settings)
    try:
        with engine.begin() as conn:
            changed, total = reencrypt(conn, SecretBox.for_settings(settings), webhook_secrets)
    except SecretUnreadable as e:
        typer.echo(f"shipflow: {e}; nothing was changed", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    console.print(f"re-encrypted {changed} of {total} webhook secrets under the newest key")


@app.command()
def demo(shipments: int = typer.Option(50, min=1, help="how many shipments to load")) -> None:
    """Load a realistic demo set of shipments (CNSHA / CNNGB / CNSZX exports)."""
    from shipflow.demo import load_demo

    settings = _settings()
    _ready(settings, migrated=False)
    with _reported(settings):
        load_demo(settings, shipments)
