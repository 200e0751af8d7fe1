"""Raster tiles: a VN-2000 COG lands at the right place; only catalogue ids reach GDAL."""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer
from rasterio.crs import CRS
from rasterio.io import MemoryFile
from rasterio.transform import from_origin
from rio_cogeo.cogeo import cog_translate
from rio_cogeo.profiles import cog_profiles
from sqlalchemy import Connection, Engine

from core.deps import get_connection
from core.settings import Settings
from etl.crs import VN2000_HCMC, to_wgs84
from gisapi.main import create_app

# VN-2000 / TM-3 105-45 written with the EPSG:6960 shift, as our COG conversion will write it.
VN2000_TOWGS84 = CRS.from_proj4(
    "+proj=tmerc +lat_0=0 +lon_0=105.75 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 "
    "+towgs84=-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,"
    "0.252906278 +units=m +no_defs"
)
ORIGIN = (606000.0, 1187500.0)  # top-left corner, metres
PIXEL = 0.1  # metres
SIZE = 256
BLOCK = slice(118, 138)  # a 2 m bright square in the middle
ZOOM = 20


def _write_cog(path: Path) -> None:
    data = np.full((1, SIZE, SIZE), 60, dtype=np.uint8)
    data[0, BLOCK, BLOCK] = 250
    profile = {"driver": "GTiff", "dtype": "uint8", "count": 1, "width": SIZE, "height": SIZE,
               "crs": VN2000_TOWGS84, "transform": from_origin(*ORIGIN, PIXEL, PIXEL)}
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            dst.write(data)
        with mem.open() as src:
            cog_translate(src, str(path), cog_profiles.get("deflate"), quiet=True)


@pytest.fixture
def raster_client(engine: Engine, conn: Connection) -> Iterator[TestClient]:
    var = Path(tempfile.mkdtemp(prefix="civicmap-test-raster-"))
    (var / "rasters").mkdir()
    _write_cog(var / "rasters" / "plan-1999.tif")
    (var / "rasters" / "fake.tif").write_text(
        '<VRTDataset rasterXSize="1" rasterYSize="1"><VRTRasterBand band="1">'
        '<SimpleSource><SourceFilename>/etc/passwd</SourceFilename></SimpleSource>'
        "</VRTRasterBand></VRTDataset>"
    )
    (var / "rasters" / "link.tif").symlink_to("/etc/passwd")
    conn.exec_driver_sql(
        "INSERT INTO raster_layer (id, title, file) VALUES "
        "('plan-1999', 'Bản đồ quy hoạch 1999', 'plan-1999.tif'), "
        "('fake', 'VRT in disguise', 'fake.tif'), ('link', 'Symlink', 'link.tif')"
    )
    app = create_app(Settings(var_dir=var, tile_cache_size=0), engine=engine)
    app.dependency_overrides[get_connection] = lambda: conn
    with TestClient(app) as client:
        yield client
    shutil.rmtree(var, ignore_errors=True)


def _global_pixel(lon: float, lat: float, z: int) -> tuple[float, float]:
    n = 2**z * 256
    return ((lon + 180) / 360 * n,
            (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def test_a_vn2000_cog_lands_where_epsg_6960_puts_it(raster_client: TestClient) -> None:
    cx = ORIGIN[0] + (BLOCK.start + BLOCK.stop) / 2 * PIXEL
    cy = ORIGIN[1] - (BLOCK.start + BLOCK.stop) / 2 * PIXEL
    lon, lat = to_wgs84(VN2000_HCMC).transform(cx, cy)
    gx, gy = _global_pixel(lon, lat, ZOOM)
    tx, ty = int(gx // 256), int(gy // 256)
    res = raster_client.get(f"/raster/plan-1999/tiles/WebMercatorQuad/{ZOOM}/{tx}/{ty}.png")
    assert res.status_code == 200, res.text
    with MemoryFile(res.content) as mem, mem.open() as png:
        band, alpha = png.read(1), png.read(png.count)
    rows, cols = np.nonzero((band > 200) & (alpha > 0))
    assert len(rows) > 50, "the bright square is in the tile"
    # Block centre in tile pixels (pixel centres at +0.5) against where EPSG:6960 puts it.
    got_x, got_y = cols.mean() + 0.5, rows.mean() + 0.5
    want_x, want_y = gx - tx * 256, gy - ty * 256
    assert math.hypot(got_x - want_x, got_y - want_y) < 1.5  # 1.5 px = 0.22 m at z20
    # PROJ's default VN-2000 operation would put it ~0.8 m (> 5 px) away: the test can tell.
    d_lon, d_lat = Transformer.from_crs("EPSG:9210", "EPSG:4326", always_xy=True).transform(cx, cy)
    dx, dy = _global_pixel(d_lon, d_lat, ZOOM)
    assert math.hypot(dx - gx, dy - gy) > 4


def test_info_of_a_catalogued_raster(raster_client: TestClient) -> None:
    info = raster_client.get("/raster/plan-1999/info").json()
    assert info["width"] == SIZE
    assert info["height"] == SIZE


@pytest.mark.parametrize(
    "path",
    [
        "/raster/nope/info",
        "/raster/Plan-1999/info",
        "/raster/..%2F..%2Fetc%2Fpasswd/info",
        "/raster/link/info",
    ],
)
def test_only_catalogue_ids_with_a_plain_file_are_served(
    raster_client: TestClient, path: str
) -> None:
    res = raster_client.get(path)
    assert res.status_code in {404, 422}


def test_a_url_parameter_never_reaches_gdal(raster_client: TestClient) -> None:
    res = raster_client.get("/raster/plan-1999/info",
                            params={"url": "/vsicurl/http://example.invalid/x.tif"})
    assert res.status_code == 200
    assert res.json()["width"] == SIZE  # our file was read, the url ignored


def test_a_vrt_named_tif_is_not_read_as_vrt(raster_client: TestClient) -> None:
    res = raster_client.get("/raster/fake/info")
    assert res.status_code != 200
    assert "root:" not in res.text
