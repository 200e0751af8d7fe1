"""The CRS doctor: which coordinate system a dataset is in, never guessed silently.

A declared CRS is trusted when it puts the data in the district; a missing or suspicious one
makes the doctor ask, listing the candidates that fit the coordinates and where each would put
the data. Data that lands far from the district under every reading is refused, saying where.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS

from etl.crs import TM3_MERIDIANS, WGS84, to_wgs84
from etl.readers.base import ReaderError
from etl.readers.vector import NeedsAnswer, Question

UTM = {32648: "WGS 84 / UTM 48N", 32649: "WGS 84 / UTM 49N"}
SWAPPED = "EPSG:4326:swapped"
INSIDE_KM = 5.0  # within this distance of the district the data is where it should be
ASK_KM = 300.0  # candidates farther than this are not worth offering


@dataclass(frozen=True)
class Placement:
    """Where a reading puts the data: its centre and its distance from the district."""

    value: str
    label: str
    lon: float
    lat: float
    km: float

    def as_candidate(self) -> dict[str, Any]:
        """For the question shown to the planner."""
        where = "trong quận" if self.km <= INSIDE_KM else f"cách quận {self.km:.1f} km"
        return {"value": self.value, "label": self.label, "lon": round(self.lon, 5),
                "lat": round(self.lat, 5), "km_from_district": round(self.km, 2),
                "where": where}


def parse_crs(value: str) -> tuple[int, bool]:
    """(srid, swapped) from 'EPSG:N' or 'EPSG:4326:swapped'."""
    text = value.strip().upper()
    swapped = text.endswith(":SWAPPED")
    code = text.removesuffix(":SWAPPED").removeprefix("EPSG:")
    if not code.isdigit():
        raise ReaderError(f"not a CRS: {value!r} (write EPSG:9210, EPSG:32648, EPSG:4326)")
    return int(code), swapped


def declared_srid(wkt: str | None) -> int | None:
    """The EPSG code of a declared CRS; VN-2000 TM-3 recognised by its parameters too (a .prj
    written by desktop GIS rarely names the EPSG code)."""
    if not wkt:
        return None
    try:
        crs = CRS.from_user_input(wkt)
    except Exception:  # noqa: BLE001 - an unreadable .prj is the same as none
        return None
    params = crs.to_dict()
    if params.get("proj") == "tmerc" and params.get("k") in (0.9999,) and \
            params.get("x_0") == 500000 and params.get("y_0", 0) == 0:
        for srid, meridian in TM3_MERIDIANS.items():
            if math.isclose(float(params.get("lon_0", -1)), meridian, abs_tol=1e-6):
                return srid
    epsg = crs.to_epsg(min_confidence=70)
    return int(epsg) if epsg else None


def _sample(geoms: NDArray[np.object_], size: int = 500) -> NDArray[np.float64]:
    points = shapely.get_coordinates(geoms[: max(size, 1)])
    finite: NDArray[np.float64] = points[np.isfinite(points).all(axis=1)]
    return finite[:: max(1, len(finite) // size)]


def _place(value: str, label: str, xy: NDArray[np.float64],
           district: shapely.Geometry) -> Placement | None:
    srid, swapped = parse_crs(value)
    x, y = (xy[:, 1], xy[:, 0]) if swapped else (xy[:, 0], xy[:, 1])
    try:
        lon, lat = to_wgs84(srid).transform(x, y)
    except Exception:  # noqa: BLE001 - a reading that cannot even be computed is no candidate
        return None
    lon, lat = np.asarray(lon), np.asarray(lat)
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        return None
    if np.abs(lon).max() > 180 or np.abs(lat).max() > 90:  # read so, it is not on Earth
        return None
    centre = shapely.Point(float(np.median(lon)), float(np.median(lat)))
    degrees = shapely.distance(district, centre)
    km = float(degrees) * 111.32 * math.cos(math.radians(centre.y))
    return Placement(value, label, centre.x, centre.y, km)


def _readings(xy: NDArray[np.float64]) -> list[tuple[str, str]]:
    """Readings of the coordinates that their ranges allow."""
    x_min, y_min = xy.min(axis=0)
    x_max, y_max = xy.max(axis=0)
    out: list[tuple[str, str]] = []
    if -180 <= x_min and x_max <= 180 and -90 <= y_min and y_max <= 90:
        out.append(("EPSG:4326", "WGS 84, độ (kinh độ, vĩ độ)"))
    if -90 <= x_min and x_max <= 90 and -180 <= y_min and y_max <= 180:
        out.append((SWAPPED, "WGS 84, độ, vĩ độ trước kinh độ (đảo trục)"))
    if 100_000 <= x_min and x_max <= 900_000 and 500_000 <= y_min and y_max <= 2_800_000:
        out += [(f"EPSG:{srid}", f"VN-2000 TM-3 kinh tuyến trục {m:g}°")
                for srid, m in TM3_MERIDIANS.items()]
        out += [(f"EPSG:{srid}", name) for srid, name in UTM.items()]
    return out


def diagnose(geoms: NDArray[np.object_], declared_wkt: str | None, given: str | None,
             district: shapely.Geometry) -> tuple[int, bool]:
    """(srid, swapped) to read the dataset with, or NeedsAnswer, or ReaderError saying where
    the data would fall."""
    xy = _sample(geoms)
    if len(xy) == 0:
        raise ReaderError("no usable coordinates in the dataset")
    if given:
        placed = _place(given, given, xy, district)
        if placed is None or placed.km > INSIDE_KM:
            where = "nowhere on Earth" if placed is None else (
                f"{placed.km:.1f} km from the district, around {placed.lat:.4f}, "
                f"{placed.lon:.4f}")
            raise ReaderError(f"read as {given}, the data falls {where}")
        return parse_crs(given)
    srid = declared_srid(declared_wkt)
    fits = [p for v, label in _readings(xy)
            if (p := _place(v, label, xy, district)) is not None and p.km <= ASK_KM]
    fits.sort(key=lambda p: p.km)
    if srid is not None:
        placed = _place(f"EPSG:{srid}", f"EPSG:{srid}", xy, district)
        if placed is not None and placed.km <= INSIDE_KM:
            return srid, False
        where = "nowhere" if placed is None else (
            f"{placed.km:.1f} km away, around {placed.lat:.4f}, {placed.lon:.4f}")
        if not any(p.km <= INSIDE_KM for p in fits):
            raise ReaderError(f"the file says EPSG:{srid}, which puts the data {where}; "
                              "no other reading puts it in the district")
        raise NeedsAnswer(Question(
            "crs", f"The file says EPSG:{srid}, which puts the data {where}. "
            "Which coordinate system is it really in?",
            [p.as_candidate() for p in fits]))
    if not any(p.km <= INSIDE_KM for p in fits):
        nearest = fits[0] if fits else None
        where = (f"; the nearest reading ({nearest.label}) puts it {nearest.km:.0f} km away"
                 if nearest else "")
        raise ReaderError(f"the coordinates fit no coordinate system near the district{where}")
    raise NeedsAnswer(Question(
        "crs", "The file does not say its coordinate system (no .prj). Which one is it?",
        [p.as_candidate() for p in fits]))


def district_outline(rows: list[Any]) -> shapely.Geometry:
    """The district's outline from WKB rows (lon/lat)."""
    return shapely.union_all(shapely.from_wkb([r[0] for r in rows]))


__all__ = ["SWAPPED", "WGS84", "Placement", "diagnose", "declared_srid", "parse_crs"]
