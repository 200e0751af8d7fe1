"""The encoding doctor: DBF text in UTF-8, Windows-1258, TCVN3 (ABC) or VNI, made Unicode.

Each candidate decodes the stored bytes; the one whose non-ASCII characters are Vietnamese
letters wins. When none clearly wins, the planner is shown samples in each and picks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CANDIDATES = ("utf-8", "cp1258", "tcvn3", "vni")
LABELS = {"utf-8": "UTF-8 (Unicode)", "cp1258": "Windows-1258", "tcvn3": "TCVN3 (ABC, .VnTime)",
          "vni": "VNI Windows"}
CLEAR = 0.98

# Bytes 0x80-0xFF of TCVN 5712:1993 (VN1, a superset of the ABC fonts' VN3), generated from
# glibc's iconv TCVN5712-1 table; 0xB0-0xB4 are combining tone marks.
_TCVN_HIGH = (
    "ÀẢÃÁẠẶẬÈẺẼÉẸỆÌỈĨÍỊÒỎÕÓỌỘỜỞỠỚỢÙỦŨ\u00a0ĂÂÊÔƠƯĐăâêôơưđẶ\u0300\u0309\u0303\u0301\u0323"
    "àảãáạẲằẳẵắẴẮẦẨẪẤỀặầẩẫấậèỂẻẽéẹềểễếệìỉỄẾỒĩíịòỔỏõóọồổỗốộờởỡớợùỖủũúụừửữứựỳỷỹýỵỐ"
)
assert len(_TCVN_HIGH) == 128
_TCVN = {0x80 + i: ch for i, ch in enumerate(_TCVN_HIGH)}

_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT = "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"
_CIRCUMFLEX, _BREVE, _HORN = "\u0302", "\u0306", "\u031b"
# VNI Windows writes a letter then marks drawn from its font's high characters (read here as
# Windows-1252): tone marks, circumflex (+tone) and breve (+tone) each have their own glyph.
_VNI_TONE = {"ø": _GRAVE, "ù": _ACUTE, "û": _HOOK, "õ": _TILDE, "ï": _DOT}
_VNI_CIRCUMFLEX = {"â": "", "á": _ACUTE, "à": _GRAVE, "å": _HOOK, "ã": _TILDE, "ä": _DOT}
_VNI_BREVE = {"ê": "", "é": _ACUTE, "è": _GRAVE, "ú": _HOOK, "ü": _TILDE, "ë": _DOT}
_VNI_SINGLE = {"ì": "ì", "í": "í", "ó": "ĩ", "æ": "ỉ", "ò": "ị", "ñ": "đ", "ô": "ơ", "ö": "ư",
               "î": "ỵ"}
_VNI_PATTERN = re.compile("([aeiouyAEIOUYôöÔÖ])([øùûõïâáàåãäêéèúüëØÙÛÕÏÂÁÀÅÃÄÊÉÈÚÜË])|"
                          "([ìíóæòñôöîÌÍÓÆÒÑÔÖÎ])")


def _vni_pair(match: re.Match[str]) -> str:
    if match.group(3):
        single = match.group(3)
        out = _VNI_SINGLE[single.lower()]
        return out.upper() if single.isupper() else out
    base, mark = match.group(1), match.group(2)
    low, upper = mark.lower(), base.isupper()
    if base.lower() in "ôö":  # ơ or ư, then a tone
        letter = _VNI_SINGLE[base.lower()]
        letter = letter.upper() if upper else letter
        if low in _VNI_TONE:
            return unicodedata.normalize("NFC", letter + _VNI_TONE[low])
        return letter + mark
    if low in _VNI_TONE:
        return unicodedata.normalize("NFC", base + _VNI_TONE[low])
    if low in _VNI_CIRCUMFLEX and base.lower() in "aeo":
        return unicodedata.normalize("NFC", base + _CIRCUMFLEX + _VNI_CIRCUMFLEX[low])
    if low in _VNI_BREVE and base.lower() == "a":
        return unicodedata.normalize("NFC", base + _BREVE + _VNI_BREVE[low])
    return match.group(0)


def decode(raw: bytes, encoding: str) -> str:
    """The text of stored bytes in the given candidate encoding (errors replaced)."""
    if encoding == "utf-8":
        text = raw.decode("utf-8", errors="replace").removesuffix("\ufffd")
    elif encoding == "cp1258":
        text = raw.decode("cp1258", errors="replace")
    elif encoding == "tcvn3":
        text = "".join(_TCVN.get(b, chr(b)) if b >= 0x80 else chr(b) for b in raw)
    elif encoding == "vni":
        text = _VNI_PATTERN.sub(_vni_pair, raw.decode("cp1252", errors="replace"))
    else:
        raise ValueError(f"unknown encoding {encoding!r}")
    return unicodedata.normalize("NFC", text)


def _vietnamese_letters() -> frozenset[str]:
    letters = set("đĐ")
    for base in "aeiouyAEIOUY":
        for shape in ("", _CIRCUMFLEX, _BREVE, _HORN):
            for tone in ("", _GRAVE, _ACUTE, _HOOK, _TILDE, _DOT):
                composed = unicodedata.normalize("NFC", base + shape + tone)
                if len(composed) == 1:
                    letters.add(composed)
    return frozenset(letters)


VIETNAMESE = _vietnamese_letters()


_WORD = re.compile(r"[^\W\d_]+")
_TONES = frozenset((_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT))


def _plausible(word: str) -> bool:
    """A Vietnamese syllable carries one tone mark at most."""
    return sum(ch in _TONES for ch in unicodedata.normalize("NFD", word)) <= 1


def score(values: list[bytes], encoding: str) -> float:
    """How Vietnamese the decoded text looks: the share of non-ASCII characters that are
    Vietnamese letters, held down by the share of words that are possible syllables (a wrong
    single-byte table also yields letters, but piles tone marks onto one word)."""
    if encoding == "utf-8":
        for value in values:
            try:
                value.decode("utf-8")
            except UnicodeDecodeError as exc:
                # A DBF field cut at its width may split the last character: that is all.
                if exc.reason != "unexpected end of data":
                    return 0.0
    good = total = words = plausible = 0
    for value in values:
        text = decode(value, encoding)
        for ch in text:
            if ord(ch) >= 128:
                total += 1
                good += ch in VIETNAMESE
        for word in _WORD.findall(text):
            if not word.isascii():
                words += 1
                plausible += _plausible(word)
    if not total:
        return 1.0
    return min(good / total, plausible / words if words else 1.0)


@dataclass(frozen=True)
class Verdict:
    """The encoding chosen, or the samples to ask about."""

    encoding: str | None
    scores: dict[str, float]
    samples: list[dict[str, Any]]


def diagnose(columns: dict[str, list[bytes]]) -> Verdict:
    """Pick the encoding of the text attributes, or say it is unclear."""
    values = [v for column in columns.values() for v in column if any(b >= 0x80 for b in v)]
    if not values:
        return Verdict("utf-8", dict.fromkeys(CANDIDATES, 1.0), [])
    scores = {c: round(score(values, c), 4) for c in CANDIDATES}
    clear = [c for c in CANDIDATES if scores[c] >= CLEAR]
    if len(clear) == 1:
        return Verdict(clear[0], scores, [])
    distinct = list(dict.fromkeys(values))[:3]
    samples = [{"value": c, "label": LABELS[c], "score": scores[c],
                "samples": [decode(v, c) for v in distinct]} for c in CANDIDATES]
    samples.sort(key=lambda s: -scores[str(s["value"])])
    return Verdict(None, scores, samples)


def converter(encoding: str) -> Callable[[str], str] | None:
    """For text read as Latin-1 (bytes kept): the conversion to Unicode; None when GDAL can
    decode the encoding itself."""
    if encoding in ("tcvn3", "vni"):
        return lambda text: decode(text.encode("latin1"), encoding)
    return None
