"""Uploads through the API, end to end, against the app's own transactions: jobs, doctors'
questions, validation reports, changes, publishing and rolling back."""

from __future__ import annotations

import io
import json
import secrets
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import numpy as np
import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from accounts.service import AccountService, GrantSpec
from core.notify import OutboxNotifier
from core.settings import Settings
from etl.crs import from_wgs84
from gisapi.main import create_app
from layers.text import normalize_search
from tests.layers.files import land_use_with, published

TCVN_NAME = "Tr\xad\xeang THCS"  # "Trường THCS" in TCVN3, as Latin-1 characters


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    var = tmp_path_factory.mktemp("var")
    return Settings(tile_cache_size=0, var_dir=var, uploads_dir=var / "uploads", upload_max_mb=5)


@pytest.fixture
def planner(engine: Engine, settings: Settings) -> Iterator[TestClient]:
    phone = "098" + "".join(secrets.choice("0123456789") for _ in range(7))
    with engine.begin() as conn:
        service = AccountService(conn, OutboxNotifier(conn), b"k" * 32)
        _, password = service.create_staff(phone, "Kiến Trúc Sư", GrantSpec("planner"))
    app = create_app(settings, engine=engine)
    with TestClient(app) as client:
        res = client.post("/api/auth/signin", json={"identifier": phone, "password": password})
        assert res.status_code == 200
        client.headers["X-CSRF-Token"] = res.json()["csrf_token"]
        yield client


def _publish(planner: TestClient, layer: str, number: int) -> Any:
    """Publish a version as the planners' page does: If-Match with the ETag it read."""
    read = planner.get(f"/api/layers/{layer}/versions/{number}")
    return planner.post(f"/api/layers/{layer}/versions/{number}/publish",
                        headers={"If-Match": read.headers["etag"]})


def _wait(client: TestClient, job_id: int, until: tuple[str, ...] = (
        "succeeded", "failed", "needs_input")) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in until:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job['status']}")


def _upload(client: TestClient, layer: str, name: str, data: bytes,
            **form: str) -> dict[str, Any]:
    res = client.post(f"/api/layers/{layer}/uploads", files={"file": (name, data)}, data=form)
    assert res.status_code == 202, res.text
    return _wait(client, res.json()["id"])


def _geojson(features: list[tuple[str, Any]]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"ma": ma, "ten": f"Công trình {ma}"},
         "geometry": shapely.geometry.mapping(geom)} for ma, geom in features]}).encode()


def _box(lon: float, lat: float, size: float = 0.0004) -> shapely.Geometry:
    return shapely.box(lon, lat, lon + size, lat + size)


def test_a_free_layer_from_upload_to_publish_and_rollback(planner: TestClient) -> None:
    layer = f"t_free_{secrets.token_hex(3)}"
    res = planner.post("/api/layers", json={
        "id": layer, "title_vi": "Công trình công cộng", "title_en": "Public buildings",
        "schema": [{"name": "ma", "key": True, "required": True}]})
    assert res.status_code == 201, res.text
    bowtie = shapely.Polygon([(106.720, 10.733), (106.721, 10.734), (106.721, 10.733),
                              (106.720, 10.734), (106.720, 10.733)])
    first = [("A", _box(106.715, 10.730)), ("B", _box(106.716, 10.731)), ("C", bowtie)]
    job = _upload(planner, layer, "congtrinh.geojson", _geojson(first))
    assert job["status"] == "succeeded", job["message"]
    assert job["version"] == 1
    v1 = planner.get(f"/api/layers/{layer}/versions/1").json()
    assert v1["status"] == "validated"
    assert v1["report"]["repaired"] == 1
    assert v1["report"]["issues"][0]["feature"] == "C"
    assert "Self-intersection" in v1["report"]["issues"][0]["problem"]
    assert v1["changes"] == {"added": 3, "removed": 0, "changed": 0, "unchanged": 0}
    issues = planner.get(f"/api/layers/{layer}/versions/1/issues.geojson").json()
    assert [f["properties"]["feature"] for f in issues["features"]] == ["C"]
    assert _publish(planner, layer, 1).json()["action"] == "publish"
    ogc = planner.get(f"/ogc/collections/{layer}/items").json()
    assert {f["properties"]["ma"] for f in ogc["features"]} == {"A", "B", "C"}
    # Version 2: B moved, C gone, D new.
    second = [("A", _box(106.715, 10.730)), ("B", _box(106.7165, 10.7315)),
              ("D", _box(106.718, 10.732))]
    job = _upload(planner, layer, "congtrinh-2.geojson", _geojson(second))
    v2 = planner.get(f"/api/layers/{layer}/versions/{job['version']}").json()
    assert v2["changes"] == {"added": 1, "removed": 1, "changed": 1, "unchanged": 1}
    area = planner.get(f"/api/layers/{layer}/versions/2/changes.geojson").json()
    changed = shapely.geometry.shape(area["features"][0]["geometry"])
    assert changed.intersects(_box(106.718, 10.732))
    assert not changed.intersects(shapely.Point(106.7152, 10.7302))  # A did not change
    # The same area as a vector tile layer, over D's tile.
    z = 16
    x = int((106.7181 + 180) / 360 * 2**z)
    y = int((1 - np.arcsinh(np.tan(np.radians(10.7321))) / np.pi) / 2 * 2**z)
    tile = planner.get(f"/api/layers/{layer}/versions/2/changes/{z}/{x}/{y}.mvt")
    assert tile.status_code == 200
    decoded = mapbox_vector_tile.decode(tile.content)
    assert decoded["changes"]["features"][0]["properties"]["added"] == 1
    _publish(planner, layer, 2)
    assert {f["properties"]["ma"] for f in planner.get(
        f"/ogc/collections/{layer}/items").json()["features"]} == {"A", "B", "D"}
    back = _publish(planner, layer, 1).json()
    assert back["action"] == "rollback"
    statuses = {v["number"]: v["status"] for v in planner.get(
        f"/api/layers/{layer}/versions").json()}
    assert statuses == {1: "published", 2: "superseded"}
    # The same file again: the same version, nothing new.
    again = _upload(planner, layer, "congtrinh-2.geojson", _geojson(second))
    assert again["version"] == 2
    assert "already ingested" in again["message"]


def _shapefile_zip(tmp: Path, names: list[str], geoms: list[shapely.Geometry],
                   keep: tuple[str, ...] = (".shp", ".shx", ".dbf")) -> bytes:
    path = tmp / "truong.shp"
    pyogrio.raw.write(path, geometry=shapely.to_wkb(np.array(geoms, dtype=object)),
                      field_data=[np.array(names, dtype=object)], fields=["ten"],
                      geometry_type="Polygon", crs=None, encoding="latin1", driver="ESRI Shapefile")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for suffix in keep:
            z.write(path.with_suffix(suffix), f"truong{suffix}")
    return out.getvalue()


def test_a_vn2000_shapefile_without_prj_in_tcvn3(planner: TestClient, tmp_path: Path,
                                                engine: Engine) -> None:
    layer = f"t_shp_{secrets.token_hex(3)}"
    planner.post("/api/layers", json={"id": layer, "title_vi": "Trường", "title_en": "Schools"})

    def vn2000(g: shapely.Geometry) -> shapely.Geometry:
        def move(c: np.ndarray) -> np.ndarray:
            return np.column_stack(from_wgs84(9210, c[:, 0], c[:, 1]))
        return shapely.transform(g, move)

    data = _shapefile_zip(tmp_path, [TCVN_NAME, "Tr\xad\xeang"],
                          [vn2000(_box(106.715, 10.730)), vn2000(_box(106.72, 10.735))])
    job = _upload(planner, layer, "truong.zip", data, publish="true")
    assert job["status"] == "needs_input", job
    question = job["question"]
    assert question["kind"] == "crs"
    assert question["candidates"][0]["value"] == "EPSG:9210"
    assert question["candidates"][0]["where"] == "trong quận"
    with engine.connect() as conn:
        kept = Path(conn.exec_driver_sql("SELECT source_path FROM etl_job WHERE id = %(i)s",
                                         {"i": job["id"]}).scalar_one())
    assert kept.exists()  # the answer's run reads it again
    res = planner.post(f"/api/jobs/{job['id']}/answer", json={"crs": "EPSG:9210"})
    assert res.status_code == 202
    done = _wait(planner, job["id"], ("succeeded", "failed"))
    assert done["status"] == "succeeded", done
    assert not kept.parent.exists()  # the upload is gone with its job done
    version = planner.get(f"/api/layers/{layer}/versions/1").json()
    assert version["encoding"] == "tcvn3"
    assert version["srid"] == 9210
    assert version["status"] == "published"  # asked for at upload: published once valid
    feature = planner.get(f"/ogc/collections/{layer}/items").json()["features"][0]
    assert feature["properties"]["ten"] == "Trường THCS"
    lon, lat = feature["geometry"]["coordinates"][0][0]
    assert abs(lon - 106.715) < 1e-6 or abs(lon - 106.7154) < 1e-3
    assert 10.729 < lat < 10.731


def test_a_missing_dbf_and_a_zip_slip_fail_with_nothing_written(
    planner: TestClient, tmp_path: Path, engine: Engine
) -> None:
    layer = f"t_bad_{secrets.token_hex(3)}"
    planner.post("/api/layers", json={"id": layer, "title_vi": "X", "title_en": "X"})
    no_dbf = _shapefile_zip(tmp_path, ["a"], [_box(106.715, 10.73)], keep=(".shp", ".shx"))
    job = _upload(planner, layer, "a.zip", no_dbf)
    assert job["status"] == "failed"
    assert ".dbf file is missing" in job["message"]
    slip = io.BytesIO()
    with zipfile.ZipFile(slip, "w") as z:
        z.writestr("../../outside.geojson", _geojson([("A", _box(106.715, 10.73))]))
    job = _upload(planner, layer, "slip.zip", slip.getvalue())
    assert job["status"] == "failed"
    assert "climbs out" in job["message"]
    with engine.connect() as conn:
        versions = conn.exec_driver_sql("SELECT count(*) FROM catalogue_version "
                                        "WHERE layer_id = %(l)s", {"l": layer}).scalar_one()
        tables = conn.exec_driver_sql("SELECT count(*) FROM pg_tables WHERE schemaname = "
                                      "'layer_data' AND tablename LIKE %(l)s",
                                      {"l": f"{layer}%"}).scalar_one()
    assert (versions, tables) == (0, 0)


def test_uploads_are_bounded_and_named(planner: TestClient) -> None:
    big = planner.post("/api/layers/land_use/uploads",
                       files={"file": ("big.geojson", b"{" + b" " * (6 * 1024**2))})
    assert big.status_code == 413
    assert big.json()["field"] == "file"
    vrt = planner.post("/api/layers/land_use/uploads",
                       files={"file": ("plan.vrt", b"<OGRVRTDataSource/>")})
    assert vrt.status_code == 422
    assert "plan.vrt" in vrt.json()["detail"]


def test_land_use_publish_changes_cards_and_tiles_then_rolls_back(
    planner: TestClient, engine: Engine
) -> None:
    with engine.connect() as conn:
        target = conn.exec_driver_sql(
            "SELECT z.id, p.parcel_key FROM land_use_zone z JOIN parcel p "
            "ON ST_CoveredBy(p.geom, z.geom) WHERE z.code = 'ODT' ORDER BY z.id LIMIT 1").one()
        before = published(conn, "land_use")
        data = land_use_with(conn, target.id, "TMD")
    job = _upload(planner, "land_use", "sdd-2030.geojson", data)
    assert job["status"] == "succeeded", job["message"]
    version = planner.get(f"/api/layers/land_use/versions/{job['version']}").json()
    assert version["changes"]["added"] == 1, version["changes"]
    assert version["changes"]["removed"] == 1
    res = _publish(planner, 'land_use', job['version'])
    assert res.json()["tile_features_changed"]["land_use"] >= 2
    card = planner.get(f"/api/parcels/{target.parcel_key}").json()
    assert [u["code"] for u in card["land_use"]] == ["TMD"]
    back = _publish(planner, 'land_use', before)
    assert back.json()["action"] == "rollback"
    card = planner.get(f"/api/parcels/{target.parcel_key}").json()
    assert [u["code"] for u in card["land_use"]] == ["ODT"]


def test_a_five_million_vertex_polygon_is_refused_in_time_and_the_api_stays_up(
    engine: Engine, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = Settings(tile_cache_size=0, uploads_dir=tmp_path_factory.mktemp("big"),
                        upload_max_mb=200)
    angles = np.linspace(0, 2 * np.pi, 5_000_000, endpoint=False)
    ring = np.column_stack([106.72 + 0.003 * np.cos(angles), 10.733 + 0.003 * np.sin(angles)])
    huge = shapely.Polygon(np.vstack([ring, ring[:1]]))
    path = tmp_path / "huge.gpkg"
    pyogrio.raw.write(path, geometry=shapely.to_wkb(np.array([huge, _box(106.715, 10.73)],
                                                              dtype=object)),
                      field_data=[np.array(["big", "small"], dtype=object)], fields=["ma"],
                      geometry_type="Polygon", crs="EPSG:4326", driver="GPKG")
    layer = f"t_huge_{secrets.token_hex(3)}"
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO catalogue_layer (id, kind, title_vi, title_en) "
                             "VALUES (%(i)s, 'free', 'X', 'X')", {"i": layer})
    phone = "096" + "".join(secrets.choice("0123456789") for _ in range(7))
    with engine.begin() as conn:
        service = AccountService(conn, OutboxNotifier(conn), b"k" * 32)
        _, password = service.create_staff(phone, "Quy Hoạch", GrantSpec("planner"))
    with TestClient(create_app(settings, engine=engine)) as client:
        signed = client.post("/api/auth/signin", json={"identifier": phone,
                                                       "password": password})
        client.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
        started = time.monotonic()
        res = client.post(f"/api/layers/{layer}/uploads",
                          files={"file": ("huge.gpkg", path.read_bytes())})
        assert res.status_code == 202
        slowest = 0.0
        while client.get(f"/api/jobs/{res.json()['id']}").json()["status"] in (
                "queued", "running"):
            asked = time.monotonic()
            assert client.get("/api/health").status_code == 200
            slowest = max(slowest, time.monotonic() - asked)
            assert time.monotonic() - started < 120
            time.sleep(0.1)
        job = client.get(f"/api/jobs/{res.json()['id']}").json()
        report = client.get(f"/api/layers/{layer}/versions/{job['version']}").json()["report"]
    assert report["rejected"] == 1
    assert report["issues"][0]["feature"] == "1"
    assert "5,000,001 vertices" in report["issues"][0]["problem"]
    assert report["accepted"] == 1
    assert slowest < 2.0  # other requests are answered while the job works


def _rewrite(source: Path, target: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    meta, _, wkb, data = pyogrio.raw.read(source)
    fields = [str(f) for f in meta["fields"]]
    # Each row carries its geometry, so that a change may add or drop rows.
    rows = [dict(zip(fields, [c[i] for c in data], strict=True), _wkb=wkb[i])
            for i in range(len(wkb))]
    change({"rows": rows})
    wkb = np.array([r["_wkb"] for r in rows], dtype=object)
    columns = []
    for j, f in enumerate(fields):
        values = [r[f] for r in rows]
        text = data[j].dtype == object or any(isinstance(v, str) for v in values)
        columns.append(np.array([str(v) if text and v is not None else v for v in values],
                                dtype=object if text else data[j].dtype))
    pyogrio.raw.write(target, geometry=wkb, field_data=columns, fields=fields,
                      geometry_type=meta["geometry_type"], crs=meta["crs"], driver="GPKG")
    return target


def test_zoning_blocks_checked_by_schema_published_and_rolled_back(
    planner: TestClient, engine: Engine, sample_files: dict[str, Path], tmp_path: Path
) -> None:
    with engine.connect() as conn:
        target = conn.exec_driver_sql(
            "SELECT b.block_code, b.floors_max, p.parcel_key FROM zoning_block b JOIN parcel p "
            "ON ST_CoveredBy(p.geom, b.geom) ORDER BY b.id LIMIT 1").one()
        before = published(conn, "zoning_blocks")

    def bad(data: dict[str, Any]) -> None:
        data["rows"][0]["ma_qh"] = "QH-KHONG-CO"
        data["rows"][1]["mat_do_xd"] = "nhiều"
    refused = _upload(planner, "zoning_blocks", "o-pho.gpkg",
                      _rewrite(sample_files["zoning_blocks"], tmp_path / "bad.gpkg", bad)
                      .read_bytes())
    report = planner.get(f"/api/layers/zoning_blocks/versions/{refused['version']}").json()
    assert report["status"] == "rejected"
    problems = sorted(i["problem"] for i in report["report"]["issues"])
    assert problems[0].startswith("attribute mat_do_xd is not a number")
    assert problems[1] == "unknown zoning plan QH-KHONG-CO"

    def taller(data: dict[str, Any]) -> None:
        for row in data["rows"]:
            if row["ma_o_pho"] == target.block_code:
                row["tang_cao_max"] = target.floors_max + 10
                row["mat_do_xd"] = "45,5"  # a Vietnamese decimal comma is a number
    job = _upload(planner, "zoning_blocks", "o-pho-2.gpkg",
                  _rewrite(sample_files["zoning_blocks"], tmp_path / "taller.gpkg", taller)
                  .read_bytes())
    version = planner.get(f"/api/layers/zoning_blocks/versions/{job['version']}").json()
    assert version["status"] == "validated"
    assert version["changes"] == {"added": 0, "removed": 0, "changed": 1,
                                  "unchanged": version["changes"]["unchanged"]}
    _publish(planner, 'zoning_blocks', job['version'])
    card = planner.get(f"/api/parcels/{target.parcel_key}").json()
    block = next(z for z in card["zoning"] if z["block_code"] == target.block_code)
    assert (block["floors_max"], block["coverage_max_pct"]) == (target.floors_max + 10, 45.5)
    assert _publish(planner, 'zoning_blocks', before).json()[
        "action"] == "rollback"
    card = planner.get(f"/api/parcels/{target.parcel_key}").json()
    block = next(z for z in card["zoning"] if z["block_code"] == target.block_code)
    assert block["floors_max"] == target.floors_max


def test_a_layer_without_its_required_field_is_refused(planner: TestClient) -> None:
    job = _upload(planner, "land_use", "sdd.geojson", _geojson([("A", _box(106.715, 10.73))]))
    assert job["status"] == "failed"
    assert "no field for ma_loai_dat" in job["message"]


def _dxf(corners: list[tuple[float, float]], label: tuple[float, float, str]) -> bytes:
    # AutoCAD 2007 and later write DXF in UTF-8 and say so in the header.
    lines = ["0", "SECTION", "2", "HEADER", "9", "$ACADVER", "1", "AC1021", "0", "ENDSEC",
             "0", "SECTION", "2", "ENTITIES", "0", "LWPOLYLINE", "8", "O_PHO", "90",
             str(len(corners)), "70", "1"]
    for x, y in corners:
        lines += ["10", f"{x:.3f}", "20", f"{y:.3f}"]
    x, y, text = label
    lines += ["0", "TEXT", "8", "NHAN", "10", f"{x:.3f}", "20", f"{y:.3f}", "40", "2.0", "1",
              text, "0", "ENDSEC", "0", "EOF"]
    return ("\n".join(lines) + "\n").encode()


def test_dxf_kml_and_a_geopackage_with_two_layers(planner: TestClient, tmp_path: Path) -> None:
    layer = f"t_fmt_{secrets.token_hex(3)}"
    planner.post("/api/layers", json={"id": layer, "title_vi": "Định dạng", "title_en": "Formats"})
    x0, y0 = (float(v) for v in from_wgs84(9210, 106.715, 10.73))
    square = [(x0, y0), (x0 + 40, y0), (x0 + 40, y0 + 40), (x0, y0 + 40)]
    job = _upload(planner, layer, "ban-ve.dxf", _dxf(square, (x0 + 20, y0 + 20, "Ô A1")))
    assert job["status"] == "needs_input"  # a drawing has no coordinate system
    planner.post(f"/api/jobs/{job['id']}/answer", json={"crs": "EPSG:9210"})
    done = _wait(planner, job["id"], ("succeeded", "failed"))
    assert done["status"] == "succeeded", done
    _publish(planner, layer, done['version'])
    feature = planner.get(f"/ogc/collections/{layer}/items").json()["features"][0]
    assert feature["geometry"]["type"] == "Polygon"
    assert feature["properties"] == {"dxf_layer": "O_PHO", "label": "Ô A1"}

    kml = ('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
           "<Document><Placemark><name>Công viên</name><Polygon><outerBoundaryIs><LinearRing>"
           "<coordinates>106.716,10.731 106.717,10.731 106.717,10.732 106.716,10.731"
           "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></Document></kml>")
    job = _upload(planner, layer, "cong-vien.kml", kml.encode())
    assert job["status"] == "succeeded", job["message"]
    version = planner.get(f"/api/layers/{layer}/versions/{job['version']}").json()
    assert version["feature_count"] == 1

    gpkg = tmp_path / "hai-lop.gpkg"
    for name in ("ranh_gioi", "o_dat"):
        pyogrio.raw.write(gpkg, geometry=shapely.to_wkb(np.array([_box(106.715, 10.73)],
                                                                dtype=object)),
                          field_data=[np.array([name], dtype=object)], fields=["ten"],
                          geometry_type="Polygon", crs="EPSG:4326", driver="GPKG", layer=name,
                          append=gpkg.exists())
    job = _upload(planner, layer, "hai-lop.gpkg", gpkg.read_bytes())
    assert job["status"] == "needs_input"
    assert job["question"]["kind"] == "layer"
    assert {c["value"] for c in job["question"]["candidates"]} == {"ranh_gioi", "o_dat"}
    planner.post(f"/api/jobs/{job['id']}/answer", json={"layer": "o_dat"})
    assert _wait(planner, job["id"], ("succeeded", "failed"))["status"] == "succeeded"


def _geotiff(path: Path, west: float, south: float) -> Path:
    import rasterio
    from rasterio.transform import from_bounds

    data = np.tile(np.arange(64, dtype=np.uint8), (64, 1))
    with rasterio.open(path, "w", driver="GTiff", width=64, height=64, count=1, dtype="uint8",
                       crs="EPSG:4326",
                       transform=from_bounds(west, south, west + 0.01, south + 0.01, 64, 64)
                       ) as out:
        out.write(data, 1)
    return path


def test_a_scanned_plan_becomes_a_cog_version_served_by_its_id(planner: TestClient,
                                                               tmp_path: Path) -> None:
    layer = f"t_scan_{secrets.token_hex(3)}"
    res = planner.post("/api/layers", json={"id": layer, "kind": "scanned_plan",
                                            "title_vi": "Bản đồ quét 2012", "title_en": "Scan"})
    assert res.status_code == 201, res.text
    far = _upload(planner, layer, "ha-noi.tif",
                  _geotiff(tmp_path / "far.tif", 105.85, 21.03).read_bytes())
    assert far["status"] == "failed"
    assert "not on the district" in far["message"]
    job = _upload(planner, layer, "ban-do-quet.tif",
                  _geotiff(tmp_path / "scan.tif", 106.71, 10.72).read_bytes(), publish="true")
    assert job["status"] == "succeeded", job["message"]
    listed = {row["id"]: row for row in planner.get("/api/layers").json()}
    raster_id = listed[layer]["published_raster"]
    assert raster_id == f"{layer.replace('_', '-')}-v{job['version']}"
    info = planner.get(f"/raster/{raster_id}/info")
    assert info.status_code == 200, info.text
    assert info.json()["overviews"] is not None
    vector = _upload(planner, layer, "sdd.geojson", _geojson([("A", _box(106.715, 10.73))]))
    assert vector["status"] == "failed"
    assert "takes a GeoTIFF" in vector["message"]


def _zipped(path: Path) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(path, path.name)
    return out.getvalue()


def test_parcels_published_by_their_ids_and_rolled_back(
    planner: TestClient, engine: Engine, sample_files: dict[str, Path], tmp_path: Path
) -> None:
    with engine.connect() as conn:
        target = conn.exec_driver_sql(
            "SELECT p.id, p.parcel_key, w.code, p.sheet_no, p.parcel_no, p.address FROM parcel p "
            "JOIN admin_unit w ON w.id = p.ward_id WHERE p.address IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM parcel q WHERE q.ward_id = p.ward_id "
            "AND q.sheet_no = p.sheet_no AND q.parcel_no = 9999) ORDER BY p.id LIMIT 1").one()
        before = published(conn, "parcels")
    split_key = f"{target.code}{target.sheet_no:03d}9999"  # a parcel split off: a new number

    def key(row: dict[str, Any]) -> tuple[str, int, int]:
        return (str(row["ma_xa"]), int(row["so_to"]), int(row["so_thua"]))

    doubled: list[tuple[str, int, int]] = []

    def twice(data: dict[str, Any]) -> None:
        data["rows"].append(dict(data["rows"][0]))
        doubled.append(key(data["rows"][0]))
    refused = _upload(planner, "parcels", "thua-dat.zip", _zipped(
        _rewrite(sample_files["parcels"], tmp_path / "twice.gpkg", twice)))
    report = planner.get(f"/api/layers/parcels/versions/{refused['version']}").json()
    assert report["status"] == "rejected"
    assert [i["problem"] for i in report["report"]["issues"]] == [
        "duplicate id {}/{}/{}".format(*doubled[0])]

    address = "25 Đường Số 9, khu phố 3"

    def corrected(data: dict[str, Any]) -> None:
        for row in data["rows"]:
            if key(row) == (target.code, target.sheet_no, target.parcel_no):
                row["dia_chi"] = address
                data["rows"].append({**row, "so_thua": 9999, "dia_chi": "Thửa mới tách"})
                break
    job = _upload(planner, "parcels", "thua-dat-2.zip", _zipped(
        _rewrite(sample_files["parcels"], tmp_path / "corrected.gpkg", corrected)))
    version = planner.get(f"/api/layers/parcels/versions/{job['version']}").json()
    assert version["status"] == "validated", version["report"]
    assert version["changes"] == {"added": 1, "removed": 0, "changed": 1,
                                  "unchanged": version["changes"]["unchanged"]}
    _publish(planner, 'parcels', job['version'])
    card = planner.get(f"/api/parcels/{target.parcel_key}").json()
    assert card["parcel"]["address"] == address
    assert card["parcel"]["id"] == target.id  # the tiles and links name the same parcel
    assert planner.get(f"/api/parcels/{split_key}").json()["parcel"]["address"] == \
        "Thửa mới tách"
    with engine.connect() as conn:
        kept = conn.exec_driver_sql(
            "SELECT id, address_search FROM parcel WHERE parcel_key = %(k)s",
            {"k": target.parcel_key}).one()
        assert kept.id == target.id  # the parcel kept its row: links and facts name it
        assert kept.address_search == "25 duong so 9, khu pho 3"
        assert conn.exec_driver_sql("SELECT count(*) FROM parcel_zoning WHERE parcel_id = "
                                    "%(i)s", {"i": target.id}).scalar_one() > 0
    assert _publish(planner, 'parcels', before).json()[
        "action"] == "rollback"
    assert planner.get(f"/api/parcels/{target.parcel_key}").json()["parcel"]["address"] == \
        target.address
    assert planner.get(f"/api/parcels/{split_key}").status_code == 404  # gone again


def test_roads_and_water_published_from_uploads_and_rolled_back(
    planner: TestClient, engine: Engine, sample_files: dict[str, Path], tmp_path: Path
) -> None:
    with engine.connect() as conn:
        road = conn.exec_driver_sql(
            "SELECT name, right_of_way_m, ST_Area(row_geom::geography) AS area FROM road "
            "ORDER BY id LIMIT 1").one()
        roads_before, water_before = published(conn, "roads"), published(conn, "water")

    def wider(and_narrow: bool) -> Callable[[dict[str, Any]], None]:
        def change(data: dict[str, Any]) -> None:
            for row in data["rows"]:
                if row["ten_duong"] == road.name:
                    row["lo_gioi"] = road.right_of_way_m + 10
            if and_narrow:
                data["rows"][1]["lo_gioi"] = 0.2  # below a metre: not a right-of-way
        return change
    refused = _upload(planner, "roads", "duong.gpkg", _rewrite(
        sample_files["roads"], tmp_path / "bad.gpkg", wider(and_narrow=True)).read_bytes())
    issues = planner.get(f"/api/layers/roads/versions/{refused['version']}").json()[
        "report"]["issues"]
    assert [i["problem"] for i in issues] == ["attribute lo_gioi is out of range (0.2; 1–200)"]

    job = _upload(planner, "roads", "duong-2.gpkg", _rewrite(
        sample_files["roads"], tmp_path / "wider.gpkg", wider(and_narrow=False)).read_bytes(),
        publish="true")
    assert job["status"] == "succeeded", job
    with engine.connect() as conn:
        now = conn.exec_driver_sql(
            "SELECT right_of_way_m, ST_Area(row_geom::geography) AS area, name_search "
            "FROM road WHERE name = %(n)s ORDER BY id LIMIT 1", {"n": road.name}).one()
        assert now.right_of_way_m == road.right_of_way_m + 10
        # Flat ends: the right-of-way's area grows with its width.
        assert now.area / road.area == pytest.approx(now.right_of_way_m / road.right_of_way_m,
                                                     rel=0.02)
        assert now.name_search == normalize_search(road.name)
        assert conn.exec_driver_sql("SELECT count(*) FROM parcel_frontage").scalar_one() > 0

    def renamed(data: dict[str, Any]) -> None:
        data["rows"][0]["ten"] = "Rạch Ông Lớn (đoạn nắn)"
    job = _upload(planner, "water", "song.gpkg", _rewrite(
        sample_files["water"], tmp_path / "water.gpkg", renamed).read_bytes(), publish="true")
    assert job["status"] == "succeeded", job
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM water_body WHERE name = "
                                    "'Rạch Ông Lớn (đoạn nắn)'").scalar_one() == 1
    _publish(planner, 'roads', roads_before)
    _publish(planner, 'water', water_before)
    with engine.connect() as conn:
        assert conn.exec_driver_sql(
            "SELECT right_of_way_m FROM road WHERE name = %(n)s ORDER BY id LIMIT 1",
            {"n": road.name}).scalar_one() == road.right_of_way_m
        assert conn.exec_driver_sql("SELECT count(*) FROM water_body WHERE name = "
                                    "'Rạch Ông Lớn (đoạn nắn)'").scalar_one() == 0


def test_plans_published_with_their_decisions_and_a_plan_in_use_kept(
    planner: TestClient, engine: Engine, sample_files: dict[str, Path], tmp_path: Path
) -> None:
    with engine.connect() as conn:
        plans = conn.exec_driver_sql(
            "SELECT p.id, p.plan_code, p.name, count(b.id) AS blocks FROM zoning_plan p "
            "LEFT JOIN zoning_block b ON b.plan_id = p.id GROUP BY p.id ORDER BY p.id").all()
        detailed = conn.exec_driver_sql(
            "SELECT name, decision_date FROM detailed_plan ORDER BY id LIMIT 1").one()
        plans_before = published(conn, "zoning_plans")
        detailed_before = published(conn, "detailed_plans")
    in_use = next(p for p in plans if p.blocks > 0)

    def dated(day: str) -> Callable[[dict[str, Any]], None]:
        def change(data: dict[str, Any]) -> None:
            for row in data["rows"]:
                if row["ten"] == detailed.name:
                    row["ngay_qd"] = day
                    row["ten"] = detailed.name + " (điều chỉnh)"
        return change
    refused = _upload(planner, "detailed_plans", "qhct.gpkg", _rewrite(
        sample_files["detailed_plans"], tmp_path / "bad.gpkg", dated("31/02/2016")).read_bytes())
    assert [i["problem"] for i in planner.get(
        f"/api/layers/detailed_plans/versions/{refused['version']}").json()["report"][
        "issues"]] == ["attribute ngay_qd is not a date ('31/02/2016')"]
    day = detailed.decision_date
    job = _upload(planner, "detailed_plans", "qhct-2.gpkg", _rewrite(
        sample_files["detailed_plans"], tmp_path / "good.gpkg",
        dated(f"{day.day}/{day.month}/{day.year}")).read_bytes(), publish="true")
    assert job["message"].endswith("; published"), job
    with engine.connect() as conn:
        adjusted = conn.exec_driver_sql(
            "SELECT decision_date, extra FROM detailed_plan WHERE name = %(n)s",
            {"n": detailed.name + " (điều chỉnh)"}).one()
        assert adjusted.decision_date == day
        assert set(adjusted.extra) == {"dien_tich"}  # the file's field beyond the schema, kept
    _publish(planner, 'detailed_plans', detailed_before)

    def without_plan_in_use(data: dict[str, Any]) -> None:
        data["rows"][:] = [r for r in data["rows"] if r["ma_qh"] != in_use.plan_code]
    job = _upload(planner, "zoning_plans", "qhpk.gpkg", _rewrite(
        sample_files["zoning_plans"], tmp_path / "fewer.gpkg", without_plan_in_use)
        .read_bytes(), publish="true")
    assert job["status"] == "succeeded"
    assert job["message"].endswith(
        f"; not published: zoning blocks still belong to the plans {in_use.plan_code} that "
        "this version leaves out: publish zoning blocks without them first"), job
    refusal = _publish(planner, 'zoning_plans', job['version'])
    assert refusal.status_code == 409
    assert in_use.plan_code in refusal.json()["detail"]

    def renamed(data: dict[str, Any]) -> None:
        data["rows"][0]["ten"] = "Đồ án đã điều chỉnh"
    job = _upload(planner, "zoning_plans", "qhpk-2.gpkg", _rewrite(
        sample_files["zoning_plans"], tmp_path / "renamed.gpkg", renamed).read_bytes(),
        publish="true")
    version = planner.get(f"/api/layers/zoning_plans/versions/{job['version']}").json()
    assert version["status"] == "published", job
    assert version["changes"]["changed"] == 1
    with engine.connect() as conn:
        now = conn.exec_driver_sql("SELECT p.id, p.plan_code, p.name, count(b.id) AS blocks "
                                   "FROM zoning_plan p LEFT JOIN zoning_block b "
                                   "ON b.plan_id = p.id GROUP BY p.id ORDER BY p.id").all()
    assert [(p.id, p.plan_code, p.blocks) for p in now] == [
        (p.id, p.plan_code, p.blocks) for p in plans]  # the same rows: blocks still name them
    assert "Đồ án đã điều chỉnh" in {p.name for p in now}
    _publish(planner, 'zoning_plans', plans_before)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT name FROM zoning_plan ORDER BY id").scalars().all() \
            == [p.name for p in plans]


def _features(props: list[dict[str, Any]]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": p,
         "geometry": shapely.geometry.mapping(_box(106.715 + 0.001 * i, 10.73))}
        for i, p in enumerate(props)]}).encode()


def test_the_field_doctor_asks_over_the_api_and_remembers_the_answer(
    planner: TestClient,
) -> None:
    layer = f"t_fd_{secrets.token_hex(3)}"
    planner.post("/api/layers", json={"id": layer, "title_vi": "Đất", "title_en": "Land",
                                      "schema": [{"name": "ma_loai_dat", "required": True}]})
    rows = [{"THONG_TIN": c, "SO_LIEU": 12.5, "GHI_CHU": None} for c in ("ODT", "TMD", "DGD")]
    job = _upload(planner, layer, "sdd.geojson", _features(rows))
    assert job["status"] == "needs_input", job
    question = job["question"]
    assert question["kind"] == "fields"
    (entry,) = question["candidates"]
    assert entry["field"] == "ma_loai_dat"
    assert [c["value"] for c in entry["candidates"]] == ["THONG_TIN"]  # numbers fit no code
    assert entry["candidates"][0]["samples"] == ["ODT", "TMD", "DGD"]
    res = planner.post(f"/api/jobs/{job['id']}/answer", json={"map": {"ma_loai_dat": "THONG_TIN"}})
    assert res.status_code == 202, res.text
    done = _wait(planner, job["id"], ("succeeded", "failed"))
    assert done["status"] == "succeeded", done
    report = planner.get(f"/api/layers/{layer}/versions/1").json()["report"]
    assert report["fields"]["ma_loai_dat"] == {"source": "THONG_TIN", "how": "answered"}
    assert report["extra_fields"] == ["SO_LIEU", "GHI_CHU"]
    # The next upload with the same fields goes through, mapped as last time.
    again = _upload(planner, layer, "sdd-2.geojson", _features(rows[:2]))
    assert again["status"] == "succeeded", again
    report = planner.get(f"/api/layers/{layer}/versions/2").json()["report"]
    assert report["fields"]["ma_loai_dat"]["how"] == "mapped as last time"
    # An answer naming a field the file lacks is refused with the reason.
    other = _upload(planner, layer, "sdd-3.geojson", _features([{"KH": "ODT"}]))
    assert other["status"] == "needs_input"
    planner.post(f"/api/jobs/{other['id']}/answer", json={"map": {"ma_loai_dat": "KHONG"}})
    refused = _wait(planner, other["id"], ("succeeded", "failed"))
    assert refused["status"] == "failed"
    assert "the file has no field KHONG" in refused["message"]


def test_a_text_field_mapped_to_a_number_is_refused_feature_by_feature(
    planner: TestClient,
) -> None:
    layer = f"t_fd_{secrets.token_hex(3)}"
    planner.post("/api/layers", json={"id": layer, "title_vi": "Nhà", "title_en": "Houses",
                                      "schema": [{"name": "so_tang", "type": "integer",
                                                  "required": True}]})
    data = _features([{"TEN": "Nhà A"}, {"TEN": "Nhà B"}, {"TEN": "3"}, {"TEN": None}])
    job = _upload(planner, layer, "nha.geojson", data)
    assert job["status"] == "failed"  # no field looks like it: nothing to ask
    assert "no field for so_tang" in job["message"]
    assert "--map so_tang=FIELD" in job["message"]
    done = _upload(planner, layer, "nha.geojson", data, map="so_tang=TEN")  # named at upload
    version = planner.get(f"/api/layers/{layer}/versions/{done['version']}").json()
    assert version["status"] == "rejected"
    problems = sorted(i["problem"] for i in version["report"]["issues"])
    assert problems == ["attribute so_tang is not a number ('Nhà A')",
                        "attribute so_tang is not a number ('Nhà B')",
                        "missing required attribute so_tang"]
    res = planner.post(f"/api/jobs/{job['id']}/answer", json={"map": {"so tang": "TEN"}})
    assert res.status_code == 422  # a field name is checked before the job sees it
    res = planner.post(f"/api/layers/{layer}/uploads", files={"file": ("n.geojson", data)},
                       data={"map": "so_tang"})
    assert res.status_code == 422
    assert res.json()["field"] == "map"
