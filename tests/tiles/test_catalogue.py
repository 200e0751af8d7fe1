"""Registering raster layers: a GeoTIFF becomes a catalogued COG; anything else is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from rio_cogeo.cogeo import cog_validate
from sqlalchemy import Connection

from tiles.catalogue import RasterError, register_raster


def _plain_geotiff(path: Path) -> None:
    profile = {"driver": "GTiff", "dtype": "uint8", "count": 1, "width": 600, "height": 400,
               "crs": "EPSG:9210", "transform": from_origin(606000, 1187500, 1.0, 1.0)}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.arange(600 * 400, dtype=np.uint32).reshape(1, 400, 600).astype(np.uint8))


def test_a_plain_geotiff_becomes_a_catalogued_cog(conn: Connection, tmp_path: Path) -> None:
    source = tmp_path / "scan.tif"
    _plain_geotiff(source)
    assert not cog_validate(str(source), quiet=True)[0]
    folder = tmp_path / "rasters"
    target = register_raster(conn.connection.driver_connection, folder, source, "plan-2012",
                             "Bản đồ quy hoạch 2012")
    assert target == folder / "plan-2012.tif"
    assert cog_validate(str(target), quiet=True)[0]
    assert [p.name for p in folder.iterdir()] == ["plan-2012.tif"]  # no staging file left
    row = conn.exec_driver_sql("SELECT title, file FROM raster_layer WHERE id = 'plan-2012'"
                               ).one()
    assert tuple(row) == ("Bản đồ quy hoạch 2012", "plan-2012.tif")


@pytest.mark.parametrize(
    ("name", "content", "layer_id", "words"),
    [
        ("notes.tif", b"just text", "notes", "not a readable GeoTIFF"),
        ("trick.tif", b'<VRTDataset rasterXSize="1" rasterYSize="1"></VRTDataset>', "trick",
         "not a readable GeoTIFF"),
        ("ok.tif", None, "Bad Id!", "lower-case"),
    ],
)
def test_anything_else_is_refused_and_nothing_is_written(
    conn: Connection, tmp_path: Path, name: str, content: bytes | None, layer_id: str,
    words: str,
) -> None:
    source = tmp_path / name
    if content is None:
        _plain_geotiff(source)
    else:
        source.write_bytes(content)
    folder = tmp_path / "rasters"
    before = conn.exec_driver_sql("SELECT count(*) FROM raster_layer").scalar_one()
    with pytest.raises(RasterError, match=words):
        register_raster(conn.connection.driver_connection, folder, source, layer_id, "x")
    assert not folder.exists() or list(folder.iterdir()) == []
    assert conn.exec_driver_sql("SELECT count(*) FROM raster_layer").scalar_one() == before


def test_a_symlink_is_refused(conn: Connection, tmp_path: Path) -> None:
    (tmp_path / "link.tif").symlink_to("/etc/passwd")
    with pytest.raises(RasterError, match="not a regular file"):
        register_raster(conn.connection.driver_connection, tmp_path / "rasters",
                        tmp_path / "link.tif", "link", "x")
