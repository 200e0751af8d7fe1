"""What a file really is, read from its bytes (never its name or declared type), what in it
is hostile, and the harmless form of an image.

Each check answers the reason it refuses the file, or None; the service names the document.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
SIGNATURES = ((b"%PDF-", PDF), (b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG))
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}
PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG"}
CHUNK = 1024 * 1024
# A phone's camera makes 12 to 50 million pixels; past this an image is refused from its
# header, before a pixel is decoded (a few KB of PNG can claim 900 million).
MAX_PIXELS = 60_000_000
JPEG_QUALITY = 90
ORIENTATION = 0x0112  # the EXIF tag
# The segments of a JPEG's picture: its frame headers and their Huffman and arithmetic tables
# (0xC0–0xCF), quantisation tables, restart interval, number of lines.
PICTURE_SEGMENTS = frozenset({*range(0xC0, 0xD0), 0xDB, 0xDD, 0xDC})
# Markup or code riding inside a file (a polyglot that a browser or an interpreter would run):
# a tag must be followed by a delimiter, so that random compressed bytes seldom match.
# Searched in lower-cased chunks, every alternative starting with "<" (and the script URL on
# its own), so that the engine skips from one "<" to the next: case-insensitive, or with an
# alternative of another first byte, it stepped through every byte (a tenth of a second a MB).
MARKUP = re.compile(rb"<(?:script|html|body|iframe|svg|object|embed|frameset)[\s>/]"
                    rb"|<(?:!doctype\s+html|\?php)")
# A literal, looked for with bytes.find (a vectorised scan), not the regex engine: a tenth
# of the time on text, half on compressed bytes.
SCRIPT_URL = b"javascript:"
# PDF names that run something or carry a file, as keys or as the value of /S, /Type, /Subtype.
PDF_NAMES = {"/JavaScript": "JavaScript", "/JS": "JavaScript", "/Launch": "a launch action",
             "/EmbeddedFile": "an embedded file", "/EmbeddedFiles": "embedded files",
             "/EF": "an embedded file", "/FileAttachment": "an attached file",
             "/RichMedia": "rich media", "/RichMediaExecute": "rich media",
             "/GoToE": "a link into an embedded file", "/ImportData": "a data import",
             "/XFA": "an XFA form (it can run scripts)"}
NAMED_BY = ("/S", "/Type", "/Subtype")
# The long ones are looked for in the raw bytes too, for objects that a broken cross-reference
# table would hide from the parser (short ones would match random compressed bytes).
PDF_RAW = re.compile(b"(?:" + b"|".join(re.escape(n.encode()) for n in PDF_NAMES if len(n) > 5)
                     + rb")(?![A-Za-z0-9])")
PDF_MAX_OBJECTS = 500_000
PDF_MAX_DEPTH = 64


def content_type(path: Path) -> str | None:
    """The type the file's first bytes say (PDF, JPEG, PNG), or None for anything else."""
    with open(path, "rb") as f:
        head = f.read(16)
    return next((kind for magic, kind in SIGNATURES if head.startswith(magic)), None)


def _search(path: Path, *patterns: re.Pattern[bytes], needles: tuple[bytes, ...] = (),
            lower: bool = False) -> bytes | None:
    """The first match of any of the patterns, or the first of the literal `needles` found,
    in the file (`lower`: in its lower-cased bytes), read once, a chunk at a time
    (overlapping, so a match across two chunks is found)."""
    overlap = max(64, *(len(n) for n in needles)) if needles else 64
    tail = b""
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            window = tail + (chunk.lower() if lower else chunk)
            found = _first(window, patterns, needles)
            if found is not None:
                return found
            tail = window[-overlap:]
    return None


def _first(data: bytes, patterns: tuple[re.Pattern[bytes], ...],
           needles: tuple[bytes, ...]) -> bytes | None:
    for pattern in patterns:
        match = pattern.search(data)
        if match:
            return match.group(0)
    return next((needle for needle in needles if data.find(needle) >= 0), None)


def contains(path: Path, needle: bytes) -> bool:
    """Whether the file holds these exact bytes anywhere."""
    return _search(path, needles=(needle,)) is not None


def polyglot(source: Path | bytes) -> str | None:
    """Why the file (or these bytes, already in memory) is also something else: an archive,
    or markup and script."""
    if isinstance(source, bytes):
        if zipfile.is_zipfile(io.BytesIO(source)):
            return "it is also a ZIP archive"
        markup = _first(source.lower(), (MARKUP,), (SCRIPT_URL,))
    else:
        if zipfile.is_zipfile(source):
            return "it is also a ZIP archive"
        markup = _search(source, MARKUP, needles=(SCRIPT_URL,), lower=True)
    if markup is not None:
        return f"it carries markup or script ({markup.decode('latin-1').strip()!r})"
    return None


def pdf_problem(path: Path) -> str | None:
    """Why a PDF is refused: not a whole PDF, unreadable, locked, or carrying actions or
    files (JavaScript, launch actions, embedded files)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(5)
        f.seek(max(0, size - 1024))
        end = f.read()
    if head != b"%PDF-" or b"%%EOF" not in end:
        return "it is not a whole PDF (it must start with %PDF- and end with %%EOF)"
    raw = _search(path, PDF_RAW)
    if raw is not None:
        return f"the PDF carries {PDF_NAMES[raw.decode()]}"
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return "the PDF is password-protected"
        return _walk_pdf(reader)
    except RecursionError:
        return "the PDF is nested too deeply to check"
    except Exception:  # pypdf raises many kinds on a hostile file: every one is a refusal
        return "the PDF cannot be read"


def _walk_pdf(reader: PdfReader) -> str | None:
    """Every object of the file (those in object streams too), and the trailer."""
    seen = 0
    for number, generation in _object_numbers(reader):
        seen += 1
        if seen > PDF_MAX_OBJECTS:
            return "the PDF has too many objects to check"
        found = _forbidden(reader.get_object(IndirectObject(number, generation, reader)), 0)
        if found:
            return f"the PDF carries {found}"
    found = _forbidden(reader.trailer, 0)
    return f"the PDF carries {found}" if found else None


def _object_numbers(reader: PdfReader) -> Iterator[tuple[int, int]]:
    for generation, numbers in reader.xref.items():
        for number in numbers:
            yield number, generation
    for number in reader.xref_objStm:
        yield number, 0


def _forbidden(obj: Any, depth: int) -> str | None:
    """What in this object (and the direct objects inside it) runs or carries a file."""
    if depth > PDF_MAX_DEPTH:
        return "objects nested too deeply"
    if isinstance(obj, DictionaryObject):
        for key, value in obj.items():
            if key in PDF_NAMES:
                return PDF_NAMES[key]
            if key in NAMED_BY and isinstance(value, NameObject) and value in PDF_NAMES:
                return PDF_NAMES[value]
            if not isinstance(value, IndirectObject):
                found = _forbidden(value, depth + 1)
                if found:
                    return found
    elif isinstance(obj, ArrayObject):
        for item in obj:
            if not isinstance(item, IndirectObject):
                found = _forbidden(item, depth + 1)
                if found:
                    return found
    return None


def clean_image(path: Path, kind: str, out: Path) -> str | None:
    """Write the image again to `out`: upright, with no EXIF (no place, no camera), no
    comments, nothing appended. An upright JPEG keeps its compressed pixels (its metadata
    segments dropped, `_jpeg_without_metadata`) once every one of them decodes; anything
    else is decoded and encoded again, its orientation applied. The reason when it cannot."""
    data = path.read_bytes()  # read once: decoded, then copied without its metadata
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[kind]]) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    return (f"the image has too many pixels ({width}×{height}; at most "
                            f"{MAX_PIXELS // 1_000_000} million)")
                if kind == JPEG and image.getexif().get(ORIENTATION, 1) == 1:
                    # Decoded at an eighth of its size: each block's coded data read whole
                    # (a broken or cut file fails here), at a fraction of the cost.
                    image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
                    image.load()
                    if _strip_jpeg(data, out):
                        return None
            with Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[kind]]) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
                _save(upright, kind, out)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return "the image has too many pixels"
    except (OSError, SyntaxError, ValueError, EOFError):  # Pillow's ways of saying "broken"
        return "the image cannot be read"
    return None


def _strip_jpeg(data: bytes, out: Path) -> bool:
    """Write the JPEG without its metadata; False (nothing written) when its structure is one
    this does not know, or what is left still carries markup or an archive (a polyglot can
    hide in the coded pixels: encoding them again is what removes it)."""
    stripped = _jpeg_without_metadata(data)
    if stripped is None or polyglot(stripped) is not None:
        return False
    out.write_bytes(stripped)
    return True


def _jpeg_without_metadata(data: bytes) -> bytes | None:
    """The JPEG's segments that make its picture (frames, tables, scans) with its colour
    profile, its Adobe colour transform and a JFIF header without a thumbnail; no EXIF, XMP,
    IPTC, comments or other application segments, nothing after its end. None for a
    structure outside baseline and progressive JPEG."""
    if not data.startswith(b"\xff\xd8"):
        return None
    kept = [b"\xff\xd8"]
    pos, size = 2, len(data)
    while True:
        if pos >= size or data[pos] != 0xFF:
            return None
        while pos < size and data[pos] == 0xFF:  # fill bytes before a marker
            pos += 1
        if pos >= size:
            return None
        marker = data[pos]
        if marker == 0xD9:
            kept.append(b"\xff\xd9")
            return b"".join(kept)
        if pos + 3 > size:
            return None
        length = int.from_bytes(data[pos + 1:pos + 3], "big")
        end = pos + 1 + length
        if length < 2 or end > size:
            return None
        body = data[pos + 3:end]
        if marker == 0xDA:
            # The scan's coded data runs to the next marker that is neither a stuffed zero
            # nor a restart.
            scan = end
            while True:
                scan = data.find(b"\xff", scan)
                if scan < 0 or scan + 1 >= size:
                    return None
                following = data[scan + 1]
                if following != 0x00 and not 0xD0 <= following <= 0xD7:
                    break
                scan += 2
            kept.append(b"\xff" + data[pos:scan])
            pos = scan
            continue
        if marker in PICTURE_SEGMENTS:
            kept.append(b"\xff" + data[pos:end])
        elif marker == 0xE0 and body.startswith(b"JFIF\x00") and len(body) >= 14:
            # Version, units and density; no thumbnail (a small copy of the photo).
            kept.append(b"\xff\xe0\x00\x10" + body[:12] + b"\x00\x00")
        elif (marker == 0xE2 and body.startswith(b"ICC_PROFILE\x00")) or (
                marker == 0xEE and body.startswith(b"Adobe")):
            kept.append(b"\xff" + data[pos:end])
        elif not (0xE0 <= marker <= 0xEF or marker == 0xFE):
            return None  # hierarchical, arithmetic extensions, a stray restart: not ours
        pos = end


def _save(image: Image.Image, kind: str, out: Path) -> None:
    """The pixels alone, with the colour profile (it keeps colours right; it says nothing
    of the person) and a PNG's transparency."""
    profile = image.info.get("icc_profile")
    transparency = image.info.get("transparency")
    image.info = {}
    if kind == JPEG:
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=JPEG_QUALITY, icc_profile=profile)
        return
    options: dict[str, Any] = {"icc_profile": profile}
    if transparency is not None:
        options["transparency"] = transparency
    image.save(out, "PNG", **{k: v for k, v in options.items() if v is not None})
