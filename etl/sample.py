"""Deterministic District 7 sample: planning files as a planning office delivers them.

Everything is laid out in VN-2000 / TM-3 105-45 metres (EPSG:9210) and written as one
GeoPackage per layer kind. The geography is schematic but placed on the district's real
extent: the Saigon River on the east, the Tẻ canal on the north, Ông Lớn on the west and
Phú Xuân on the south, real arterial names, a grid of numbered local streets, parcels with
10-30 m frontages (smaller when more parcels are asked for than the land holds at that size).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyogrio.raw
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString, MultiPolygon, Polygon, box
from shapely.ops import unary_union

from etl.crs import VN2000_HCMC, from_wgs84
from etl.geometry import polygonal_part

SAMPLE_CRS = f"EPSG:{VN2000_HCMC}"

# Old wards with a seed point each (lon, lat): Voronoi cells of these make the ward map.
WARD_SEEDS = [
    ("27466", "Tân Thuận Đông", 106.738, 10.754),
    ("27469", "Tân Thuận Tây", 106.722, 10.753),
    ("27472", "Tân Kiểng", 106.708, 10.751),
    ("27475", "Tân Hưng", 106.696, 10.747),
    ("27478", "Bình Thuận", 106.727, 10.741),
    ("27481", "Tân Quy", 106.707, 10.739),
    ("27484", "Phú Thuận", 106.737, 10.727),
    ("27487", "Tân Phú", 106.716, 10.725),
    ("27490", "Tân Phong", 106.699, 10.721),
    ("27493", "Phú Mỹ", 106.733, 10.708),
]

# Arterials: name, right-of-way (m), points (lon, lat).
ARTERIALS = [
    ("Nguyễn Văn Linh", 120.0, [(106.6895, 10.7290), (106.7200, 10.7300), (106.7470, 10.7330)]),
    ("Nguyễn Thị Thập", 30.0, [(106.6895, 10.7395), (106.7290, 10.7405)]),
    ("Trần Xuân Soạn", 30.0, [(106.6895, 10.7545), (106.7350, 10.7550)]),
    ("Huỳnh Tấn Phát", 30.0, [(106.7300, 10.7600), (106.7310, 10.7300), (106.7330, 10.6990)]),
    ("Nguyễn Hữu Thọ", 60.0, [(106.7010, 10.7600), (106.7005, 10.6990)]),
    ("Lâm Văn Bền", 20.0, [(106.7160, 10.7560), (106.7165, 10.7300)]),
    ("Nguyễn Lương Bằng", 40.0, [(106.7215, 10.7300), (106.7220, 10.6990)]),
    ("Đào Trí", 30.0, [(106.7385, 10.7330), (106.7395, 10.6990)]),
    ("Nguyễn Văn Quỳ", 20.0, [(106.7310, 10.7460), (106.7470, 10.7470)]),
    ("Tôn Dật Tiên", 40.0, [(106.7010, 10.7200), (106.7220, 10.7205)]),
]

# Zoning plans: code, name, decision, date, the old wards it covers.
ZONING_PLANS = [
    ("QHPK-01", "khu dân cư phường Tân Thuận Đông và Tân Thuận Tây", "4927/QĐ-UBND",
     dt.date(2012, 9, 20), ["27466", "27469"]),
    ("QHPK-02", "khu dân cư phường Tân Kiểng, Tân Hưng và Tân Quy", "6692/QĐ-UBND",
     dt.date(2013, 12, 16), ["27472", "27475", "27481"]),
    ("QHPK-03", "khu dân cư phường Bình Thuận và Phú Thuận", "1530/QĐ-UBND",
     dt.date(2015, 4, 3), ["27478", "27484"]),
    ("QHPK-04", "khu đô thị mới Nam Thành phố (phường Tân Phú, Tân Phong)", "2217/QĐ-UBND",
     dt.date(2017, 5, 11), ["27487", "27490"]),
    ("QHPK-05", "khu dân cư phường Phú Mỹ", "3841/QĐ-UBND", dt.date(2019, 10, 8), ["27493"]),
]
APPROVING_BODY = "Ủy ban nhân dân Thành phố Hồ Chí Minh"
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII"]


@dataclass(frozen=True)
class FunctionSpec:
    """A zoning land function with the ranges its indicators are drawn from."""

    category: str
    name: str
    colour: str
    land_use: tuple[str, ...]
    floors_min: int
    floors_max: tuple[int, int]
    coverage: tuple[int, int]
    far: tuple[float, float]
    density: int  # people per hectare; 0 where nobody lives


FUNCTIONS = {
    f.category: f
    for f in [
        FunctionSpec("residential_existing", "Đất nhóm nhà ở hiện hữu", "#FFB380", ("ODT",),
                     1, (5, 8), (60, 90), (3.0, 5.0), 450),
        FunctionSpec("residential_new", "Đất nhóm nhà ở xây dựng mới", "#FFD280", ("ODT",),
                     3, (10, 25), (40, 60), (2.5, 6.0), 350),
        FunctionSpec("mixed_use", "Đất hỗn hợp", "#FF9966", ("ODT", "TMD"),
                     5, (20, 40), (40, 60), (5.0, 10.0), 300),
        FunctionSpec("commercial", "Đất thương mại, dịch vụ", "#FF6666", ("TMD",),
                     3, (15, 30), (40, 60), (4.0, 10.0), 0),
        FunctionSpec("park", "Đất công viên cây xanh", "#99CC66", ("DKV",),
                     1, (1, 1), (5, 5), (0.05, 0.05), 0),
        FunctionSpec("education", "Đất giáo dục", "#FF99CC", ("DGD",),
                     1, (4, 5), (40, 40), (1.6, 2.0), 0),
        FunctionSpec("health", "Đất y tế", "#FF8080", ("DYT",),
                     1, (7, 9), (40, 40), (2.4, 3.0), 0),
        FunctionSpec("public_facility", "Đất công trình công cộng", "#FFAAA0",
                     ("TSC", "DVH", "DCH", "DTT"), 1, (5, 7), (40, 40), (2.0, 2.4), 0),
        FunctionSpec("industrial", "Đất công nghiệp", "#C8A2C8", ("SKK",),
                     1, (5, 5), (60, 60), (2.5, 2.5), 0),
        FunctionSpec("religious", "Đất tôn giáo", "#FAAAA0", ("TON",),
                     1, (3, 3), (40, 40), (1.0, 1.0), 0),
    ]
}
FUNCTION_WEIGHTS = {
    "residential_existing": 40, "residential_new": 20, "mixed_use": 14, "commercial": 8,
    "park": 8, "education": 5, "health": 2, "public_facility": 2, "religious": 1,
}
# Tân Thuận export-processing zone (lon, lat box): industrial blocks.
EPZ = (106.7320, 10.7480, 106.7460, 10.7575)


def _xy(lon: float, lat: float) -> tuple[float, float]:
    x, y = from_wgs84(VN2000_HCMC, lon, lat)
    return float(x), float(y)  # type: ignore[arg-type]


def _line(points: Iterable[tuple[float, float]]) -> LineString:
    return LineString([_xy(lon, lat) for lon, lat in points])


@dataclass
class Layer:
    """Features of one layer kind: geometries and attribute columns."""

    geometry: list[shapely.Geometry] = field(default_factory=list)
    columns: dict[str, list[object]] = field(default_factory=dict)

    def add(self, geom: shapely.Geometry, **attrs: object) -> None:
        """Append one feature."""
        self.geometry.append(geom)
        for key, value in attrs.items():
            self.columns.setdefault(key, []).append(value)


@dataclass
class Sample:
    """The generated layers, keyed by the file name they are written to."""

    layers: dict[str, Layer]
    parcel_size_m: float

    def write(self, folder: Path) -> dict[str, Path]:
        """Write one GeoPackage per layer into folder; return their paths."""
        folder.mkdir(parents=True, exist_ok=True)
        written = {}
        for name, layer in self.layers.items():
            path = folder / f"{name}.gpkg"
            path.unlink(missing_ok=True)
            geoms = [_multi(g) for g in layer.geometry]
            gtype = "MultiLineString" if name == "roads" else "MultiPolygon"
            fields = list(layer.columns)
            data = [_column(layer.columns[f]) for f in fields]
            pyogrio.raw.write(
                path, shapely.to_wkb(np.array(geoms, dtype=object)), data, fields,
                layer=name, driver="GPKG", geometry_type=gtype, crs=SAMPLE_CRS,
            )
            written[name] = path
        return written


def _multi(geom: shapely.Geometry) -> shapely.Geometry:
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, LineString):
        return shapely.multilinestrings([geom])
    return geom


def _column(values: list[object]) -> NDArray[np.generic]:
    first = next((v for v in values if v is not None), "")
    if isinstance(first, bool):
        return np.array(values, dtype=bool)
    if isinstance(first, int) and all(v is not None for v in values):
        return np.array(values, dtype=np.int64)
    if isinstance(first, float | int):
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return np.array(["" if v is None else str(v) for v in values], dtype=object)


class SampleGenerator:
    """Builds the District 7 sample for a target parcel count, deterministically from a seed."""

    def __init__(self, parcels: int = 60_000, seed: int = 7) -> None:
        if parcels < 100:
            raise ValueError("parcels must be at least 100")
        self.target = parcels
        self.rng = np.random.default_rng(seed)

    # -- the frame: district, water, land, arterials ------------------------------------

    def _frame(self) -> None:
        lats = np.linspace(10.7000, 10.7600, 25)
        bank = 106.7440 + 0.0030 * np.sin((lats - 10.70) / 0.06 * math.pi)
        east = [(b + 0.0020, lat) for b, lat in zip(bank, lats, strict=True)]
        outline = [(106.6900, 10.7000), *east, (106.6900, 10.7585)]
        outline = [(lon, min(lat, 10.7585)) for lon, lat in outline]
        self.district = Polygon([_xy(*p) for p in outline]).buffer(0)
        river = Polygon(
            [_xy(b, lat) for b, lat in zip(bank, lats, strict=True)]
            + [_xy(106.7560, 10.7600), _xy(106.7560, 10.7000)]
        ).buffer(0)
        wx0, wy0, wx1, wy1 = self.district.bounds
        tẻ = box(wx0 - 50, _xy(106.69, 10.7572)[1], wx1 + 50, wy1 + 50)
        ong_lon = box(wx0 - 50, wy0 - 50, _xy(106.6915, 10.73)[0], wy1 + 50)
        phu_xuan = box(wx0 - 50, wy0 - 50, wx1 + 50, _xy(106.72, 10.7013)[1])
        self.water = [
            ("Sông Sài Gòn", "river", river.intersection(self.district)),
            ("Kênh Tẻ", "canal", tẻ.intersection(self.district)),
            ("Rạch Ông Lớn", "canal", ong_lon.intersection(self.district)),
            ("Rạch Phú Xuân", "canal", phu_xuan.intersection(self.district)),
        ]
        water_union = unary_union([w for _, _, w in self.water])
        self.land = self.district.difference(water_union)
        self.arterials = [
            (name, width, _line(points).intersection(self.land))
            for name, width, points in ARTERIALS
        ]
        self.arterial_row = unary_union(
            [line.buffer(width / 2, cap_style="flat") for _, width, line in self.arterials]
        ).intersection(self.land)

    # -- local street grid and parcels ----------------------------------------------------

    def _grid(self, unit: float) -> tuple[NDArray[np.float64], NDArray[np.float64], int]:
        """Street axes (x of N-S streets, y of E-W streets) for a parcel size unit."""
        depth = 1.25 * unit
        rows = 2 if self.target <= 100_000 else 2 * max(1, round(math.sqrt(self.target / 60_000)))
        street = 14.0
        block_y = rows * depth + street
        block_x = 10 * 0.8 * unit + street
        x0, y0, x1, y1 = self.land.bounds
        xs = np.arange(x0 + 0.37 * block_x, x1, block_x)
        ys = np.arange(y0 + 0.61 * block_y, y1, block_y)
        return xs, ys, rows

    def _cells(self, unit: float) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Lot rectangles (n x 4: x0 y0 x1 y1) and their row index within the block."""
        xs, ys, rows = self._grid(unit)
        half = 7.0  # local streets are 14 m; widths vary a little per street below
        out: list[NDArray[np.float64]] = []
        row_index: list[NDArray[np.int64]] = []
        mean_w = 0.8 * unit
        for bx0, bx1 in zip(xs[:-1], xs[1:], strict=True):
            lx0, lx1 = bx0 + half, bx1 - half
            length = lx1 - lx0
            for by0, by1 in zip(ys[:-1], ys[1:], strict=True):
                ly0, ly1 = by0 + half, by1 - half
                step = (ly1 - ly0) / rows
                for r in range(rows):
                    widths = self.rng.uniform(0.6 * mean_w, 1.5 * mean_w, int(length / mean_w) + 4)
                    cuts = np.concatenate([[0.0], np.cumsum(widths)])
                    cuts = cuts[cuts < length - 0.5 * mean_w]
                    cuts = np.append(cuts, length)
                    n = len(cuts) - 1
                    lots = np.empty((n, 4))
                    lots[:, 0] = lx0 + cuts[:-1]
                    lots[:, 2] = lx0 + cuts[1:]
                    lots[:, 1] = ly0 + r * step
                    lots[:, 3] = ly0 + (r + 1) * step
                    out.append(lots)
                    row_index.append(np.full(n, r, dtype=np.int64))
        return np.concatenate(out), np.concatenate(row_index)

    def _unit(self) -> float:
        """Parcel size unit (m) such that the grid yields about the target number of lots."""
        unit = math.sqrt(0.55 * self.land.area / self.target)
        for _ in range(3):
            state = self.rng.bit_generator.state
            cells, _ = self._cells(unit)
            self.rng.bit_generator.state = state
            cx = (cells[:, 0] + cells[:, 2]) / 2
            cy = (cells[:, 1] + cells[:, 3]) / 2
            usable = self.land.difference(self.arterial_row)
            shapely.prepare(usable)
            count = int(shapely.contains_xy(usable, cx, cy).sum())
            unit *= math.sqrt(count / self.target)
        return unit

    def _local_streets(self, unit: float) -> list[tuple[str, float, shapely.Geometry]]:
        xs, ys, _ = self._grid(unit)
        x0, y0, x1, y1 = self.land.bounds
        lines = [LineString([(x, y0), (x, y1)]) for x in xs] + [
            LineString([(x0, y), (x1, y)]) for y in ys
        ]
        streets = []
        for i, line in enumerate(lines, start=1):
            clipped = line.intersection(self.land)
            if clipped.is_empty or clipped.length < 20:
                continue
            width = float(self.rng.choice([12.0, 14.0, 14.0, 16.0, 20.0]))
            streets.append((f"Đường số {i}", width, clipped))
        return streets

    def _parcels(self, unit: float) -> tuple[NDArray[np.object_], float]:
        cells, _ = self._cells(unit)
        boxes = shapely.box(cells[:, 0], cells[:, 1], cells[:, 2], cells[:, 3])
        nominal = (cells[:, 2] - cells[:, 0]) * (cells[:, 3] - cells[:, 1])
        usable = self.land.difference(self.arterial_row)
        # Cut the usable land into tiles so that clipping a lot touches a small polygon only.
        tile = 600.0
        ux0, uy0, ux1, uy1 = usable.bounds
        tiles = [
            box(tx, ty, tx + tile, ty + tile)
            for tx in np.arange(ux0, ux1, tile) for ty in np.arange(uy0, uy1, tile)
        ]
        pieces = [p for p in shapely.intersection(tiles, usable) if not p.is_empty]
        tree = shapely.STRtree(pieces)
        shapely.prepare(usable)
        inside = shapely.contains(usable, boxes)
        result = boxes.copy()
        for i in np.flatnonzero(~inside):
            hits = tree.query(boxes[i], predicate="intersects")
            if len(hits) == 0:
                result[i] = None
                continue
            clipped = unary_union([boxes[i].intersection(pieces[j]) for j in hits])
            if isinstance(clipped, MultiPolygon):
                clipped = max(clipped.geoms, key=lambda g: g.area)
            if not isinstance(clipped, Polygon) or clipped.area < 0.4 * nominal[i]:
                result[i] = None
            else:
                result[i] = clipped
        keep = np.array([g is not None for g in result])
        return result[keep], unit

    # -- zoning, land use, wards, plans ---------------------------------------------------

    def _wards(self) -> list[tuple[str, str, shapely.Geometry]]:
        seeds = shapely.multipoints([_xy(lon, lat) for _, _, lon, lat in WARD_SEEDS])
        cells = shapely.voronoi_polygons(seeds, extend_to=self.district.buffer(2000))
        wards = []
        for code, name, lon, lat in WARD_SEEDS:
            seed = shapely.Point(_xy(lon, lat))
            cell = next(c for c in cells.geoms if c.contains(seed))
            wards.append((code, name, cell.intersection(self.district)))
        return wards

    def _zoning(
        self, wards: Sequence[tuple[str, str, shapely.Geometry]], block_size: float
    ) -> tuple[Layer, Layer, list[tuple[shapely.Geometry, str]]]:
        plans, blocks = Layer(), Layer()
        ward_geom = {code: geom for code, _, geom in wards}
        epz = box(*_xy(EPZ[0], EPZ[1]), *_xy(EPZ[2], EPZ[3]))
        zoned_area = self.district.difference(self.water[0][2])  # canals are zoned, river not
        x0, y0, x1, y1 = zoned_area.bounds
        grid = [
            box(gx, gy, gx + block_size, gy + block_size)
            for gy in np.arange(y1 + 0.3 * block_size, y0 - block_size, -block_size)
            for gx in np.arange(x0 - 0.45 * block_size, x1, block_size)
        ]
        categories = list(FUNCTION_WEIGHTS)
        weights = np.array([FUNCTION_WEIGHTS[c] for c in categories], dtype=float)
        weights /= weights.sum()
        block_functions: list[tuple[shapely.Geometry, str]] = []
        for n, (code, title, decision, date, members) in enumerate(ZONING_PLANS):
            outline = unary_union([ward_geom[m] for m in members]).intersection(zoned_area)
            plans.add(outline, ma_qh=code,
                      ten=f"Quy hoạch phân khu tỷ lệ 1/2000 {title}, Quận 7",
                      ty_le="1/2000", so_qd=decision, ngay_qd=date.isoformat(),
                      co_quan=APPROVING_BODY)
            number = 0
            for cell in grid:
                piece = cell.intersection(outline)
                if piece.is_empty or piece.area < 1.0:
                    continue
                piece = polygonal_part(piece)
                if piece is None:
                    continue
                number += 1
                if epz.contains(piece.representative_point()):
                    category = "industrial"
                else:
                    category = str(self.rng.choice(categories, p=weights))
                spec = FUNCTIONS[category]
                floors_max = int(self.rng.integers(spec.floors_max[0], spec.floors_max[1] + 1))
                coverage = float(self.rng.integers(spec.coverage[0], spec.coverage[1] + 1))
                far = round(float(self.rng.uniform(*spec.far)), 2)
                area = piece.area
                blocks.add(
                    piece, ma_o_pho=f"{ROMAN[n]}-{number}", ma_qh=code,
                    chuc_nang=spec.name, ma_chuc_nang=category,
                    tang_cao_min=spec.floors_min, tang_cao_max=floors_max,
                    chieu_cao=round(floors_max * 3.6 + 4.0, 1), mat_do_xd=coverage,
                    he_so_sdd=far, dan_so=int(area / 10_000 * spec.density) or None,
                    dien_tich=round(area, 1), mau=spec.colour,
                )
                block_functions.append((piece, category))
        return plans, blocks, block_functions

    def _land_use(
        self, block_functions: Sequence[tuple[shapely.Geometry, str]], road_area: shapely.Geometry,
        zone_size: float,
    ) -> Layer:
        zones = Layer()
        x0, y0, x1, y1 = self.district.bounds
        grid = [
            box(gx, gy, gx + zone_size, gy + zone_size)
            for gx in np.arange(x0 - 0.2 * zone_size, x1, zone_size)
            for gy in np.arange(y0 - 0.7 * zone_size, y1, zone_size)
        ]
        tree = shapely.STRtree(grid)
        for geom, category in block_functions:
            codes = FUNCTIONS[category].land_use
            for j in tree.query(geom, predicate="intersects"):
                piece = polygonal_part(geom.intersection(grid[j]).difference(road_area))
                if piece is None or piece.area < 1.0:
                    continue
                code = codes[int(self.rng.integers(len(codes)))]
                zones.add(piece, ma_loai_dat=code, dien_tich=round(piece.area, 1))
        for j in tree.query(road_area, predicate="intersects"):
            piece = polygonal_part(road_area.intersection(grid[j]))
            if piece is not None and piece.area >= 1.0:
                zones.add(piece, ma_loai_dat="DGT", dien_tich=round(piece.area, 1))
        for _, _, water in self.water:
            piece = polygonal_part(water)
            if piece is not None:
                zones.add(piece, ma_loai_dat="SON", dien_tich=round(piece.area, 1))
        return zones

    # -- addresses and numbering ---------------------------------------------------------

    def _addresses(
        self, parcels: NDArray[np.object_], streets: Sequence[tuple[str, float, shapely.Geometry]]
    ) -> list[str | None]:
        rows = [s[2].buffer(s[1] / 2, cap_style="flat") for s in streets]
        tree = shapely.STRtree(rows)
        (pi, si), _ = tree.query_nearest(
            parcels, max_distance=1.0, return_distance=True, all_matches=False
        )
        addresses: list[str | None] = [None] * len(parcels)
        centroids = shapely.centroid(parcels)
        by_street: dict[int, list[tuple[float, int, int]]] = {}
        for p, s in zip(pi.tolist(), si.tolist(), strict=True):
            line = streets[s][2]
            pos = float(shapely.line_locate_point(line, centroids[p]))
            a = shapely.line_interpolate_point(line, pos)
            b = shapely.line_interpolate_point(line, min(pos + 1.0, line.length))
            if a.equals(b):
                b, a = a, shapely.line_interpolate_point(line, max(pos - 1.0, 0.0))
            cross = (b.x - a.x) * (centroids[p].y - a.y) - (b.y - a.y) * (centroids[p].x - a.x)
            by_street.setdefault(s, []).append((pos, 0 if cross > 0 else 1, p))
        for s, entries in by_street.items():
            for side in (0, 1):
                ranked = sorted(e for e in entries if e[1] == side)
                for rank, (_, _, p) in enumerate(ranked):
                    addresses[p] = f"{2 * rank + 1 + side} {streets[s][0]}"
        return addresses

    def _numbering(
        self, parcels: NDArray[np.object_], wards: Sequence[tuple[str, str, shapely.Geometry]],
        unit: float,
    ) -> tuple[list[str], list[int], list[int]]:
        points = shapely.point_on_surface(parcels)
        px, py = shapely.get_x(points), shapely.get_y(points)
        ward_of = np.full(len(parcels), -1)
        for i, (_, _, geom) in enumerate(wards):
            shapely.prepare(geom)
            hit = shapely.contains_xy(geom, px, py) & (ward_of < 0)
            ward_of[hit] = i
        ward_of[ward_of < 0] = 0
        sheet_size = 25 * unit
        x0, _, _, y1 = self.district.bounds
        col = ((px - x0) // sheet_size).astype(np.int64)
        row = ((y1 - py) // sheet_size).astype(np.int64)
        lot_row = ((y1 - py) // max(unit, 1.0)).astype(np.int64)
        sheet = np.zeros(len(parcels), dtype=np.int64)
        number = np.zeros(len(parcels), dtype=np.int64)
        for w in range(len(wards)):
            mine = np.flatnonzero(ward_of == w)
            cells = np.unique(np.stack([row[mine], col[mine]], axis=1), axis=0)
            sheet_of = {(int(r), int(c)): k + 1 for k, (r, c) in enumerate(cells)}
            sheet[mine] = [sheet_of[(int(row[i]), int(col[i]))] for i in mine]
            order = np.lexsort((px[mine], lot_row[mine], sheet[mine]))
            ordered = mine[order]
            counter: dict[int, int] = {}
            for i in ordered:
                s = int(sheet[i])
                counter[s] = counter.get(s, 0) + 1
                number[i] = counter[s]
        if sheet.max() > 999 or number.max() > 9999:
            raise ValueError("sheet or parcel number out of the parcel key's range")
        codes = [wards[w][0] for w in ward_of.tolist()]
        return codes, sheet.tolist(), number.tolist()

    # -- everything ------------------------------------------------------------------------

    def generate(self) -> Sample:
        """Build all layers."""
        self._frame()
        unit = self._unit()
        parcels, unit = self._parcels(unit)
        streets = [(n, w, g) for n, w, g in self.arterials if not g.is_empty]
        streets += self._local_streets(unit)
        road_area = unary_union(
            [g.buffer(w / 2, cap_style="flat") for _, w, g in streets]
        ).intersection(self.land)

        wards = self._wards()
        layers = {name: Layer() for name in ("wards", "water", "roads")}
        for code, name, geom in wards:
            layers["wards"].add(geom, ma_phuong=code, ten_phuong=name)
        for name, kind, geom in self.water:
            layers["water"].add(geom, ten=name, loai=kind)
        for name, width, geom in streets:
            layers["roads"].add(geom, ten_duong=name, lo_gioi=width)

        block_size = max(300.0, 12 * unit * 1.25 * 2)
        plans, blocks, functions = self._zoning(wards, block_size)
        layers["zoning_plans"] = plans
        layers["zoning_blocks"] = blocks
        layers["land_use"] = self._land_use(functions, road_area, 0.63 * block_size)
        layers["detailed_plans"] = self._detailed_plans()

        codes, sheets, numbers = self._numbering(parcels, wards, unit)
        addresses = self._addresses(parcels, streets)
        lots = Layer()
        for i, geom in enumerate(parcels):
            lots.add(geom, ma_xa=codes[i], so_to=sheets[i], so_thua=numbers[i],
                     dien_tich=round(geom.area, 1), dia_chi=addresses[i])
        layers["parcels"] = lots
        return Sample(layers=layers, parcel_size_m=unit)

    def _detailed_plans(self) -> Layer:
        plans = Layer()
        entries = [
            ("detailed_1_500", "Quy hoạch chi tiết tỷ lệ 1/500 Khu A - Đô thị mới Nam Thành phố",
             "1029/QĐ-UBND", dt.date(2016, 3, 9), (106.7030, 10.7210, 106.7150, 10.7290)),
            ("detailed_1_500", "Quy hoạch chi tiết tỷ lệ 1/500 Khu dân cư Tân Quy Đông",
             "412/QĐ-UBND", dt.date(2014, 1, 23), (106.7050, 10.7410, 106.7120, 10.7460)),
            ("local_amendment",
             "Điều chỉnh cục bộ quy hoạch phân khu 1/2000 tại ô phố dọc đường Huỳnh Tấn Phát",
             "5120/QĐ-UBND", dt.date(2021, 11, 30), (106.7280, 10.7360, 106.7340, 10.7440)),
        ]
        for kind, name, decision, date, (a, b, c, d) in entries:
            geom = box(*_xy(a, b), *_xy(c, d))
            plans.add(geom, loai=kind, ten=name, so_qd=decision, ngay_qd=date.isoformat(),
                      co_quan="Ủy ban nhân dân Quận 7" if kind == "local_amendment"
                      else APPROVING_BODY,
                      dien_tich=round(geom.area, 1))
        return plans


def generate(folder: Path, parcels: int = 60_000, seed: int = 7) -> dict[str, Path]:
    """Generate the sample and write its GeoPackages into folder."""
    return SampleGenerator(parcels=parcels, seed=seed).generate().write(folder)
