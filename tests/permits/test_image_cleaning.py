"""The harmless form of an uploaded image (permits/documents/sniff.py): an upright JPEG keeps
its coded pixels with its metadata dropped; whatever that cannot do safely is encoded again."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags, Image

from permits.documents import sniff
from tests.permits.document_files import GPS, ROTATED_90

XMP = (b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><exif:GPSLatitude>10,44.04N"
       b"</exif:GPSLatitude></x:xmpmeta>")


def _segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(body) + 2).to_bytes(2, "big") + body


def _photo(orientation: int = 1, progressive: bool = False, side: int = 96,
           appended: bool = True) -> bytes:
    """A camera's JPEG: its place and model in EXIF, an XMP packet, a comment, a JFIF
    thumbnail extension, and (`appended`) a ZIP archive after its end."""
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 255, (side, side * 2, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[ExifTags.Base.Model] = "Điện thoại của An"
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(GPS)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90, exif=exif, progressive=progressive,
                                 comment=b"Nha cua An, 12 Nguyen Thi Thap")
    data = out.getvalue()
    extra = (_segment(0xE1, XMP) + _segment(0xE0, b"JFXX\x00\x10" + os.urandom(40))
             + _segment(0xED, b"Photoshop 3.0\x008BIM" + b"\x00" * 12))
    archive = b"PK\x03\x04" + os.urandom(64) + b"PK\x05\x06" + b"\x00" * 18
    return data[:2] + extra + data[2:] + (archive if appended else b"")


def _clean(tmp_path: Path, data: bytes) -> tuple[str | None, bytes]:
    source, out = tmp_path / "in.jpg", tmp_path / "out.jpg"
    source.write_bytes(data)
    problem = sniff.clean_image(source, sniff.JPEG, out)
    return problem, out.read_bytes() if out.exists() else b""


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.mark.parametrize(("progressive", "appended"), [
    (False, True), (True, True), (False, False)],
    ids=["baseline", "progressive", "ending-at-its-end"])
def test_an_upright_jpeg_keeps_its_coded_pixels_and_loses_every_trace_of_its_owner(
        tmp_path: Path, progressive: bool, appended: bool) -> None:
    original = _photo(progressive=progressive, appended=appended)
    problem, cleaned = _clean(tmp_path, original)
    assert problem is None
    image = Image.open(io.BytesIO(cleaned))
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info
    assert "comment" not in image.info
    assert "xmp" not in image.info
    assert "photoshop" not in image.info
    for trace in (b"Exif", b"http://ns.adobe.com", b"Nguyen", b"JFXX", b"8BIM",
                  b"PK\x03\x04", b"PK\x05\x06"):
        assert trace not in cleaned, trace
    assert cleaned.endswith(b"\xff\xd9")
    # The very same pixels: nothing decoded and encoded again, so nothing lost.
    assert np.array_equal(_pixels(cleaned), _pixels(original))
    assert image.info.get("progressive", 0) == int(progressive)


def test_a_jpeg_on_its_side_is_turned_upright(tmp_path: Path) -> None:
    problem, cleaned = _clean(tmp_path, _photo(orientation=ROTATED_90))
    assert problem is None
    image = Image.open(io.BytesIO(cleaned))
    assert image.size == (96, 192)
    assert dict(image.getexif()) == {}
    assert b"Nguyen" not in cleaned


def test_markup_hidden_in_the_coded_pixels_is_encoded_away(tmp_path: Path) -> None:
    """The coded data of a scan can carry any bytes but 0xFF: a polyglot hides there."""
    data = bytearray(_photo())
    scan = data.index(b"\xff\xda")
    start = scan + 2 + int.from_bytes(data[scan + 2:scan + 4], "big") + 40
    payload = b"<script>alert(1)</script>"
    data[start:start + len(payload)] = payload
    problem, cleaned = _clean(tmp_path, bytes(data))
    assert problem is None
    assert b"<script" not in cleaned.lower()
    assert sniff.content_type(tmp_path / "out.jpg")
    assert dict(Image.open(io.BytesIO(cleaned)).getexif()) == {}


@pytest.mark.parametrize("cut", [0.5, 0.97], ids=["half", "near-the-end"])
def test_a_cut_jpeg_is_refused(tmp_path: Path, cut: float) -> None:
    data = _photo(side=256)
    end = data.index(b"\xff\xd9", len(data) // 3)
    problem, _ = _clean(tmp_path, data[:int(end * cut)])
    assert problem == "the image cannot be read"


def test_a_jpeg_structure_the_copy_does_not_know_is_left_to_the_encoder(tmp_path: Path) -> None:
    """A second start-of-image inside: not a structure the segment copy knows."""
    data = _photo()
    odd = data[:2] + _segment(0xE3, b"x") + b"\xff\xd8" + data[2:]
    assert sniff._jpeg_without_metadata(odd) is None
    assert sniff._jpeg_without_metadata(_photo()) is not None
    assert sniff._jpeg_without_metadata(_photo(appended=False)) is not None
