"""An upload's way to a validated layer version: unpack, find the dataset, ask the doctors,
read in batches, reproject (VN-2000 through EPSG:6960), check every feature, COPY into the
version's own table, repair or reject with PostGIS, index, compare with what is published.

The version's table is written in one transaction: a job killed at any point leaves no half
version behind, and the published layer is never touched until someone publishes.
"""

from __future__ import annotations

import itertools
import multiprocessing
import multiprocessing.forkserver
import shutil
import time
from collections import Counter, deque
from collections.abc import Generator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

import psycopg
import rasterio
import rasterio.errors
import rasterio.warp
import shapely
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from core.errors import DomainError
from core.workflow import Actor, create, fire
from etl import archive, encoding
from etl.check import (
    COPY_COLUMNS,
    COPY_HEADER,
    COPY_TRAILER,
    SUSPECT,
    Checked,
    IngestError,
    Issue,
    Layer,
    SliceJob,
    check_slice,
    mixed_families,
)
from etl.doctor import diagnose as diagnose_crs
from etl.doctor import district_outline
from etl.readers.base import FeatureBatch, ReaderError
from etl.readers.detect import Dataset, find_dataset, sniff
from etl.readers.vector import NeedsAnswer, Question, VectorSource
from layers.catalogue.publish import publish
from layers.catalogue.workflow import VERSION
from layers.planning_set import OLD_WARD_END

REPORT_ISSUES = 1000
BATCH = 50_000
ONE_PER_ID = {"parcels", "zoning_plans"}  # kinds whose features are refused when their id repeats
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


def _short(done: int, total: int | None) -> None:
    """Never a silently short version: the features read are all the file said it has."""
    if total is not None and done < total:
        raise IngestError(f"the file ended after {done} of its {total} features")


def _worker_context() -> BaseContext:
    """Workers forked from a clean server process: forking the API's own process, threads and
    all, is unsafe."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["etl.check"])
    return context


def _table(layer_id: str, number: int) -> str:
    return f"{layer_id}_v{number}"


class Ingest:
    """Runs ingest jobs against one database."""

    def __init__(self, dsn: str, work_dir: Path, rasters_dir: Path | None = None, *,
                 processes: int) -> None:
        self.dsn = dsn
        self.work_dir = work_dir
        self.rasters_dir = rasters_dir or work_dir.parent / "rasters"
        self.processes = processes  # worker processes for a big file (1: none)

    def run(self, job_id: int, resume: bool = False) -> Outcome:
        """Run the job to its end; never raises for bad input (the job records why).

        `resume`: the queue gives the job again because the worker running it died, so a job
        left `running` is taken too (it restarts cleanly: a version is written in one
        transaction)."""
        claimable = ("queued", "running") if resume else ("queued",)
        with psycopg.connect(self.dsn, autocommit=True) as side:
            claimed = side.execute(
                "UPDATE etl_job SET status = 'running', stage = 'reading', question = NULL, "
                "message = NULL, updated_at = now() WHERE id = %s AND status = ANY(%s) "
                "RETURNING id", (job_id, list(claimable))).fetchone()
            if claimed is None:  # not visible yet, another worker has it, or not waiting
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
            side.execute(
                "UPDATE etl_job SET status = %s, message = %s, question = %s, version_id = "
                "coalesce(%s, version_id), progress = CASE WHEN %s = 'succeeded' THEN 100 "
                "ELSE progress END, stage = %s, updated_at = now() WHERE id = %s",
                (outcome.status, outcome.message,
                 Jsonb(outcome.question.__dict__) if outcome.question else None,
                 outcome.version_id, outcome.status,
                 "done" if outcome.status == "succeeded" else outcome.status, job_id))
            if outcome.status in ("succeeded", "failed"):
                self._discard_upload(job_id, side)
            return outcome

    def _discard_upload(self, job_id: int, conn: psycopg.Connection[Any]) -> None:
        """The uploaded file (and what was unpacked from it) once its job is over: a question
        still open keeps it for the answer's run."""
        row = conn.execute("SELECT source_path FROM etl_job WHERE id = %s", (job_id,)).fetchone()
        folder = Path(row[0]).parent if row else None
        # Only an upload's own folder (uploads/<hex>/file), never the work folder itself.
        if folder is not None and folder.parent.resolve() == self.work_dir.resolve():
            shutil.rmtree(folder, ignore_errors=True)

    def _dataset(self, source: Path) -> Dataset:
        if source.suffix.lower() in (".zip", ".kmz"):
            dest = source.parent / "unpacked"
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir()
            try:
                files = archive.extract(source, dest)
            except ReaderError:
                shutil.rmtree(dest, ignore_errors=True)
                raise
            if source.suffix.lower() == ".kmz":
                kml = [f for f in files if f.suffix.lower() == ".kml"]
                if len(kml) != 1:
                    raise ReaderError(f"{source.name}: a KMZ holds exactly one .kml")
                return sniff(kml[0])
            return find_dataset(files)
        return sniff(source)

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
            dataset = self._dataset(Path(job["source_path"]))
            if (dataset.format == "geotiff") != (layer.kind == "scanned_plan"):
                raise IngestError("a scanned-plan layer takes a GeoTIFF, other layers take "
                                  f"vector files ({dataset.path.name} is {dataset.format})")
            if dataset.format == "geotiff":
                return self._raster(conn, layer, job, dataset, answers, progress)
            source, chosen = self._open(dataset, answers)
            # The doctors look at the first features; a format read whole is read once.
            if source.streamed and self._parallel(source.count):
                _worker_context()
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
            conn.commit()
            plan = SliceJob(dataset, source.layer, source.encoding, chosen if source.convert
                            else None, {"id": layer.id, "kind": layer.kind,
                                        "schema": layer.schema},
                            list(first.columns), references, srid, swapped, source.streamed)
            plan.checker()  # a missing required field fails here, before any version exists
            version = self._new_version(conn, layer, job, srid, chosen, answers)
            whole = None if source.streamed else first
            try:
                stats = self._stage(conn, layer, version, plan, whole, source.count, progress)
            except BaseException:
                conn.rollback()
                raise
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

    def _open(self, dataset: Dataset, answers: dict[str, str]
              ) -> tuple[VectorSource, str | None]:
        """The source with its text decoded: the encoding doctor speaks for shapefiles
        without a .cpg (other formats are UTF-8 by definition)."""
        source = VectorSource(dataset, answers.get("layer"))
        if dataset.format != "shapefile":
            return source, None
        cpg = dataset.path.with_suffix(".cpg")
        chosen = answers.get("encoding")
        if chosen is None and not any(p.suffix.lower() == ".cpg" and
                                      p.stem.lower() == dataset.path.stem.lower()
                                      for p in dataset.path.parent.iterdir()):
            verdict = encoding.diagnose(source.raw_text())
            if verdict.encoding is None:
                raise NeedsAnswer(Question(
                    "encoding", f"{dataset.path.name}: in which encoding is its text? "
                    "Pick the candidate whose samples read right.", verdict.samples))
            chosen = verdict.encoding
        if chosen is None:
            return source, (cpg.read_text(errors="replace").strip() or None)
        if chosen not in encoding.CANDIDATES:
            raise ReaderError(f"unknown encoding {chosen!r} "
                              f"(one of {', '.join(encoding.CANDIDATES)})")
        convert = encoding.converter(chosen)
        gdal = "latin1" if convert else chosen
        return VectorSource(dataset, answers.get("layer"), gdal, convert), chosen

    def _checked(self, plan: SliceJob, whole: FeatureBatch | None,
                 total: int | None) -> Generator[Checked, None, None]:
        """The dataset's slices checked, in order: by worker processes when there are several
        slices (Python checks on one core per process), else here."""
        if whole is not None:  # read whole (GDAL cannot skip into it): checked a slice at a time
            checker = plan.checker()
            for start in range(0, len(whole), BATCH):
                yield checker.check(whole.slice(start, start + BATCH), plan.srid, plan.swapped,
                                    start + 1)
            return
        if not self._parallel(total):
            start = 0
            while total is None or start < total:
                checked = check_slice(plan, start, BATCH)
                if checked.count == 0:
                    _short(start, total)
                    return
                yield checked
                start += checked.count
            return
        starts = itertools.count(BATCH, BATCH) if total is None else \
            iter(range(BATCH, total, BATCH))
        # The first slice is checked here while the worker server starts (it was asked to
        # start before the doctors ran).
        first = check_slice(plan, 0, BATCH)
        pool = ProcessPoolExecutor(self.processes, mp_context=_worker_context())
        try:
            # At most one slice more than there are workers is in memory at a time.
            pending = deque(pool.submit(check_slice, plan, start, BATCH)
                            for start in itertools.islice(starts, self.processes + 1))
            yield first
            if first.count < BATCH:
                return
            done = first.count
            while pending:
                checked = pending.popleft().result()
                if checked.count == 0:
                    _short(done, total)
                    return
                done += checked.count
                yield checked
                if (following := next(starts, None)) is not None:
                    pending.append(pool.submit(check_slice, plan, following, BATCH))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _parallel(self, total: int | None) -> bool:
        """Whether a streamed dataset of so many features is checked by worker processes."""
        return self.processes > 1 and (total is None or total > BATCH)

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

    def _stage(self, conn: DictConnection, layer: Layer, version: dict[str, Any],
               plan: SliceJob, whole: FeatureBatch | None, total: int | None,
               progress: Progress) -> str:
        table = sql.Identifier("layer_data", _table(layer.id, version["number"]))
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        conn.execute(sql.SQL(
            "CREATE TABLE {} (fid bigint PRIMARY KEY, src_id text NOT NULL, props jsonb NOT "
            "NULL, geom geometry(Geometry, 4326), problem text, outcome text)").format(table))
        issues: list[Issue] = []
        families: Counter[str] = Counter()
        done = suspects = 0
        parallel = whole is None and self._parallel(total)
        with conn.cursor() as cur, cur.copy(sql.SQL(
                "COPY {} ({}) FROM STDIN WITH (FORMAT binary)")
                .format(table, sql.SQL(COPY_COLUMNS)),
                writer=None if parallel else QueuedLibpqWriter(cur)) as copy, \
                closing(self._checked(plan, whole, total)) as checked_slices:
            # PostgreSQL parses one slice while the next is checked: by the workers, or here
            # while a queued writer sends from its own thread.
            copy.write(COPY_HEADER)
            for checked in checked_slices:
                families.update(checked.families)
                if layer.geometry is None and (why := mixed_families(families)):
                    raise IngestError(why)
                copy.write(checked.data)
                issues.extend(checked.issues)
                done += checked.count
                suspects += checked.suspects
                progress("loading", done, total)
            copy.write(COPY_TRAILER)
        progress("validating", done, total, force=True)
        # PostGIS says what is wrong with a geometry and mends what can be mended.
        family = {"polygon": 3, "line": 2, "point": 1}.get(layer.geometry or "", 0)
        repaired = [] if not suspects else conn.execute(sql.SQL(
            """
            UPDATE {t} SET problem = ST_IsValidReason(geom),
                   geom = CASE WHEN %(f)s > 0
                               THEN ST_CollectionExtract(ST_MakeValid(geom), %(f)s)
                               ELSE ST_MakeValid(geom) END,
                   outcome = 'repaired'
            WHERE problem = %(s)s AND NOT ST_IsValid(geom)
            RETURNING src_id, problem
            """).format(t=table), {"f": family, "s": SUSPECT}).fetchall()
        if suspects:  # each of these reads the whole table
            conn.execute(sql.SQL("UPDATE {t} SET problem = NULL WHERE problem = %s")
                         .format(t=table), (SUSPECT,))
        collapsed = [] if not repaired else conn.execute(sql.SQL(
            "UPDATE {t} SET outcome = 'rejected', problem = problem || ' (nothing left after "
            "repair)' WHERE outcome = 'repaired' AND ST_IsEmpty(geom) RETURNING src_id")
            .format(t=table)).fetchall()
        gone = {r["src_id"] for r in collapsed}
        issues.extend(Issue(r["src_id"], r["problem"],
                            "rejected" if r["src_id"] in gone else "repaired")
                      for r in repaired)
        if layer.kind in ONE_PER_ID:  # the planning table holds one feature per id
            issues.extend(Issue(r["src_id"], r["problem"], "rejected") for r in conn.execute(
                sql.SQL("""
                UPDATE {t} t SET outcome = 'rejected', problem = 'duplicate id ' || t.src_id
                FROM (SELECT fid, row_number() OVER (PARTITION BY src_id ORDER BY fid) AS n
                      FROM {t} WHERE outcome IS DISTINCT FROM 'rejected') d
                WHERE d.fid = t.fid AND d.n > 1
                RETURNING t.src_id, t.problem
                """).format(t=table)))
        progress("indexing", done, total, force=True)
        conn.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(table))
        conn.execute(sql.SQL("ANALYZE {}").format(table))
        rejected = sum(1 for i in issues if i.outcome == "rejected")
        report = {
            "features": done,
            "accepted": done - rejected,
            "repaired": sum(1 for i in issues if i.outcome == "repaired"),
            "rejected": rejected,
            "by_problem": dict(Counter(i.problem.split(" (")[0].split("[")[0].strip()
                                       for i in issues)),
            "issues": [i.__dict__ for i in issues[:REPORT_ISSUES]],
            "srid": plan.srid,
            "swapped_axes": plan.swapped,
        }
        progress("comparing", done, total, force=True)
        changes, area_sql = compare(conn, layer, table)
        conn.execute(
            f"UPDATE catalogue_version SET feature_count = %s, data_table = %s, report = %s, "
            f"changes = %s, changed_area = {area_sql} WHERE id = %s",
            (done - rejected, _table(layer.id, version["number"]), Jsonb(report),
             Jsonb(changes), version["id"]))
        fire(conn, VERSION, version["id"], "reject" if rejected else "validate",
             Actor(version.get("created_by")), detail={"rejected": rejected})
        conn.commit()
        summary = (f"version {version['number']}: {done} features, {report['repaired']} "
                   f"repaired, {rejected} rejected; {changes.get('added', 0)} added, "
                   f"{changes.get('removed', 0)} removed, {changes.get('changed', 0)} changed")
        return ("rejected — fix the file and upload again: " if rejected else "") + summary


# -- comparing with what is published ------------------------------------------------------------

_BLOCK_FIELDS = ("ma_qh", "ma_o_pho", "chuc_nang", "ma_chuc_nang", "tang_cao_min",
                 "tang_cao_max", "chieu_cao", "mat_do_xd", "he_so_sdd", "dan_so", "mau")
_PARCEL_KEY = ("(SELECT w.code FROM admin_unit w WHERE w.id = t.ward_id) || '/' || t.sheet_no "
               "|| '/' || t.parcel_no")
LIVE_SIGNATURE = {
    # kind: (live table, its feature's key there, SQL of a feature's attributes there, the
    # same from a version's props)
    "parcels": ("parcel", _PARCEL_KEY, f"{_PARCEL_KEY} || '|' || coalesce(t.address, '')",
                "t.src_id || '|' || coalesce(t.props->>'dia_chi', '')"),
    "roads": ("road", "NULL::text",
              "concat_ws('|', t.name, trim_scale(t.right_of_way_m::numeric))",
              "concat_ws('|', t.props->>'ten_duong', trim_scale((t.props->>'lo_gioi')::numeric))"),
    "water": ("water_body", "NULL::text", "concat_ws('|', t.name, t.kind)",
              "concat_ws('|', t.props->>'ten', t.props->>'loai')"),
    "zoning_plans": ("zoning_plan", "t.plan_code",
                     "concat_ws('|', t.name, t.scale, t.decision_no, t.decision_date, "
                     "t.approving_body)",
                     "concat_ws('|', t.props->>'ten', coalesce(nullif(t.props->>'ty_le', ''), "
                     "'1/2000'), t.props->>'so_qd', t.props->>'ngay_qd', t.props->>'co_quan')"),
    "detailed_plans": ("detailed_plan", "NULL::text",
                       "concat_ws('|', t.kind, t.name, t.decision_no, t.decision_date, "
                       "t.approving_body)",
                       "concat_ws('|', t.props->>'loai', t.props->>'ten', t.props->>'so_qd', "
                       "t.props->>'ngay_qd', t.props->>'co_quan')"),
    "land_use": ("land_use_zone", "NULL::text", "t.code", "t.props->>'ma_loai_dat'"),
    "zoning_blocks": (
        "zoning_block", "t.block_code",
        "concat_ws('|', (SELECT plan_code FROM zoning_plan p WHERE p.id = t.plan_id), "
        "t.block_code, t.function_name, t.function_category, t.floors_min, t.floors_max, "
        "trim_scale(t.height_max_m::numeric), trim_scale(t.coverage_max_pct::numeric), "
        "trim_scale(t.far_max::numeric), t.population, t.colour)",
        "concat_ws('|', " + ", ".join(
            f"trim_scale((t.props->>'{f}')::numeric)" if f in (
                "chieu_cao", "mat_do_xd", "he_so_sdd") else
            f"round((t.props->>'{f}')::numeric)::int" if f in (
                "tang_cao_min", "tang_cao_max", "dan_so") else f"t.props->>'{f}'"
            for f in _BLOCK_FIELDS) + ")"),
}


def compare(conn: DictConnection, layer: Layer,
            table: sql.Composed | sql.Identifier) -> tuple[dict[str, int], str]:
    """Added, removed and changed features against the published data, and the SQL of the
    changed area (Web Mercator) to store with the version.

    Features are matched by a fingerprint of their attributes and geometry; those left over
    are matched again when their attributes are equal and their geometries lie within
    1e-6° (about 10 cm) of each other, so a re-export's last digits are not a change.
    """
    published = conn.execute(
        "SELECT data_table FROM catalogue_version WHERE layer_id = %s AND status = 'published'",
        (layer.id,)).fetchone()
    old_source: sql.Composable
    if layer.kind in LIVE_SIGNATURE:
        live, old_key, old_attrs, new_attrs = LIVE_SIGNATURE[layer.kind]
        old_source = sql.SQL("SELECT {k} AS src_id, {a} AS attrs, t.geom FROM {live} t"
                             ).format(k=sql.SQL(old_key), a=sql.SQL(old_attrs),
                                      live=sql.Identifier(live))
        attrs = new_attrs
    elif published and published["data_table"]:
        old_source = sql.SQL(
            "SELECT t.src_id, t.props::text AS attrs, t.geom FROM {old} t "
            "WHERE t.outcome IS DISTINCT FROM 'rejected'").format(
            old=sql.Identifier("layer_data", published["data_table"]))
        attrs = "t.props::text"
    else:  # nothing published yet: every feature is new, and the change is all of it
        count = conn.execute(sql.SQL("SELECT count(*) AS n FROM {t} WHERE outcome IS DISTINCT "
                                     "FROM 'rejected'").format(t=table)).fetchone()
        added = int(count["n"]) if count else 0
        # Expanded a little so that a single point still has an area.
        area = sql.SQL(
            "(SELECT ST_Multi(ST_Transform(ST_Expand(ST_SetSRID(ST_Extent(geom)::geometry, "
            "4326), 1e-6), 3857)) FROM {t} WHERE outcome IS DISTINCT FROM 'rejected')").format(
            t=table).as_string(conn)
        return {"added": added, "removed": 0, "changed": 0, "unchanged": 0}, area
    signed = ("SELECT row_number() OVER () AS rid, s.src_id, s.attrs, s.geom, "
              "md5(ST_AsEWKB(ST_SnapToGrid(ST_Multi(s.geom), 1e-7)) || coalesce(s.attrs, '')) "
              "AS sig FROM ({}) s")
    conn.execute("DROP TABLE IF EXISTS ingest_old, ingest_new, ingest_gone, ingest_came, "
                 "ingest_twin, ingest_diff")
    conn.execute(sql.SQL("CREATE TEMP TABLE ingest_old ON COMMIT DROP AS " + signed)
                 .format(old_source))
    conn.execute(sql.SQL("CREATE TEMP TABLE ingest_new ON COMMIT DROP AS " + signed).format(
        sql.SQL("SELECT t.src_id, " + attrs + " AS attrs, t.geom FROM {t} t "
                "WHERE t.outcome IS DISTINCT FROM 'rejected'").format(t=table)))
    conn.execute("CREATE INDEX ON ingest_old (sig)")
    conn.execute("CREATE INDEX ON ingest_new (sig)")
    conn.execute("CREATE TEMP TABLE ingest_gone ON COMMIT DROP AS SELECT o.* FROM ingest_old o "
                 "WHERE NOT EXISTS (SELECT 1 FROM ingest_new n WHERE n.sig = o.sig)")
    conn.execute("CREATE TEMP TABLE ingest_came ON COMMIT DROP AS SELECT n.* FROM ingest_new n "
                 "WHERE NOT EXISTS (SELECT 1 FROM ingest_old o WHERE o.sig = n.sig)")
    conn.execute("CREATE INDEX ON ingest_gone USING gist (geom)")
    conn.execute(
        """
        CREATE TEMP TABLE ingest_twin ON COMMIT DROP AS
        SELECT DISTINCT ON (c.rid) c.rid AS came, g.rid AS gone
        FROM ingest_came c JOIN ingest_gone g
          ON g.geom && ST_Expand(c.geom, 1e-6) AND g.attrs IS NOT DISTINCT FROM c.attrs
         AND ST_HausdorffDistance(g.geom, c.geom) < 1e-6
        ORDER BY c.rid, g.rid
        """)
    conn.execute("DELETE FROM ingest_came WHERE rid IN (SELECT came FROM ingest_twin)")
    conn.execute("DELETE FROM ingest_gone WHERE rid IN (SELECT gone FROM ingest_twin)")
    row = conn.execute(
        """
        SELECT (SELECT count(*) FROM ingest_came) AS came,
               (SELECT count(*) FROM ingest_gone) AS gone,
               (SELECT count(*) FROM ingest_came c JOIN ingest_gone g
                  ON %(keyed)s AND c.src_id = g.src_id) AS changed,
               (SELECT count(*) FROM ingest_new) - (SELECT count(*) FROM ingest_came)
                   AS unchanged
        """, {"keyed": bool(layer.key)}).fetchone()
    assert row is not None
    changed = int(row["changed"])
    changes = {"added": int(row["came"]) - changed, "removed": int(row["gone"]) - changed,
               "changed": changed, "unchanged": int(row["unchanged"])}
    conn.execute("CREATE TEMP TABLE ingest_diff ON COMMIT DROP AS "
                 "SELECT ST_Transform(geom, 3857) AS geom FROM ingest_gone UNION ALL "
                 "SELECT ST_Transform(geom, 3857) FROM ingest_came")
    # The outline of what changed; a wholesale change is summed up by its envelope (decided
    # here: in one SQL CASE both aggregates would be computed).
    diff = int(row["came"]) + int(row["gone"])
    if diff == 0:
        area = "NULL"
    elif diff > 20_000:
        area = "(SELECT ST_Multi(ST_Envelope(ST_Extent(geom)::geometry)) FROM ingest_diff)"
    else:
        area = ("(SELECT ST_Multi(ST_CollectionExtract(ST_Union(ST_Buffer(ST_Envelope(geom), "
                "1)), 3)) FROM ingest_diff)")
    return changes, area
