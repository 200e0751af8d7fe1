"""The tiles' commands: raster layers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import psycopg
import typer

from core.cli import current_settings, ensure_database, fail, settings_libpq_url

raster_app = typer.Typer(help="Raster layers (scanned plans, orthophotos).", no_args_is_help=True)


@raster_app.command("add")
def raster_add(
    source: Annotated[Path, typer.Argument(help="A local GeoTIFF (made a COG if it is not)")],
    layer_id: Annotated[str, typer.Option("--id", help="Catalogue id, e.g. plan-2012")],
    title: Annotated[str, typer.Option(help="Title shown to users")],
) -> None:
    """Register a GeoTIFF as a raster layer served at /raster/{id}/..."""
    from tiles.catalogue import RasterError, register_raster

    settings = current_settings()
    ensure_database(settings)
    with psycopg.connect(settings_libpq_url(settings), autocommit=True) as conn:
        try:
            path = register_raster(conn, settings.var_dir / "rasters", source, layer_id, title)
        except RasterError as exc:
            raise fail(f"not added: {exc}") from exc
    typer.echo(f"raster layer '{layer_id}' -> {path}")
