"""The API's documentation page, served from here (Swagger UI from its Python package): no
script or style from a third party, and no inline script for the CSP to refuse."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path

from core.errors import NotFoundError
from core.routing import Router

router = Router(include_in_schema=False)
FILES = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>civicmap API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/start.js"></script>
</body></html>"""
START = "SwaggerUIBundle({url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true});"


@router.get("/docs")
async def docs() -> HTMLResponse:
    """The interactive documentation of the OpenAPI document."""
    return HTMLResponse(PAGE)


@router.get("/docs/start.js")
async def start() -> Response:
    """Starts Swagger UI on our document."""
    return Response(START, media_type="text/javascript")


@router.get("/docs/{name}")
async def asset(name: Annotated[str, PathParam(max_length=40)]) -> Response:
    """Swagger UI's own files, long-cached (the package's version names them)."""
    if name not in FILES:
        raise NotFoundError(f"No file '{name}' in the documentation", "name")
    body = Path(str(swagger_ui_path), name).read_bytes()
    return Response(body, media_type=FILES[name],
                    headers={"Cache-Control": "public, max-age=86400"})
