"""The checks every feature passes before PostgreSQL sees it, batch-wise, and the rows (COPY's
binary format) they produce. A slice of a dataset is read and checked by `check_slice`, which
worker processes run side by side (Python holds one core per process)."""

from __future__ import annotations

import math
import re
import struct
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import orjson
import shapely
from numpy.typing import NDArray

from core.reference import UNCLASSIFIED
from etl import encoding
from etl.crs import WGS84, to_wgs84
from etl.fields import Known, category_of_land_use, fold, function_category, land_use_code
from etl.readers.base import FeatureBatch
from etl.readers.detect import Dataset
from etl.readers.vector import VectorSource

FAMILY = {0: "point", 4: "point", 1: "line", 5: "line", 3: "polygon", 6: "polygon"}  # shapely ids
GEOMETRY_OF_KIND = {"land_use": "polygon", "zoning_blocks": "polygon", "parcels": "polygon",
                    "water": "polygon", "detailed_plans": "polygon", "zoning_plans": "polygon",
                    "roads": "line"}
MAX_VERTICES = 1_000_000  # a bigger feature is refused: it would stall validation and tiles


class IngestError(ValueError):
    """The upload cannot become a version; the message says why."""



@dataclass
class Issue:
    """A problem with one feature and what was done about it."""

    feature: str
    problem: str
    outcome: str  # repaired | rejected | noted (kept, with what the report must say)


@dataclass
class Checked:
    """A batch after the checks done before PostgreSQL sees it: rows in COPY's binary format,
    how many features, their issues and their geometry families."""

    data: bytes
    count: int
    suspects: int  # geometries GEOS found invalid, for PostGIS to explain and repair
    issues: list[Issue] = field(default_factory=list)
    families: Counter[str] = field(default_factory=Counter)


SUSPECT = "?"  # a geometry GEOS found invalid: PostGIS gives the reason and repairs it
# COPY's binary format: the stream's header and trailer, and the parts of a row.
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
COPY_TRAILER = struct.pack("!h", -1)
COPY_COLUMNS = "fid, src_id, props, geom, problem, outcome"
_ROW_START = struct.Struct("!hiq").pack  # 6 fields, then the fid: 8 bytes, int8
_LENGTH = struct.Struct("!i").pack
_JSONB = struct.Struct("!ib").pack  # jsonb's binary form: version 1, then the text
_NULL = _LENGTH(-1)
_SUSPECT_FIELDS = _LENGTH(1) + SUSPECT.encode() + _NULL
_SRID_4326 = struct.pack("<i", 4326)


def _ewkb_4326(wkb: bytes) -> bytes:
    """Little-endian 2D WKB made EWKB with SRID 4326 (the type's SRID flag set, the SRID after
    it): cheaper than giving every geometry an SRID first."""
    return wkb[:4] + bytes((wkb[4] | 0x20,)) + _SRID_4326 + wkb[5:]


def _field(value: bytes) -> bytes:
    return _LENGTH(len(value)) + value


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


def _ids(parts: list[list[Any]], n: int) -> list[str | None] | None:
    """Each feature's id from its key attributes ("/" between them), None where one is
    missing; None without key attributes."""
    if not parts:
        return None
    return [None if any(p[i] is None for p in parts) else "/".join(str(p[i]) for p in parts)
            for i in range(n)]


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
    def key(self) -> list[str]:
        """The attributes naming each feature together (its id), if the schema says."""
        return [f["name"] for f in self.schema if f.get("key")]

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


# What the platform derives when the file does not carry it: target -> what it follows from.
DERIVABLE = {"zoning_blocks": {"ma_chuc_nang": ("chuc_nang", "ma_loai_dat"),
                               "ma_qh": ("so_qd",)}}


@dataclass(frozen=True)
class Mapping:
    """What the field doctor decided: schema field -> source field, the values to translate
    (land-use names to codes), and what it reads them against (picklable, for workers)."""

    sources: dict[str, str]
    translate: dict[str, str] = field(default_factory=dict)
    known: Known = field(default_factory=Known)
    decisions: dict[str, str] = field(default_factory=dict)  # folded decision -> plan code


class Checker:
    """The per-feature checks made before COPY (PostGIS checks the rest), batch-wise."""

    def __init__(self, layer: Layer, fields: list[str], references: dict[str, set[str]],
                 mapping: Mapping | None = None) -> None:
        self.layer = layer
        self.doctored = mapping or Mapping(layer.match(fields))
        self.mapping = self.doctored.sources
        self.required = [f["name"] for f in layer.schema if f.get("required")]
        self.derived = [target for target, follows in DERIVABLE.get(layer.kind, {}).items()
                        if target not in self.mapping and any(f in self.mapping
                                                              for f in follows)]
        missing = [f for f in self.required if f not in self.mapping and f not in self.derived]
        if missing:
            raise IngestError(f"the dataset has no field for {', '.join(missing)} "
                              f"(it has {', '.join(fields) or 'no fields'})")
        # field -> the values it may take (land-use codes, zoning plans that exist)
        self.references = {k: v for k, v in references.items()
                           if k in self.mapping or k in self.derived}
        self.numeric = [f["name"] for f in layer.schema
                        if f.get("type") in ("integer", "number") and f["name"] in self.mapping]
        self.integers = {f["name"] for f in layer.schema if f.get("type") == "integer"}
        # field -> (least, most) for numbers, and the longest text a planning table holds
        self.ranges = {f["name"]: (f.get("min"), f.get("max")) for f in layer.schema
                       if f["name"] in self.numeric and ("min" in f or "max" in f)}
        self.lengths = {f["name"]: int(f["max_length"]) for f in layer.schema
                        if "max_length" in f and f["name"] in self.mapping}
        self.dates = [f["name"] for f in layer.schema
                      if f.get("type") == "date" and f["name"] in self.mapping]

    def _columns(self, columns: dict[str, NDArray[Any]]) -> dict[str, list[Any]]:
        """Each column as Python values, under the schema's names; NaN becomes null. A value
        translated (a land-use name made its code) keeps its original under the source's
        name."""
        renamed = {source: name for name, source in self.mapping.items()}
        out: dict[str, list[Any]] = {}
        for source, column in columns.items():
            values = column.tolist()
            if column.dtype.kind == "f":
                values = [None if v != v or v in (math.inf, -math.inf) else v for v in values]
            elif column.dtype == object:
                values = [v.strip() if isinstance(v, str) else _json_value(v) for v in values]
            target = renamed.get(source, source)
            if target in self.doctored.translate:
                known = self.doctored.known
                out[source] = values
                values = [v if v is None else land_use_code(str(v), known)[0] or v
                          for v in values]
            out[target] = values
        return out

    def _derive(self, columns: dict[str, list[Any]], n: int) -> tuple[dict[int, str],
                                                                      dict[int, str]]:
        """Fill the fields the platform derives; (problems, notes) by row."""
        problems: dict[int, str] = {}
        notes: dict[int, str] = {}
        known = self.doctored.known
        if "ma_chuc_nang" in self.derived:
            names = columns.get("chuc_nang", [None] * n)
            codes = columns.get("ma_loai_dat", [None] * n)
            by_code = category_of_land_use()
            derived: list[Any] = []
            for row in range(n):
                category = function_category(names[row], known) or by_code.get(
                    str(codes[row] or "").upper())
                if category is None:
                    category = UNCLASSIFIED
                    notes[row] = (f"function category not decided by its name "
                                  f"({names[row]!r}) nor a land-use code: kept as "
                                  f"{UNCLASSIFIED}")
                derived.append(category)
            columns["ma_chuc_nang"] = derived
        if "ma_qh" in self.derived:
            decisions = columns.get("so_qd", [None] * n)
            plans: list[Any] = []
            for row in range(n):
                text = decisions[row]
                plan = self.doctored.decisions.get(fold(str(text))) if text else None
                if plan is None:
                    problems[row] = (f"no zoning plan approved by decision {text}" if text
                                     else "missing required attribute so_qd (the plan's "
                                     "decision)")
                plans.append(plan)
            columns["ma_qh"] = plans
        return problems, notes

    def check(self, batch: FeatureBatch, srid: int, swapped: bool, first_fid: int) -> Checked:
        """Rows for COPY: (fid, src_id, props, ewkb | None, problem, outcome); the features'
        ids count on from first_fid."""
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
        derived_problems, notes = self._derive(columns, n)
        # The most telling problem wins: assigned from the least to the most fundamental.
        for row, problem in derived_problems.items():
            problems[row] = problem
        for name in self.numeric:
            values = columns[name]
            for row, value in enumerate(values):
                number = _number(value)
                if number is _NOT_A_NUMBER:
                    problems[row] = f"attribute {name} is not a number ({value!r})"
                    continue
                if name in self.integers and isinstance(number, float):
                    if not number.is_integer():  # a DBF's 12.0 is 12; 12.5 is no sheet number
                        problems[row] = f"attribute {name} is not a whole number ({value!r})"
                        continue
                    number = int(number)
                values[row] = number
                least, most = self.ranges.get(name, (None, None))
                if number is not None and (least is not None and number < least
                                           or most is not None and number > most):
                    problems[row] = (f"attribute {name} is out of range ({number}; "
                                     f"{'' if least is None else least}–"
                                     f"{'' if most is None else most})")
        for name in self.dates:
            values = columns[name]
            for row, value in enumerate(values):
                day = parse_date(value)
                if day is None and value not in (None, ""):
                    problems[row] = f"attribute {name} is not a date ({value!r})"
                else:
                    values[row] = day
        for name, longest in self.lengths.items():
            for row, text in enumerate(columns[name]):
                if text is not None and len(str(text)) > longest:
                    problems[row] = f"attribute {name} is longer than {longest} characters"
        for name, allowed in self.references.items():
            codes = columns[name]
            for k in np.flatnonzero([c is not None and str(c) not in allowed for c in codes]):
                problems[k] = f"unknown {REFERENCE_NAMES.get(name, name)} {codes[k]}"
        for name in reversed(self.required):
            for k in np.flatnonzero([v in (None, "") for v in columns[name]]):
                problems[k] = f"missing required attribute {name}"
        expected = self.layer.geometry
        family = np.array([FAMILY.get(int(t), "collection") for t in types], dtype=object)
        families = Counter(str(f) for f in family[present & ~empty])
        if expected:
            for k in np.flatnonzero(present & ~empty & (family != expected)):
                problems[k] = f"a {family[k]} in a {expected} layer"
        for k in np.flatnonzero(vertices > MAX_VERTICES):
            problems[k] = f"{vertices[k]:,} vertices (at most {MAX_VERTICES:,} per feature)"
        problems[present & empty] = "empty geometry"
        problems[present & ~finite] = "NaN or infinite coordinates"
        for k in np.flatnonzero(~present):
            problems[k] = _unreadable_reason(batch.raw[k] if batch.raw is not None else None)
        good = usable & np.array([p is None for p in problems], dtype=bool)
        ewkb: NDArray[np.object_] = np.full(n, _NULL, dtype=object)
        suspect = np.zeros(n, dtype=bool)
        if good.any():
            moved = self._reproject(geoms[good], srid, swapped)
            ewkb[good] = [_field(_ewkb_4326(w)) for w in shapely.to_wkb(
                moved, output_dimension=2, byte_order=1)]
            # GEOS here answers as PostGIS would; only these go to ST_IsValidReason later.
            suspect[np.flatnonzero(good)[~shapely.is_valid(moved)]] = True
        names = list(columns)
        key = self.layer.key
        keys = _ids([columns[k] for k in key] if all(k in columns for k in key) else [], n)
        rows: list[bytes] = []
        issues: list[Issue] = []
        dumps = orjson.dumps
        no_problem = _NULL + _NULL
        rejected = _field(b"rejected")
        for i in range(n):
            fid = first_fid + i
            props = dumps({name: columns[name][i] for name in names}, default=_json_default,
                          option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
            src_id = (keys[i] if keys is not None else None) or str(fid)
            problem = problems[i]
            if problem is None:
                tail = _SUSPECT_FIELDS if suspect[i] else no_problem
                if i in notes:  # kept, and said in the report
                    issues.append(Issue(src_id, notes[i], "noted"))
            else:
                issues.append(Issue(src_id, problem, "rejected"))
                tail = _field(problem.encode()) + rejected
            rows.append(b"".join((_ROW_START(6, 8, fid), _field(src_id.encode()),
                                  _JSONB(len(props) + 1, 1), props, ewkb[i], tail)))
        return Checked(b"".join(rows), n, int(suspect.sum()), issues, families)

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
REFERENCE_NAMES = {"ma_loai_dat": "land-use code", "ma_qh": "zoning plan",
                   "ma_xa": "ward code (before 2025)"}


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


_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def parse_date(value: Any) -> str | None:
    """An ISO date from a date, an ISO text or day/month/year as Vietnamese documents write
    it; None for blank or what is not a date."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()[:10]
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        if found := _DAY_MONTH_YEAR.match(text):
            day, month, year = (int(g) for g in found.groups())
            return date(year, month, day).isoformat()
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return None


def _json_default(value: Any) -> Any:
    converted = _json_value(value)
    if converted is value:
        return str(value)
    return converted




@dataclass(frozen=True)
class SliceJob:
    """All a worker process needs to read and check slices of one dataset (picklable)."""

    dataset: Dataset
    source_layer: str
    gdal_encoding: str | None
    encoding: str | None  # TCVN3 and VNI text is read as Latin-1 and converted here
    layer: dict[str, Any]  # the catalogue row's id, kind and schema
    fields: list[str]
    references: dict[str, set[str]]
    srid: int
    swapped: bool
    streamed: bool  # decided once, for every process alike
    mapping: Mapping | None = None  # the field doctor's (None: by names and aliases)

    def source(self) -> VectorSource:
        """The dataset's layer, opened as the doctors decided."""
        convert = encoding.converter(self.encoding) if self.encoding else None
        return VectorSource(self.dataset, self.source_layer, self.gdal_encoding, convert,
                            self.streamed)

    def checker(self) -> Checker:
        """The checker for this layer (raises IngestError when a required field is missing)."""
        return Checker(Layer(self.layer), self.fields, self.references, self.mapping)


def check_slice(job: SliceJob, start: int, size: int) -> Checked:
    """Read features [start, start + size) of the dataset and check them (run in a worker)."""
    batch = job.source().read(start, size)
    return job.checker().check(batch, job.srid, job.swapped, start + 1)


def mixed_families(families: Counter[str]) -> str | None:
    """Why a layer of no set geometry type cannot take these features, if it cannot."""
    if len(families) > 1:
        return (f"the dataset mixes geometry types ({', '.join(sorted(families))}): "
                "one kind per layer")
    return None
