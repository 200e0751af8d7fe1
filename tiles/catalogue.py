"""Registering a raster layer: a local GeoTIFF checked, made a COG, copied in, catalogued."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import psycopg
import rasterio
from rasterio.errors import RasterioIOError
from rio_cogeo.cogeo import cog_translate, cog_validate
from rio_cogeo.profiles import cog_profiles

from tiles.raster import GDAL_ENV, RASTER_ID


class RasterError(ValueError):
    """The file cannot become a raster layer; the message says why."""


def register_raster(conn: psycopg.Connection[Any], folder: Path, source: Path, layer_id: str,
                    title: str) -> Path:
    """Add (or replace) raster layer `layer_id` from a local GeoTIFF; returns the COG's path."""
    if not re.match(RASTER_ID, layer_id):
        raise RasterError(f"layer id '{layer_id}': lower-case letters, digits, - and _ only")
    if source.is_symlink() or not source.is_file():
        raise RasterError(f"{source.name}: not a regular file")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{layer_id}.tif"
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False) as tmp:
        staged = Path(tmp.name)
    try:
        with rasterio.Env(**GDAL_ENV), rasterio.open(source, driver="GTiff") as src:
            if src.crs is None:
                raise RasterError(f"{source.name}: no coordinate reference system")
            if cog_validate(str(source), quiet=True)[0]:
                shutil.copyfile(source, staged)
            else:
                profile = cog_profiles.get("deflate")  # type: ignore[no-untyped-call]
                cog_translate(src, str(staged), profile, quiet=True)
    except RasterioIOError as exc:
        staged.unlink(missing_ok=True)
        raise RasterError(f"{source.name}: not a readable GeoTIFF") from exc
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    staged.replace(target)  # atomic within the folder: readers see the old or the new file
    conn.execute(
        "INSERT INTO raster_layer (id, title, file) VALUES (%s, %s, %s) "
        "ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, file = EXCLUDED.file",
        (layer_id, title, target.name),
    )
    return target
