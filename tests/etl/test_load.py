"""Loading a planning set is all or nothing, and a bad file is named in the error."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
from sqlalchemy import Connection

from layers.planning_set import LAYER_ORDER, LoadError, PlanningSetLoader


def _copy_with(sample_files: dict[str, Path], tmp_path: Path, kind: str,
               change: str, value: object) -> dict[str, Path]:
    files = {}
    for k in LAYER_ORDER:
        files[k] = tmp_path / f"{k}.gpkg"
        shutil.copy(sample_files[k], files[k])
    meta, _, wkb, data = pyogrio.raw.read(sample_files[kind])
    columns = dict(zip(meta["fields"], data, strict=True))
    column = columns[change].copy()
    column[len(column) // 2] = value
    columns[change] = column
    files[kind].unlink()
    pyogrio.raw.write(files[kind], wkb, list(columns.values()), list(columns), layer=kind,
                      driver="GPKG", geometry_type=meta["geometry_type"], crs=meta["crs"])
    return files


def _counts(conn: Connection) -> tuple[int, ...]:
    return tuple(conn.exec_driver_sql(
        "SELECT (SELECT count(*) FROM parcel), (SELECT count(*) FROM land_use_zone), "
        "(SELECT count(*) FROM road), (SELECT count(*) FROM zoning_block)"
    ).one())


def test_an_unknown_land_use_code_rejects_the_whole_set(
    conn: Connection, sample_files: dict[str, Path], tmp_path: Path
) -> None:
    files = _copy_with(sample_files, tmp_path, "land_use", "ma_loai_dat", "XYZ")
    before = _counts(conn)
    with pytest.raises(LoadError, match=r"land_use\.gpkg:land_use: unknown land-use code.*XYZ"):
        PlanningSetLoader(conn.connection.driver_connection).load(files, replace=True)
    assert _counts(conn) == before


def test_a_road_without_right_of_way_is_refused(
    conn: Connection, sample_files: dict[str, Path], tmp_path: Path
) -> None:
    files = _copy_with(sample_files, tmp_path, "roads", "lo_gioi", np.nan)
    before = _counts(conn)
    with pytest.raises(LoadError, match="right-of-way width"):
        PlanningSetLoader(conn.connection.driver_connection).load(files, replace=True)
    assert _counts(conn) == before


def test_loading_twice_without_replace_is_refused(
    conn: Connection, sample_files: dict[str, Path]
) -> None:
    with pytest.raises(LoadError, match="already holds parcels"):
        PlanningSetLoader(conn.connection.driver_connection).load(
            {"parcels": sample_files["parcels"]}
        )
