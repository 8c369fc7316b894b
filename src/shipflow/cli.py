"""The ``shipflow`` command: serve the API, prepare the database, load demo data."""

from __future__ import annotations

import typer

from shipflow.config import Settings

app = typer.Typer(help="shipflow: event-sourced shipment lifecycle service",
                  no_args_is_help=True)
db = typer.Typer(help="Database preparation", no_args_is_help=True)
app.add_typer(db, name="db")


@app.command()
def serve(host: str = typer.Option(None, help="default: SHIPFLOW_HOST or 127.0.0.1"),
          port: int = typer.Option(None, help="default: SHIPFLOW_PORT or 8000")) -> None:
    """Serve the HTTP API (docs at /docs)."""
    import uvicorn

    from shipflow.api.app import create_app

    settings = Settings()
    typer.echo(f"shipflow on {settings.database_url}")
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port)


@db.command("upgrade")
def db_upgrade() -> None:
    """Create the event store (idempotent) and apply schema migrations."""
    from shipflow.store import open_store

    settings = Settings()
    open_store(settings).close()
    typer.echo(f"event store ready: {settings.database_url}")


@app.command()
def demo(shipments: int = typer.Option(50, min=1, help="how many shipments to load")) -> None:
    """Load a realistic demo set of shipments (CNSHA / CNNGB / CNSZX exports)."""
    from shipflow.demo import load_demo

    load_demo(Settings(), shipments)
