"""Serving the built web app (mobile_web/dist): the page, its bundle and assets, gzip first."""

from __future__ import annotations

import re
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import Path, Request, Response

from core.errors import NotFoundError
from core.http import accepted_codings, inline_script_hashes, packed_copy
from core.routing import Router
from core.settings import PROJECT_ROOT

router = Router(include_in_schema=False)

DIST = PROJECT_ROOT / "mobile_web" / "dist"
ASSET = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$"
TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
    ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png",
    ".webmanifest": "application/manifest+json", ".json": "application/json",
}


def _file(request: Request, name: str, cache: str) -> Response:
    path = DIST / name
    kind = TYPES.get(FsPath(name).suffix)
    if kind is None or not re.match(ASSET, name) or not path.is_file():
        raise NotFoundError(f"No file '{name}' in the web app", "name")
    headers = {"Cache-Control": cache, "Vary": "Accept-Encoding"}
    copy = packed_copy(path, accepted_codings(request.headers.get("accept-encoding", "")))
    if copy is not None:
        headers["Content-Encoding"], path = copy
    return Response(content=path.read_bytes(), media_type=kind, headers=headers)


def page_script_hashes() -> tuple[str, ...]:
    """The hashes of the built page's inline scripts (none before the app is built)."""
    page = DIST / "index.html"
    return inline_script_hashes(page.read_text()) if page.is_file() else ()


@router.get("/")
async def index(request: Request) -> Response:
    """The app's page (always revalidated, so a new build shows at once)."""
    return _file(request, "index.html", "no-cache")


@router.get("/{name}")
async def asset(request: Request, name: Annotated[str, Path(pattern=ASSET)]) -> Response:
    """A file of the built app (the service worker always revalidated, as browsers expect)."""
    return _file(request, name, "no-cache" if name == "sw.js" else "public, max-age=3600")
