"""An upload's way to a validated layer version: unpack, find the dataset, ask the doctors,
read in batches, reproject (VN-2000 through EPSG:6960), check every feature, COPY into the
version's own table, repair or reject with PostGIS, index, compare with what is published.

The version's table is written in one transaction: a job killed at any point leaves no half
version behind, and the published layer is never touched until someone publishes.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import shutil
import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import rasterio
import rasterio.errors
import rasterio.warp
import shapely
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from core.errors import ConflictError, DomainError, NotFoundError
from core.reference import FUNCTION_CATEGORIES
from core.workflow import NOW, SYSTEM, Actor, create, fire
from etl.check import (
    DERIVABLE,
    IngestError,
    Layer,
    Mapping,
    SliceJob,
    parse_date,
)
from etl.doctor import diagnose as diagnose_crs
from etl.doctor import district_outline
from etl.fields import NEW_PLAN, PLAN_PREFIX, FieldMap, Known, fold, function_names, signature
from etl.fields import diagnose as diagnose_fields
from etl.readers.base import FeatureBatch, ReaderError
from etl.readers.detect import Dataset
from etl.readers.vector import NeedsAnswer, Question
from etl.stage import Stager, worker_context
from layers.catalogue.publish import publish
from layers.catalogue.workflow import JOB, VERSION, JobStatus
from layers.planning_set import OLD_WARD_END

DOCTOR_SAMPLE = 2_000  # features the CRS doctor reads (it looks at the first 500)
DictConnection = psycopg.Connection[dict[str, Any]]


@dataclass
class Outcome:
    """What a run of the job came to."""

    status: str  # succeeded | failed | needs_input | skipped
    message: str
    version_id: int | None = None
    question: Question | None = None


class Progress:
    """Job progress written on its own connection, so others see it while the job runs."""

    def __init__(self, conn: psycopg.Connection[Any], job_id: int) -> None:
        self.conn = conn
        self.job_id = job_id
        self.last = 0.0

    def __call__(self, stage: str, done: int = 0, total: int | None = None,
                 force: bool = False) -> None:
        """Record the stage and rows done (at most a few times a second unless forced)."""
        now = time.monotonic()
        if not force and now - self.last < 0.3:
            return
        self.last = now
        pct = min(99.0, 100.0 * done / total) if total else 0.0
        self.conn.execute("UPDATE etl_job SET stage = %s, rows = %s, progress = %s, "
                          "updated_at = now() WHERE id = %s", (stage, done, pct, self.job_id))


def _district(conn: DictConnection) -> shapely.Geometry:
    """The district's outline (its current wards), in lon/lat."""
    return district_outline([(bytes(r["wkb"]),) for r in conn.execute(
        "SELECT ST_AsBinary(geom) AS wkb FROM admin_unit WHERE level = 'ward' "
        "AND valid_to IS NULL AND geom IS NOT NULL")])


def _known(conn: DictConnection) -> Known:
    """What the field doctor reads values against, from the catalogue's reference tables."""
    codes = conn.execute("SELECT code, name_vi, name_en FROM land_use_code").fetchall()
    names = {fold(r[k]): str(r["code"]) for r in codes for k in ("name_vi", "name_en")}
    plans = conn.execute("SELECT plan_code FROM zoning_plan").fetchall()
    return Known(frozenset(str(r["code"]) for r in codes), names,
                 frozenset(str(r["plan_code"]) for r in plans),
                 frozenset(FUNCTION_CATEGORIES), function_names())


def _plans_by_decision(conn: DictConnection, layer: Layer, fieldmap: FieldMap,
                       columns: dict[str, list[Any]], answers: dict[str, str]
                       ) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Zoning blocks that name their plan by its approving decision: folded decision -> plan
    code, and the plans to make for decisions the catalogue does not know (as answered);
    an unknown decision not yet answered is asked about."""
    if layer.kind != "zoning_blocks" or "ma_qh" in fieldmap.sources or \
            "so_qd" not in fieldmap.sources:
        return {}, []
    plans = conn.execute("SELECT plan_code, name, decision_no FROM zoning_plan "
                         "ORDER BY plan_code").fetchall()
    decisions = {fold(str(p["decision_no"])): str(p["plan_code"]) for p in plans}
    codes = {str(p["plan_code"]) for p in plans}
    dated = columns.get(fieldmap.sources.get("ngay_qd", ""), [])
    seen: dict[str, str | None] = {}  # decision -> its date in the file, if any
    for row, value in enumerate(columns[fieldmap.sources["so_qd"]]):
        if value is not None and str(value).strip():
            text = " ".join(str(value).split())
            day = parse_date(dated[row]) if row < len(dated) else None
            seen[text] = seen.get(text) or day
    new: list[dict[str, Any]] = []
    unknown: list[dict[str, Any]] = []
    for text, day in seen.items():
        if fold(text) in decisions:
            continue
        chosen = answers.get(PLAN_PREFIX + text)
        if chosen == NEW_PLAN:
            code = text[:32]
            if code in codes:
                raise ReaderError(f"a zoning plan coded {code} exists with another decision: "
                                  f"attach the blocks of {text} to it (--plan '{text}={code}')")
            new.append({"plan_code": code, "decision_no": text, "decision_date": day,
                        "name": f"Đồ án quy hoạch theo Quyết định số {text}"})
            decisions[fold(text)] = code
        elif chosen:
            if chosen not in codes:
                raise ReaderError(f"--plan '{text}={chosen}': no zoning plan {chosen}")
            decisions[fold(text)] = chosen
        else:
            unknown.append({"decision": text, "date": day, "candidates": [
                {"value": NEW_PLAN, "label": f"a new zoning plan for decision {text}"
                 + (f" of {day}" if day else "")},
                *({"value": str(p["plan_code"]), "label": f"{p['name']} "
                   f"({p['decision_no']})"} for p in plans)]})
    if unknown:
        raise NeedsAnswer(Question(
            "plans", "No zoning plan in the catalogue was approved by "
            + ", ".join(u["decision"] for u in unknown)
            + ": make a plan for each, or attach its blocks to a plan?", unknown))
    return decisions, new


def _remember(conn: DictConnection, layer_id: str, fields: list[str], fieldmap: FieldMap,
              actor_id: int | None) -> None:
    """The mapping answered for this upload, for the next one with the same fields."""
    conn.execute(
        "INSERT INTO catalogue_field_map (layer_id, signature, answers, updated_by) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (layer_id, signature) DO UPDATE SET "
        "answers = EXCLUDED.answers, updated_by = EXCLUDED.updated_by, updated_at = now()",
        (layer_id, signature(fields), Jsonb(fieldmap.answers()), actor_id))
    conn.commit()


def _publish(conn: DictConnection, layer_id: str, number: int, actor_id: int | None) -> str:
    """Publish the version the job made, as asked at upload; a refusal leaves it validated
    (the job still made it) and is said in the job's message."""
    try:
        publish(conn, layer_id, number, Actor(actor_id))
    except DomainError as exc:
        conn.rollback()
        return f"; not published: {exc.message}"
    conn.commit()
    return "; published"


def _table(layer_id: str, number: int) -> str:
    return f"{layer_id}_v{number}"


# The move that ends a run, by how it ended.
ENDINGS = {"succeeded": "succeed", "failed": "fail", "needs_input": "ask"}


def _claimed(conn: psycopg.Connection[Any], job_id: int, resume: bool) -> bool:
    """Whether this worker now runs the job: a queued one (or, resumed, the running one of a
    worker that died), moved through the engine, which locks it against another worker."""
    found = conn.execute("SELECT status FROM etl_job WHERE id = %s", (job_id,)).fetchone()
    if found is None:  # not visible yet: the upload's transaction has not committed
        return False
    move = {JobStatus.QUEUED: "claim", JobStatus.RUNNING: "restart" if resume else None}.get(
        JobStatus(found[0]))
    if move is None:
        return False
    try:
        with conn.transaction():
            fire(conn, JOB, job_id, move, SYSTEM, values={
                "stage": "reading", "question": None, "message": None, "updated_at": NOW})
    except (ConflictError, NotFoundError):  # another worker claimed it first
        return False
    return True


class Ingest:
    """Runs ingest jobs against one database."""

    def __init__(self, dsn: str, work_dir: Path, rasters_dir: Path | None = None, *,
                 processes: int) -> None:
        self.dsn = dsn
        self.work_dir = work_dir
        self.rasters_dir = rasters_dir or work_dir.parent / "rasters"
        self.stager = Stager(processes)  # worker processes for a big file (1: none)

    def run(self, job_id: int, resume: bool = False) -> Outcome:
        """Run the job to its end; never raises for bad input (the job records why).

        `resume`: the queue gives the job again because the worker running it died, so a job
        left `running` is taken too (it restarts cleanly: a version is written in one
        transaction)."""
        with psycopg.connect(self.dsn, autocommit=True) as side:
            if not _claimed(side, job_id, resume):
                return Outcome("skipped", "not queued")
            progress = Progress(side, job_id)
            try:
                outcome = self._run(job_id, progress)
            except NeedsAnswer as asked:
                outcome = Outcome("needs_input", asked.question.prompt,
                                  question=asked.question)
            except (ReaderError, IngestError) as exc:
                outcome = Outcome("failed", str(exc))
            except (MemoryError, BrokenProcessPool):  # a worker killed for its memory, too
                outcome = Outcome("failed", "the dataset is too large to process")
            except psycopg.Error as exc:  # PostGIS refusing a geometry is the data's fault
                first_line = (str(exc).splitlines() or ["database error"])[0]
                outcome = Outcome("failed", f"the data could not be stored: {first_line}")
            # The file goes before the job says it is over: whoever reads "done" finds it gone.
            if outcome.status in ("succeeded", "failed"):
                self._discard_upload(job_id, side)
            ended: dict[str, Any] = {
                "message": outcome.message, "updated_at": NOW,
                "question": outcome.question.__dict__ if outcome.question else None,
                "stage": "done" if outcome.status == "succeeded" else outcome.status}
            if outcome.version_id is not None:
                ended["version_id"] = outcome.version_id
            if outcome.status == "succeeded":
                ended["progress"] = 100
            with side.transaction():
                fire(side, JOB, job_id, ENDINGS[outcome.status], SYSTEM, values=ended)
            return outcome

    def _discard_upload(self, job_id: int, conn: psycopg.Connection[Any]) -> None:
        """The uploaded file (and what was unpacked from it) once its job is over: a question
        still open keeps it for the answer's run."""
        row = conn.execute("SELECT source_path FROM etl_job WHERE id = %s", (job_id,)).fetchone()
        folder = Path(row[0]).parent if row else None
        # Only an upload's own folder (uploads/<hex>/file), never the work folder itself.
        if folder is not None and folder.parent.resolve() == self.work_dir.resolve():
            shutil.rmtree(folder, ignore_errors=True)

    def _run(self, job_id: int, progress: Progress) -> Outcome:
        with psycopg.connect(self.dsn, row_factory=dict_row) as conn:
            job = conn.execute("SELECT * FROM etl_job WHERE id = %s", (job_id,)).fetchone()
            if job is None:
                raise IngestError(f"no job {job_id}")
            layer_row = conn.execute("SELECT * FROM catalogue_layer WHERE id = %s",
                                     (job["layer_id"],)).fetchone()
            assert layer_row is not None
            conn.commit()
            layer = Layer(layer_row)
            answers: dict[str, str] = job["answers"] or {}
            existing = conn.execute(
                "SELECT id, number, status FROM catalogue_version WHERE layer_id = %s "
                "AND source_sha256 = %s AND answers = %s AND status IN ('validated', "
                "'published', 'superseded', 'rejected') ORDER BY id DESC LIMIT 1",
                (layer.id, job["source_sha256"], Jsonb(answers))).fetchone()
            if existing:  # the same file with the same answers: the same version
                conn.commit()
                return Outcome("succeeded", f"already ingested as version {existing['number']} "
                               f"({existing['status']})", existing["id"])
            if not Path(job["source_path"]).is_file():  # e.g. a job resumed after a cleanup
                raise IngestError(f"{job['source_name']}: the uploaded file is gone; upload it "
                                  "again")
            dataset = self.stager.dataset(Path(job["source_path"]))
            if (dataset.format == "geotiff") != (layer.kind == "scanned_plan"):
                raise IngestError("a scanned-plan layer takes a GeoTIFF, other layers take "
                                  f"vector files ({dataset.path.name} is {dataset.format})")
            if dataset.format == "geotiff":
                return self._raster(conn, layer, job, dataset, answers, progress)
            source, chosen = self.stager.open(dataset, answers)
            # The doctors look at the first features; a format read whole is read once.
            if source.streamed and self.stager.parallel(source.count):
                worker_context()
                multiprocessing.forkserver.ensure_running()  # it imports while we go on
            first = source.read(0, DOCTOR_SAMPLE if source.streamed else None)
            if len(first) == 0:
                raise IngestError(f"{dataset.path.name}: the layer has no features")
            district = _district(conn)
            srid, swapped = diagnose_crs(first.geometries, source.crs_wkt, answers.get("crs"),
                                         district)
            references = {
                "ma_loai_dat": {str(r["code"]) for r in conn.execute(
                    "SELECT code FROM land_use_code")},
                "ma_qh": {str(r["plan_code"]) for r in conn.execute(
                    "SELECT plan_code FROM zoning_plan")},
            } if layer.kind in ("land_use", "zoning_blocks") else {
                # Parcels keep the codes of the wards before the 2025 merger.
                "ma_xa": {str(r["code"]) for r in conn.execute(
                    "SELECT code FROM admin_unit WHERE level = 'ward' AND valid_to = %s",
                    (OLD_WARD_END,))},
            } if layer.kind == "parcels" else {}
            columns = {k: v.tolist() for k, v in first.columns.items()}
            known = _known(conn)
            fields = list(first.columns)
            remembered = conn.execute(
                "SELECT answers FROM catalogue_field_map WHERE layer_id = %s AND signature = %s",
                (layer.id, signature(fields))).fetchone()
            fieldmap = diagnose_fields(layer.schema, columns, known, answers,
                                       derivable=DERIVABLE.get(layer.kind),
                                       remembered=remembered["answers"] if remembered else None)
            decisions, new_plans = _plans_by_decision(conn, layer, fieldmap, columns, answers)
            if new_plans:  # the plans this version makes are plans its blocks may name
                references["ma_qh"] |= {p["plan_code"] for p in new_plans}
            conn.commit()
            plan = SliceJob(dataset, source.layer, source.encoding, chosen if source.convert
                            else None, {"id": layer.id, "kind": layer.kind,
                                        "schema": layer.schema},
                            fields, references, srid, swapped, source.streamed,
                            Mapping(fieldmap.sources, fieldmap.translate, known, decisions))
            plan.checker()  # a missing required field fails here, before any version exists
            version = self._new_version(conn, layer, job, srid, chosen, answers)
            whole = None if source.streamed else first
            doctored = fieldmap.report() | ({"new_plans": new_plans} if new_plans else {})
            try:
                stats = self._stage(conn, layer, version, plan, whole, source.count, progress,
                                    doctored)
            except BaseException:
                conn.rollback()
                raise
            if fieldmap.answered and not stats.startswith("rejected"):
                _remember(conn, layer.id, fields, fieldmap, job["created_by"])
            if job["publish"] and not stats.startswith("rejected"):
                progress("publishing", force=True)
                stats += _publish(conn, layer.id, version["number"], job["created_by"])
            return Outcome("succeeded", stats, version["id"])

    def _raster(self, conn: DictConnection, layer: Layer, job: dict[str, Any],
                dataset: Dataset, answers: dict[str, str], progress: Progress) -> Outcome:
        """A GeoTIFF becomes a Cloud-Optimized GeoTIFF with overviews, catalogued under the
        version's own raster id; it must lie on the district."""
        from tiles.catalogue import RasterError, register_raster

        progress("loading", force=True)
        version = self._new_version(conn, layer, job, 0, None, answers)
        raster_id = f"{layer.id.replace('_', '-')}-v{version['number']}"
        try:
            with rasterio.open(dataset.path, driver="GTiff") as src:
                if src.crs is None:
                    raise ReaderError(f"{dataset.path.name}: no coordinate reference system "
                                      "(georeference it first)")
                west, south, east, north = rasterio.warp.transform_bounds(
                    src.crs, "EPSG:4326", *src.bounds)
                size = {"width": src.width, "height": src.height, "bands": src.count,
                        "crs": src.crs.to_string()}
            district = _district(conn)
            footprint = shapely.box(west, south, east, north)
            if not footprint.intersects(district):
                raise ReaderError(f"{dataset.path.name} lies around {south:.4f}, {west:.4f}, "
                                  "not on the district")
            path = register_raster(conn, self.rasters_dir, dataset.path, raster_id,
                                   f"{layer.id} v{version['number']}")
        except (RasterError, rasterio.errors.RasterioIOError) as exc:
            conn.rollback()
            raise ReaderError(str(exc)) from exc
        report = {"raster": {**size, "bounds": [west, south, east, north], "file": path.name}}
        fire(conn, VERSION, version["id"], "validate", Actor(job["created_by"]),
             values={"raster_id": raster_id, "report": report})
        conn.commit()
        message = f"version {version['number']}: a {size['width']}×{size['height']} COG"
        if job["publish"]:
            message += _publish(conn, layer.id, version["number"], job["created_by"])
        return Outcome("succeeded", message, version["id"])

    def _stage(self, conn: DictConnection, layer: Layer, version: dict[str, Any],
               plan: SliceJob, whole: FeatureBatch | None, total: int | None,
               progress: Progress, doctored: dict[str, Any]) -> str:
        """Stage the file into the version's table; the version is validated or rejected.
        The report says which field fed which (`doctored`)."""
        published = conn.execute(
            "SELECT data_table FROM catalogue_version WHERE layer_id = %s AND status = "
            "'published'", (layer.id,)).fetchone()
        table = _table(layer.id, version["number"])
        staged = self.stager.stage(conn, layer, table, plan, whole, total, progress,
                                   published["data_table"] if published else None)
        conn.execute(
            f"UPDATE catalogue_version SET feature_count = %s, data_table = %s, report = %s, "
            f"changes = %s, changed_area = {staged.area_sql} WHERE id = %s",
            (staged.features - staged.rejected, table, Jsonb(staged.report | doctored),
             Jsonb(staged.changes), version["id"]))
        fire(conn, VERSION, version["id"], "reject" if staged.rejected else "validate",
             Actor(version.get("created_by")), detail={"rejected": staged.rejected})
        conn.commit()
        summary = f"version {version['number']}: {staged.summary}"
        return ("rejected — fix the file and upload again: " if staged.rejected else "") + \
            summary

    def _new_version(self, conn: DictConnection, layer: Layer, job: dict[str, Any],
                     srid: int, chosen: str | None, answers: dict[str, str]) -> dict[str, Any]:
        conn.execute("SELECT 1 FROM catalogue_layer WHERE id = %s FOR UPDATE", (layer.id,))
        # A run of this upload that was stopped (killed, restarted) left its draft: reuse it.
        draft = conn.execute(
            "SELECT id, number FROM catalogue_version WHERE layer_id = %s AND status = 'draft' "
            "AND source_sha256 = %s AND answers = %s ORDER BY id DESC LIMIT 1",
            (layer.id, job["source_sha256"], Jsonb(answers))).fetchone()
        if draft is not None:
            conn.execute("UPDATE etl_job SET version_id = %s WHERE id = %s",
                         (draft["id"], job["id"]))
            conn.commit()
            return dict(draft)
        found = conn.execute("SELECT coalesce(max(number), 0) + 1 AS n FROM catalogue_version "
                             "WHERE layer_id = %s", (layer.id,)).fetchone()
        assert found is not None
        made = create(conn, VERSION, "upload", Actor(job["created_by"]), {
            "layer_id": layer.id, "number": int(found["n"]), "source_name": job["source_name"],
            "source_sha256": job["source_sha256"], "srid": srid, "encoding": chosen,
            "created_by": job["created_by"], "answers": answers})
        conn.execute("UPDATE etl_job SET version_id = %s WHERE id = %s", (made.row_id, job["id"]))
        conn.commit()
        return {"id": made.row_id, "number": int(found["n"])}

