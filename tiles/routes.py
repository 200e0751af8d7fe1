"""HTTP routes of the vector tiles and their TileJSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from gisapi.deps import ReadConnectionDep
from tiles.service import TileService

router = APIRouter(prefix="/tiles", tags=["tiles"])

MVT = "application/vnd.mapbox-vector-tile"
IMMUTABLE = "public, max-age=31536000, immutable"  # the URL names the data version
REVALIDATE = "public, max-age=300"


@router.get(
    "/{layer}/{z}/{x}/{y}.mvt",
    summary="Mapbox Vector Tile of a layer (or 'basemap': every layer in one tile)",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}, 304: {"description": "Not modified"},
               404: {"description": "Unknown layer or tile outside the matrix"}},
)
async def tile(
    request: Request,
    conn: ReadConnectionDep,
    layer: Annotated[str, Path(max_length=32, examples=["parcels", "basemap"])],
    z: Annotated[int, Path(description="Zoom")],
    x: Annotated[int, Path()],
    y: Annotated[int, Path()],
    v: Annotated[int | None, Query(description="Data version (from the TileJSON)")] = None,
) -> Response:
    """The tile; long-cached when the URL carries the current version."""
    service = TileService(conn, request.app.state.settings.tile_cache_size)
    found = await service.tile(layer, z, x, y)
    current = v is not None and (await service.state()).versions.get(layer) == v
    headers = {"ETag": found.etag, "Cache-Control": IMMUTABLE if current else REVALIDATE,
               "Access-Control-Allow-Origin": "*"}
    if found.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(content=found.data, media_type=MVT, headers=headers)


@router.get("/{layer}.json", summary="TileJSON 3.0 of a layer or of the basemap")
async def tilejson(request: Request, conn: ReadConnectionDep,
                   layer: Annotated[str, Path(max_length=32)]) -> dict[str, Any]:
    """TileJSON with versioned tile URLs."""
    return await TileService(conn).tilejson(layer, str(request.base_url))
