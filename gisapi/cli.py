"""The civicmap command: each package's commands registered under one root, and serving."""

from __future__ import annotations

from typing import Annotated

import typer

from accounts.cli import staff_app
from core.cli import current_settings, db_app, db_migrate, ensure_database, outbox_app
from layers.cli import etl_app, sample_app, sample_load
from tiles.cli import raster_app

app = typer.Typer(
    help="civicmap: planning information and public services for District 7, map first.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(db_app, name="db")
app.add_typer(sample_app, name="sample")
app.add_typer(staff_app, name="staff")
app.add_typer(raster_app, name="raster")
app.add_typer(outbox_app, name="outbox")
app.add_typer(etl_app, name="etl")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port (CIVICMAP_PORT)")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes")] = None,
) -> None:
    """Serve the API and the web app."""
    import uvicorn

    from gisapi.server import HotTileProtocol

    settings = current_settings()
    ensure_database(settings)
    bind_host = host or settings.host
    bind_port = port or settings.port
    typer.echo(f"civicmap on http://{bind_host}:{bind_port} (API docs at /docs)")
    uvicorn.run(
        "gisapi.main:create_app", factory=True, host=bind_host, port=bind_port,
        workers=workers or settings.workers, log_level="warning", access_log=False,
        http=HotTileProtocol,
    )


@app.command()
def run(
    host: Annotated[str | None, typer.Option(help="Address to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port (CIVICMAP_PORT)")] = None,
) -> None:
    """Everything `make run` does after setup: database, migrations, sample data, serve."""
    db_migrate()
    sample_load(parcels=None, seed=7, folder=None, replace=False, if_empty=True)
    serve(host=host, port=port, workers=None)


if __name__ == "__main__":
    app()
