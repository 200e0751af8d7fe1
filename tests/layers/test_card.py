"""The parcel card: a tap, a key, old and new wards, shares, frontage, the 404/422 cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyogrio.raw
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from layers.schemas import ParcelCard


def _point_in(conn: Connection, where: str, having: str = "") -> tuple[str, float, float]:
    row = conn.exec_driver_sql(
        f"""
        SELECT p.parcel_key, ST_X(ST_PointOnSurface(p.geom)), ST_Y(ST_PointOnSurface(p.geom))
        FROM parcel p JOIN zoning_block b ON ST_Intersects(b.geom, p.geom)
        WHERE {where}
        GROUP BY p.id {having}
        ORDER BY p.parcel_key LIMIT 1
        """
    ).one()
    return str(row[0]), float(row[1]), float(row[2])


def _card(client: TestClient, lon: float, lat: float) -> dict[str, Any]:
    res = client.get("/api/parcels/at", params={"lon": lon, "lat": lat})
    assert res.status_code == 200, res.text
    return dict(res.json())


def _sample_features(path: Path, layer: str) -> tuple[list[Any], dict[str, Any]]:
    meta, _, wkb, data = pyogrio.raw.read(path, layer=layer)
    return list(shapely.from_wkb(wkb)), dict(zip(meta["fields"], data, strict=True))


def test_tap_returns_the_card_of_the_parcel_under_the_point(
    client: TestClient, conn: Connection
) -> None:
    key, lon, lat = _point_in(conn, "b.function_category = 'residential_existing'")
    card = _card(client, lon, lat)
    ParcelCard.model_validate(card)
    parcel = card["parcel"]
    assert parcel["key"] == key
    assert parcel["key"] == f"{parcel['ward']['old']['code']}{parcel['sheet']:03d}" \
        f"{parcel['number']:04d}"
    assert shapely.geometry.shape(parcel["geometry"]).contains(shapely.Point(lon, lat))
    assert parcel["district"]["name"] == "Quận 7"
    assert any(s["id"] == "construction-permit-house" for s in card["services"])


def test_card_shows_the_old_and_the_new_ward(client: TestClient, conn: Connection) -> None:
    _, lon, lat = _point_in(conn, "true")
    ward = _card(client, lon, lat)["parcel"]["ward"]
    assert ward["old"]["valid_to"] == "2025-07-01"
    assert ward["current"]["valid_from"] == "2025-07-01"
    merged = conn.exec_driver_sql(
        """
        SELECT n.name FROM admin_unit o
        JOIN admin_unit_succession s ON s.old_unit_id = o.id
        JOIN admin_unit n ON n.id = s.new_unit_id
        WHERE o.code = %(code)s AND o.valid_to = '2025-07-01'
        """,
        {"code": ward["old"]["code"]},
    ).scalar_one()
    assert ward["current"]["name"] == merged


def test_card_for_a_parcel_on_two_zoning_blocks(
    client: TestClient, conn: Connection, sample_files: dict[str, Path]
) -> None:
    key, lon, lat = _point_in(
        conn, "true",
        "HAVING count(*) = 2 AND min(ST_Area(ST_Intersection(b.geom, p.geom))) "
        "> 0.2 * min(ST_Area(p.geom))",
    )
    card = _card(client, lon, lat)
    zoning = card["zoning"]
    assert len(zoning) == 2
    assert {z["block_code"] for z in zoning} == {z["block_code"] for z in zoning}
    assert sum(z["share_pct"] for z in zoning) == pytest.approx(100, abs=0.2)
    # Shares recomputed independently from the planner's files, in VN-2000 metres.
    parcels, pf = _sample_features(sample_files["parcels"], "parcels")
    index = next(
        i for i in range(len(parcels))
        if f"{pf['ma_xa'][i]}{int(pf['so_to'][i]):03d}{int(pf['so_thua'][i]):04d}" == key
    )
    blocks, bf = _sample_features(sample_files["zoning_blocks"], "zoning_blocks")
    lot = parcels[index]
    expected = {
        str(bf["ma_o_pho"][j]): 100 * lot.intersection(b).area / lot.area
        for j, b in enumerate(blocks) if b.intersects(lot) and lot.intersection(b).area > 0.01
    }
    got = {z["block_code"]: z["share_pct"] for z in zoning}
    assert got.keys() == expected.keys()
    for code, share in got.items():
        assert share == pytest.approx(expected[code], abs=0.2)
    for z in zoning:
        assert z["plan"]["decision_no"].endswith("/QĐ-UBND")
        assert z["floors_max"] >= z["floors_min"]


def test_shares_sum_to_one_hundred(client: TestClient, conn: Connection) -> None:
    rows = conn.exec_driver_sql(
        "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM parcel "
        "ORDER BY md5(parcel_key) LIMIT 40"
    ).all()
    for lon, lat in rows:
        card = _card(client, lon, lat)
        assert sum(z["share_pct"] for z in card["zoning"]) == pytest.approx(100, abs=0.3)
        assert sum(u["share_pct"] for u in card["land_use"]) == pytest.approx(100, abs=0.3)
        assert card["plans"], "every parcel lies in a 1/2000 zoning plan"


def test_frontage_names_the_street_and_its_right_of_way(
    client: TestClient, conn: Connection
) -> None:
    lon, lat, street, width = conn.exec_driver_sql(
        """
        SELECT ST_X(ST_PointOnSurface(p.geom)), ST_Y(ST_PointOnSurface(p.geom)), r.name,
               r.right_of_way_m
        FROM parcel p JOIN road r ON ST_DWithin(r.row_geom, p.geom, 0.000001)
        WHERE p.address IS NOT NULL ORDER BY p.parcel_key LIMIT 1
        """
    ).one()
    frontage = _card(client, lon, lat)["road_frontage"]
    match = next(f for f in frontage if f["street"] == street)
    assert match["right_of_way_m"] == width
    assert match["side"] in {"N", "NE", "E", "SE", "S", "SW", "W", "NW"}
    assert 3 <= match["frontage_m"] <= 200


def test_card_by_key_and_the_same_card_by_tap(client: TestClient, conn: Connection) -> None:
    key, lon, lat = _point_in(conn, "true")
    by_key = client.get(f"/api/parcels/{key}")
    assert by_key.status_code == 200
    assert by_key.json() == _card(client, lon, lat)


@pytest.mark.parametrize(
    ("lon", "lat", "words"),
    [
        (106.60, 10.73, "outside District 7"),
        (106.75, 10.80, "outside District 7"),
    ],
)
def test_points_with_no_parcel_get_a_404_saying_why(
    client: TestClient, lon: float, lat: float, words: str
) -> None:
    res = client.get("/api/parcels/at", params={"lon": lon, "lat": lat})
    assert res.status_code == 404
    assert words in res.json()["detail"]


def test_a_point_on_a_road_is_a_404_naming_the_road(
    client: TestClient, conn: Connection
) -> None:
    name, lon, lat = conn.exec_driver_sql(
        """
        SELECT r.name, ST_X(pt), ST_Y(pt) FROM road r,
               LATERAL (SELECT ST_PointOnSurface(r.row_geom) AS pt) AS s
        WHERE r.name = 'Nguyễn Văn Linh'
          AND NOT EXISTS (SELECT 1 FROM parcel p WHERE ST_Intersects(p.geom, pt))
        """
    ).one()
    res = client.get("/api/parcels/at", params={"lon": lon, "lat": lat})
    assert res.status_code == 404
    assert name in res.json()["detail"]


def test_a_point_on_the_river_is_a_404_naming_it(client: TestClient, conn: Connection) -> None:
    lon, lat = conn.exec_driver_sql(
        "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM water_body "
        "WHERE name = 'Sông Sài Gòn'"
    ).one()
    res = client.get("/api/parcels/at", params={"lon": lon, "lat": lat})
    assert res.status_code == 404
    assert "Sông Sài Gòn" in res.json()["detail"]


@pytest.mark.parametrize(
    "params",
    [
        {"lon": "abc", "lat": "10.73"},
        {"lon": "106.72"},
        {"lon": "181", "lat": "10.73"},
        {"lon": "106.72", "lat": "-91"},
        {"lon": "nan", "lat": "10.73"},
        {"lon": "inf", "lat": "10.73"},
    ],
)
def test_malformed_coordinates_are_a_422_naming_the_field(
    client: TestClient, params: dict[str, str]
) -> None:
    res = client.get("/api/parcels/at", params=params)
    assert res.status_code == 422
    assert res.json()["detail"][0]["loc"][-1] in {"lon", "lat"}


@pytest.mark.parametrize(("key", "status"), [("27487999", 422), ("abcdefghijkl", 422),
                                             ("279990010001", 404)])
def test_bad_or_unknown_keys(client: TestClient, key: str, status: int) -> None:
    assert client.get(f"/api/parcels/{key}").status_code == status


def test_find_by_old_ward_code_sheet_and_number(client: TestClient, conn: Connection) -> None:
    key, code, sheet, number = conn.exec_driver_sql(
        "SELECT p.parcel_key, w.code, p.sheet_no, p.parcel_no FROM parcel p "
        "JOIN admin_unit w ON w.id = p.ward_id ORDER BY p.parcel_key DESC LIMIT 1"
    ).one()
    res = client.get("/api/parcels", params={"ward": code, "sheet": sheet, "parcel": number})
    assert res.status_code == 200
    assert key in [item["key"] for item in res.json()["items"]]


def test_find_by_new_ward_name_without_diacritics(client: TestClient, conn: Connection) -> None:
    key, sheet, number, new_name = conn.exec_driver_sql(
        "SELECT p.parcel_key, p.sheet_no, p.parcel_no, w.name FROM parcel p "
        "JOIN admin_unit w ON w.id = p.current_ward_id WHERE w.name = 'Tân Mỹ' "
        "ORDER BY p.parcel_key LIMIT 1"
    ).one()
    res = client.get("/api/parcels",
                     params={"ward": "Phường tan my", "sheet": sheet, "parcel": number})
    assert res.status_code == 200
    items = res.json()["items"]
    assert key in [i["key"] for i in items]
    assert all(i["ward_current"] == new_name for i in items)
    # The same sheet and number exist in more than one old ward of a merged ward: all listed.
    assert {i["ward_old"] for i in items} <= {"Tân Phú", "Tân Phong"}


def test_unknown_ward_is_a_404_naming_the_field(client: TestClient) -> None:
    res = client.get("/api/parcels", params={"ward": "Bến Nghé", "sheet": 1, "parcel": 1})
    assert res.status_code == 404
    assert res.json()["field"] == "ward"


def test_search_finds_addresses_and_streets_without_diacritics(
    client: TestClient, conn: Connection
) -> None:
    address = conn.exec_driver_sql(
        "SELECT address FROM parcel WHERE address LIKE '%%Nguyễn Thị Thập' "
        "ORDER BY parcel_key LIMIT 1"
    ).scalar_one()
    res = client.get("/api/search", params={"q": "nguyen thi thap"})
    assert res.status_code == 200
    body = res.json()
    assert body["streets"][0]["name"] == "Nguyễn Thị Thập"
    assert body["streets"][0]["right_of_way_m"] == 30
    res = client.get("/api/search", params={"q": address})
    assert address in [p["address"] for p in res.json()["parcels"]]


def test_search_needs_two_characters(client: TestClient) -> None:
    res = client.get("/api/search", params={"q": " a "})
    assert res.status_code == 422
    assert res.json()["field"] == "q"


def test_park_parcels_offer_no_construction_permit(client: TestClient, conn: Connection) -> None:
    _, lon, lat = _point_in(
        conn, "b.function_category = 'park' AND ST_CoveredBy(p.geom, b.geom)"
    )
    card = _card(client, lon, lat)
    assert [z["function_category"] for z in card["zoning"]] == ["park"]
    assert card["services"] == []


def test_openapi_documents_the_card(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/api/parcels/at"]["get"]
    assert op["summary"].startswith("Parcel card at a point")
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ParcelCard"
    )


def test_every_parcel_has_planning_facts_that_add_up(conn: Connection) -> None:
    missing, bad_zoning, bad_land_use = conn.exec_driver_sql(
        """
        SELECT
          (SELECT count(*) FROM parcel p
           WHERE NOT EXISTS (SELECT 1 FROM parcel_zoning z WHERE z.parcel_id = p.id)),
          (SELECT count(*) FROM (SELECT parcel_id FROM parcel_zoning GROUP BY parcel_id
                                 HAVING abs(sum(share_pct) - 100) > 0.3) AS z),
          (SELECT count(*) FROM (SELECT parcel_id FROM parcel_land_use GROUP BY parcel_id
                                 HAVING abs(sum(share_pct) - 100) > 0.3) AS u)
        """
    ).one()
    assert (missing, bad_zoning, bad_land_use) == (0, 0, 0)


def test_land_use_legend(client: TestClient) -> None:
    codes = {c["code"]: c for c in client.get("/api/land-use-codes").json()}
    assert codes["ODT"]["fill_colour"] == "#FFA0FF"
    assert codes["ODT"]["used"] is True
    assert codes["LUC"]["used"] is False  # no paddy in District 7's plan
