"""VN-2000 to WGS84 goes through EPSG:6960 in pyproj and in PostGIS, within 5 cm."""

from __future__ import annotations

import math

import pytest
from pyproj import Transformer
from sqlalchemy import Connection

from etl.crs import VN2000_HCMC, from_wgs84, to_wgs84

# (x, y) in VN-2000 / TM-3 105-45 and (lon, lat) from PROJ's own EPSG:6960 operation,
# computed once and written here so a change of PROJ cannot move both sides at once.
CONTROL_POINTS = [
    (606000.0, 1187500.0, 106.7209111486, 10.7366784821),
    (612500.0, 1184000.0, 106.780224972, 10.70484728),
    (603000.0, 1181000.0, 106.6933039596, 10.6780013447),
    (608750.25, 1189120.75, 106.7461011984, 10.7512506661),
]
TOLERANCE_M = 0.05


def metres_between(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Ground distance of two nearby lon/lat points (equirectangular, fine under 1 km)."""
    k = math.cos(math.radians(lat1))
    return 6_378_137.0 * math.radians(math.hypot((lon2 - lon1) * k, lat2 - lat1))


@pytest.mark.parametrize(("x", "y", "lon", "lat"), CONTROL_POINTS)
def test_pyproj_path_matches_epsg_6960(x: float, y: float, lon: float, lat: float) -> None:
    got_lon, got_lat = to_wgs84(VN2000_HCMC).transform(x, y)
    assert metres_between(lon, lat, got_lon, got_lat) <= TOLERANCE_M


@pytest.mark.parametrize(("x", "y", "lon", "lat"), CONTROL_POINTS)
def test_inverse_returns_to_the_same_metres(x: float, y: float, lon: float, lat: float) -> None:
    back_x, back_y = from_wgs84(VN2000_HCMC, lon, lat)
    assert math.hypot(float(back_x) - x, float(back_y) - y) <= TOLERANCE_M  # type: ignore[arg-type]


@pytest.mark.parametrize(("x", "y", "lon", "lat"), CONTROL_POINTS)
def test_postgis_path_matches_epsg_6960(
    conn: Connection, x: float, y: float, lon: float, lat: float
) -> None:
    got_lon, got_lat = conn.exec_driver_sql(
        "SELECT ST_X(g), ST_Y(g) FROM (SELECT ST_Transform("
        "ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 9210), 4326) AS g) AS t",
        {"x": x, "y": y},
    ).one()
    assert metres_between(lon, lat, got_lon, got_lat) <= TOLERANCE_M


def test_postgis_to_web_mercator_agrees_with_pyproj(conn: Connection) -> None:
    x, y, lon, lat = CONTROL_POINTS[0]
    mx, my = conn.exec_driver_sql(
        "SELECT ST_X(g), ST_Y(g) FROM (SELECT ST_Transform("
        "ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 9210), 3857) AS g) AS t",
        {"x": x, "y": y},
    ).one()
    ex, ey = Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat)
    # Web Mercator metres are stretched by 1/cos(lat); compare on the ground.
    assert math.hypot(mx - ex, my - ey) * math.cos(math.radians(lat)) <= TOLERANCE_M


def test_the_tolerance_catches_the_wrong_transformations() -> None:
    """PROJ's default pick and the sign-flipped rotations are both far outside 5 cm."""
    x, y, lon, lat = CONTROL_POINTS[0]
    default = Transformer.from_crs("EPSG:9210", "EPSG:4326", always_xy=True)
    d_lon, d_lat = default.transform(x, y)
    assert metres_between(lon, lat, d_lon, d_lat) > 0.3
    flipped = Transformer.from_pipeline(
        "+proj=pipeline +step +inv +proj=tmerc +lat_0=0 +lon_0=105.75 +k=0.9999 +x_0=500000 "
        "+y_0=0 +ellps=WGS84 +step +proj=push +v_3 +step +proj=cart +ellps=WGS84 "
        "+step +proj=helmert +x=-191.90441429 +y=-39.30318279 +z=-111.45032835 "
        "+rx=0.00928836 +ry=-0.01975479 +rz=0.00427372 +s=0.252906278 "
        "+convention=coordinate_frame +step +inv +proj=cart +ellps=WGS84 "
        "+step +proj=pop +v_3 +step +proj=unitconvert +xy_in=rad +xy_out=deg"
    )
    f_lon, f_lat = flipped.transform(x, y)
    assert metres_between(lon, lat, f_lon, f_lat) > 0.3
