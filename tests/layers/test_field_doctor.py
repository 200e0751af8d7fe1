"""Other offices' files through the CLI: each question answered with its first candidate, as
a planner who trusts the doctors would; what is published must be what the file says.

Each file is made here from the session's sample, with field names unlike ours in one of the
ways planning offices write them. The transcripts (questions and the flags given) are kept in
var/test-artifacts/field-doctor/ for the reader.
"""

from __future__ import annotations

import io
import math
import secrets
import shlex
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from core.db import libpq_url
from core.pgcluster import PostgresCluster
from core.settings import PROJECT_ROOT, get_settings
from core.workflow import SYSTEM
from etl import encoding
from gisapi.cli import app
from layers.catalogue.publish import publish
from tests.layers.files import published

runner = CliRunner()
TRANSCRIPTS = PROJECT_ROOT / "var" / "test-artifacts" / "field-doctor"
TCVN3 = {ch: chr(byte) for byte, ch in encoding._TCVN.items()}  # noqa: SLF001 - its own table


@pytest.fixture
def cli(engine: Engine, cluster: PostgresCluster, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CIVICMAP_DATABASE_URL", libpq_url(cluster.sqlalchemy_url()))
    monkeypatch.setenv("CIVICMAP_UPLOADS_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv("CIVICMAP_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _first_candidates(output: str) -> list[str]:
    """The first flag offered under each question, as the CLI printed them."""
    flags: list[str] = []
    taken = True
    for line in output.splitlines():
        if line.startswith("  --"):
            if not taken:
                flags += shlex.split(line.strip().split("  ")[0])
                taken = True
        elif line.strip() and not line.startswith(" "):
            taken = False  # a prompt or a field's heading: its first flag comes next
    return flags


def _ingest(name: str, args: list[str]) -> tuple[Any, list[str]]:
    """Ingest, answering every question with its first candidate until done or refused."""
    given: list[str] = []
    transcript: list[str] = []
    for _ in range(6):
        result = runner.invoke(app, ["etl", "ingest", *args, *given])
        transcript.append(f"$ civicmap etl ingest {shlex.join([*args, *given])}\n"
                          f"{result.output}(exit {result.exit_code})\n")
        if result.exit_code != 3:
            break
        answer = _first_candidates(result.output)
        assert answer, result.output
        given += answer
    TRANSCRIPTS.mkdir(parents=True, exist_ok=True)
    (TRANSCRIPTS / f"{name}.txt").write_text("\n".join(transcript))
    return result, given


def _read(path: Path) -> tuple[dict[str, Any], np.ndarray, str]:
    meta, _, wkb, data = pyogrio.raw.read(path)
    return dict(zip([str(f) for f in meta["fields"]], data, strict=True)), wkb, meta["crs"]


def _zipped_shapefile(folder: Path, stem: str, keep: tuple[str, ...]) -> Path:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for suffix in keep:
            z.write(folder / f"{stem}{suffix}", f"{stem}{suffix}")
    target = folder / f"{stem}.zip"
    target.write_bytes(out.getvalue())
    return target


def _tcvn3(text: str) -> str:
    """Unicode text as TCVN3 bytes (held as Latin-1 characters, as a DBF stores them)."""
    return "".join(c if ord(c) < 128 else TCVN3[c] for c in text)


@pytest.fixture
def restore(engine: Engine) -> Iterator[list[str]]:
    """Puts back the published versions of the layers a test names, and the plans it made."""
    layers: list[str] = []
    with engine.connect() as conn:
        before = {layer: published(conn, layer) for layer in ("zoning_blocks", "land_use")}
        plans = {r[0] for r in conn.exec_driver_sql("SELECT plan_code FROM zoning_plan")}
    yield layers
    raw = engine.raw_connection()
    try:
        for layer in layers:
            publish(raw.driver_connection, layer, before[layer], SYSTEM)  # type: ignore[arg-type]
        raw.driver_connection.execute(  # type: ignore[union-attr]
            "DELETE FROM zoning_plan WHERE plan_code <> ALL(%s)", (list(plans),))
        raw.commit()
    finally:
        raw.close()


def _blocks(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT b.block_code, p.plan_code, p.decision_no, p.decision_date, b.function_name, "
            "b.function_category, b.floors_min, b.floors_max, b.height_max_m, "
            "b.coverage_max_pct, b.far_max, b.population, b.colour, b.extra "
            "FROM zoning_block b JOIN zoning_plan p ON p.id = b.plan_id").mappings().all()
    return {r["block_code"]: dict(r) for r in rows}


def _land_use_names(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.exec_driver_sql("SELECT code, name_vi FROM land_use_code").all())


def _same(value: Any, expected: Any) -> bool:
    if expected is None or isinstance(expected, float) and math.isnan(expected):
        return value is None  # a NULL number stays NULL, never 0
    if isinstance(expected, (float, np.floating)):
        return value is not None and abs(float(value) - float(expected)) < 1e-9
    return bool(value == expected)


def test_a_zoning_block_shapefile_with_dbf_cut_names_and_no_category(
    cli: None, restore: list[str], engine: Engine, sample_files: dict[str, Path],
    tmp_path: Path, client: TestClient,
) -> None:
    columns, wkb, crs = _read(sample_files["zoning_blocks"])
    # Another office's names, upper case; GDAL cuts them to 10 characters as every DBF
    # writer does (TANG_CAO_MIN, TANG_CAO_MAX become TANG_CAO_M, TANG_CAO_1). No category.
    names = {"ma_o_pho": "KY_HIEU_O", "ma_qh": "MA_QUY_HOACH", "chuc_nang": "CHUC_NANG_SDD",
             "tang_cao_min": "TANG_CAO_MIN", "tang_cao_max": "TANG_CAO_MAX",
             "chieu_cao": "CHIEU_CAO_TOI_DA", "mat_do_xd": "MAT_DO_XAY_DUNG",
             "he_so_sdd": "HE_SO_SU_DUNG_DAT", "dan_so": "DAN_SO", "mau": "MAU_HIEN_THI",
             "dien_tich": "DIEN_TICH"}
    folder = tmp_path / "shp"
    folder.mkdir()
    with pytest.warns(RuntimeWarning, match="laundered"):
        pyogrio.raw.write(folder / "o_pho.shp", geometry=wkb,
                          field_data=[columns[k] for k in names], fields=list(names.values()),
                          geometry_type="Polygon", crs=crs, driver="ESRI Shapefile",
                          encoding="UTF-8")
    source = _zipped_shapefile(folder, "o_pho", (".shp", ".shx", ".dbf", ".prj", ".cpg"))
    restore.append("zoning_blocks")
    result, given = _ingest("zoning-blocks-shapefile", [str(source), "--layer",
                                                        "zoning_blocks", "--publish"])
    assert result.exit_code == 0, result.output
    assert "(published)" in result.output
    assert "--map" in given  # the doctor asked about some fields
    blocks = _blocks(engine)
    assert len(blocks) == len(wkb)
    for i, code in enumerate(columns["ma_o_pho"]):
        block = blocks[code]
        assert block["plan_code"] == columns["ma_qh"][i]
        assert block["function_name"] == columns["chuc_nang"][i]  # Vietnamese, exact
        assert block["function_category"] == columns["ma_chuc_nang"][i]  # derived
        for ours, theirs in (("floors_min", "tang_cao_min"), ("floors_max", "tang_cao_max"),
                             ("height_max_m", "chieu_cao"), ("coverage_max_pct", "mat_do_xd"),
                             ("far_max", "he_so_sdd"), ("population", "dan_so")):
            assert _same(block[ours], columns[theirs][i]), (code, ours, block[ours])
        assert block["colour"] == columns["mau"][i]
        assert block["extra"] == {"DIEN_TICH": columns["dien_tich"][i]}
    assert any(math.isnan(v) for v in columns["dan_so"])  # the NULLs were really tried
    served = client.get("/ogc/collections/zoning_blocks/items?limit=1").json()["features"][0]
    assert set(served["properties"]["extra"]) == {"DIEN_TICH"}  # the OGC API serves it too


def test_a_land_use_shapefile_in_tcvn3_with_names_for_codes(
    cli: None, restore: list[str], engine: Engine, sample_files: dict[str, Path],
    tmp_path: Path,
) -> None:
    columns, wkb, crs = _read(sample_files["land_use"])
    names = _land_use_names(engine)
    folder = tmp_path / "tcvn3"
    folder.mkdir()
    spelled = [_tcvn3(names[c]) for c in columns["ma_loai_dat"]]
    notes = [_tcvn3("Theo quy hoạch") for _ in spelled]
    with pytest.warns(RuntimeWarning, match="laundered"):
        pyogrio.raw.write(folder / "sdd.shp", geometry=wkb,
                          field_data=[np.array(spelled, dtype=object), columns["dien_tich"],
                                      np.array(notes, dtype=object)],
                          fields=["TEN_LOAI_DAT", "DIEN_TICH", "GHI_CHU"],
                          geometry_type="Polygon", crs=crs, driver="ESRI Shapefile",
                          encoding="latin1")
    source = _zipped_shapefile(folder, "sdd", (".shp", ".shx", ".dbf", ".prj"))  # no .cpg
    restore.append("land_use")
    result, given = _ingest("land-use-tcvn3", [str(source), "--layer", "land_use",
                                               "--publish"])
    assert result.exit_code == 0, result.output
    assert given[:2] == ["--map", "ma_loai_dat=TEN_LOAI_D"]
    with engine.connect() as conn:
        zones = conn.exec_driver_sql("SELECT code, extra FROM land_use_zone ORDER BY id").all()
    assert sorted(z.code for z in zones) == sorted(columns["ma_loai_dat"])
    first = next(z for z in zones if z.code == columns["ma_loai_dat"][0])
    assert first.extra["TEN_LOAI_D"] == names[first.code]  # the file's own words, decoded
    assert first.extra["GHI_CHU"] == "Theo quy hoạch"


def test_a_zoning_geopackage_in_english_naming_plans_by_decision(
    cli: None, restore: list[str], engine: Engine, sample_files: dict[str, Path],
    tmp_path: Path,
) -> None:
    columns, wkb, crs = _read(sample_files["zoning_blocks"])
    plans, _, _ = _read(sample_files["zoning_plans"])
    decision = dict(zip(plans["ma_qh"], plans["so_qd"], strict=True))
    dated = dict(zip(plans["ma_qh"], plans["ngay_qd"], strict=True))
    last = columns["ma_qh"][-1]  # this plan's blocks name a decision the catalogue lacks
    unknown = f"{secrets.randbelow(9000) + 1000}/QĐ-UBND"
    decisions = [unknown if p == last else decision[p] for p in columns["ma_qh"]]
    days = ["15/03/2024" if p == last else dated[p] for p in columns["ma_qh"]]
    fields = {"BlockNo": columns["ma_o_pho"], "Decision": np.array(decisions, dtype=object),
              "DecisionDate": np.array(days, dtype=object), "LandUse": columns["chuc_nang"],
              "FloorsMin": columns["tang_cao_min"], "FloorsMax": columns["tang_cao_max"],
              "Height": columns["chieu_cao"], "Coverage": columns["mat_do_xd"],
              "FAR": columns["he_so_sdd"], "Population": columns["dan_so"],
              "Colour": columns["mau"]}
    source = tmp_path / "zoning.gpkg"
    pyogrio.raw.write(source, geometry=wkb, field_data=list(fields.values()),
                      fields=list(fields), geometry_type="Polygon", crs=crs, driver="GPKG")
    restore.append("zoning_blocks")
    result, given = _ingest("zoning-geopackage-english",
                            [str(source), "--layer", "zoning_blocks", "--publish"])
    assert result.exit_code == 0, result.output
    assert f"{unknown}=new" in given  # the first candidate: make a plan for it
    blocks = _blocks(engine)
    for i, code in enumerate(columns["ma_o_pho"]):
        block = blocks[code]
        assert block["decision_no"] == decisions[i]
        assert block["function_name"] == columns["chuc_nang"][i]
        assert block["function_category"] == columns["ma_chuc_nang"][i]
        assert _same(block["population"], columns["dan_so"][i])
        if columns["ma_qh"][i] == last:
            assert block["plan_code"] == unknown
            assert str(block["decision_date"]) == "2024-03-15"
        else:
            assert block["plan_code"] == columns["ma_qh"][i]


def _dxf_land_use(zones: list[tuple[list[tuple[float, float]], str, str]]) -> bytes:
    """A drawing whose layers are land-use codes, each zone labelled with its name."""
    lines = ["0", "SECTION", "2", "HEADER", "9", "$ACADVER", "1", "AC1021", "0", "ENDSEC",
             "0", "SECTION", "2", "ENTITIES"]
    for corners, layer, label in zones:
        lines += ["0", "LWPOLYLINE", "8", layer, "90", str(len(corners)), "70", "1"]
        for x, y in corners:
            lines += ["10", f"{x:.3f}", "20", f"{y:.3f}"]
        cx = sum(x for x, _ in corners) / len(corners)
        cy = sum(y for _, y in corners) / len(corners)
        lines += ["0", "TEXT", "8", "NHAN", "10", f"{cx:.3f}", "20", f"{cy:.3f}", "40", "2.0",
                  "1", label]
    lines += ["0", "ENDSEC", "0", "EOF"]
    return ("\n".join(lines) + "\n").encode()


def test_a_dxf_drawing_whose_layers_are_land_use_codes(
    cli: None, restore: list[str], engine: Engine, sample_files: dict[str, Path],
    tmp_path: Path,
) -> None:
    columns, wkb, _ = _read(sample_files["land_use"])
    names = _land_use_names(engine)
    zones = []
    for geom, code in list(zip(shapely.from_wkb(wkb), columns["ma_loai_dat"], strict=True))[:6]:
        ring = shapely.get_exterior_ring(shapely.get_parts(geom)[0])
        zones.append(([tuple(p) for p in shapely.get_coordinates(ring)[:-1]], code,
                      names[code]))
    source = tmp_path / "su-dung-dat.dxf"
    source.write_bytes(_dxf_land_use(zones))
    restore.append("land_use")
    result, given = _ingest("land-use-dxf", [str(source), "--layer", "land_use",
                                             "--publish"])
    assert result.exit_code == 0, result.output
    assert given[:2] == ["--crs", "EPSG:9210"]  # a drawing says no coordinate system
    assert "--map" in given
    with engine.connect() as conn:
        codes = [r[0] for r in conn.exec_driver_sql("SELECT code FROM land_use_zone")]
    assert sorted(codes) == sorted(code for _, code, _ in zones)
