"""How a tile is answered over HTTP (headers, 304, gzip), and the hot path that skips routing."""

from __future__ import annotations

import re
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from core.http import BASE_HEADERS
from tiles.layers import LIVE_LAYERS, MAX_ZOOM
from tiles.service import Tile, TileService, memory_hit

MVT = "application/vnd.mapbox-vector-tile"
IMMUTABLE = "public, max-age=31536000, immutable"  # the URL names the data version
REVALIDATE = "public, max-age=300"
# Live layers (citizen reports) change all day and their "late" with the date alone: a short
# life, then the client revalidates with the ETag (a 304 when nothing moved in the tile).
# MapLibre refreshes expired tiles on its own, so a map left open follows the reports.
LIVE = "public, max-age=30"

TILE_PATH = re.compile(r"^/tiles/([a-z_]{1,32})/(\d{1,2})/(\d{1,7})/(\d{1,7})\.mvt$")
VERSION_QUERY = re.compile(rb"(?:^|&)v=(\d{1,9})(?:&|$)")


def tile_answer(tile: Tile, current: bool, if_none_match: str, accept_encoding: str,
                cache_control: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body for a tile (304 when the client has it)."""
    # MVT compresses about 2.5x; the gzip representation gets its own strong ETag.
    gzip = "gzip" in accept_encoding and len(tile.data) > 512
    etag = tile.etag[:-1] + '-gz"' if gzip else tile.etag
    cache = cache_control or (IMMUTABLE if current else REVALIDATE)
    headers = {"ETag": etag, "Cache-Control": cache,
               "Vary": "Accept-Encoding", "Access-Control-Allow-Origin": "*", **BASE_HEADERS}
    if etag in if_none_match:
        return 304, headers, b""
    headers["Content-Type"] = MVT
    if gzip:
        headers["Content-Encoding"] = "gzip"
        return 200, headers, tile.gzipped
    return 200, headers, tile.data


def hot_tile(method: str, path: str, query: bytes, if_none_match: str,
             accept_encoding: str) -> tuple[int, dict[str, str], bytes] | None:
    """The answer to a GET or HEAD of a tile this worker holds in memory, else None.

    The body is the GET's in both cases: a HEAD answer sends its length, not its bytes.
    """
    if method not in ("GET", "HEAD"):
        return None
    match = TILE_PATH.match(path)
    hot = match and memory_hit(match[1], int(match[2]), int(match[3]), int(match[4]))
    if not hot:
        return None
    tile, version = hot
    wanted = VERSION_QUERY.search(query)
    return tile_answer(tile, wanted is not None and int(wanted[1]) == version, if_none_match,
                       accept_encoding)


async def live_answer(app: Any, method: str, path: str, if_none_match: str,
                      accept_encoding: str) -> tuple[int, dict[str, str], bytes] | None:
    """The answer to a GET or HEAD of a live layer's tile, rendered now; None for anything
    else (another path, an address outside the matrix, a failure): the route answers those,
    and says why."""
    match = TILE_PATH.match(path) if method in ("GET", "HEAD") else None
    if match is None or match[1] not in LIVE_LAYERS:
        return None
    z, x, y = int(match[2]), int(match[3]), int(match[4])
    if not (z <= MAX_ZOOM and x < 2**z and y < 2**z):
        return None
    try:
        async with app.state.read_pool.acquire() as conn:
            tile = await TileService(conn).live_tile(match[1], z, x, y)
    except Exception:  # the route meets it again and answers it as every error is answered
        return None
    return tile_answer(tile, False, if_none_match, accept_encoding, LIVE)


class HotTileMiddleware:
    """Answers a tile this worker holds in memory, or a live layer's tile (rendered, never
    cached), before any routing or validation runs.

    Measured on 2 cores: hot tiles through the FastAPI route ran at about a tenth of nginx's
    rate; everything else (misses, bad addresses, other paths) goes on to the app unchanged.
    Under uvicorn, gisapi.server answers hot tiles even earlier; this serves any other ASGI
    server. Live tiles come here rather than through the route: at ~375 points a tile, the
    route's own work was a third of the tile's time (bench/feedback.py).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a hot tile, or pass the request on."""
        if scope["type"] == "http":
            request_headers = dict(scope["headers"])
            if_none_match = request_headers.get(b"if-none-match", b"").decode("latin-1")
            accept_encoding = request_headers.get(b"accept-encoding", b"").decode("latin-1")
            answer = hot_tile(scope["method"], scope["path"], scope.get("query_string", b""),
                              if_none_match, accept_encoding)
            if answer is None and "app" in scope:
                answer = await live_answer(scope["app"], scope["method"], scope["path"],
                                           if_none_match, accept_encoding)
            if answer is not None:
                status, headers, body = answer
                raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
                raw.append((b"content-length", str(len(body)).encode()))
                await send({"type": "http.response.start", "status": status, "headers": raw})
                await send({"type": "http.response.body",
                            "body": b"" if scope["method"] == "HEAD" else body})
                return
        await self.app(scope, receive, send)
