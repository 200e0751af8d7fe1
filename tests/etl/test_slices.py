"""A dataset of many slices, checked by worker processes, comes out as it does checked here:
the same rows, ids, issues and text; a problem in a late slice is seen."""

from __future__ import annotations

import hashlib
import secrets
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pyogrio
import pytest
import shapely
from sqlalchemy import Engine

import etl.readers.vector
import etl.stage
from core.db import libpq_url
from core.pgcluster import PostgresCluster
from core.workflow import SYSTEM, create, fire
from etl.check import Checker, Layer
from etl.crs import from_wgs84
from etl.readers.base import FeatureBatch
from layers.catalogue.ingest import Ingest
from layers.catalogue.workflow import JOB

FEATURES = 350
SLICE = 100
TCVN_SCHOOL = "Tr\xad\xeang"  # "Trường" in TCVN3, read as Latin-1


def _dataset(folder: Path, point_at: int | None = None, geojson: bool = False) -> Path:
    """A VN-2000 shapefile (with .prj) in TCVN3: squares, one of them a bow tie (repaired),
    one without a geometry (rejected); or a GeoPackage with one point among the squares."""
    folder.mkdir()
    geoms, names = [], []
    for i in range(FEATURES):
        lon, lat = 106.70 + (i % 20) * 0.001, 10.72 + (i // 20) * 0.001
        x, y = from_wgs84(9210, [lon, lon + 0.0005], [lat, lat + 0.0005])
        square = shapely.box(x[0], y[0], x[1], y[1])
        if i == 230:
            square = shapely.Polygon([(x[0], y[0]), (x[1], y[1]), (x[1], y[0]), (x[0], y[1])])
        geoms.append(shapely.centroid(square) if i == point_at else square)
        names.append(f"{TCVN_SCHOOL} {i}")
    wkb = np.array(shapely.to_wkb(geoms), dtype=object)
    wkb[170] = None
    path = folder / ("truong.geojson" if geojson else "truong.gpkg" if point_at is not None
                     else "truong.shp")
    pyogrio.raw.write(path, geometry=wkb, field_data=[np.array(names, dtype=object),
                                                      np.arange(FEATURES, dtype=np.int64)],
                      fields=["ten", "so"], crs="EPSG:9210",
                      **({"geometry_type": "Polygon", "driver": "GeoJSON"} if geojson else
                         {"geometry_type": "Unknown", "driver": "GPKG", "layer": "truong"}
                         if point_at is not None else
                         {"geometry_type": "Polygon", "driver": "ESRI Shapefile",
                          "encoding": "latin1"}))
    return path


def _job(dsn: str, source: Path, layer: str, answers: dict[str, str]) -> int:
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO catalogue_layer (id, kind, title_vi, title_en) VALUES "
                     "(%s, 'free', 'Trường', 'Schools')", (layer,))
        return create(conn, JOB, "upload", SYSTEM, {
            "layer_id": layer, "source_name": source.name, "source_path": str(source),
            "source_sha256": digest, "answers": answers}).row_id


@pytest.fixture
def dsn(engine: Engine, cluster: PostgresCluster, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(etl.stage, "BATCH", SLICE)
    return libpq_url(cluster.sqlalchemy_url())


def _ingest(dsn: str, source: Path, processes: int, work: Path) -> tuple[str, list[Any],
                                                                          dict[str, Any]]:
    layer = f"t_slices_{secrets.token_hex(3)}"
    job = _job(dsn, source, layer, {"encoding": "tcvn3"})
    outcome = Ingest(dsn, work, processes=processes).run(job)
    assert outcome.status == "succeeded", outcome.message
    with psycopg.connect(dsn) as conn:
        version = conn.execute("SELECT data_table, report, encoding FROM catalogue_version "
                               "WHERE layer_id = %s", (layer,)).fetchone()
        assert version is not None
        rows = conn.execute(
            f'SELECT fid, src_id, props, ST_AsText(ST_Normalize(geom), 9), problem, outcome '
            f'FROM layer_data."{version[0]}" ORDER BY fid').fetchall()
    return outcome.message, rows, {"report": version[1], "encoding": version[2]}


def _watch_workers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The first feature of every slice sent to a worker process."""
    sent: list[int] = []

    class Pool(ProcessPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            sent.append(args[1])
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(etl.stage, "ProcessPoolExecutor", Pool)
    return sent


def test_worker_processes_check_slices_as_this_process_does(
        dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sent = _watch_workers(monkeypatch)
    source = _dataset(tmp_path / "data")
    one_message, one_rows, one = _ingest(dsn, source, 1, tmp_path / "w1")
    assert sent == []
    two_message, two_rows, two = _ingest(dsn, source, 2, tmp_path / "w2")
    assert sent == [100, 200, 300]  # the first slice is checked while the workers start
    assert len(one_rows) == FEATURES
    assert two_rows == one_rows
    assert two == one
    assert two_message == one_message
    assert "1 repaired, 1 rejected" in two_message
    # The text of the last slice was converted in a worker; ids count on across slices.
    assert two_rows[-1][0] == FEATURES
    assert two_rows[-1][2]["ten"] == f"Trường {FEATURES - 1}"
    assert [(r[0], r[5]) for r in two_rows if r[5]] == [(171, "rejected"), (231, "repaired")]
    assert two["report"]["issues"][0]["problem"] == "no geometry"


@pytest.mark.parametrize("big", [False, True], ids=["read-whole", "streamed"])
def test_a_geojson_comes_out_as_the_shapefile_read_whole_or_streamed(
        dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, big: bool) -> None:
    if big:  # a big GeoJSON is read a slice at a time, by the workers
        monkeypatch.setattr(etl.readers.vector, "WHOLE_GEOJSON_MAX_BYTES", 0)
    _, shapefile_rows, _ = _ingest(dsn, _dataset(tmp_path / "shp"), 2, tmp_path / "w1")
    sent = _watch_workers(monkeypatch)
    _, geojson_rows, geojson = _ingest(dsn, _dataset(tmp_path / "gj", geojson=True), 2,
                                       tmp_path / "w2")
    assert sent == ([100, 200, 300] if big else [])
    assert geojson["report"]["features"] == FEATURES
    assert [(r[0], r[2]["so"], r[3], r[5]) for r in geojson_rows] == [
        (r[0], r[2]["so"], r[3], r[5]) for r in shapefile_rows]


def test_a_mixed_dataset_is_refused_when_the_odd_feature_is_in_a_late_slice(
        dsn: str, tmp_path: Path) -> None:
    source = _dataset(tmp_path / "data", point_at=320)
    layer = f"t_slices_{secrets.token_hex(3)}"
    outcome = Ingest(dsn, tmp_path / "w", processes=2).run(_job(dsn, source, layer, {}))
    assert outcome.status == "failed"
    assert "mixes geometry types (point, polygon)" in outcome.message
    with psycopg.connect(dsn) as conn:
        left = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'layer_data' "
                            "AND tablename LIKE %s", (f"{layer}%",)).fetchone()
    assert left == (0,)  # nothing written


def test_polygons_and_multipolygons_are_what_a_polygon_layer_takes() -> None:
    layer = Layer({"id": "t", "kind": "parcels", "schema": []})
    geoms = [shapely.box(106.7, 10.7, 106.701, 10.701),
             shapely.MultiPolygon([shapely.box(106.7, 10.7, 106.701, 10.701)]),
             shapely.Point(106.7, 10.7), shapely.LineString([(106.7, 10.7), (106.71, 10.71)])]
    batch = FeatureBatch(np.array(geoms, dtype=object), {}, None, "t")
    checked = Checker(layer, [], {}).check(batch, 4326, False, 1)
    assert [(i.feature, i.problem) for i in checked.issues] == [
        ("3", "a point in a polygon layer"), ("4", "a line in a polygon layer")]
    assert checked.families == {"polygon": 2, "point": 1, "line": 1}


def test_whole_numbers_ranges_lengths_and_dates_are_checked_as_the_schema_says() -> None:
    layer = Layer({"id": "t", "kind": "free", "schema": [
        {"name": "so_to", "type": "integer", "min": 1, "max": 999},
        {"name": "loai", "type": "text", "max_length": 4},
        {"name": "ngay_qd", "type": "date"}]})
    square = shapely.box(106.7, 10.7, 106.701, 10.701)
    columns = {"so_to": np.array([12.0, 12.5, 0.0, 7.0, 8.0]),
               "loai": np.array(["ODT", "ODT", "ODT", "quá dài", "ODT"], dtype=object),
               "ngay_qd": np.array(["9/3/2016", "2016-03-09", None, None, "hôm qua"],
                                   dtype=object)}
    batch = FeatureBatch(np.array([square] * 5, dtype=object), columns, None, "t")
    checked = Checker(layer, list(columns), {}).check(batch, 4326, False, 1)
    assert [(i.feature, i.problem) for i in checked.issues] == [
        ("2", "attribute so_to is not a whole number (12.5)"),
        ("3", "attribute so_to is out of range (0; 1–999)"),
        ("4", "attribute loai is longer than 4 characters"),
        ("5", "attribute ngay_qd is not a date ('hôm qua')")]
    first = checked.data.split(b'"so_to":')[1]
    assert first.startswith(b'12,')  # a whole number written as one
    assert b'"ngay_qd":"2016-03-09"' in checked.data  # day/month/year written as ISO


def test_a_job_resumed_after_its_upload_was_cleaned_up_says_so(dsn: str, tmp_path: Path) -> None:
    source = _dataset(tmp_path / "upload")
    job = _job(dsn, source, f"t_slices_{secrets.token_hex(3)}", {"encoding": "tcvn3"})
    with psycopg.connect(dsn) as conn:  # a worker stopped mid-job
        fire(conn, JOB, job, "claim", SYSTEM)
    source.unlink()
    runner = Ingest(dsn, tmp_path / "work", tmp_path / "rasters", processes=1)
    assert runner.run(job).status == "skipped"  # running: some worker has it
    assert runner.run(job, resume=True).status == "failed"  # the queue says that one died
    with psycopg.connect(dsn) as conn:
        status, message = conn.execute("SELECT status, message FROM etl_job WHERE id = %s",
                                       (job,)).fetchone() or (None, None)
    assert status == "failed"
    assert message == "truong.shp: the uploaded file is gone; upload it again"
