"""The card's "what can be built": limits, widening strips and areas, against shapely."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyproj
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection

from layers.repository import BUILDABLE_RULES
from layers.schemas import ParcelCard
from layers.service import buildable_by_key

GEOD = pyproj.Geod(ellps="WGS84")
UTM = pyproj.Transformer.from_crs(4326, 32648, always_xy=True)  # metres for depths and shares
MIN_SHARE = BUILDABLE_RULES["min_block_share"]
MIN_DEPTH = BUILDABLE_RULES["min_strip_depth_m"]
INDICATORS = {"floors_min": max, "floors_max": min, "height_max_m": min,
              "coverage_max_pct": min, "far_max": min}  # which way is the most restrictive


@dataclass
class Expected:
    """What the card should say, worked out here from the rows' geometries."""

    parcel_area_m2: float
    shares: dict[str, float]
    limits: dict[str, tuple[float, str] | None]
    strips: dict[str, tuple[float, float]]  # street → (area m², depth m)
    widening_area_m2: float


def _geo_area(geom: BaseGeometry) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def _utm(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: np.column_stack(UTM.transform(xy[:, 0], xy[:, 1])))


def _polygons(geom: BaseGeometry) -> BaseGeometry:
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _expected(conn: Connection, key: str) -> Expected:
    wkb, area = conn.exec_driver_sql(
        "SELECT ST_AsBinary(geom), area_m2 FROM parcel WHERE parcel_key = %(k)s",
        {"k": key}).one()
    lot = shapely.from_wkb(bytes(wkb))
    blocks = conn.exec_driver_sql(
        f"SELECT b.block_code, {', '.join(INDICATORS)}, ST_AsBinary(b.geom) "
        "FROM zoning_block b, parcel p WHERE p.parcel_key = %(k)s "
        "AND ST_Intersects(b.geom, p.geom)", {"k": key}).all()
    lot_m = _utm(lot)
    shares, values = {}, {}
    for code, *indicators, geom in blocks:
        share = 100 * lot_m.intersection(_utm(shapely.from_wkb(bytes(geom)))).area / lot_m.area
        if share >= 0.05:
            shares[code] = share
            values[code] = dict(zip(INDICATORS, indicators, strict=True))
    governing = max(shares, key=shares.__getitem__)
    # Largest share first: of equal limits, min() and max() keep the first (the card's tie).
    counted = sorted((c for c in shares if c == governing or shares[c] >= MIN_SHARE),
                     key=shares.__getitem__, reverse=True)
    limits: dict[str, tuple[float, str] | None] = {}
    for name, most_restrictive in INDICATORS.items():
        given = [(float(values[c][name]), c) for c in counted if values[c][name] is not None]
        limits[name] = most_restrictive(given, key=lambda v: v[0]) if given else None
    roads = conn.exec_driver_sql(
        "SELECT r.name, ST_AsBinary(r.row_geom) FROM road r, parcel p "
        "WHERE p.parcel_key = %(k)s AND ST_Intersects(r.row_geom, p.geom)", {"k": key}).all()
    strips, kept = {}, []
    for name, row_wkb in roads:
        row = shapely.from_wkb(bytes(row_wkb))
        strip = _polygons(lot.intersection(row))
        if strip.is_empty:
            continue
        rest = _utm(lot.difference(row))
        corners = shapely.points(shapely.get_coordinates(_utm(strip)))
        depth = float(shapely.distance(corners, rest).max()) if not rest.is_empty else 0.0
        if depth >= MIN_DEPTH and _geo_area(strip) >= 0.05:  # what shows as 0.0 m² is none
            strips[name] = (_geo_area(strip), depth)
            kept.append(strip)
    widening = _geo_area(shapely.union_all(kept)) if kept else 0.0
    return Expected(float(area), shares, limits, strips, widening)


def _card(client: TestClient, key: str) -> dict[str, Any]:
    res = client.get(f"/api/parcels/{key}")
    assert res.status_code == 200, res.text
    ParcelCard.model_validate(res.json())
    return dict(res.json())


def _assert_matches(buildable: dict[str, Any], want: Expected) -> None:
    assert buildable["parcel_area_m2"] == want.parcel_area_m2
    assert buildable["spans_blocks"] == (len(want.shares) > 1)
    assert buildable["governing_block"] == max(want.shares, key=want.shares.__getitem__)
    for name, limit in want.limits.items():
        got = buildable[name]
        if limit is None:
            assert got is None, name
        else:
            assert got["value"] == pytest.approx(limit[0]), name
            assert got["block_code"] == limit[1], name
            assert got["decision_no"].endswith("/QĐ-UBND")
    got_strips = {w["street"]: (w["area_m2"], w["depth_m"]) for w in buildable["widening"]}
    assert got_strips.keys() == want.strips.keys()
    for street, (area, depth) in want.strips.items():
        assert got_strips[street][0] == pytest.approx(area, abs=0.06), street
        assert got_strips[street][1] == pytest.approx(depth, abs=0.02), street
    assert buildable["widening_area_m2"] == pytest.approx(want.widening_area_m2, abs=0.06)
    rest = want.parcel_area_m2 - buildable["widening_area_m2"]
    assert buildable["buildable_area_m2"] == pytest.approx(rest, abs=0.01)
    assert buildable["computed_on"] == "buildable_area_m2"
    coverage, far = want.limits["coverage_max_pct"], want.limits["far_max"]
    if coverage is None:
        assert buildable["footprint_max_m2"] is None
    else:
        assert buildable["footprint_max_m2"] == pytest.approx(rest * coverage[0] / 100, abs=0.06)
    if far is None:
        assert buildable["floor_area_max_m2"] is None
    else:
        assert buildable["floor_area_max_m2"] == pytest.approx(rest * far[0], abs=0.06)


def _key(conn: Connection, having: str, road: str = "true") -> str:
    return str(conn.exec_driver_sql(
        f"""
        SELECT p.parcel_key FROM parcel p
        JOIN parcel_zoning pz ON pz.parcel_id = p.id
        WHERE EXISTS (SELECT 1 FROM parcel_frontage pf JOIN road r ON r.id = pf.road_id
                      WHERE pf.parcel_id = p.id AND {road})
        GROUP BY p.id HAVING {having}
        ORDER BY p.parcel_key LIMIT 1
        """).scalar_one())


def test_a_parcel_on_two_blocks_with_a_widening_strip(client: TestClient,
                                                      conn: Connection) -> None:
    # A 20 m right-of-way reaches 3 m into the lots of a street laid out for 14 m.
    key = _key(conn, "count(*) = 2 AND min(pz.share_pct) > 15", "r.right_of_way_m = 20")
    want = _expected(conn, key)
    assert len(want.shares) == 2
    assert want.strips
    buildable = _card(client, key)["buildable"]
    _assert_matches(buildable, want)
    assert [b["counted"] for b in buildable["blocks"]] == [True, True]
    assert buildable["widening_area_m2"] > 1
    assert 2.5 < buildable["widening"][0]["depth_m"] < 3.5
    assert buildable["buildable_area_m2"] < buildable["parcel_area_m2"]


def test_a_corner_parcel_counts_the_overlap_of_its_two_strips_once(
    client: TestClient, conn: Connection
) -> None:
    key = _key(conn, "count(*) = 1 AND (SELECT count(*) FROM parcel_frontage pf JOIN road r "
               "ON r.id = pf.road_id WHERE pf.parcel_id = p.id AND r.right_of_way_m >= 16 "
               "AND ST_Area(ST_Intersection(p.geom, r.row_geom)::geography) > 1) = 2")
    want = _expected(conn, key)
    buildable = _card(client, key)["buildable"]
    _assert_matches(buildable, want)
    assert len(buildable["widening"]) == 2
    assert buildable["widening_area_m2"] < sum(w["area_m2"] for w in buildable["widening"])


def test_a_parcel_on_a_street_as_wide_as_planned_keeps_all_its_land(
    client: TestClient, conn: Connection
) -> None:
    # Its 14 m street is laid out as wide as planned: nothing to give up (the centimetres the
    # projections leave between a right-of-way and the lots are not a strip).
    key = _key(conn, "count(*) = 1 AND bool_and(NOT EXISTS (SELECT 1 FROM parcel_frontage pf "
               "JOIN road r ON r.id = pf.road_id WHERE pf.parcel_id = p.id "
               "AND r.right_of_way_m <> 14))",
               "ST_Area(ST_Intersection(p.geom, r.row_geom)::geography) > 0.5")
    want = _expected(conn, key)
    buildable = _card(client, key)["buildable"]
    _assert_matches(buildable, want)
    assert buildable["widening"] == []
    assert buildable["buildable_area_m2"] == buildable["parcel_area_m2"]
    assert buildable["spans_blocks"] is False


def test_a_block_under_the_minimum_share_does_not_set_the_limits(conn: Connection) -> None:
    key = _key(conn, f"count(*) = 2 AND min(pz.share_pct) BETWEEN 1 AND {MIN_SHARE - 1}")
    # The small block made stricter than the governing one on every indicator.
    conn.exec_driver_sql(
        """
        UPDATE zoning_block b SET floors_min = 9, floors_max = 1, height_max_m = 1,
               coverage_max_pct = 1, far_max = 0.01
        FROM parcel p JOIN parcel_zoning pz ON pz.parcel_id = p.id
        WHERE p.parcel_key = %(k)s AND pz.block_id = b.id
          AND pz.share_pct = (SELECT min(share_pct) FROM parcel_zoning
                              WHERE parcel_id = p.id)
        """, {"k": key})
    want = _expected(conn, key)
    buildable = buildable_by_key(conn, key).model_dump()
    _assert_matches(buildable, want)
    assert buildable["spans_blocks"] is True
    assert [b["counted"] for b in buildable["blocks"]] == [True, False]
    for name in INDICATORS:
        assert buildable[name]["block_code"] == buildable["governing_block"], name


def test_a_parcel_whose_zoning_gives_no_indicators(conn: Connection) -> None:
    key = _key(conn, "count(*) = 2 AND min(pz.share_pct) > 15", "r.right_of_way_m = 20")
    conn.exec_driver_sql(
        """
        UPDATE zoning_block b SET floors_min = NULL, floors_max = NULL, height_max_m = NULL,
               coverage_max_pct = NULL, far_max = NULL
        FROM parcel p JOIN parcel_zoning pz ON pz.parcel_id = p.id
        WHERE p.parcel_key = %(k)s AND pz.block_id = b.id
        """, {"k": key})
    want = _expected(conn, key)
    buildable = buildable_by_key(conn, key).model_dump()
    _assert_matches(buildable, want)
    for name in INDICATORS:
        assert buildable[name] is None
    assert buildable["footprint_max_m2"] is None
    assert buildable["floor_area_max_m2"] is None
    assert buildable["widening"], "the land's own facts stay"


def test_a_limit_the_governing_block_lacks_comes_from_the_other(conn: Connection) -> None:
    key = _key(conn, "count(*) = 2 AND min(pz.share_pct) > 15")
    governing = conn.exec_driver_sql(
        """
        UPDATE zoning_block b SET floors_max = NULL
        FROM parcel p JOIN parcel_zoning pz ON pz.parcel_id = p.id
        WHERE p.parcel_key = %(k)s AND pz.block_id = b.id
          AND pz.share_pct = (SELECT max(share_pct) FROM parcel_zoning
                              WHERE parcel_id = p.id)
        RETURNING b.block_code
        """, {"k": key}).scalar_one()
    want = _expected(conn, key)
    buildable = buildable_by_key(conn, key).model_dump()
    _assert_matches(buildable, want)
    assert buildable["governing_block"] == governing
    assert buildable["floors_max"]["block_code"] != governing


def test_the_card_and_the_pre_check_read_the_same_numbers(client: TestClient,
                                                          conn: Connection) -> None:
    key = _key(conn, "count(*) = 2 AND min(pz.share_pct) > 15", "r.right_of_way_m = 20")
    assert buildable_by_key(conn, key).model_dump(mode="json") == \
        _card(client, key)["buildable"]
