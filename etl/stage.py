"""Staging a planner's file: unpack it, find the dataset, decode its text, read it in slices
(checked by worker processes when it is big), COPY it into a table of its own, repair or
reject with PostGIS, index, and compare with what is published. A result is returned; the
catalogue (layers/catalogue) decides what becomes of it.
"""

from __future__ import annotations

import itertools
import multiprocessing
import shutil
from collections import Counter, deque
from collections.abc import Callable, Generator
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

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
from etl.readers.base import FeatureBatch, ReaderError
from etl.readers.detect import Dataset, find_dataset, sniff
from etl.readers.vector import NeedsAnswer, Question, VectorSource

REPORT_ISSUES = 1000
BATCH = 50_000
ONE_PER_ID = {"parcels", "zoning_plans"}  # kinds whose features are refused when their id repeats
DictConnection = psycopg.Connection[dict[str, Any]]
ProgressFn = Callable[..., None]  # (stage, done=0, total=None, force=False)


@dataclass
class Staged:
    """What staging a file came to: counts, the report and the changes."""

    features: int
    rejected: int
    report: dict[str, Any]
    changes: dict[str, int]
    area_sql: str  # SQL of the changed area (Web Mercator), to store with the version
    summary: str = field(init=False)

    def __post_init__(self) -> None:
        c = self.changes
        self.summary = (f"{self.features} features, {self.report['repaired']} repaired, "
                        f"{self.rejected} rejected; {c.get('added', 0)} added, "
                        f"{c.get('removed', 0)} removed, {c.get('changed', 0)} changed")


def _short(done: int, total: int | None) -> None:
    """Never a silently short version: the features read are all the file said it has."""
    if total is not None and done < total:
        raise IngestError(f"the file ended after {done} of its {total} features")


def worker_context() -> BaseContext:
    """Workers forked from a clean server process: forking the API's own process, threads and
    all, is unsafe."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["etl.check"])
    return context


class Stager:
    """Reads, checks and stages files, with worker processes for big ones."""

    def __init__(self, processes: int) -> None:
        self.processes = processes  # worker processes for a big file (1: none)

    def dataset(self, source: Path) -> Dataset:
        """The dataset of an upload (an archive unpacked as if it were an attack)."""
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

    def open(self, dataset: Dataset, answers: dict[str, str]
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

    def checked(self, plan: SliceJob, whole: FeatureBatch | None,
                 total: int | None) -> Generator[Checked, None, None]:
        """The dataset's slices checked, in order: by worker processes when there are several
        slices (Python checks on one core per process), else here."""
        if whole is not None:  # read whole (GDAL cannot skip into it): checked a slice at a time
            checker = plan.checker()
            for start in range(0, len(whole), BATCH):
                yield checker.check(whole.slice(start, start + BATCH), plan.srid, plan.swapped,
                                    start + 1)
            return
        if not self.parallel(total):
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
        pool = ProcessPoolExecutor(self.processes, mp_context=worker_context())
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

    def parallel(self, total: int | None) -> bool:
        """Whether a streamed dataset of so many features is checked by worker processes."""
        return self.processes > 1 and (total is None or total > BATCH)

    def stage(self, conn: DictConnection, layer: Layer, table_name: str, plan: SliceJob,
              whole: FeatureBatch | None, total: int | None, progress: ProgressFn,
              published_table: str | None) -> Staged:
        """The version's own table written and checked in the caller's transaction, with
        its report and its changes against what is published; nothing else is touched."""
        table = sql.Identifier("layer_data", table_name)
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        conn.execute(sql.SQL(
            "CREATE TABLE {} (fid bigint PRIMARY KEY, src_id text NOT NULL, props jsonb NOT "
            "NULL, geom geometry(Geometry, 4326), problem text, outcome text)").format(table))
        issues: list[Issue] = []
        families: Counter[str] = Counter()
        done = suspects = 0
        parallel = whole is None and self.parallel(total)
        with conn.cursor() as cur, cur.copy(sql.SQL(
                "COPY {} ({}) FROM STDIN WITH (FORMAT binary)")
                .format(table, sql.SQL(COPY_COLUMNS)),
                writer=None if parallel else QueuedLibpqWriter(cur)) as copy, \
                closing(self.checked(plan, whole, total)) as checked_slices:
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
        changes, area_sql = compare(conn, layer, table, published_table)
        return Staged(done, rejected, report, changes, area_sql)


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


def compare(conn: DictConnection, layer: Layer, table: sql.Composed | sql.Identifier,
            published_table: str | None) -> tuple[dict[str, int], str]:
    """Added, removed and changed features against the published data, and the SQL of the
    changed area (Web Mercator) to store with the version.

    Features are matched by a fingerprint of their attributes and geometry; those left over
    are matched again when their attributes are equal and their geometries lie within
    1e-6° (about 10 cm) of each other, so a re-export's last digits are not a change.
    """
    old_source: sql.Composable
    if layer.kind in LIVE_SIGNATURE:
        live, old_key, old_attrs, new_attrs = LIVE_SIGNATURE[layer.kind]
        old_source = sql.SQL("SELECT {k} AS src_id, {a} AS attrs, t.geom FROM {live} t"
                             ).format(k=sql.SQL(old_key), a=sql.SQL(old_attrs),
                                      live=sql.Identifier(live))
        attrs = new_attrs
    elif published_table:
        old_source = sql.SQL(
            "SELECT t.src_id, t.props::text AS attrs, t.geom FROM {old} t "
            "WHERE t.outcome IS DISTINCT FROM 'rejected'").format(
            old=sql.Identifier("layer_data", published_table))
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
