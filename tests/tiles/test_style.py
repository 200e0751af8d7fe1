"""The district style: only our own URLs, official colours, glyphs for Vietnamese labels."""

from __future__ import annotations

import json
import re
import struct
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient


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
    used = {layer["source-layer"] for layer in style["layers"] if "source-layer" in layer}
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


def test_glyphs_for_vietnamese_are_served(client: TestClient) -> None:
    style = client.get("/styles/district.json").json()
    fonts = {f for layer in style["layers"] for f in layer.get("layout", {}).get("text-font", [])}
    template = style["glyphs"].replace("http://testserver", "")
    for font in fonts:
        # 7680-7935 holds ạ ả ấ ầ ẩ ẫ ậ ... ỹ; 0-255 and 256-511 hold the rest of Vietnamese.
        for glyph_range in ("0-255", "256-511", "7680-7935"):
            url = template.replace("{fontstack}", quote(font)).replace("{range}", glyph_range)
            res = client.get(url)
            assert res.status_code == 200, url
            assert res.headers["content-encoding"] == "gzip"  # about half the bytes
            assert font.encode() in res.content
            assert len(res.content) > 10_000
            plain = client.get(url, headers={"Accept-Encoding": "identity"})
            assert "content-encoding" not in plain.headers
            assert plain.content == res.content


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
