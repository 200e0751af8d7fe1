"""Loading a planning set (GeoPackages per layer kind) into the planning tables with COPY."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, cast

import numpy as np
import psycopg
import shapely
from numpy.typing import NDArray

from etl.crs import VN2000_HCMC, WGS84, from_wgs84, is_vn2000_tm3, to_wgs84
from etl.geometry import polygonal_part
from etl.readers import FeatureBatch, OgrReader, ReaderError
from layers.catalogue import record_published
from layers.text import normalize_search
from tiles import changes as tile_changes
from tiles.layers import readable_minzoom

PLANNING_TABLES = (
    "parcel_zoning", "parcel_land_use", "parcel_frontage", "parcel_detailed_plan", "parcel",
    "zoning_block", "zoning_plan", "land_use_piece", "land_use_generalized", "land_use_zone",
    "road", "water_body", "detailed_plan",
)
LAYER_ORDER = (
    "wards", "water", "roads", "zoning_plans", "zoning_blocks", "land_use", "detailed_plans",
    "parcels",
)
OLD_WARD_END = "2025-07-01"
# Loader kinds that are catalogue layers (migration 0012 names their planning tables).
CATALOGUE_KINDS = ("zoning_blocks", "land_use", "parcels", "roads", "water", "zoning_plans",
                   "detailed_plans")
TILE_LAYERS_OF = {  # loader layer kind -> the tile layers drawn from it
    "wards": ("wards", "wards_old"), "water": ("water",), "roads": ("roads",),
    "zoning_blocks": ("zoning_blocks",), "land_use": ("land_use",), "parcels": ("parcels",),
}


def set_parcel_minzoom(conn: psycopg.Connection[Any]) -> None:
    """Store the zoom from which parcels are drawn, from their median size."""
    row = conn.execute(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY area_m2), "
        "ST_Y(ST_Centroid(ST_Extent(geom))) FROM parcel"
    ).fetchone()
    if row is None or row[0] is None:
        return
    conn.execute("UPDATE layer_version SET minzoom = %s WHERE layer = 'parcels'",
                 (readable_minzoom(float(row[0]), float(row[1])),))


class LoadError(ValueError):
    """The planning set cannot be loaded; nothing was written."""


def reproject_to_wgs84(geoms: NDArray[np.object_], srid: int) -> NDArray[np.object_]:
    """Geometries in lon/lat WGS84; VN-2000 always through EPSG:6960."""
    if srid == WGS84:
        return geoms
    transformer = to_wgs84(srid)

    def move(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return _repair(cast(NDArray[np.object_], shapely.transform(geoms, move)))


def metric_geoms(geoms: NDArray[np.object_], srid: int) -> NDArray[np.object_]:
    """The same geometries in VN-2000 TM-3 metres (source metres when already VN-2000)."""
    if is_vn2000_tm3(srid):
        return geoms
    lonlat = reproject_to_wgs84(geoms, srid)

    def project(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = from_wgs84(VN2000_HCMC, coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return cast(NDArray[np.object_], shapely.transform(lonlat, project))


def _repair(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Mend what reprojection broke (a valid ring can self-touch after rounding)."""
    broken = np.flatnonzero(~shapely.is_valid(geoms))
    if len(broken) == 0:
        return geoms
    fixed = geoms.copy()
    for i in broken:
        polygonal = shapely.get_type_id(geoms[i]) in (3, 6)
        if polygonal:
            fixed[i] = polygonal_part(geoms[i]) or shapely.MultiPolygon()
        else:
            fixed[i] = shapely.make_valid(geoms[i])
    return fixed


def _ewkb(geoms: NDArray[np.object_]) -> list[str]:
    multi = np.array([_as_multi(g) for g in geoms], dtype=object)
    return list(shapely.to_wkb(shapely.set_srid(multi, WGS84), hex=True, include_srid=True))


def _as_multi(geom: shapely.Geometry) -> shapely.Geometry:
    if isinstance(geom, shapely.Polygon):
        return shapely.MultiPolygon([geom])
    if isinstance(geom, shapely.LineString):
        return shapely.MultiLineString([geom])
    return geom


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    text = str(value).strip()
    return text or None


@dataclass
class _Prepared:
    batch: FeatureBatch
    wgs84: NDArray[np.object_]
    metric: NDArray[np.object_]

    def col(self, name: str) -> NDArray[np.generic]:
        try:
            return self.batch.columns[name]
        except KeyError:
            raise LoadError(f"{self.batch.source}: missing field '{name}'") from None


class PlanningSetLoader:
    """Loads the layers of a planning set in one transaction: all of it or nothing."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.tile_changes: dict[str, int] = {}  # features changed per tile layer (replace)

    def load(self, files: dict[str, Path], replace: bool = False) -> dict[str, int]:
        """Load every layer kind present in files (kind -> path); return feature counts."""
        unknown = set(files) - set(LAYER_ORDER)
        if unknown:
            raise LoadError(f"unknown layer kinds: {', '.join(sorted(unknown))}")
        prepared = {kind: self._prepare(kind, files[kind]) for kind in LAYER_ORDER if kind in files}
        counts: dict[str, int] = {}
        with self.conn.transaction():
            if replace:
                tile_changes.snapshot(self.conn)
                self.conn.execute(f"TRUNCATE {', '.join(PLANNING_TABLES)} RESTART IDENTITY")
            else:
                existing = self.conn.execute("SELECT count(*) FROM parcel").fetchone()
                if existing and existing[0]:
                    raise LoadError("the database already holds parcels (use replace)")
            for kind, data in prepared.items():
                counts[kind] = getattr(self, f"_load_{kind}")(data)
            for script in ("finish_planning_set.sql", "parcel_facts.sql", "generalize.sql"):
                self.conn.execute(resources.files("layers.sql").joinpath(script).read_text())
            if replace:
                # Only the tiles over what the new set changed are dropped.
                self.tile_changes = tile_changes.apply(self.conn)
            else:
                # A first load: whatever was cached for these layers belongs to nothing.
                changed = sorted({t for kind in prepared for t in TILE_LAYERS_OF.get(kind, ())})
                self.conn.execute(
                    "UPDATE layer_version SET version = version + 1, updated_at = now() "
                    "WHERE layer = ANY(%s)", (changed,),
                )
                self.conn.execute("DELETE FROM tile_cache WHERE layer = ANY(%s)",
                                  ([*changed, "basemap"],))
            if "parcels" in prepared:
                set_parcel_minzoom(self.conn)
            for kind, data in prepared.items():
                if kind in CATALOGUE_KINDS:
                    record_published(self.conn, kind, Path(data.batch.source).name,
                                     data.batch.srid, counts[kind], None)
        for table in PLANNING_TABLES + ("admin_unit",):
            self.conn.execute(f"ANALYZE {table}")
        return counts

    def _prepare(self, kind: str, path: Path) -> _Prepared:
        try:
            batch = OgrReader().read(path, kind)
        except ReaderError as exc:
            raise LoadError(str(exc)) from exc
        if batch.srid is None:
            raise LoadError(f"{batch.source}: no coordinate reference system")
        empty = shapely.is_empty(batch.geometries) | shapely.is_missing(batch.geometries)
        if empty.any():
            raise LoadError(f"{batch.source}: feature {int(np.flatnonzero(empty)[0]) + 1} "
                            "has no geometry")
        invalid = ~shapely.is_valid(batch.geometries)
        if invalid.any():
            first = int(np.flatnonzero(invalid)[0])
            reason = shapely.is_valid_reason(batch.geometries[first])
            raise LoadError(f"{batch.source}: feature {first + 1} has an invalid geometry "
                            f"({reason}); {int(invalid.sum())} invalid in all")
        metric = metric_geoms(batch.geometries, batch.srid)
        wgs84 = reproject_to_wgs84(batch.geometries, batch.srid)
        return _Prepared(batch, wgs84, metric)

    def _copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
        count = 0
        with self.conn.cursor() as cur, cur.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    def _lookup(self, sql: str, params: Sequence[object] = ()) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.conn.execute(sql, params).fetchall()}

    # -- one method per layer kind ----------------------------------------------------------

    def _load_wards(self, d: _Prepared) -> int:
        codes = d.col("ma_phuong")
        ewkb = _ewkb(d.wgs84)
        with self.conn.cursor() as cur:
            for code, geom in zip(codes, ewkb, strict=True):
                cur.execute(
                    "UPDATE admin_unit SET geom = %s::geometry WHERE level = 'ward' "
                    "AND code = %s AND valid_to = %s",
                    (geom, str(code), OLD_WARD_END),
                )
                if cur.rowcount != 1:
                    raise LoadError(f"{d.batch.source}: unknown ward code {code}")
        return len(codes)

    def _load_water(self, d: _Prepared) -> int:
        rows = zip(d.col("ten"), d.col("loai"), _ewkb(d.wgs84), strict=True)
        return self._copy("water_body", ("name", "kind", "geom"), rows)

    def _load_roads(self, d: _Prepared) -> int:
        widths = d.col("lo_gioi").astype(float)
        if (widths <= 0).any() or np.isnan(widths).any():
            raise LoadError(f"{d.batch.source}: every road needs a right-of-way width (lo_gioi)")
        # The right-of-way area is buffered in metres, then brought to WGS84.
        row_metric = shapely.buffer(d.metric, widths / 2, cap_style="flat")
        srid = d.batch.srid if d.batch.srid and is_vn2000_tm3(d.batch.srid) else VN2000_HCMC
        row_wgs84 = reproject_to_wgs84(row_metric, srid)
        names = [str(n) for n in d.col("ten_duong")]
        rows = zip(names, [normalize_search(n) for n in names], widths.tolist(),
                   _ewkb(d.wgs84), _ewkb(row_wgs84), strict=True)
        return self._copy(
            "road", ("name", "name_search", "right_of_way_m", "geom", "row_geom"), rows
        )

    def _load_zoning_plans(self, d: _Prepared) -> int:
        rows = zip(d.col("ma_qh"), d.col("ten"), d.col("ty_le"), d.col("so_qd"),
                   d.col("ngay_qd"), d.col("co_quan"), _ewkb(d.wgs84), strict=True)
        return self._copy(
            "zoning_plan",
            ("plan_code", "name", "scale", "decision_no", "decision_date", "approving_body",
             "geom"),
            rows,
        )

    def _load_zoning_blocks(self, d: _Prepared) -> int:
        plan_ids = self._lookup("SELECT plan_code, id FROM zoning_plan")
        plan_codes = [str(c) for c in d.col("ma_qh")]
        missing = sorted(set(plan_codes) - set(plan_ids))
        if missing:
            raise LoadError(f"{d.batch.source}: zoning plan(s) {', '.join(missing)} not loaded")
        def num(column: str, kind: type[int] | type[float]) -> list[object]:
            values = d.col(column).astype(float)
            return [None if np.isnan(v) else kind(v) for v in values]

        text_cols = [[str(v) for v in d.col(c)]
                     for c in ("ma_o_pho", "chuc_nang", "ma_chuc_nang", "mau")]
        number_cols = [num("tang_cao_min", int), num("tang_cao_max", int),
                       num("chieu_cao", float), num("mat_do_xd", float),
                       num("he_so_sdd", float), num("dan_so", int)]
        rows = zip(
            [plan_ids[c] for c in plan_codes], *text_cols[:3], *number_cols, text_cols[3],
            shapely.area(d.metric).tolist(), _ewkb(d.wgs84), strict=True,
        )
        return self._copy(
            "zoning_block",
            ("plan_id", "block_code", "function_name", "function_category", "floors_min",
             "floors_max", "height_max_m", "coverage_max_pct", "far_max", "population",
             "colour", "area_m2", "geom"),
            rows,
        )

    def _load_land_use(self, d: _Prepared) -> int:
        known = {str(r[0]) for r in self.conn.execute("SELECT code FROM land_use_code")}
        codes = [str(c) for c in d.col("ma_loai_dat")]
        unknown = sorted(set(codes) - known)
        if unknown:
            raise LoadError(f"{d.batch.source}: unknown land-use code(s) {', '.join(unknown)}")
        rows = zip(codes, shapely.area(d.metric).tolist(), _ewkb(d.wgs84), strict=True)
        return self._copy("land_use_zone", ("code", "area_m2", "geom"), rows)

    def _load_detailed_plans(self, d: _Prepared) -> int:
        rows = zip(d.col("loai"), d.col("ten"), d.col("so_qd"), d.col("ngay_qd"),
                   d.col("co_quan"), shapely.area(d.metric).tolist(), _ewkb(d.wgs84),
                   strict=True)
        return self._copy(
            "detailed_plan",
            ("kind", "name", "decision_no", "decision_date", "approving_body", "area_m2",
             "geom"),
            rows,
        )

    def _load_parcels(self, d: _Prepared) -> int:
        wards = self._lookup(
            "SELECT code, id FROM admin_unit WHERE level = 'ward' AND valid_to = %s",
            (OLD_WARD_END,),
        )
        codes = [str(c) for c in d.col("ma_xa")]
        missing = sorted(set(codes) - set(wards))
        if missing:
            raise LoadError(f"{d.batch.source}: unknown ward code(s) {', '.join(missing)}")
        sheets = d.col("so_to").astype(int)
        numbers = d.col("so_thua").astype(int)
        addresses = [_text(a) for a in d.col("dia_chi")]
        areas = np.round(shapely.area(d.metric), 1)

        def rows() -> Iterable[Sequence[object]]:
            for i, geom in enumerate(_ewkb(d.wgs84)):
                key = f"{codes[i]}{sheets[i]:03d}{numbers[i]:04d}"
                address = addresses[i]
                yield (key, wards[codes[i]], int(sheets[i]), int(numbers[i]), float(areas[i]),
                       address, normalize_search(address) if address else None, geom)

        return self._copy(
            "parcel",
            ("parcel_key", "ward_id", "sheet_no", "parcel_no", "area_m2", "address",
             "address_search", "geom"),
            rows(),
        )
