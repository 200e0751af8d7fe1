"""The district style: only our own URLs, official colours, glyphs for Vietnamese labels."""

from __future__ import annotations

import json
import re
import string
import struct
import subprocess
import unicodedata
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text


def test_style_points_only_at_this_platform(client: TestClient) -> None:
    res = client.get("/styles/district.json")
    assert res.status_code == 200
    text = res.text
    urls = re.findall(r"https?://[^\"/]+", text)
    assert urls
    assert set(urls) == {"http://testserver"}
    style = json.loads(text)
    assert style["version"] == 8
    assert "sprite" not in style  # served (below) and decoded by the map when icons come


def test_style_layers_use_layers_the_tiles_have(client: TestClient) -> None:
    style = client.get("/styles/district.json").json()
    tilejson = client.get("/tiles/basemap.json").json()
    assert style["sources"]["district"]["tiles"] == tilejson["tiles"]  # inline, same version
    assert style["sources"]["district"]["bounds"] == tilejson["bounds"]
    have = {layer["id"] for layer in tilejson["vector_layers"]}
    used = {layer["source-layer"] for layer in style["layers"]
            if layer.get("source") == "district"}
    assert used <= have
    assert {"land_use", "parcels", "zoning_blocks", "roads", "wards"} <= used


def test_land_use_fill_uses_the_official_colours(client: TestClient) -> None:
    style = client.get("/styles/district.json").json()
    fill = next(layer for layer in style["layers"] if layer["id"] == "land-use")
    expression = fill["paint"]["fill-color"]
    pairs = dict(zip(expression[2:-1:2], expression[3:-1:2], strict=True))
    assert pairs["ODT"] == "#FFA0FF"
    assert pairs["DGT"] == "#FFAA32"
    assert pairs["SON"] == "#A0FFFF"


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes) -> Iterator[tuple[int, bytes | int]]:
    """The fields of a protobuf message: (number, payload bytes or varint)."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        if key & 7 == 0:
            value, pos = _varint(buf, pos)
            yield key >> 3, value
        else:
            assert key & 7 == 2, "glyph ranges hold only varints and bytes"
            length, pos = _varint(buf, pos)
            yield key >> 3, buf[pos:pos + length]
            pos += length


def _glyph_ids(pbf: bytes) -> set[int]:
    """The code points a glyph range has a glyph for (glyphs.stacks[].glyphs[].id)."""
    ids = set()
    for number, stack in _fields(pbf):
        assert number == 1
        assert isinstance(stack, bytes)
        for field, glyph in _fields(stack):
            if field == 3:
                assert isinstance(glyph, bytes)
                ids.update(v for f, v in _fields(glyph) if f == 1 and isinstance(v, int))
    return ids


def _vietnamese() -> set[str]:
    """Every letter Vietnamese writes: 12 vowels x 6 tones, both cases, and the consonants."""
    vowels = "aăâeêioôơuưy"
    tones = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
    letters = {unicodedata.normalize("NFC", v + t) for v in vowels for t in tones}
    letters |= set("bcdđghklmnpqrstvx") | set(string.ascii_letters + string.digits)
    return letters | {c.upper() for c in letters}


def _brotli_decoded(data: bytes) -> bytes:
    script = ("const z=require('zlib');const c=[];process.stdin.on('data',d=>c.push(d));"
              "process.stdin.on('end',()=>process.stdout.write(z.brotliDecompressSync("
              "Buffer.concat(c))))")
    return subprocess.run(["node", "-e", script], input=data, capture_output=True,
                          check=True).stdout


def test_glyphs_for_vietnamese_are_served(client: TestClient, conn: Connection) -> None:
    style = client.get("/styles/district.json").json()
    fonts = {f for layer in style["layers"] for f in layer.get("layout", {}).get("text-font", [])}
    template = style["glyphs"].replace("http://testserver", "")
    # Every letter of the language and every character of the labels the map draws.
    labels = conn.execute(text(
        "SELECT coalesce(string_agg(name, ''), '') FROM admin_unit UNION ALL "
        "SELECT coalesce(string_agg(name, ''), '') FROM "
        "road UNION ALL SELECT coalesce(string_agg(name, ''), '') FROM water_body UNION ALL "
        "SELECT coalesce(string_agg(block_code, ''), '') FROM zoning_block")).scalars().all()
    needed = {ord(c) for c in "".join(labels) + "Phường " + "".join(_vietnamese())}
    assert {ord(c) for c in "ỹỵđươ"} <= needed
    for font in fonts:
        have: set[int] = set()
        # 0-255, 256-511 (ă đ ĩ ũ ơ ư) and 7680-7935 (ạ ả ấ ... ỹ) hold Vietnamese.
        for glyph_range in ("0-255", "256-511", "7680-7935"):
            url = template.replace("{fontstack}", quote(font)).replace("{range}", glyph_range)
            plain = client.get(url, headers={"Accept-Encoding": "identity"})
            assert plain.status_code == 200, url
            assert "content-encoding" not in plain.headers
            ids = _glyph_ids(plain.content)
            first, last = map(int, glyph_range.split("-"))
            assert ids
            assert first <= min(ids) <= max(ids) <= last
            have |= ids
            zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
            assert zipped.headers["content-encoding"] == "gzip"
            assert zipped.content == plain.content  # decoded by the client
            packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
            assert packed.headers["content-encoding"] == "br"
            assert int(packed.headers["content-length"]) < int(zipped.headers.get(
                "content-length", len(plain.content)))
            assert _brotli_decoded(packed.content) == plain.content
            no_br = client.get(url, headers={"Accept-Encoding": "br;q=0, gzip"})
            assert no_br.headers["content-encoding"] == "gzip"
        assert needed <= have, sorted(chr(c) for c in needed - have)
    # Beyond Latin-1 only Vietnamese's letters are kept (fontnik writes 250 glyphs a range):
    # 256-511 weighed 62 KB gzipped for the 12 letters Vietnamese uses.
    url = template.replace("{fontstack}", quote(sorted(fonts)[0]))
    assert _glyph_ids(client.get(url.replace("{range}", "256-511")).content) == {
        ord(c) for c in "ĂăĐđĨĩŨũƠơƯư"}
    assert len(_glyph_ids(client.get(url.replace("{range}", "7680-7935")).content)) == 90


def test_other_glyph_ranges_are_whole_and_gzipped_here(client: TestClient) -> None:
    url = "/fonts/Noto%20Sans%20Regular/1024-1279.pbf"  # Cyrillic: no copies made at build
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert len(_glyph_ids(plain.content)) > 200
    for accept in ("br, gzip", "gzip"):
        res = client.get(url, headers={"Accept-Encoding": accept})
        assert res.headers["content-encoding"] == "gzip"
        assert res.content == plain.content


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/fonts/Comic%20Sans/0-255.pbf", 404),
        ("/fonts/Noto%20Sans%20Regular/0-256000.pbf", 422),
        ("/fonts/..%2F..%2Fetc/0-255.pbf", 404),
        ("/fonts/Noto%20Sans%20Regular/99990-99999.pbf", 404),
        ("/fonts/Noto%20Sans%20Regular/abc.pbf", 422),
    ],
)
def test_bad_glyph_requests(client: TestClient, path: str, status: int) -> None:
    assert client.get(path).status_code == status


def test_a_fontstack_falls_back_to_a_font_we_have(client: TestClient) -> None:
    res = client.get("/fonts/Open%20Sans%20Regular,Noto%20Sans%20Regular/0-255.pbf")
    assert res.status_code == 200


@pytest.mark.parametrize(("name", "ratio"), [("district", 1), ("district@2x", 2)])
def test_sprite_index_and_sheet_agree(client: TestClient, name: str, ratio: int) -> None:
    index = client.get(f"/sprites/{name}.json").json()
    sheet = client.get(f"/sprites/{name}.png")
    assert sheet.headers["content-type"] == "image/png"
    png = sheet.content
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert {"feedback", "dossier", "selected"} <= set(index)
    for icon in index.values():
        assert icon["pixelRatio"] == ratio
        assert icon["x"] + icon["width"] <= width
        assert icon["y"] + icon["height"] <= height
    assert client.get("/sprites/other.png").status_code == 422
