"""Planning files made from what the session's database holds, for upload tests."""

from __future__ import annotations

import json

from sqlalchemy import Connection


def land_use_with(conn: Connection, zone_id: int, code: str) -> bytes:
    """The published land use as a planner's GeoJSON, with one zone given another code."""
    zones = conn.exec_driver_sql(
        "SELECT id, code, ST_AsGeoJSON(geom, 15) FROM land_use_zone ORDER BY id").all()
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": json.loads(geom),
         "properties": {"ma_loai_dat": code if zone == zone_id else current}}
        for zone, current, geom in zones]}).encode()


def published(conn: Connection, layer_id: str) -> int:
    """The number of the layer's published version."""
    return int(conn.exec_driver_sql(
        "SELECT number FROM catalogue_version WHERE layer_id = %(l)s AND status = 'published'",
        {"l": layer_id}).scalar_one())
