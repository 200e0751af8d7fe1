"""Small geometry helpers shared by the loader and the sample generator."""

from __future__ import annotations

import shapely
from shapely.geometry import MultiPolygon, Polygon


def polygonal_part(geom: shapely.Geometry) -> shapely.Geometry | None:
    """The valid polygonal part of a geometry (lower-dimension slivers dropped), or None."""
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if isinstance(geom, Polygon | MultiPolygon):
        return None if geom.is_empty else geom
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and not g.is_empty]
    return MultiPolygon(parts) if parts else None
