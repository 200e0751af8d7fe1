"""HTTP routes of the vector tiles and their TileJSON."""

from __future__ import annotations

import json
from functools import lru_cache
from gzip import compress
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response

from core.deps import ReadConnectionDep
from core.errors import NotFoundError
from core.http import accepted_codings, packed_copy
from core.routing import Router
from tiles.http import IMMUTABLE, LIVE, MVT, REVALIDATE, tile_answer
from tiles.layers import LIVE_LAYERS
from tiles.service import Tile, TileService
from tiles.sprite import sprite

router = Router(prefix="/tiles", tags=["tiles"])



@router.get(
    "/{layer}/{z}/{x}/{y}.mvt",
    summary="Mapbox Vector Tile of a layer (or 'basemap': every layer in one tile; "
            "'feedback': citizen reports, live)",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}, 304: {"description": "Not modified"},
               404: {"description": "Unknown layer or tile outside the matrix"}},
)
async def tile(
    request: Request,
    layer: Annotated[str, Path(max_length=32, examples=["parcels", "basemap"])],
    z: Annotated[int, Path(description="Zoom")],
    x: Annotated[int, Path()],
    y: Annotated[int, Path()],
    v: Annotated[int | None, Query(description="Data version (from the TileJSON)")] = None,
) -> Response:
    """The tile; long-cached when the URL carries the current version."""
    cache_size = request.app.state.settings.tile_cache_size
    if layer in LIVE_LAYERS:
        async with request.app.state.read_pool.acquire() as conn:
            live = await TileService(conn).live_tile(layer, z, x, y)
        return _tile_response(request, live, False, LIVE)
    async with request.app.state.read_pool.acquire() as conn:
        service = TileService(conn, cache_size)
        found = await service.tile(layer, z, x, y)
        current = v is not None and (await service.state()).versions.get(layer) == v
    return _tile_response(request, found, current)


def _tile_response(request: Request, found: Tile, current: bool,
                   cache_control: str | None = None) -> Response:
    status, headers, body = tile_answer(found, current, request.headers.get("if-none-match", ""),
                                        request.headers.get("accept-encoding", ""),
                                        cache_control)
    return Response(content=body, status_code=status, headers=headers)


@router.get("/{layer}.json", summary="TileJSON 3.0 of a layer or of the basemap")
async def tilejson(request: Request, conn: ReadConnectionDep,
                   layer: Annotated[str, Path(max_length=32)]) -> dict[str, Any]:
    """TileJSON with versioned tile URLs."""
    return await TileService(conn).tilejson(layer, str(request.base_url))


assets = Router(tags=["map assets"])

FONTSTACK = r"^[A-Za-z0-9 ,]{1,200}$"
GLYPH_RANGE = r"^\d{1,5}-\d{1,5}$"


@assets.get("/styles/district.json", summary="MapLibre style of the district map")
async def style(request: Request, conn: ReadConnectionDep) -> Response:
    """The style: our basemap tiles, our glyphs, the official land-use colours."""
    service = TileService(conn)
    document = await service.style(str(request.base_url))
    return Response(content=json.dumps(document, ensure_ascii=False),
                    media_type="application/json",
                    headers={"Cache-Control": REVALIDATE})


@assets.get("/fonts/{fontstack}/{glyph_range}.pbf", summary="Glyphs (SDF) for map labels")
async def glyphs(
    request: Request,
    fontstack: Annotated[str, Path(pattern=FONTSTACK, examples=["Noto Sans Regular"])],
    glyph_range: Annotated[str, Path(pattern=GLYPH_RANGE, examples=["7680-7935"])],
) -> Response:
    """One glyph range of the first font of the stack we have."""
    folder = FsPath(request.app.state.settings.var_dir) / "glyphs"
    accepted = accepted_codings(request.headers.get("accept-encoding", ""))
    for font in (f.strip() for f in fontstack.split(",")):
        path = folder / font / f"{glyph_range}.pbf"
        if font and path.parent.parent == folder and path.is_file():
            headers = {"Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
            copy = packed_copy(path, accepted)  # the ranges a first map loads, from the build
            source, zipped = path, copy is None and "gzip" in accepted
            if copy is not None:
                headers["Content-Encoding"], source = copy
            elif zipped:
                headers["Content-Encoding"] = "gzip"
            return Response(content=_glyphs(source, source.stat().st_mtime_ns, zipped),
                            media_type="application/x-protobuf", headers=headers)
    raise NotFoundError(f"No glyphs {glyph_range} for '{fontstack}'", "fontstack")


@lru_cache(maxsize=64)
def _glyphs(path: FsPath, mtime_ns: int, zipped: bool) -> bytes:
    """A glyph file's bytes, gzipped here when asked for a range the build left uncompressed."""
    data = path.read_bytes()
    return compress(data, 6) if zipped else data


SPRITES = {"district": 1, "district@2x": 2}


@assets.get("/sprites/{name}.{kind}", summary="The map's icon sprite (index or sheet)")
async def sprite_file(
    name: Annotated[str, Path(pattern=r"^district(@2x)?$")],
    kind: Annotated[str, Path(pattern=r"^(json|png)$")],
) -> Response:
    """The sprite index (JSON) or sheet (PNG) at 1x or 2x."""
    index, sheet = sprite(SPRITES[name])
    if kind == "json":
        return Response(content=json.dumps(index), media_type="application/json",
                        headers={"Cache-Control": REVALIDATE})
    return Response(content=sheet, media_type="image/png",
                    headers={"Cache-Control": REVALIDATE})
