"""An upload's way to a validated layer version: unpack, find the dataset, ask the doctors,
read in batches, reproject (VN-2000 through EPSG:6960), check every feature, COPY into the
version's own table, repair or reject with PostGIS, index, compare with what is published.

The version's table is written in one transaction: a job killed at any point leaves no half
version behind, and the published layer is never touched until someone publishes.
"""

from __future__ import annotations

import itertools
import math
import queue
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import psycopg
import rasterio
import rasterio.errors
import rasterio.warp
import shapely
from numpy.typing import NDArray
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from etl import archive, encoding
from etl.crs import WGS84, to_wgs84
from etl.doctor import diagnose as diagnose_crs
from etl.doctor import district_outline
from etl.readers.base import FeatureBatch, ReaderError
from etl.readers.detect import Dataset, find_dataset, sniff
from etl.readers.vector import NeedsAnswer, Question, VectorSource
from layers.catalogue.publish import publish

FAMILY = {0: "point", 4: "point", 1: "line", 5: "line", 2: "polygon", 6: "polygon"}
GEOMETRY_OF_KIND = {"land_use": "polygon", "zoning_blocks": "polygon", "parcels": "polygon",
                    "water": "polygon", "detailed_plans": "polygon", "zoning_plans": "polygon",
                    "roads": "line"}
REPORT_ISSUES = 1000
MAX_VERTICES = 1_000_000  # a bigger feature is refused: it would stall validation and tiles
BATCH = 50_000
DictConnection = psycopg.Connection[dict[str, Any]]


class IngestError(ValueError):
    """The upload cannot become a version; the message says why."""


@dataclass
class Outcome:
    """What a run of the job came to."""

    status: str  # succeeded | failed | needs_input | skipped
    message: str
    version_id: int | None = None
    question: Question | None = None


@dataclass
class Issue:
    """A problem with one feature and what was done about it."""

    feature: str
    problem: str
    outcome: str  # repaired | rejected


@dataclass
class Checked:
    """A batch after the checks done before PostgreSQL sees it: COPY text, and its issues."""

    text: str
    issues: list[Issue] = field(default_factory=list)


NULL = "\\N"
SUSPECT = "?"  # a geometry GEOS found invalid: PostGIS gives the reason and repairs it
_SRID_4326 = "E6100000"  # 4326, little-endian


def _ewkb_4326(wkb_hex: str) -> str:
    """Little-endian 2D WKB made EWKB with SRID 4326 (the type's SRID flag set, the SRID after
    it): cheaper than giving every geometry an SRID first."""
    return f"{wkb_hex[:8]}{int(wkb_hex[8:10], 16) | 0x20:02X}{_SRID_4326}{wkb_hex[10:]}"


def _copy_text(value: str) -> str:
    """A value escaped for COPY's text format."""
    return (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def _json_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _unreadable_reason(wkb: bytes | None) -> str:
    if wkb is None:
        return "no geometry"
    try:
        shapely.from_wkb(wkb)
    except shapely.errors.GEOSException as exc:
        text = str(exc)
        if "LinearRing" in text:
            return "ring too short (fewer than 4 points)"
        return f"unreadable geometry ({text[:120]})"
    return "unreadable geometry"


class Layer:
    """The catalogue row of the target layer."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.id: str = row["id"]
        self.kind: str = row["kind"]
        self.schema: list[dict[str, Any]] = row["schema"] or []
        self.geometry = GEOMETRY_OF_KIND.get(self.kind)

    @property
    def key(self) -> str | None:
        """The attribute naming each feature (its id field), if the schema has one."""
        return next((f["name"] for f in self.schema if f.get("key")), None)

    def match(self, fields: list[str]) -> dict[str, str]:
        """Schema field -> source field (names and aliases, case-insensitive)."""
        lower = {f.lower(): f for f in fields}
        found = {}
        for spec in self.schema:
            for name in (spec["name"], *spec.get("aliases", [])):
                if name.lower() in lower:
                    found[spec["name"]] = lower[name.lower()]
                    break
        return found


class Checker:
    """The per-feature checks made before COPY (PostGIS checks the rest), batch-wise."""

    def __init__(self, layer: Layer, fields: list[str], references: dict[str, set[str]],
                 convert: Callable[[str], str] | None) -> None:
        self.layer = layer
        self.mapping = layer.match(fields)
        self.required = [f["name"] for f in layer.schema if f.get("required")]
        missing = [f for f in self.required if f not in self.mapping]
        if missing:
            raise IngestError(f"the dataset has no field for {', '.join(missing)} "
                              f"(it has {', '.join(fields) or 'no fields'})")
        # field -> the values it may take (land-use codes, zoning plans that exist)
        self.references = {k: v for k, v in references.items() if k in self.mapping}
        self.numeric = [f["name"] for f in layer.schema
                        if f.get("type") in ("integer", "number") and f["name"] in self.mapping]
        self.convert = convert
        self.next_fid = 1
        self.families: Counter[str] = Counter()

    def _columns(self, columns: dict[str, NDArray[Any]]) -> dict[str, list[Any]]:
        """Each column as Python values, under the schema's names; NaN becomes null."""
        renamed = {source: name for name, source in self.mapping.items()}
        out: dict[str, list[Any]] = {}
        for source, column in columns.items():
            values = column.tolist()
            if column.dtype.kind == "f":
                values = [None if v != v or v in (math.inf, -math.inf) else v for v in values]
            elif column.dtype == object:
                values = [v.strip() if isinstance(v, str) else _json_value(v) for v in values]
                if self.convert:
                    values = [self.convert(v) if isinstance(v, str) else v for v in values]
            out[renamed.get(source, source)] = values
        return out

    def check(self, batch: FeatureBatch, srid: int, swapped: bool) -> Checked:
        """Rows for COPY: (fid, src_id, props, ewkb | None, problem, outcome)."""
        geoms = batch.geometries
        n = len(geoms)
        present = np.array([g is not None for g in geoms], dtype=bool)
        usable = present.copy()
        problems: NDArray[np.object_] = np.full(n, None, dtype=object)
        finite = np.ones(n, dtype=bool)
        finite[present] = np.isfinite(shapely.bounds(geoms[present])).all(axis=1) | \
            shapely.is_empty(geoms[present])
        vertices = np.zeros(n, dtype=np.int64)
        vertices[present] = shapely.get_num_coordinates(geoms[present])
        empty = np.zeros(n, dtype=bool)
        empty[present] = shapely.is_empty(geoms[present])
        types = np.full(n, -1, dtype=np.int64)
        types[present] = shapely.get_type_id(geoms[present])
        columns = self._columns(batch.columns)
        # The most telling problem wins: assigned from the least to the most fundamental.
        for name in self.numeric:
            values = columns[name]
            for row, value in enumerate(values):
                number = _number(value)
                if number is _NOT_A_NUMBER:
                    problems[row] = f"attribute {name} is not a number ({value!r})"
                else:
                    values[row] = number
        for name, allowed in self.references.items():
            codes = columns[name]
            for k in np.flatnonzero([c is not None and str(c) not in allowed for c in codes]):
                problems[k] = f"unknown {REFERENCE_NAMES.get(name, name)} {codes[k]}"
        for name in reversed(self.required):
            for k in np.flatnonzero([v in (None, "") for v in columns[name]]):
                problems[k] = f"missing required attribute {name}"
        expected = self.layer.geometry
        family = np.array([FAMILY.get(int(t), "collection") for t in types], dtype=object)
        for k in np.flatnonzero(present & ~empty):
            self.families[str(family[k])] += 1
        if expected:
            for k in np.flatnonzero(present & ~empty & (family != expected)):
                problems[k] = f"a {family[k]} in a {expected} layer"
        for k in np.flatnonzero(vertices > MAX_VERTICES):
            problems[k] = f"{vertices[k]:,} vertices (at most {MAX_VERTICES:,} per feature)"
        problems[present & empty] = "empty geometry"
        problems[present & ~finite] = "NaN or infinite coordinates"
        for k in np.flatnonzero(~present):
            problems[k] = _unreadable_reason(batch.raw[k] if batch.raw is not None else None)
        if self.layer.geometry is None and len(self.families) > 1:
            raise IngestError("the dataset mixes geometry types "
                              f"({', '.join(sorted(self.families))}): one kind per layer")
        good = usable & np.array([p is None for p in problems], dtype=bool)
        ewkb: NDArray[np.object_] = np.full(n, NULL, dtype=object)
        suspect = np.zeros(n, dtype=bool)
        if good.any():
            moved = self._reproject(geoms[good], srid, swapped)
            # Binary WKB made hex by Python is four times quicker than GEOS's hex writer.
            ewkb[good] = [_ewkb_4326(w.hex()) for w in shapely.to_wkb(
                moved, output_dimension=2, byte_order=1)]
            # GEOS here answers as PostGIS would; only these go to ST_IsValidReason later.
            suspect[np.flatnonzero(good)[~shapely.is_valid(moved)]] = True
        first_fid = self.next_fid
        self.next_fid += n
        key = self.layer.key
        names = list(columns)
        keys = columns.get(key) if key else None
        lines: list[str] = []
        issues: list[Issue] = []
        dumps = orjson.dumps
        for i in range(n):
            fid = first_fid + i
            props = dumps({name: columns[name][i] for name in names}, default=_json_default,
                          option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
            src_id = str(keys[i]) if keys is not None and keys[i] is not None else str(fid)
            problem = problems[i]
            if problem is None:
                tail = f"{SUSPECT}\t\\N" if suspect[i] else "\\N\t\\N"
            else:
                issues.append(Issue(src_id, problem, "rejected"))
                tail = f"{_copy_text(problem)}\trejected"
            lines.append(f"{fid}\t{_copy_text(src_id)}\t"
                         f"{props.decode().replace(chr(92), chr(92) * 2)}\t{ewkb[i]}\t{tail}\n")
        return Checked("".join(lines), issues)

    @staticmethod
    def _reproject(geoms: NDArray[np.object_], srid: int,
                   swapped: bool) -> NDArray[np.object_]:
        transformer = None if srid == WGS84 else to_wgs84(srid)

        def move(coords: NDArray[np.float64]) -> NDArray[np.float64]:
            x, y = (coords[:, 1], coords[:, 0]) if swapped else (coords[:, 0], coords[:, 1])
            if transformer is not None:
                x, y = transformer.transform(x, y)
            return np.column_stack([x, y])

        if transformer is None and not swapped:
            return geoms
        return shapely.transform(geoms, move)  # type: ignore[no-any-return]


_NOT_A_NUMBER = object()
REFERENCE_NAMES = {"ma_loai_dat": "land-use code", "ma_qh": "zoning plan"}


def _number(value: Any) -> Any:
    """A number from a number or its text (a Vietnamese decimal comma accepted), None for
    blank, or _NOT_A_NUMBER."""
    if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        if not text:
            return None
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            return _NOT_A_NUMBER
        return int(number) if number.is_integer() else number
    return _NOT_A_NUMBER


def _json_default(value: Any) -> Any:
    converted = _json_value(value)
    if converted is value:
        return str(value)
    return converted


def _read_ahead(batches: Iterator[FeatureBatch]) -> Iterator[FeatureBatch]:
    """The next batch is read (GDAL, GEOS: no GIL) while this one is checked and copied; at
    most two batches in memory. A consumer that stops early stops the reader too."""
    ahead: queue.Queue[FeatureBatch | BaseException | None] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand_over(item: FeatureBatch | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for batch in batches:
                if not hand_over(batch):
                    return
            hand_over(None)
        except BaseException as exc:  # noqa: BLE001 - handed over to the reading side
            hand_over(exc)

    reader = threading.Thread(target=read, name="ingest-read", daemon=True)
    reader.start()
    try:
        while (item := ahead.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join(timeout=30)


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


def _table(layer_id: str, number: int) -> str:
    return f"{layer_id}_v{number}"


class Ingest:
    """Runs ingest jobs against one database."""

    def __init__(self, dsn: str, work_dir: Path, rasters_dir: Path | None = None) -> None:
        self.dsn = dsn
        self.work_dir = work_dir
        self.rasters_dir = rasters_dir or work_dir.parent / "rasters"

    def run(self, job_id: int) -> Outcome:
        """Run the job to its end; never raises for bad input (the job records why)."""
        with psycopg.connect(self.dsn, autocommit=True) as side:
            claimed = side.execute(
                "UPDATE etl_job SET status = 'running', stage = 'reading', question = NULL, "
                "message = NULL, updated_at = now() WHERE id = %s AND status = 'queued' "
                "RETURNING id", (job_id,)).fetchone()
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
            except MemoryError:
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
            return outcome

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
            dataset = self._dataset(Path(job["source_path"]))
            if (dataset.format == "geotiff") != (layer.kind == "scanned_plan"):
                raise IngestError("a scanned-plan layer takes a GeoTIFF, other layers take "
                                  f"vector files ({dataset.path.name} is {dataset.format})")
            if dataset.format == "geotiff":
                return self._raster(conn, layer, job, dataset, answers, progress)
            source, convert, chosen = self._open(dataset, answers)
            batches = _read_ahead(source.batches(BATCH))
            first = next(batches, None)
            if first is None or len(first) == 0:
                raise IngestError(f"{dataset.path.name}: the layer has no features")
            district = _district(conn)
            srid, swapped = diagnose_crs(first.geometries, source.crs_wkt, answers.get("crs"),
                                         district)
            references = {
                "ma_loai_dat": {str(r["code"]) for r in conn.execute(
                    "SELECT code FROM land_use_code")},
                "ma_qh": {str(r["plan_code"]) for r in conn.execute(
                    "SELECT plan_code FROM zoning_plan")},
            } if layer.kind in ("land_use", "zoning_blocks") else {}
            conn.commit()
            checker = Checker(layer, list(first.columns), references, convert)
            version = self._new_version(conn, layer, job, srid, chosen, answers)
            try:
                stats = self._stage(conn, layer, version, checker, first, batches, srid,
                                    swapped, source.count, progress)
            except BaseException:
                conn.rollback()
                raise
            if job["publish"] and not stats.startswith("rejected"):
                progress("publishing", force=True)
                publish(conn, layer.id, version["number"], job["created_by"])
                conn.commit()
                stats += "; published"
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
        conn.execute("UPDATE catalogue_version SET status = 'validated', raster_id = %s, "
                     "report = %s WHERE id = %s", (raster_id, Jsonb(report), version["id"]))
        conn.execute("INSERT INTO catalogue_event (version_id, action, from_status, to_status) "
                     "VALUES (%s, 'validate', 'draft', 'validated')", (version["id"],))
        conn.commit()
        message = f"version {version['number']}: a {size['width']}×{size['height']} COG"
        if job["publish"]:
            publish(conn, layer.id, version["number"], job["created_by"])
            conn.commit()
            message += "; published"
        return Outcome("succeeded", message, version["id"])

    def _open(self, dataset: Dataset, answers: dict[str, str]
              ) -> tuple[VectorSource, Callable[[str], str] | None, str | None]:
        """The source with its text decoded: the encoding doctor speaks for shapefiles
        without a .cpg (other formats are UTF-8 by definition)."""
        source = VectorSource(dataset, answers.get("layer"))
        if dataset.format != "shapefile":
            return source, None, None
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
            return source, None, (cpg.read_text(errors="replace").strip() or None)
        if chosen not in encoding.CANDIDATES:
            raise ReaderError(f"unknown encoding {chosen!r} "
                              f"(one of {', '.join(encoding.CANDIDATES)})")
        convert = encoding.converter(chosen)
        gdal = "latin1" if convert else chosen
        return VectorSource(dataset, answers.get("layer"), gdal, convert), None, chosen

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
        row = conn.execute(
            """
            INSERT INTO catalogue_version (layer_id, number, status, source_name, source_sha256,
                srid, encoding, created_by, answers)
            SELECT %(l)s::varchar, coalesce(max(number), 0) + 1, 'draft', %(n)s, %(h)s, %(s)s,
                   %(e)s, %(a)s, %(ans)s
            FROM catalogue_version WHERE layer_id = %(l)s::varchar
            RETURNING id, number
            """,
            {"l": layer.id, "n": job["source_name"], "h": job["source_sha256"], "s": srid,
             "e": chosen, "a": job["created_by"], "ans": Jsonb(answers)},
        ).fetchone()
        assert row is not None
        conn.execute("INSERT INTO catalogue_event (version_id, actor_id, action, to_status) "
                     "VALUES (%s, %s, 'upload', 'draft')", (row["id"], job["created_by"]))
        conn.execute("UPDATE etl_job SET version_id = %s WHERE id = %s", (row["id"], job["id"]))
        conn.commit()
        return dict(row)

    def _stage(self, conn: DictConnection, layer: Layer, version: dict[str, Any],
               checker: Checker, first: FeatureBatch, rest: Iterable[FeatureBatch], srid: int,
               swapped: bool, total: int | None, progress: Progress) -> str:
        table = sql.Identifier("layer_data", _table(layer.id, version["number"]))
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        conn.execute(sql.SQL(
            "CREATE TABLE {} (fid bigint PRIMARY KEY, src_id text NOT NULL, props jsonb NOT "
            "NULL, geom geometry(Geometry, 4326), problem text, outcome text)").format(table))
        issues: list[Issue] = []
        done = 0
        with conn.cursor() as cur, cur.copy(sql.SQL(
                "COPY {} (fid, src_id, props, geom, problem, outcome) FROM STDIN")
                .format(table)) as copy:
            for batch in itertools.chain((first,), rest):
                checked = checker.check(batch, srid, swapped)
                copy.write(checked.text)
                issues.extend(checked.issues)
                done += len(batch)
                progress("loading", done, total)
        progress("validating", done, total, force=True)
        # PostGIS says what is wrong with a geometry and mends what can be mended.
        family = {"polygon": 3, "line": 2, "point": 1}.get(layer.geometry or "", 0)
        repaired = conn.execute(sql.SQL(
            """
            UPDATE {t} SET problem = ST_IsValidReason(geom),
                   geom = CASE WHEN %(f)s > 0
                               THEN ST_CollectionExtract(ST_MakeValid(geom), %(f)s)
                               ELSE ST_MakeValid(geom) END,
                   outcome = 'repaired'
            WHERE problem = %(s)s AND NOT ST_IsValid(geom)
            RETURNING src_id, problem
            """).format(t=table), {"f": family, "s": SUSPECT}).fetchall()
        conn.execute(sql.SQL("UPDATE {t} SET problem = NULL WHERE problem = %s").format(t=table),
                     (SUSPECT,))
        collapsed = conn.execute(sql.SQL(
            "UPDATE {t} SET outcome = 'rejected', problem = problem || ' (nothing left after "
            "repair)' WHERE outcome = 'repaired' AND ST_IsEmpty(geom) RETURNING src_id")
            .format(t=table)).fetchall()
        gone = {r["src_id"] for r in collapsed}
        issues.extend(Issue(r["src_id"], r["problem"],
                            "rejected" if r["src_id"] in gone else "repaired")
                      for r in repaired)
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
            "srid": srid,
            "swapped_axes": swapped,
        }
        progress("comparing", done, total, force=True)
        changes, area_sql = compare(conn, layer, table)
        status = "rejected" if rejected else "validated"
        conn.execute(
            f"UPDATE catalogue_version SET status = %s, feature_count = %s, data_table = %s, "
            f"report = %s, changes = %s, changed_area = {area_sql} WHERE id = %s",
            (status, done - rejected, _table(layer.id, version["number"]), Jsonb(report),
             Jsonb(changes), version["id"]))
        conn.execute("INSERT INTO catalogue_event (version_id, action, from_status, to_status, "
                     "detail) VALUES (%s, %s, 'draft', %s, %s)",
                     (version["id"], "reject" if rejected else "validate", status,
                      Jsonb({"rejected": rejected})))
        conn.commit()
        summary = (f"version {version['number']}: {done} features, {report['repaired']} "
                   f"repaired, {rejected} rejected; {changes.get('added', 0)} added, "
                   f"{changes.get('removed', 0)} removed, {changes.get('changed', 0)} changed")
        return ("rejected — fix the file and upload again: " if rejected else "") + summary


# -- comparing with what is published ------------------------------------------------------------

_BLOCK_FIELDS = ("ma_qh", "ma_o_pho", "chuc_nang", "ma_chuc_nang", "tang_cao_min",
                 "tang_cao_max", "chieu_cao", "mat_do_xd", "he_so_sdd", "dan_so", "mau")
LIVE_SIGNATURE = {
    # kind: (live table, its feature's key there, SQL of a feature's attributes there, the
    # same from a version's props)
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
        """, {"keyed": layer.key is not None}).fetchone()
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
