"""OGC API – Features over the published layers; GDAL's OAPIF driver reads it."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import urllib.request

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from accounts.service import AccountService, GrantSpec
from core.notify import OutboxNotifier
from core.workflow import driver
from layers.catalogue import record_published
from layers.ogc.repository import COUNT_CAP


def test_landing_conformance_and_collections(client: TestClient) -> None:
    landing = client.get("/ogc").json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "conformance", "data", "service-desc"} <= rels
    conformance = client.get("/ogc/conformance").json()["conformsTo"]
    assert any(c.endswith("/conf/geojson") for c in conformance)
    collections = {c["id"]: c for c in client.get("/ogc/collections").json()["collections"]}
    assert {"zoning_blocks", "land_use", "parcels", "roads"} <= set(collections)
    blocks = collections["zoning_blocks"]
    minx, miny, maxx, maxy = blocks["extent"]["spatial"]["bbox"][0]
    assert 106.6 < minx < maxx < 106.8
    assert 10.6 < miny < maxy < 10.8
    assert any(link["rel"] == "items" and link["type"] == "application/geo+json"
               for link in blocks["links"])


def test_items_page_with_next_links_and_filters(client: TestClient) -> None:
    res = client.get("/ogc/collections/land_use/items?limit=5")
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("application/geo+json")
    page = res.json()
    assert page["type"] == "FeatureCollection"
    assert page["numberReturned"] == 5
    assert len(page["features"]) == 5
    feature = page["features"][0]
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert "geom" not in feature["properties"]
    assert "code" in feature["properties"]
    following = next(link["href"] for link in page["links"] if link["rel"] == "next")
    assert "offset=5" in following
    second = client.get(following.replace("http://testserver", "")).json()
    assert {f["id"] for f in second["features"]}.isdisjoint({f["id"] for f in page["features"]})
    odt = client.get("/ogc/collections/land_use/items?code=ODT&limit=1000").json()
    assert odt["features"]
    assert {f["properties"]["code"] for f in odt["features"]} == {"ODT"}


def test_bbox_filters_and_counts_stay_bounded(client: TestClient) -> None:
    everything = client.get("/ogc/collections/parcels/items?limit=1").json()
    assert "numberMatched" not in everything or everything["numberMatched"] <= COUNT_CAP
    small = client.get("/ogc/collections/parcels/items?bbox=106.719,10.733,106.7195,10.7335"
                       "&limit=1000").json()
    assert 0 < small["numberMatched"] == small["numberReturned"] < 200
    for f in small["features"]:
        coords = json.dumps(f["geometry"]["coordinates"])
        assert "106.7" in coords


def test_one_feature_and_clear_errors(client: TestClient) -> None:
    first = client.get("/ogc/collections/roads/items?limit=1").json()["features"][0]
    one = client.get(f"/ogc/collections/roads/items/{first['id']}")
    assert one.status_code == 200
    assert one.json()["properties"] == first["properties"]
    assert client.get("/ogc/collections/roads/items/999999999").status_code == 404
    assert client.get("/ogc/collections/nothing/items").status_code == 404
    for query, field in [("bbox=1,2,3", "bbox"), ("limit=0", "limit"), ("limit=x", "limit"),
                         ("colour=red", "colour"), ("bbox=10,10,5,5", "bbox")]:
        res = client.get(f"/ogc/collections/zoning_blocks/items?{query}")
        assert res.status_code == 400, query
        assert res.json()["field"] == field


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin is not installed")
def test_gdal_oapif_driver_lists_and_reads(live_server: str) -> None:
    listed = subprocess.run(["ogrinfo", "-ro", "-q", f"OAPIF:{live_server}/ogc"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert listed.returncode == 0, listed.stderr
    assert "zoning_blocks" in listed.stdout
    assert "parcels" in listed.stdout
    read = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-al", "-oo", "PAGE_SIZE=500", f"OAPIF:{live_server}/ogc",
         "zoning_blocks"], capture_output=True, text=True, timeout=120, check=False)
    assert read.returncode == 0, read.stderr
    assert "Feature Count:" in read.stdout
    assert "block_code" in read.stdout
    features = subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", "-oo", "PAGE_SIZE=100", "/vsistdout/",
         f"OAPIF:{live_server}/ogc", "land_use"],
        capture_output=True, text=True, timeout=120, check=False)
    assert features.returncode == 0, features.stderr
    with urllib.request.urlopen(f"{live_server}/ogc/collections/land_use/items?limit=1") as res:
        matched = json.load(res)["numberMatched"]
    assert matched > 300  # so that GDAL had to follow several `next` links
    assert len(json.loads(features.stdout)["features"]) == matched


def test_a_layer_published_for_staff_is_served_to_staff_only(
        client: TestClient, engine: Engine) -> None:
    layer = f"t_staff_{secrets.token_hex(3)}"
    phone = "097" + "".join(secrets.choice("0123456789") for _ in range(7))
    with engine.begin() as db:
        db.exec_driver_sql(
            "INSERT INTO catalogue_layer (id, kind, title_vi, title_en, visibility) VALUES "
            "(%(l)s, 'free', 'Hạ tầng ngầm', 'Underground utilities', 'staff')", {"l": layer})
        db.exec_driver_sql(f'CREATE TABLE layer_data."{layer}_v1" AS SELECT 1::bigint AS fid, '
                           "'c1'::text AS src_id, '{\"ten\": \"Cống\"}'::jsonb AS props, "
                           "ST_SetSRID(ST_MakePoint(106.72, 10.73), 4326) AS geom, "
                           "NULL::text AS problem, NULL::text AS outcome")
        record_published(driver(db), layer, "utilities.gpkg", 4326, 1, f"{layer}_v1")
        _, password = AccountService(db, OutboxNotifier(db), b"k" * 32).create_staff(
            phone, "Cán Bộ", GrantSpec("leader", department="urban-management"))
    try:
        listed = {c["id"] for c in client.get("/ogc/collections").json()["collections"]}
        assert layer not in listed
        hidden = client.get(f"/ogc/collections/{layer}/items")
        assert hidden.status_code == 404
        res = client.post("/api/auth/signin", json={"identifier": phone, "password": password})
        assert res.status_code == 200
        collections = client.get("/ogc/collections")
        assert layer in {c["id"] for c in collections.json()["collections"]}
        assert collections.headers["cache-control"] == "private, no-store"
        items = client.get(f"/ogc/collections/{layer}/items")
        assert items.status_code == 200
        assert items.headers["cache-control"] == "private, no-store"
        assert items.json()["features"][0]["properties"]["ten"] == "Cống"
        public = client.get("/ogc/collections/land_use/items?limit=1")
        assert public.headers["cache-control"] == "private, no-store"  # a staff answer
        assert "Cookie" in public.headers["vary"]
    finally:
        with engine.begin() as db:
            # Events are append-only (a trigger): the test's own teardown goes around it.
            db.exec_driver_sql("SET LOCAL session_replication_role = replica")
            db.exec_driver_sql("DELETE FROM catalogue_event WHERE version_id IN (SELECT id "
                               "FROM catalogue_version WHERE layer_id = %(l)s)", {"l": layer})
            db.exec_driver_sql("DELETE FROM catalogue_version WHERE layer_id = %(l)s",
                               {"l": layer})
            db.exec_driver_sql("DELETE FROM catalogue_layer WHERE id = %(l)s", {"l": layer})
            db.exec_driver_sql(f'DROP TABLE layer_data."{layer}_v1"')
