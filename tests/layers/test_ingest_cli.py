"""`civicmap etl ingest`: scriptable, with exit 3 when a doctor asks and the answer by flag."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import shapely
from sqlalchemy import Engine
from typer.testing import CliRunner

from core.db import libpq_url
from core.pgcluster import PostgresCluster
from core.settings import get_settings
from etl.crs import from_wgs84
from gisapi.cli import app

runner = CliRunner()


@pytest.fixture
def layer(engine: Engine, cluster: PostgresCluster, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("CIVICMAP_DATABASE_URL", libpq_url(cluster.sqlalchemy_url()))
    monkeypatch.setenv("CIVICMAP_UPLOADS_DIR", str(tmp_path / "uploads"))
    get_settings.cache_clear()
    layer_id = f"t_cli_{secrets.token_hex(3)}"
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO catalogue_layer (id, kind, title_vi, title_en) "
                             "VALUES (%(i)s, 'free', 'Thử', 'Test')", {"i": layer_id})
    yield layer_id
    get_settings.cache_clear()


def _vn2000_geojson(path: Path) -> Path:
    def move(c: np.ndarray) -> np.ndarray:
        return np.column_stack(from_wgs84(9210, c[:, 0], c[:, 1]))

    square = shapely.transform(shapely.box(106.715, 10.73, 106.716, 10.731), move)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"ten": "Ô đất"},
        "geometry": shapely.geometry.mapping(square)}]}))
    return path


def test_the_question_exits_3_and_the_flag_answers_it(layer: str, tmp_path: Path) -> None:
    source = _vn2000_geojson(tmp_path / "o-dat.geojson")
    asked = runner.invoke(app, ["etl", "ingest", str(source), "--layer", layer])
    assert asked.exit_code == 3, asked.output
    assert "--crs EPSG:9210" in asked.output
    done = runner.invoke(app, ["etl", "ingest", str(source), "--layer", layer, "--crs",
                               "EPSG:9210", "--publish"])
    assert done.exit_code == 0, done.output
    assert f"{layer} version 1 (published)" in done.output


def test_a_refusal_exits_1_with_the_reason(layer: str, tmp_path: Path) -> None:
    source = tmp_path / "plan.geojson"
    source.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                      '"properties": {}, "geometry": {"type": "Point", '
                      '"coordinates": [105.85, 21.03]}}]}')  # Hà Nội
    result = runner.invoke(app, ["etl", "ingest", str(source), "--layer", layer])
    assert result.exit_code == 1
    assert "km" in result.output
    missing = runner.invoke(app, ["etl", "ingest", str(tmp_path / "none.geojson"),
                                  "--layer", layer])
    assert missing.exit_code == 1


def test_a_killed_ingest_leaves_the_layer_whole_and_a_rerun_finishes_it(
    layer: str, tmp_path: Path, engine: Engine, cluster: PostgresCluster
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    rows = [{"type": "Feature", "properties": {"ma": str(i)},
             "geometry": shapely.geometry.mapping(shapely.box(
                 106.70 + (i % 300) * 1e-4, 10.72 + (i // 300) * 1e-4,
                 106.70 + (i % 300) * 1e-4 + 5e-5, 10.72 + (i // 300) * 1e-4 + 5e-5))}
            for i in range(60_000)]
    source = tmp_path / "nhieu.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": rows}))
    env = dict(os.environ)
    args = [sys.executable, "-m", "gisapi.cli", "etl", "ingest", str(source), "--layer", layer]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill it while it loads
        with engine.connect() as conn:
            stage = conn.exec_driver_sql(
                "SELECT stage FROM etl_job WHERE layer_id = %(l)s ORDER BY id DESC LIMIT 1",
                {"l": layer}).scalar()
        if stage in ("loading", "validating", "indexing"):
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with engine.connect() as conn:
        state = conn.exec_driver_sql(
            "SELECT count(*) FILTER (WHERE status <> 'draft'), count(*) FROM catalogue_version "
            "WHERE layer_id = %(l)s", {"l": layer}).one()
        tables = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'layer_data' "
            "AND tablename LIKE %(l)s", {"l": f"{layer}_v%"}).scalar_one()
    assert state[0] == 0  # nothing validated, nothing published
    assert tables == 0  # the half-written table went with its transaction
    done = runner.invoke(app, ["etl", "ingest", str(source), "--layer", layer])
    assert done.exit_code == 0, done.output
    assert f"{layer} version 1 (validated)" in done.output  # the stopped run's draft, reused
