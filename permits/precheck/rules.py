"""The pre-check's rules: pure functions of the parcel's limits and the planned building."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from layers.schemas import Buildable, ZoningLimit
from permits.precheck.schemas import AnswerField, Finding, PrecheckAnswers, RuleName


@dataclass(frozen=True)
class Limit:
    """A rule's number on this parcel, where it comes from, and what its messages add."""

    value: int | float
    block_code: str | None = None
    decision_no: str | None = None
    facts: Mapping[str, int | float | str] = field(default_factory=dict)


def _always(_: Buildable) -> bool:
    return True


@dataclass(frozen=True)
class Rule:
    """A limit on one answer: where it is read, which way it is broken, how that is said."""

    name: RuleName
    field: AnswerField
    limit: Callable[[Buildable], Limit | None]  # None: the zoning gives no such indicator
    vi: str
    en: str
    below: bool = False  # broken by falling short of the limit, not by going over it
    applies: Callable[[Buildable], bool] = _always


def _zoning(limit: ZoningLimit | None) -> Limit | None:
    return None if limit is None else Limit(limit.value, limit.block_code, limit.decision_no)


def _on_remaining_land(b: Buildable, most: float | None, indicator: ZoningLimit | None,
                       name: str) -> Limit | None:
    """A largest area: an indicator of the zoning worked on the land that remains."""
    if indicator is None or most is None:
        return None
    return Limit(most, indicator.block_code, indicator.decision_no,
                 {name: indicator.value, "area": b.buildable_area_m2})


def _outside_strips(b: Buildable) -> Limit:
    streets = ", ".join(dict.fromkeys(w.street for w in b.widening))
    return Limit(b.buildable_area_m2, facts={"strip": b.widening_area_m2, "streets": streets})


BLOCK_VI = "của ô phố {block} (QĐ số {decision})"
BLOCK_EN = "of block {block} (Decision {decision})"
RULES: tuple[Rule, ...] = (
    Rule(RuleName.FLOORS_MAX, AnswerField.FLOORS, lambda b: _zoning(b.floors_max),
         f"Số tầng {{value}} vượt quá tối đa {{limit}} tầng {BLOCK_VI}",
         f"Number of floors {{value}} exceeds the maximum of {{limit}} {BLOCK_EN}"),
    Rule(RuleName.FLOORS_MIN, AnswerField.FLOORS, lambda b: _zoning(b.floors_min),
         f"Số tầng {{value}} thấp hơn tối thiểu {{limit}} tầng {BLOCK_VI}",
         f"Number of floors {{value}} is below the minimum of {{limit}} {BLOCK_EN}", below=True),
    Rule(RuleName.HEIGHT_MAX_M, AnswerField.HEIGHT_M, lambda b: _zoning(b.height_max_m),
         f"Chiều cao {{value}} m vượt quá tối đa {{limit}} m {BLOCK_VI}",
         f"A height of {{value}} m exceeds the maximum of {{limit}} m {BLOCK_EN}"),
    Rule(RuleName.FOOTPRINT_MAX_M2, AnswerField.FOOTPRINT_M2,
         lambda b: _on_remaining_land(b, b.footprint_max_m2, b.coverage_max_pct, "coverage"),
         "Diện tích xây dựng {value} m² vượt quá tối đa {limit} m²: mật độ xây dựng "
         f"{{coverage}}% {BLOCK_VI} trên {{area}} m² đất còn lại",
         "A footprint of {value} m² exceeds the maximum of {limit} m²: coverage {coverage}% "
         f"{BLOCK_EN} on {{area}} m² of remaining land"),
    Rule(RuleName.FLOOR_AREA_MAX_M2, AnswerField.FLOOR_AREA_M2,
         lambda b: _on_remaining_land(b, b.floor_area_max_m2, b.far_max, "far"),
         "Tổng diện tích sàn {value} m² vượt quá tối đa {limit} m²: hệ số sử dụng đất "
         f"{{far}} {BLOCK_VI} trên {{area}} m² đất còn lại",
         "A total floor area of {value} m² exceeds the maximum of {limit} m²: FAR {far} "
         f"{BLOCK_EN} on {{area}} m² of remaining land"),
    Rule(RuleName.WIDENING_STRIP, AnswerField.FOOTPRINT_M2, _outside_strips,
         "Diện tích xây dựng {value} m² lớn hơn {limit} m² đất còn lại ngoài lộ giới "
         "({strip} m² của thửa đất nằm trong lộ giới {streets})",
         "A footprint of {value} m² does not fit on the {limit} m² left outside the "
         "right-of-way ({strip} m² of the parcel lie in the right-of-way of {streets})",
         applies=lambda b: bool(b.widening)),
    Rule(RuleName.PARCEL_AREA, AnswerField.FOOTPRINT_M2, lambda b: Limit(b.buildable_area_m2),
         "Diện tích xây dựng {value} m² lớn hơn diện tích thửa đất {limit} m²",
         "A footprint of {value} m² is larger than the parcel's {limit} m²",
         applies=lambda b: not b.widening),
)


@dataclass(frozen=True)
class Outcome:
    """What the rules found, and which of them could and could not be checked."""

    findings: list[Finding]
    checked: list[RuleName]
    unchecked: list[RuleName]


def evaluate(buildable: Buildable, answers: PrecheckAnswers) -> Outcome:
    """Every rule of an answered field: its finding where broken, checked or not."""
    given = answers.model_dump(exclude_none=True)
    outcome = Outcome([], [], [])
    for rule in RULES:
        value = given.get(rule.field.value)
        if value is None or not rule.applies(buildable):
            continue
        limit = rule.limit(buildable)
        if limit is None:
            outcome.unchecked.append(rule.name)
            continue
        outcome.checked.append(rule.name)
        if (value < limit.value) if rule.below else (value > limit.value):
            outcome.findings.append(_finding(rule, value, limit))
    return outcome


def precheck(buildable: Buildable, answers: PrecheckAnswers) -> list[Finding]:
    """The ways the planned building goes beyond what the parcel allows."""
    return evaluate(buildable, answers).findings


def _finding(rule: Rule, value: int | float, limit: Limit) -> Finding:
    def say(template: str, lang: str) -> str:
        words = {"value": value, "limit": limit.value, **limit.facts}
        return template.format(block=limit.block_code, decision=limit.decision_no,
                               **{k: _number(v, lang) for k, v in words.items()})

    return Finding(field=rule.field, rule=rule.name, limit=limit.value, value=value,
                   block_code=limit.block_code, decision_no=limit.decision_no,
                   message_vi=say(rule.vi, "vi"), message_en=say(rule.en, "en"))


def _number(x: int | float | str, lang: str) -> str:
    """A number as each language writes it (1.234,5 in Vietnamese, 1,234.5 in English)."""
    if isinstance(x, str):
        return x
    text = f"{x:,.2f}".rstrip("0").rstrip(".")
    return text.translate(str.maketrans(",.", ".,")) if lang == "vi" else text
