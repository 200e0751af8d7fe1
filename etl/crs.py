"""VN-2000 coordinate handling, always through EPSG:6960 (never PROJ's default pick)."""

from __future__ import annotations

from functools import lru_cache

from numpy.typing import ArrayLike
from pyproj import CRS, Transformer
from pyproj.enums import TransformDirection

WGS84 = 4326
VN2000_HCMC = 9210  # VN-2000 / TM-3 105-45

# Central meridians of the VN-2000 TM-3 provincial zones, EPSG:9205-9218.
TM3_MERIDIANS = {
    9205: 103.0, 9206: 104.0, 9207: 104.5, 9208: 104.75, 9209: 105.5, 9210: 105.75,
    9211: 106.0, 9212: 106.25, 9213: 106.5, 9214: 107.0, 9215: 107.25, 9216: 107.5,
    9217: 108.25, 9218: 108.5,
}

# EPSG:6960, VN-2000 to WGS 84 (2), coordinate-frame rotation, as published by EPSG.
HELMERT_6960 = (
    "+proj=helmert +x=-191.90441429 +y=-39.30318279 +z=-111.45032835 "
    "+rx=-0.00928836 +ry=0.01975479 +rz=-0.00427372 +s=0.252906278 "
    "+convention=coordinate_frame"
)


def _tm3(srid: int) -> str:
    return (
        f"+proj=tmerc +lat_0=0 +lon_0={TM3_MERIDIANS[srid]:g} +k=0.9999 "
        "+x_0=500000 +y_0=0 +ellps=WGS84"
    )


def _pipeline(srid: int) -> str:
    return (
        f"+proj=pipeline +step +inv {_tm3(srid)} +step +proj=push +v_3 "
        "+step +proj=cart +ellps=WGS84 "
        f"+step {HELMERT_6960} "
        "+step +inv +proj=cart +ellps=WGS84 +step +proj=pop +v_3 "
        "+step +proj=unitconvert +xy_in=rad +xy_out=deg"
    )


def is_vn2000_tm3(srid: int | None) -> bool:
    """Whether the EPSG code is one of VN-2000's TM-3 zones."""
    return srid in TM3_MERIDIANS


@lru_cache(maxsize=32)
def to_wgs84(srid: int) -> Transformer:
    """A transformer from the given CRS to lon/lat WGS84 (x=lon, y=lat)."""
    if is_vn2000_tm3(srid):
        return Transformer.from_pipeline(_pipeline(srid))
    return Transformer.from_crs(CRS.from_epsg(srid), CRS.from_epsg(WGS84), always_xy=True)


def from_wgs84(srid: int, lon: ArrayLike, lat: ArrayLike) -> tuple[ArrayLike, ArrayLike]:
    """Project lon/lat WGS84 into the given CRS (the inverse of the same EPSG:6960 pipeline)."""
    x, y = to_wgs84(srid).transform(lon, lat, direction=TransformDirection.INVERSE)
    return x, y
