"""The layer catalogue's writes shared by the loader and the ingest: recording a published
version, with the version it supersedes, each move an event."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from core.workflow import Actor, create
from layers.catalogue.publish import supersede_published
from layers.catalogue.workflow import VERSION

# Planning layers whose published data can be re-published later keep a copy in the version's
# own table when a whole planning set is loaded: (fid, src_id, props, geom) from the live table.
SNAPSHOTS = {
    "land_use": "SELECT id::bigint AS fid, id::text AS src_id, "
                "jsonb_build_object('ma_loai_dat', code) AS props, "
                "geom::geometry(Geometry, 4326) AS geom, NULL::text AS problem, "
                "NULL::text AS outcome FROM land_use_zone",
    "zoning_blocks": "SELECT b.id::bigint AS fid, b.block_code AS src_id, jsonb_build_object("
                     "'ma_qh', p.plan_code, 'ma_o_pho', b.block_code, 'chuc_nang', "
                     "b.function_name, 'ma_chuc_nang', b.function_category, 'tang_cao_min', "
                     "b.floors_min, 'tang_cao_max', b.floors_max, 'chieu_cao', b.height_max_m, "
                     "'mat_do_xd', b.coverage_max_pct, 'he_so_sdd', b.far_max, 'dan_so', "
                     "b.population, 'mau', b.colour) AS props, "
                     "b.geom::geometry(Geometry, 4326) AS geom, NULL::text AS problem, "
                     "NULL::text AS outcome FROM zoning_block b JOIN zoning_plan p "
                     "ON p.id = b.plan_id",
    "parcels": "SELECT p.id AS fid, w.code || '/' || p.sheet_no || '/' || p.parcel_no AS src_id, "
               "jsonb_strip_nulls(jsonb_build_object('ma_xa', w.code, 'so_to', p.sheet_no, "
               "'so_thua', p.parcel_no, 'dia_chi', p.address)) AS props, "
               "p.geom::geometry(Geometry, 4326) AS geom, NULL::text AS problem, "
               "NULL::text AS outcome FROM parcel p JOIN admin_unit w ON w.id = p.ward_id",
    "roads": "SELECT id::bigint AS fid, id::text AS src_id, jsonb_build_object('ten_duong', name, "
             "'lo_gioi', right_of_way_m) AS props, geom::geometry(Geometry, 4326) AS geom, "
             "NULL::text AS problem, NULL::text AS outcome FROM road",
    "water": "SELECT id::bigint AS fid, id::text AS src_id, jsonb_build_object('ten', name, "
             "'loai', kind) AS props, geom::geometry(Geometry, 4326) AS geom, "
             "NULL::text AS problem, NULL::text AS outcome FROM water_body",
    "zoning_plans": "SELECT id::bigint AS fid, plan_code AS src_id, jsonb_build_object("
                    "'ma_qh', plan_code, 'ten', name, 'ty_le', scale, 'so_qd', decision_no, "
                    "'ngay_qd', decision_date, 'co_quan', approving_body) AS props, "
                    "geom::geometry(Geometry, 4326) AS geom, NULL::text AS problem, "
                    "NULL::text AS outcome FROM zoning_plan",
    "detailed_plans": "SELECT id::bigint AS fid, id::text AS src_id, jsonb_build_object("
                      "'loai', kind, 'ten', name, 'so_qd', decision_no, 'ngay_qd', "
                      "decision_date, 'co_quan', approving_body) AS props, "
                      "geom::geometry(Geometry, 4326) AS geom, NULL::text AS problem, "
                      "NULL::text AS outcome FROM detailed_plan",
}


def record_published(conn: psycopg.Connection[Any], layer_id: str, source_name: str,
                     srid: int | None, feature_count: int, data_table: str | None,
                     actor_id: int | None = None) -> int:
    """A new version of the layer, published at once (loads of whole planning sets); the one
    published before becomes superseded. Returns the version number."""
    # One publisher of a layer at a time.
    conn.execute("SELECT 1 FROM catalogue_layer WHERE id = %s FOR UPDATE", (layer_id,))
    found = conn.execute("SELECT coalesce(max(number), 0) + 1, now() FROM catalogue_version "
                         "WHERE layer_id = %s", (layer_id,)).fetchone()
    assert found is not None
    number, now = int(found[0]), found[1]
    supersede_published(conn, layer_id, actor_id)
    made = create(conn, VERSION, "load", Actor(actor_id), {
        "layer_id": layer_id, "number": number, "source_name": source_name, "srid": srid,
        "feature_count": feature_count, "data_table": data_table, "created_by": actor_id,
        "published_at": now}, detail={"via": "planning set load"})
    row = (made.row_id, number)
    if layer_id in SNAPSHOTS:
        own = f"{layer_id}_v{int(row[1])}"
        table = sql.Identifier("layer_data", own)
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        conn.execute(sql.SQL("CREATE TABLE {} AS ").format(table)
                     + sql.SQL(SNAPSHOTS[layer_id]))
        conn.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (fid)").format(table))
        conn.execute("UPDATE catalogue_version SET data_table = %s WHERE id = %s",
                     (own, row[0]))
    return int(row[1])
