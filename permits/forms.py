"""A procedure's form is a JSON Schema (Draft 2020-12): answers checked against it, each
refusal named by its field and said in Vietnamese and English.

A draft being saved (`complete=False`) may leave fields out but not give a wrong type or
value; a submission (`complete=True`) must satisfy everything, `required` included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError

from core.errors import InvalidInputError

TYPE_NAMES = {  # what a value must be, as the applicant reads it
    "integer": ("một số nguyên", "a whole number"),
    "number": ("một số", "a number"),
    "string": ("chữ", "text"),
    "boolean": ("có hoặc không", "yes or no"),
}


@dataclass(frozen=True)
class FieldError:
    """One field's refusal: which field, why (in both languages) and the rule it broke."""

    field: str
    message_vi: str
    message_en: str
    rule: str

    def as_dict(self) -> dict[str, str]:
        """The refusal as the API answers it."""
        return asdict(self)


class AnswersInvalidError(InvalidInputError):
    """Answers the form refuses: a 422 naming the first field, every refusal in `errors`."""

    def __init__(self, errors: list[FieldError]) -> None:
        first = errors[0]
        super().__init__(f"answers: {first.field}: {first.message_en}", first.field)
        self.errors = errors
        self.extra = {"errors": [e.as_dict() for e in errors]}


def _number(value: Any, lang: str) -> str:
    """A limit as each language writes numbers (vi: 100.000 and 2,5)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    text = f"{int(value) if float(value).is_integer() else value:,}"
    if lang == "vi":
        return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def _type(error: ValidationError) -> tuple[str, str]:
    wanted = error.validator_value
    name = wanted[0] if isinstance(wanted, list) and wanted else wanted
    vi, en = TYPE_NAMES.get(str(name), (str(name), str(name)))
    return f"Phải là {vi}", f"Must be {en}"


def _limit(vi: str, en: str) -> Callable[[ValidationError], tuple[str, str]]:
    def say(error: ValidationError) -> tuple[str, str]:
        return (vi.format(_number(error.validator_value, "vi")),
                en.format(_number(error.validator_value, "en")))
    return say


def _enum(error: ValidationError) -> tuple[str, str]:
    values = ", ".join(str(v) for v in error.validator_value)
    return f"Phải là một trong các giá trị: {values}", f"Must be one of: {values}"


MESSAGES: dict[str, Callable[[ValidationError], tuple[str, str]]] = {
    "type": _type,
    "minimum": _limit("Không được nhỏ hơn {}", "Must be at least {}"),
    "maximum": _limit("Không được lớn hơn {}", "Must be at most {}"),
    "exclusiveMinimum": _limit("Phải lớn hơn {}", "Must be more than {}"),
    "exclusiveMaximum": _limit("Phải nhỏ hơn {}", "Must be less than {}"),
    "maxLength": _limit("Không quá {} ký tự", "At most {} characters"),
    "minLength": _limit("Ít nhất {} ký tự", "At least {} characters"),
    "pattern": lambda e: ("Không đúng định dạng", "Not in the expected format"),
    "enum": _enum,
    "required": lambda e: ("Bắt buộc nhập", "Required"),
    "additionalProperties": lambda e: ("Biểu mẫu không có trường này",
                                       "The form has no such field"),
}


def _fields(error: ValidationError) -> Iterable[str]:
    """The fields an error is about (a missing or unknown field is in the object's error)."""
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    if error.validator == "required":
        return [name for name in error.validator_value if name not in instance]
    if error.validator == "additionalProperties":
        known = error.schema.get("properties", {})
        return [name for name in instance if name not in known]
    return [".".join(str(p) for p in error.absolute_path) or "answers"]


def form_errors(schema: Mapping[str, Any], answers: Mapping[str, Any], *,
                complete: bool) -> list[FieldError]:
    """Every refusal of the answers by the form, in the form's order (empty: accepted)."""
    found: dict[tuple[str, str], FieldError] = {}
    for error in Draft202012Validator(schema).iter_errors(dict(answers)):
        if error.validator == "required" and not complete:
            continue
        rule = str(error.validator)
        say = MESSAGES.get(rule, lambda e: ("Giá trị không hợp lệ", "Invalid value"))
        vi, en = say(error)
        for field in _fields(error):
            found.setdefault((field, rule), FieldError(field, vi, en, rule))
    order = {name: i for i, name in enumerate(schema.get("properties", {}))}
    return sorted(found.values(), key=lambda e: order.get(e.field, len(order)))


def answers_incomplete(schema: Mapping[str, Any],
                       answers: Mapping[str, Any]) -> list[FieldError]:
    """What stands between these answers and a submission (empty: complete and valid)."""
    return form_errors(schema, answers, complete=True)


def check_answers(schema: Mapping[str, Any], answers: Mapping[str, Any], *,
                  complete: bool) -> None:
    """Refuse answers the form does not accept (AnswersInvalidError, a 422)."""
    errors = form_errors(schema, answers, complete=complete)
    if errors:
        raise AnswersInvalidError(errors)


def check_form_schema(schema: Mapping[str, Any]) -> None:
    """Refuse a form that is not a valid JSON Schema (Draft 2020-12's metaschema)."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        raise InvalidInputError(f"form_schema is not a valid JSON Schema: {exc.message}"
                                + (f" (at {where})" if where else ""), "form_schema") from exc
