"""A paper's template as data (a JSON file under templates/), checked when it is loaded, and
its placeholders filled from a mapping of facts."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

STRICT = ConfigDict(extra="forbid", frozen=True)
FACT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# `{agency!u}`: the fact in capitals, as a header line writes the agency's name.
CONVERSIONS: dict[str | None, Callable[[str], str]] = {None: str, "u": str.upper}
Facts = Mapping[str, str | Sequence[str]]


class TemplateError(ValueError):
    """A template file that cannot be used; the message names the file and the block."""


class MissingFactError(LookupError):
    """A placeholder that the facts do not fill (a paper is never printed with a hole)."""


def placeholders(text: str) -> Iterator[tuple[str, str | None]]:
    """The facts a text names, with their conversion; ValueError on a malformed one."""
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not FACT_NAME.match(name):
            raise ValueError(f"placeholder {{{name}}} is not a plain fact name")
        if spec:
            raise ValueError(f"placeholder {{{name}}} has a format spec; give the fact ready")
        if conversion not in CONVERSIONS:
            raise ValueError(f"placeholder {{{name}!{conversion}}}: only !u is known")
        yield name, conversion


def _checked(text: str) -> str:
    list(placeholders(text))
    return text


Text = Annotated[str, Field(min_length=1, max_length=2000)]


class _Block(BaseModel):
    model_config = STRICT


class Heading(_Block):
    """A centred bold line (the paper's title)."""

    type: Literal["heading"]
    text: Text

    check_text = field_validator("text")(_checked)


class Paragraph(_Block):
    """Running text with placeholders."""

    type: Literal["paragraph"]
    text: Text
    align: Literal["L", "C", "R"] = "L"
    bold: bool = False

    check_text = field_validator("text")(_checked)


class ListBlock(_Block):
    """An introduction, then one line per item of a list fact (what is missing, the reasons)."""

    type: Literal["list"]
    intro: Text | None = None
    items: str = Field(pattern=FACT_NAME.pattern, description="The list fact it shows")
    marker: Literal["1.", "a)", "-"] = "1."

    @field_validator("intro")
    @classmethod
    def _intro(cls, value: str | None) -> str | None:
        return value if value is None else _checked(value)


class Table(_Block):
    """Label and value rows."""

    type: Literal["table"]
    rows: list[tuple[Text, Text]] = Field(min_length=1, max_length=40)
    label_width: float = Field(default=0.38, gt=0.1, lt=0.9,
                               description="The labels' share of the line")

    @field_validator("rows")
    @classmethod
    def _cells(cls, rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
        for label, value in rows:
            _checked(label)
            _checked(value)
        return rows


class Signer(BaseModel):
    """One column of the signature block."""

    model_config = STRICT

    title: Text
    hint: str = "(Ký và ghi rõ họ tên)"
    name: str = ""

    @field_validator("title", "hint", "name")
    @classmethod
    def _text(cls, value: str) -> str:
        return _checked(value)


class Signature(_Block):
    """Who signs, side by side, with room for the signature above the name."""

    type: Literal["signature"]
    signers: list[Signer] = Field(min_length=1, max_length=3)


Block = Annotated[Heading | Paragraph | ListBlock | Table | Signature,
                  Field(discriminator="type")]


class LegalBasis(BaseModel):
    """Where the paper's text comes from; `unverified` where a later act may have changed it."""

    model_config = STRICT

    text: Text
    unverified: bool = False
    why: str | None = None


class Header(BaseModel):
    """The lines above the title: the agency on the left, the national motto on the right, the
    number and the place and date under them."""

    model_config = STRICT

    left: list[Text] = Field(min_length=1, max_length=4)
    right: list[Text] = Field(min_length=1, max_length=4)
    number: str = ""
    place_date: Text

    @field_validator("left", "right")
    @classmethod
    def _lines(cls, lines: list[str]) -> list[str]:
        return [_checked(line) for line in lines]

    @field_validator("number", "place_date")
    @classmethod
    def _line(cls, value: str) -> str:
        return _checked(value)


class Template(BaseModel):
    """One paper: a form of the circular or a result."""

    model_config = STRICT

    code: str = Field(pattern=r"^(0[1-9]|result-[a-z-]+)$")
    title: Text
    page: Literal["A4", "A5"]
    form_label: str = ""
    legal_basis: LegalBasis
    header: Header
    blocks: list[Block] = Field(min_length=1, max_length=60)

    def facts_named(self) -> set[str]:
        """Every fact the template reads (the service must give each one)."""
        texts = [*self.header.left, *self.header.right, self.header.number,
                 self.header.place_date, self.form_label]
        named: set[str] = set()
        for block in self.blocks:
            if isinstance(block, Heading | Paragraph):
                texts.append(block.text)
            elif isinstance(block, ListBlock):
                named.add(block.items)
                texts.append(block.intro or "")
            elif isinstance(block, Table):
                texts += [cell for row in block.rows for cell in row]
            else:
                texts += [t for s in block.signers for t in (s.title, s.hint, s.name)]
        return named | {name for text in texts for name, _ in placeholders(text)}


def _where(loc: Sequence[int | str], raw: Any) -> str:
    """An error's place in words: 'block 3 (list)', or the top-level field."""
    if len(loc) >= 2 and loc[0] == "blocks" and isinstance(loc[1], int):
        kind = None
        if isinstance(raw, dict) and isinstance(raw.get("blocks"), list) \
                and loc[1] < len(raw["blocks"]) and isinstance(raw["blocks"][loc[1]], dict):
            kind = raw["blocks"][loc[1]].get("type")
        rest = ".".join(str(p) for p in loc[2:] if p != kind)
        return f"block {loc[1]}" + (f" ({kind})" if kind else "") + (f" {rest}" if rest else "")
    return ".".join(str(p) for p in loc) or "the file"


def parse_template(text: str, name: str) -> Template:
    """A template from its JSON text; `name` (the file's) must match its code."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateError(f"{name}: not JSON (line {exc.lineno}: {exc.msg})") from None
    try:
        template = Template.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{_where(e['loc'], raw)}: {e['msg']}" for e in exc.errors())
        raise TemplateError(f"{name}: {problems}") from None
    stem = name.rsplit("/", 1)[-1].removesuffix(".json")
    if template.code != stem:
        raise TemplateError(f"{name}: its code is {template.code!r}, its file name says "
                            f"{stem!r}")
    return template


def load_template(path: Path) -> Template:
    """A template file, checked."""
    return parse_template(path.read_text(encoding="utf-8"), path.name)


@lru_cache
def template(code: str) -> Template:
    """A template shipped with the package, by its code ('01'…'04', 'result-…')."""
    if not re.fullmatch(r"0[1-9]|result-[a-z-]+", code):
        raise TemplateError(f"no template {code!r}")
    found = resources.files(__package__).joinpath("templates").joinpath(f"{code}.json")
    if not found.is_file():
        raise TemplateError(f"no template {code!r}")
    return parse_template(found.read_text(encoding="utf-8"), f"{code}.json")


def shipped() -> list[str]:
    """The codes of every template shipped with the package."""
    folder = resources.files(__package__).joinpath("templates")
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir()
                  if p.name.endswith(".json"))


def fill(text: str, facts: Facts, where: str) -> str:
    """The text with its placeholders filled; MissingFactError names the fact and the place."""
    out: list[str] = []
    for literal, name, _, conversion in string.Formatter().parse(text):
        out.append(literal)
        if name is None:
            continue
        if name not in facts:
            raise MissingFactError(f"{where}: no fact {name!r} to fill {{{name}}}")
        value = facts[name]
        if not isinstance(value, str):
            raise MissingFactError(f"{where}: the fact {name!r} is a list, not a text")
        out.append(CONVERSIONS[conversion](value))
    return "".join(out)


def items(name: str, facts: Facts, where: str) -> list[str]:
    """A list fact; MissingFactError when it is absent or not a list."""
    if name not in facts:
        raise MissingFactError(f"{where}: no fact {name!r} (a list)")
    value = facts[name]
    if isinstance(value, str):
        raise MissingFactError(f"{where}: the fact {name!r} is a text, not a list")
    return [str(v) for v in value]
