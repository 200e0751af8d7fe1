"""Rules of the catalogue: free layers, uploads that become jobs, answers, versions."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import uuid
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Connection

from core.errors import ConflictError, DomainError, InvalidInputError, NotFoundError, TooLargeError
from core.workflow import NOW, Actor, create, fire
from etl.fields import MAP_PREFIX
from layers.catalogue.workflow import JOB

CHUNK = 1024 * 1024
ACCEPTED = (".zip", ".gpkg", ".geojson", ".json", ".dxf", ".kml", ".kmz", ".tif", ".tiff")


def mapping_answers(pairs: list[str], flag: str = "map") -> dict[str, str]:
    """`target=source` pairs (the CLI's --map, the upload form's map) as the job's answers."""
    out: dict[str, str] = {}
    for pair in pairs:
        target, sep, source = pair.partition("=")
        if not sep or not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", target.strip()):
            raise InvalidInputError(f"{flag} {pair!r}: write target=source, e.g. "
                                    "ma_o_pho=KH_OPHO", flag)
        out[MAP_PREFIX + target.strip()] = source.strip()
    return out


def safe_filename(name: str) -> str:
    """The upload's own name, reduced to a harmless base name that keeps its extension."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name or "upload").name).strip("._") or "upload"
    return base[-100:]


class CatalogueService:
    """Layers, uploads and versions."""

    def __init__(self, conn: Connection, upload_dir: Path, max_bytes: int) -> None:
        self.conn = conn
        self.upload_dir = upload_dir
        self.max_bytes = max_bytes

    def _one(self, sql: str, params: dict[str, Any]) -> Any:
        return self.conn.exec_driver_sql(sql, params).first()

    def layers(self) -> list[Any]:
        """Every layer with its published version."""
        return list(self.conn.exec_driver_sql(
            "SELECT l.id, l.kind, l.title_vi, l.title_en, l.visibility, l.schema, "
            "(SELECT number FROM catalogue_version v WHERE v.layer_id = l.id "
            " AND v.status = 'published') AS published_version, "
            "(SELECT raster_id FROM catalogue_version v WHERE v.layer_id = l.id "
            " AND v.status = 'published') AS published_raster "
            "FROM catalogue_layer l ORDER BY l.created_at, l.id", {}).all())

    def layer(self, layer_id: str) -> Any:
        """One layer, or 404."""
        row = self._one("SELECT id, kind FROM catalogue_layer WHERE id = %(i)s", {"i": layer_id})
        if row is None:
            raise NotFoundError(f"no layer {layer_id!r}", "layer_id")
        return row

    def create(self, layer_id: str, title_vi: str, title_en: str, visibility: str,
               fields: list[dict[str, Any]], kind: str = "free") -> None:
        """A free layer (or a scanned plan), empty until its first upload is published."""
        if sum(1 for f in fields if f.get("key")) > 1:
            raise InvalidInputError("at most one key field", "schema")
        # The key decides, in the statement: a read first would lose to a twin request.
        made = self.conn.exec_driver_sql(
            "INSERT INTO catalogue_layer (id, kind, title_vi, title_en, visibility, schema, "
            "queryables) VALUES (%(i)s, %(k)s, %(v)s, %(e)s, %(s)s, %(f)s::jsonb, %(q)s) "
            "ON CONFLICT (id) DO NOTHING RETURNING 1",
            {"i": layer_id, "k": kind, "v": title_vi, "e": title_en, "s": visibility,
             "f": json.dumps(fields), "q": [f["name"] for f in fields]}).first()
        if made is None:
            raise ConflictError(f"layer {layer_id!r} exists", "id")

    def upload(self, layer_id: str, filename: str, stream: BinaryIO, answers: dict[str, str],
               publish: bool, actor_id: int | None) -> int:
        """Keep the file (bounded, hashed) and queue its job; returns the job id."""
        for name, value in answers.items():  # kept in the job's JSON, which holds no NUL
            if "\x00" in value:
                field = "map" if name.startswith(MAP_PREFIX) else name
                raise InvalidInputError(f"{field}: a text may not hold a NUL character", field)
        self.layer(layer_id)
        name = safe_filename(filename)
        if not name.lower().endswith(ACCEPTED):
            raise InvalidInputError(f"{name}: not an accepted file (zipped shapefile, "
                                    "GeoPackage, GeoJSON, DXF, KML/KMZ, GeoTIFF)", "file")
        folder = self.upload_dir / uuid.uuid4().hex
        folder.mkdir(parents=True)
        target = folder / name
        digest = hashlib.sha256()
        size = 0
        try:
            with open(target, "xb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise TooLargeError(f"{name} is larger than "
                                            f"{self.max_bytes // 1024**2} MB", "file")
                    digest.update(chunk)
                    out.write(chunk)
            if size == 0:
                raise InvalidInputError(f"{name} is empty", "file")
        except DomainError:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return create(self.conn, JOB, "upload", Actor(actor_id), {
            "layer_id": layer_id, "source_name": name, "source_path": str(target),
            "source_sha256": digest.hexdigest(), "answers": answers, "publish": publish,
            "created_by": actor_id}).row_id

    def job(self, job_id: int) -> Any:
        """A job with its version number."""
        row = self._one(
            "SELECT j.id, j.layer_id, j.status, j.stage, j.progress, j.rows, j.message, "
            "j.question, v.number AS version, j.updated_at FROM etl_job j "
            "LEFT JOIN catalogue_version v ON v.id = j.version_id WHERE j.id = %(i)s",
            {"i": job_id})
        if row is None:
            raise NotFoundError(f"no job {job_id}", "job_id")
        return row

    def answer(self, job_id: int, answers: dict[str, str], actor_id: int | None = None) -> None:
        """Record the planner's answer and put the job back in the queue (through the engine)."""
        job = self.job(job_id)
        if job.status != "needs_input":
            raise ConflictError(f"the job is {job.status}, not waiting for an answer", "status")
        before = self._one("SELECT answers FROM etl_job WHERE id = %(i)s", {"i": job_id})[0]
        fire(self.conn, JOB, job_id, "answer", Actor(actor_id), detail={"answers": answers},
             values={"answers": {**before, **answers}, "question": None, "updated_at": NOW})

    def versions(self, layer_id: str) -> list[Any]:
        """Every version of the layer, newest first."""
        self.layer(layer_id)
        return list(self.conn.exec_driver_sql(
            "SELECT id, version, number, status, source_name, srid, encoding, feature_count, "
            "report, changes, created_at, published_at FROM catalogue_version "
            "WHERE layer_id = %(l)s ORDER BY number DESC", {"l": layer_id}).all())

    def version(self, layer_id: str, number: int) -> Any:
        """One version, or 404."""
        row = self._one(
            "SELECT id, version, number, status, source_name, srid, encoding, feature_count, "
            "report, changes, created_at, published_at, data_table FROM catalogue_version "
            "WHERE layer_id = %(l)s AND number = %(n)s", {"l": layer_id, "n": number})
        if row is None:
            raise NotFoundError(f"no version {number} of {layer_id}", "number")
        return row

    def issues_geojson(self, layer_id: str, number: int) -> str:
        """The features with a problem, for the report's map."""
        version = self.version(layer_id, number)
        if version.data_table is None:
            return '{"type":"FeatureCollection","features":[]}'
        table = '"layer_data"."' + version.data_table.replace('"', "") + '"'
        return str(self.conn.exec_driver_sql(
            "SELECT json_build_object('type', 'FeatureCollection', 'features', "
            "coalesce(json_agg(json_build_object('type', 'Feature', 'id', fid, "
            "'geometry', ST_AsGeoJSON(geom, 7)::json, 'properties', json_build_object("
            "'feature', src_id, 'problem', problem, 'outcome', outcome))), '[]'))::text "
            f"FROM (SELECT * FROM {table} WHERE problem IS NOT NULL ORDER BY fid LIMIT 5000) t",
            {}).scalar_one())

    def changes_geojson(self, layer_id: str, number: int) -> str:
        """The changed area of a version against what was published before it."""
        self.version(layer_id, number)
        return str(self.conn.exec_driver_sql(
            "SELECT json_build_object('type', 'FeatureCollection', 'features', "
            "CASE WHEN changed_area IS NULL THEN '[]'::json ELSE json_build_array("
            "json_build_object('type', 'Feature', 'geometry', "
            "ST_AsGeoJSON(ST_Transform(changed_area, 4326), 7)::json, 'properties', changes))"
            " END)::text FROM catalogue_version WHERE layer_id = %(l)s AND number = %(n)s",
            {"l": layer_id, "n": number}).scalar_one())

    def changes_tile(self, layer_id: str, number: int, z: int, x: int, y: int) -> bytes:
        """The changed area as a vector tile (layer `changes`), for the planner's map."""
        self.version(layer_id, number)
        return bytes(self.conn.exec_driver_sql(
            """
            SELECT coalesce(ST_AsMVT(t, 'changes', 4096, 'geom'), '') FROM (
              SELECT ST_AsMVTGeom(v.changed_area, ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4096,
                                  64, true) AS geom,
                     (v.changes->>'added')::int AS added, (v.changes->>'removed')::int AS removed,
                     (v.changes->>'changed')::int AS changed
              FROM catalogue_version v
              WHERE v.layer_id = %(l)s AND v.number = %(n)s AND v.changed_area IS NOT NULL
                AND v.changed_area && ST_TileEnvelope(%(z)s, %(x)s, %(y)s)
            ) t WHERE t.geom IS NOT NULL
            """,
            {"l": layer_id, "n": number, "z": z, "x": x, "y": y}).scalar_one())
