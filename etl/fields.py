"""The field doctor: which of a file's fields feeds each field of the layer's schema.

Planning offices name their fields their own way: upper-case DBF names cut to 10 characters,
unaccented abbreviations, English names. A field found by its name or an alias is taken; for
the others, every source field is ranked by its name (folded: case, diacritics and
underscores gone; the abbreviations offices use; a DBF's cut) and by its values (land-use
codes or names, block codes, decision numbers, numbers within range, dates). One candidate
far ahead on both is taken and reported; otherwise the job asks, candidates best first.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from core.reference import FUNCTION_CATEGORIES
from etl.readers.base import ReaderError
from etl.readers.vector import NeedsAnswer, Question

MAP_PREFIX = "map:"  # an answer's key: map:<schema field> = <source field> ("" for none)
PLAN_PREFIX = "plan:"  # plan:<decision number> = a plan's code, or NEW_PLAN
NEW_PLAN = "new"
DBF_NAME = 10  # a DBF cuts field names to this many characters
SAMPLES = 5
MIN_FITS = 0.5  # a candidate's values fit at least this often
ASK_SCORE = 0.35  # an optional field is asked about only when a candidate scores this much
CLEAR_NAME, CLEAR_VALUES, CLEAR_LEAD = 0.8, 0.8, 0.3  # a candidate far ahead on both

# Other names offices give our fields (folded when compared), beyond each schema's aliases.
FIELD_WORDS: dict[str, tuple[str, ...]] = {
    "ma_loai_dat": ("mã loại đất", "loại đất", "kí hiệu loại đất", "ky hieu dat", "khld",
                    "landuse", "land_use", "land use code", "lu_code", "luc", "lucode",
                    "ma_dat", "loaidat", "mdsd", "ma_mdsd", "muc dich su dung", "mucdich"),
    "ma_o_pho": ("mã ô phố", "ô phố", "ký hiệu ô", "ky hieu o pho", "kyhieu", "khop",
                 "ki_hieu", "block", "block_id", "block_no", "blockcode", "lot_code", "plot",
                 "o_quy_hoach", "ma_o_qh"),
    "ma_qh": ("mã quy hoạch", "mã đồ án", "ma_do_an", "plan", "plan_id", "plancode",
              "maquyhoach", "qhpk", "do_an"),
    "chuc_nang": ("chức năng", "chức năng sử dụng đất", "tên chức năng", "ten_cn", "cnsdd",
                  "function", "land function", "use", "landuse_name", "ten_loai"),
    "ma_chuc_nang": ("nhóm chức năng", "loại chức năng", "category", "function category",
                     "func_cat", "nhom_cn", "loai_cn"),
    "tang_cao_min": ("tầng cao tối thiểu", "tầng thấp nhất", "tang_min", "tcmin", "tc_min",
                     "min floors", "floors min", "storeys_min"),
    "tang_cao_max": ("tầng cao tối đa", "tầng cao", "tang_max", "tcmax", "tc_max", "tc",
                     "max floors", "floors", "storeys", "storeys_max"),
    "chieu_cao": ("chiều cao", "chiều cao tối đa", "cao_toi_da", "h_max", "hmax", "height",
                  "max height", "height_m"),
    "mat_do_xd": ("mật độ xây dựng", "mật độ", "matdo", "md_xd", "mdxd_max", "coverage",
                  "bcr", "site coverage", "coverage_pct"),
    "he_so_sdd": ("hệ số sử dụng đất", "hệ số", "hs_sdd", "hsd", "far", "floor area ratio",
                  "plot ratio", "far_max"),
    "dan_so": ("dân số", "danso", "so_dan", "ds", "population", "pop", "residents"),
    "mau": ("màu", "màu sắc", "mau_sac", "ma_mau", "colour", "color", "fill", "rgb"),
    "so_qd": ("số quyết định", "quyết định", "quyet_dinh", "qd", "so_qd_pd", "qd_phe_duyet",
              "decision", "decision_number", "approval"),
    "ngay_qd": ("ngày quyết định", "ngày phê duyệt", "ngay_pd", "ngaypd", "decision date",
                "approval_date", "approved"),
    "co_quan": ("cơ quan phê duyệt", "cap_phe_duyet", "approved_by", "authority"),
    "ten": ("tên", "tên đồ án", "name", "title", "ten_goi"),
    "ty_le": ("tỷ lệ", "tỉ lệ", "scale"),
    "ma_xa": ("mã xã", "mã phường", "ward", "ward_id", "maphuong", "ma_px"),
    "so_to": ("số tờ", "tờ bản đồ", "to_ban_do", "tobando", "sheet", "map_sheet", "sh_to"),
    "so_thua": ("số thửa", "thửa", "thua", "sothua_dat", "parcel", "parcel_id", "plot_no"),
    "dia_chi": ("địa chỉ", "dc", "address", "addr", "street_address"),
    "ten_duong": ("tên đường", "duong", "road", "road_name", "street", "street_name"),
    "lo_gioi": ("lộ giới", "chi_gioi", "row", "right of way", "width", "road_width"),
    "loai": ("loại", "type", "kind", "class"),
}
# Plausible ranges of planning numbers where the schema gives none, for ranking only.
NUMBER_RANGES: dict[str, tuple[float, float]] = {
    "tang_cao_min": (0, 150), "tang_cao_max": (0, 150), "chieu_cao": (0, 600),
    "mat_do_xd": (0, 100), "he_so_sdd": (0, 100), "dan_so": (0, 10_000_000),
    "lo_gioi": (1, 200), "so_to": (1, 999), "so_thua": (1, 9999),
}
DECISION = re.compile(r"^\s*\d{1,6}\s*/\s*(?:QĐ|QD|Qđ|qđ|qd)\b", re.IGNORECASE)
BLOCK_CODE = re.compile(
    r"^(?:[A-Z]{1,4}|[IVX]{1,5})?[-._ ]?\d{1,4}[A-Za-z]?(?:[-._]\d{1,3}[A-Za-z]?)?$"
    r"|^[IVX]{1,5}[-._ ]?[A-Z]$", re.IGNORECASE)
COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def fold(text: str) -> str:
    """Lower-case letters and digits only: diacritics (đ too), spaces, underscores gone."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed.lower()
                   if c.isascii() and c.isalnum() and not unicodedata.combining(c))


def fold_words(text: str) -> list[str]:
    """The folded words of a text."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in decomposed.lower() if not unicodedata.combining(c))
    return [w for w in re.split(r"[^a-z0-9]+", plain) if w]


def _initials(text: str) -> str:
    return "".join(w[0] for w in fold_words(text))


@dataclass(frozen=True)
class Evidence:
    """How much a field looks like the target, and why (said to the planner); `fits`: the
    share of its values that fit (for values)."""

    score: float
    why: str
    fits: float | None = None


@dataclass(frozen=True)
class Known:
    """What the doctor reads values against: land-use codes and names, the zoning plans."""

    land_use_codes: frozenset[str] = frozenset()
    land_use_names: Mapping[str, str] = field(default_factory=dict)  # folded name -> code
    plan_codes: frozenset[str] = frozenset()
    function_categories: frozenset[str] = frozenset()
    function_names: Mapping[str, str] = field(default_factory=dict)  # folded -> category


def function_names() -> dict[str, str]:
    """Folded names of the zoning functions -> their category."""
    return {fold(name): category for category, (names, _) in FUNCTION_CATEGORIES.items()
            for name in (*names, category)}


def category_of_land_use() -> dict[str, str]:
    """The function category a block's land-use code decides."""
    return {code: category for category, (_, codes) in FUNCTION_CATEGORIES.items()
            for code in codes}


def _dbf_cut(target: str, source: str, siblings: Sequence[str]) -> Evidence | None:
    """A DBF's cut of the target's name: the first field cut to the same 10 characters keeps
    them, the next ones end in 1, 2, … (so tang_cao_min is TANG_CAO_M, tang_cao_max
    TANG_CAO_1)."""
    raw = source.lower()
    if len(source) != DBF_NAME or len(target) <= DBF_NAME - 1:
        return None
    if target.startswith(raw):
        sharing = [s for s in siblings if s.startswith(raw)]
        if not sharing or sharing[0] == target:
            return Evidence(0.95, f"the name cut to {DBF_NAME} characters, as a DBF does")
        return Evidence(0.6, f"the name cut to {DBF_NAME} characters, which a DBF gives to "
                        f"{sharing[0]}")
    stem, number = raw.rstrip("0123456789"), raw[len(raw.rstrip("0123456789")):]
    if not number or not target.startswith(stem):
        return None
    sharing = [s for s in siblings if s.startswith(stem) and len(s) >= DBF_NAME]
    if 0 < int(number) < len(sharing) and sharing[int(number)] == target:
        return Evidence(0.9, f"the name cut to {DBF_NAME} characters and numbered "
                        f"{number}, as a DBF does for the next field cut alike")
    return Evidence(0.55, f"the name cut to {DBF_NAME} characters and numbered, as a DBF "
                    "does when cut names collide")


def name_evidence(target: str, aliases: Sequence[str], source: str,
                  siblings: Sequence[str] = ()) -> Evidence:
    """How much the source field's name says it is the target (`siblings`: the schema's
    field names in order, which decide a DBF's numbering of names cut alike)."""
    folded = fold(source)
    if not folded:
        return Evidence(0.0, "no name")
    names = [target, *aliases, *FIELD_WORDS.get(target, ())]
    if folded in {fold(n) for n in names}:
        return Evidence(1.0, "same name once case, accents and underscores are set aside")
    if (cut := _dbf_cut(target, source, siblings or [target])) is not None:
        return cut
    if len(folded) >= 2 and folded in {_initials(n) for n in names if len(fold_words(n)) > 1}:
        return Evidence(0.85, "the initials of the name, as offices abbreviate it")
    best, like = 0.0, target
    for name in names:
        ratio = difflib.SequenceMatcher(None, folded, fold(name)).ratio()
        if ratio > best:
            best, like = ratio, name
    if best >= 0.5:
        return Evidence(round(best * 0.8, 3), f"a name like {like!r} ({best:.0%} alike)")
    return Evidence(0.0, "a name unlike it")


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, (date, datetime)):
        return value.isoformat()[:10]
    text = str(value).strip()
    return text or None


def _number(text: str) -> float | None:
    cleaned = text.replace(" ", "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        return None


def _is_date(value: Any, text: str) -> bool:
    if isinstance(value, (date, datetime)):
        return True
    if re.match(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{4}$", text):
        return True
    try:
        date.fromisoformat(text[:10])
    except ValueError:
        return False
    return len(text) >= 10


def _figure(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:g}"


def land_use_code(text: str, known: Known) -> tuple[str | None, str]:
    """The land-use code a value stands for, and how: the code itself, its name (with or
    without accents), or a code inside a longer text (a DXF layer named QH_ODT)."""
    upper = text.strip().upper()
    if upper in known.land_use_codes:
        return upper, "code"
    name = fold(text)
    if name in known.land_use_names:
        return known.land_use_names[name], "name"
    if not name.startswith("dat") and "dat" + name in known.land_use_names:
        return known.land_use_names["dat" + name], "name"
    tokens = [t for t in re.split(r"[^A-Za-z0-9]+", upper) if t]
    found = {t for t in tokens if t in known.land_use_codes}
    if len(found) == 1:
        return found.pop(), "inside"
    return None, ""


def function_category(text: str | None, known: Known) -> str | None:
    """The function category a zoning function's name falls in: the closest known name,
    without accents; "… cải tạo", "… chỉnh trang" are the existing kind's."""
    if not text:
        return None
    folded = fold(text)
    lowered = text.strip().lower()
    if lowered in known.function_categories:
        return lowered
    if folded in known.function_names:
        return known.function_names[folded]
    # The name said first decides ("hỗn hợp nhà ở và thương mại" is mixed use); short names
    # only whole, so that "chợ" is not found inside another word.
    words = fold_words(text)
    found = [(folded.find(name), -len(name), category)
             for name, category in known.function_names.items()
             if len(name) >= 6 and name in folded or name in words]
    if found:
        return min(found)[2]
    close = difflib.get_close_matches(folded, list(known.function_names), n=1, cutoff=0.8)
    return known.function_names[close[0]] if close else None


def value_evidence(spec: Mapping[str, Any], values: Sequence[Any],
                   known: Known) -> tuple[Evidence, str | None]:
    """How much the values look like the target's, and the translation they need ("names":
    land-use names to codes; "inside": a code inside a longer text), if any."""
    texts = [(v, t) for v in values if (t := _text(v)) is not None]
    if not texts:
        return Evidence(0.0, "no values in the first features"), None
    n = len(texts)
    name, kind = spec["name"], spec.get("type", "text")

    def share(count: int, what: str) -> Evidence:
        return Evidence(round(count / n, 3), f"{count / n:.0%} of its values {what}", count / n)

    if name == "ma_loai_dat":
        hows = [land_use_code(t, known)[1] for _, t in texts]
        codes, names, inside = (hows.count(h) for h in ("code", "name", "inside"))
        if names > codes and names >= inside:
            return share(names + codes, "are land-use names (mapped to their codes)"), "names"
        if inside > codes:
            return share(inside + codes, "hold a land-use code"), "inside"
        return share(codes, "are land-use codes"), None
    if name == "ma_qh":
        return share(sum(t in known.plan_codes for _, t in texts), "are zoning plans' codes"), \
            None
    if name == "so_qd":
        return share(sum(bool(DECISION.match(t)) for _, t in texts),
                     "are decision numbers (NNNN/QĐ-…)"), None
    if name == "ma_o_pho":
        shaped = sum(bool(BLOCK_CODE.match(t)) for _, t in texts)
        distinct = len({t for _, t in texts}) / n
        return Evidence(round(shaped / n * distinct, 3),
                        f"{shaped / n:.0%} of its values look like block codes, "
                        f"{distinct:.0%} distinct", shaped / n), None
    if name == "ma_chuc_nang":
        return share(sum(t.lower() in known.function_categories for _, t in texts),
                     "are function categories"), None
    if name == "chuc_nang":
        named = sum(function_category(t, known) is not None and _number(t) is None
                    for _, t in texts)
        return share(named, "are zoning functions' names"), None
    if name == "mau":
        return share(sum(bool(COLOUR.match(t)) for _, t in texts), "are colours (#RRGGBB)"), \
            None
    if kind in ("integer", "number"):
        least = spec.get("min", NUMBER_RANGES.get(name, (None, None))[0])
        most = spec.get("max", NUMBER_RANGES.get(name, (None, None))[1])
        fits = 0
        for _, t in texts:
            number = _number(t)
            if number is None or (kind == "integer" and not number.is_integer()):
                continue
            if (least is None or number >= least) and (most is None or number <= most):
                fits += 1
        span = "" if least is None and most is None else \
            f" within {_figure(least)}–{_figure(most)}"
        whole = "whole numbers" if kind == "integer" else "numbers"
        return share(fits, f"are {whole}{span}"), None
    if kind == "date":
        return share(sum(_is_date(v, t) for v, t in texts), "are dates"), None
    # Plain text: words rather than numbers is all the values can say.
    wordy = sum(_number(t) is None and not _is_date(v, t) for v, t in texts)
    return Evidence(round(0.6 * wordy / n, 3), f"{wordy / n:.0%} of its values are text",
                    wordy / n), None


@dataclass
class Candidate:
    """A source field offered for a target, with why it ranks where it does."""

    source: str
    name: Evidence
    values: Evidence
    samples: list[str]
    translate: str | None = None

    @property
    def score(self) -> float:
        """Name and values together (values weigh a little more: names lie more often)."""
        return round(0.45 * self.name.score + 0.55 * self.values.score, 3)

    def as_dict(self) -> dict[str, Any]:
        """For the question shown to the planner."""
        out: dict[str, Any] = {"value": self.source, "score": self.score,
                               "why": [self.name.why, self.values.why],
                               "samples": self.samples}
        if self.translate:
            out["translate"] = self.translate
        return out


def _samples(values: Sequence[Any]) -> list[str]:
    seen: list[str] = []
    for value in values:
        text = _text(value)
        if text is not None and text not in seen:
            seen.append(text[:60])
        if len(seen) == SAMPLES:
            break
    return seen


@dataclass
class FieldMap:
    """Schema field -> source field, and how each was decided (for the report)."""

    sources: dict[str, str] = field(default_factory=dict)
    how: dict[str, str] = field(default_factory=dict)  # target -> why it was taken
    translate: dict[str, str] = field(default_factory=dict)  # target -> "names" | "inside"
    left_out: list[str] = field(default_factory=list)  # optional targets answered "none"
    extra: list[str] = field(default_factory=list)  # source fields no target takes

    @property
    def answered(self) -> bool:
        """Whether a person decided part of it (then it is remembered)."""
        return any(h == "answered" for h in self.how.values()) or bool(self.left_out)

    def report(self) -> dict[str, Any]:
        """The report's account of which field fed which."""
        return {"fields": {t: {"source": s, "how": self.how.get(t, ""),
                               **({"translate": self.translate[t]} if t in self.translate
                                  else {})}
                           for t, s in self.sources.items()},
                "left_out": self.left_out, "extra_fields": self.extra}

    def answers(self) -> dict[str, str]:
        """The mapping as answers, to remember for the next upload with the same fields."""
        return {MAP_PREFIX + t: s for t, s in self.sources.items()} | {
            MAP_PREFIX + t: "" for t in self.left_out}


def signature(fields: Sequence[str]) -> str:
    """The source's field signature: its field names, folded and sorted."""
    return "|".join(sorted({f.lower() for f in fields}))


def diagnose(schema: Sequence[Mapping[str, Any]], columns: Mapping[str, Sequence[Any]],
             known: Known, answers: Mapping[str, str], *,
             derivable: Mapping[str, Sequence[str]] | None = None,
             remembered: Mapping[str, str] | None = None) -> FieldMap:
    """The source field for each schema field, or NeedsAnswer with the candidates.

    `derivable`: targets the platform derives when a field they follow from is mapped (a
    block's function category from its function's name), never asked for. `remembered`: the
    answers given for the last upload with the same fields.
    """
    fields = list(columns)
    by_lower = {f.lower(): f for f in fields}
    result = FieldMap()
    given = {k.removeprefix(MAP_PREFIX): v for k, v in answers.items()
             if k.startswith(MAP_PREFIX)}
    last = {k.removeprefix(MAP_PREFIX): v for k, v in (remembered or {}).items()
            if k.startswith(MAP_PREFIX)}
    names = {s["name"] for s in schema}
    for target in given:
        if target not in names:
            raise ReaderError(f"--map {target}=…: the layer has no field {target} "
                              f"(it has {', '.join(sorted(names))})")
    pending: list[Mapping[str, Any]] = []
    for spec in schema:
        target = spec["name"]
        for choice, how in ((given, "answered"), (last, "mapped as last time")):
            if target not in choice:
                continue
            source = choice[target]
            if source == "":
                if spec.get("required") and target not in (derivable or {}):
                    raise ReaderError(f"{target} is required: it cannot be left out")
                result.left_out.append(target)
            elif source.lower() in by_lower:
                result.sources[target] = by_lower[source.lower()]
                result.how[target] = how
            else:
                raise ReaderError(f"--map {target}={source}: the file has no field {source} "
                                  f"(it has {', '.join(fields) or 'no fields'})")
            break
        else:
            for name in (target, *spec.get("aliases", [])):
                if name.lower() in by_lower:
                    result.sources[target] = by_lower[name.lower()]
                    result.how[target] = "its name" if name == target else f"alias {name}"
                    break
            else:
                pending.append(spec)
    taken = set(result.sources.values())
    siblings = [t["name"] for t in schema]

    weighed: dict[tuple[str, str], Candidate] = {}  # each pair weighed once

    def ranking(spec: Mapping[str, Any]) -> list[Candidate]:
        for source in fields:
            if (spec["name"], source) not in weighed:
                weighed[spec["name"], source] = _candidate(spec, source, columns[source],
                                                           known, siblings)
        ranked = sorted((weighed[spec["name"], source] for source in fields
                         if source not in taken), key=lambda c: -c.score)
        # A field most of whose values do not fit is no candidate, whatever its name: it
        # would be refused feature by feature.
        return [c for c in ranked if (c.values.fits or 0) >= MIN_FITS]

    # Clear candidates are taken first, again and again, so that what one target takes is
    # not offered for another; what may be derived is decided once what it follows from is.
    derivable_names = set(derivable or {})
    pending.sort(key=lambda s: s["name"] in derivable_names)
    settled = True
    while settled:
        settled = False
        for spec in list(pending):
            ranked = ranking(spec)
            if ranked and _clear(ranked):
                best = ranked[0]
                target = spec["name"]
                result.sources[target] = best.source
                result.how[target] = (f"clearly {best.source}: {best.name.why}; "
                                      f"{best.values.why}")
                if best.translate:
                    result.translate[target] = best.translate
                taken.add(best.source)
                pending.remove(spec)
                settled = True
    questions: list[dict[str, Any]] = []
    for spec in pending:  # what may be derived comes last
        target = spec["name"]
        follows = (derivable or {}).get(target, ())
        if any(f in result.sources or f in {q["field"] for q in questions} for f in follows):
            continue  # derived from what is mapped, or from what this question maps
        ranked = ranking(spec)
        required = bool(spec.get("required"))
        if required and not ranked:
            raise ReaderError(
                f"the dataset has no field for {target}: none of its fields "
                f"({', '.join(fields) or 'none'}) looks like it; if one is, name it with "
                f"--map {target}=FIELD")
        if not required and (not ranked or ranked[0].score < ASK_SCORE):
            continue  # nothing in the file looks like it
        questions.append({"field": target, "type": spec.get("type", "text"),
                          "required": required, "candidates": [c.as_dict() for c in ranked[:8]],
                          "none_allowed": not required})
    if questions:
        order = {s["name"]: i for i, s in enumerate(schema)}
        questions.sort(key=lambda q: order[q["field"]])
        missing = ", ".join(q["field"] for q in questions)
        raise NeedsAnswer(Question(
            "fields", f"Which of the file's fields holds {missing}? The candidates are "
            "ranked by their names and their values.", questions))
    for target, source in result.sources.items():  # names to codes, however it was mapped
        spec = next(s for s in schema if s["name"] == target)
        _, translate = value_evidence(spec, columns[source], known)
        if translate:
            result.translate[target] = translate
    result.extra = [f for f in fields if f not in set(result.sources.values())]
    return result


def _candidate(spec: Mapping[str, Any], source: str, values: Sequence[Any],
               known: Known, siblings: Sequence[str]) -> Candidate:
    evidence, translate = value_evidence(spec, values, known)
    return Candidate(source, name_evidence(spec["name"], spec.get("aliases", []), source,
                                           siblings), evidence, _samples(values), translate)


def _clear(ranked: Sequence[Candidate]) -> bool:
    """One candidate far ahead: its name and its values both say so, and every other one
    is far behind it on its name or on its values (planning numbers all look alike: the
    name must tell them apart)."""
    best = ranked[0]
    if best.name.score < CLEAR_NAME or best.values.score < CLEAR_VALUES:
        return False
    return all(best.name.score - c.name.score >= CLEAR_LEAD
               or best.values.score - c.values.score >= CLEAR_LEAD for c in ranked[1:])
