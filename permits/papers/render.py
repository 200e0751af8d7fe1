"""A paper as a PDF: the template's blocks filled from the facts, Noto Serif embedded (a
subset), the dossier's code and a QR code of its public status page on every paper."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import segno
from fpdf import FPDF

from core.settings import get_settings
from permits.papers.template import (
    Facts,
    Heading,
    ListBlock,
    MissingFactError,
    Paragraph,
    Signature,
    Table,
    Template,
    fill,
    items,
)

FONT = "NotoSerif"
FONT_FILES = {"": "NotoSerif-Regular.ttf", "B": "NotoSerif-Bold.ttf"}
MARKERS: dict[str, Callable[[int], str]] = {
    "1.": lambda n: f"{n}.", "a)": lambda n: f"{chr(ord('a') + n - 1)})", "-": lambda n: "-"}


@dataclass(frozen=True)
class PageStyle:
    """Size, margins (mm) and type sizes (pt) of one page size."""

    size: tuple[float, float]
    left: float
    top: float
    right: float
    bottom: float
    body: float
    small: float
    header: float
    heading: float
    qr_mm: float
    signing_room: float  # mm left blank above the signer's name


# A4 as Decree 30/2020 sets an official letter (13 pt, margins 20-30 mm); A5 scaled to fit.
STYLES = {
    "A5": PageStyle((148, 210), 15, 10, 12, 10, 10, 8, 8.5, 12, 22, 16),
    "A4": PageStyle((210, 297), 30, 20, 15, 20, 13, 10, 12, 14, 30, 25),
}


class _Paper(FPDF):
    """FPDF with the legal basis in every page's foot."""

    basis = ""
    style: PageStyle

    def footer(self) -> None:
        """The form's legal basis, small, at the foot of each page."""
        self.set_y(-self.style.bottom + 2)
        self.set_font(FONT, "", self.style.small - 1)
        self.set_text_color(90)
        self.multi_cell(0, 3.5, self.basis, align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0)


def qr_png(status_url: str) -> bytes:
    """The status page's address as a QR code (PNG, with the quiet zone scanners need)."""
    out = io.BytesIO()
    segno.make(status_url, error="m", micro=False).save(out, kind="png", scale=4, border=4)
    return out.getvalue()


def _line(size: float) -> float:
    """A line's height in mm for a type size in pt (1.35 leading)."""
    return size * 0.3528 * 1.35


def render(template: Template, facts: Facts, status_url: str, *,
           fonts_dir: Path | None = None, created_at: datetime | None = None) -> bytes:
    """The paper as PDF bytes; MissingFactError when a placeholder has no fact."""
    code = fill("{code}", facts, f"{template.code}: the dossier's code")
    style = STYLES[template.page]
    pdf = _Paper(unit="mm", format=style.size)
    pdf.style = style
    pdf.basis = template.legal_basis.text
    _fonts(pdf, fonts_dir or get_settings().fonts_dir)
    pdf.set_margins(style.left, style.top, style.right)
    # Room for the foot's legal basis (two small lines) below the flowing text.
    pdf.set_auto_page_break(True, margin=style.bottom + 8)
    pdf.set_title(f"{template.title} - {code}")
    pdf.set_subject(template.legal_basis.text)
    pdf.set_keywords(code)
    pdf.set_creator("civicmap")
    pdf.set_lang("vi-VN")
    if "agency" in facts:
        pdf.set_author(fill("{agency}", facts, template.code))
    if created_at is not None:
        pdf.set_creation_date(created_at)
    pdf.add_page()
    _header(pdf, template, facts)
    for n, block in enumerate(template.blocks):
        where = f"{template.code}.json block {n} ({block.type})"
        if isinstance(block, Heading):
            pdf.ln(2)
            pdf.set_font(FONT, "B", style.heading)
            _text(pdf, fill(block.text, facts, where), style.heading, "C")
            pdf.ln(1)
        elif isinstance(block, Paragraph):
            pdf.set_font(FONT, "B" if block.bold else "", style.body)
            _text(pdf, fill(block.text, facts, where), style.body, block.align)
        elif isinstance(block, ListBlock):
            _list(pdf, block, facts, where)
        elif isinstance(block, Table):
            _table(pdf, block, facts, where)
        elif isinstance(block, Signature):
            _signature(pdf, block, facts, where)
        else:  # pragma: no cover - the loader knows no other block
            raise MissingFactError(f"{where}: unknown block")
    _trace(pdf, code, status_url)
    return bytes(pdf.output())


def _fonts(pdf: FPDF, folder: Path) -> None:
    for style, name in FONT_FILES.items():
        path = folder / name
        if not path.is_file():
            raise RuntimeError(f"the papers' font {name} is not in {folder} "
                               "(CIVICMAP_FONTS_DIR)")
        pdf.add_font(FONT, style, str(path))


def _text(pdf: _Paper, text: str, size: float, align: str = "L") -> None:
    pdf.multi_cell(0, _line(size), text, align=align, new_x="LMARGIN", new_y="NEXT")


def _header(pdf: _Paper, template: Template, facts: Facts) -> None:
    """Agency left, national motto right, each centred in its column; then number and date."""
    style = pdf.style
    where = f"{template.code}.json header"
    left_w = pdf.epw * 0.46
    if template.form_label:
        pdf.set_font(FONT, "", style.small)
        _text(pdf, fill(template.form_label, facts, where), style.small, "R")
    top = pdf.get_y()
    left = [(fill(line, facts, where), "B" if n == len(template.header.left) - 1 else "")
            for n, line in enumerate(template.header.left)]
    if template.header.number:
        left.append((fill(template.header.number, facts, where), ""))
    right = [(fill(line, facts, where), "B") for line in template.header.right]
    right.append((fill(template.header.place_date, facts, where), ""))
    below = top
    for x, width, lines in ((pdf.l_margin, left_w, left),
                            (pdf.l_margin + left_w, pdf.epw - left_w, right)):
        pdf.set_y(top)
        for text, bold in lines:
            _fit(pdf, text, bold, style.header, width)
            pdf.set_x(x)
            pdf.multi_cell(width, _line(style.header), text, align="C", new_x="LMARGIN",
                           new_y="NEXT")
        below = max(below, pdf.get_y())
    pdf.set_y(below + 2)


def _fit(pdf: _Paper, text: str, bold: str, size: float, width: float) -> None:
    """The font for a header line, a little smaller where that keeps it on one line (the
    national motto broken in two reads wrong); a long agency name still wraps."""
    room = width - 2 * pdf.c_margin
    while True:
        pdf.set_font(FONT, bold, size)
        if size <= 7 or pdf.get_string_width(text) <= room:
            return
        size -= 0.5


def _list(pdf: _Paper, block: ListBlock, facts: Facts, where: str) -> None:
    style = pdf.style
    h = _line(style.body)
    pdf.set_font(FONT, "", style.body)
    if block.intro:
        _text(pdf, fill(block.intro, facts, where), style.body)
    shown = items(block.items, facts, where) or ["(không có)"]
    indent, mark_w = 5.0, 6.0
    for n, item in enumerate(shown, 1):
        pdf.set_x(pdf.l_margin + indent)
        pdf.cell(mark_w, h, MARKERS[block.marker](n))
        pdf.multi_cell(pdf.epw - indent - mark_w, h, item, align="L", new_x="LMARGIN",
                       new_y="NEXT")


def _table(pdf: _Paper, block: Table, facts: Facts, where: str) -> None:
    style = pdf.style
    h = _line(style.body)
    label_w = pdf.epw * block.label_width
    value_w = pdf.epw - label_w
    pdf.set_font(FONT, "", style.body)
    for label, value in block.rows:
        label_text = fill(label, facts, where) + ":"
        value_text = fill(value, facts, where)
        lines = max(_count_lines(pdf, label_w, h, label_text),
                    _count_lines(pdf, value_w, h, value_text))
        if pdf.will_page_break(lines * h):
            pdf.add_page()
        top = pdf.get_y()
        pdf.multi_cell(label_w, h, label_text, align="L", new_x="RIGHT", new_y="TOP")
        pdf.multi_cell(value_w, h, value_text, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(top + lines * h)


def _count_lines(pdf: _Paper, width: float, height: float, text: str) -> int:
    lines = pdf.multi_cell(width, height, text, dry_run=True, output="LINES")
    return len(lines) if isinstance(lines, list) else 1


def _signature(pdf: _Paper, block: Signature, facts: Facts, where: str) -> None:
    style = pdf.style
    h = _line(style.body)
    column = pdf.epw / len(block.signers)
    # Kept on one page: a signer's title without the room to sign under it is no use.
    if pdf.will_page_break(style.signing_room + 5 * h):
        pdf.add_page()
    pdf.ln(3)
    top = pdf.get_y()
    bottom = top
    for n, signer in enumerate(block.signers):
        x = pdf.l_margin + n * column
        pdf.set_xy(x, top)
        pdf.set_font(FONT, "B", style.body)
        pdf.multi_cell(column, h, fill(signer.title, facts, where), align="C",
                       new_x="LEFT", new_y="NEXT")
        if signer.hint:
            pdf.set_font(FONT, "", style.small)
            pdf.multi_cell(column, _line(style.small), fill(signer.hint, facts, where),
                           align="C", new_x="LEFT", new_y="NEXT")
        pdf.set_y(pdf.get_y() + style.signing_room)
        if signer.name:
            pdf.set_x(x)
            pdf.set_font(FONT, "B", style.body)
            pdf.multi_cell(column, h, fill(signer.name, facts, where), align="C",
                           new_x="LEFT", new_y="NEXT")
        bottom = max(bottom, pdf.get_y())
    pdf.set_xy(pdf.l_margin, bottom + 2)


def _trace(pdf: _Paper, code: str, status_url: str) -> None:
    """The code and the QR code of the status page, beside each other, after the body."""
    style = pdf.style
    size = style.qr_mm
    if pdf.will_page_break(size + 2):
        pdf.add_page()
    top = pdf.get_y() + 1
    pdf.image(io.BytesIO(qr_png(status_url)), x=pdf.l_margin, y=top, w=size, h=size)
    h = _line(style.small)
    pdf.set_xy(pdf.l_margin + size + 3, top + 2)
    pdf.set_font(FONT, "B", style.small + 1)
    pdf.multi_cell(pdf.epw - size - 3, h, f"Mã hồ sơ: {code}", align="L", new_x="LEFT",
                   new_y="NEXT")
    pdf.set_font(FONT, "", style.small)
    pdf.multi_cell(pdf.epw - size - 3, h, "Tra cứu tình trạng hồ sơ: quét mã QR hoặc mở "
                   f"{status_url}", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), top + size))
