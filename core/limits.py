"""Uploads larger than allowed are refused from their Content-Length, before a byte is read,
with the same JSON answer as every other refusal (FastAPI's body limit still stops a body
that comes without a length, counting it as it arrives)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

UPLOAD_PATH = re.compile(r"^/api/layers/[^/]+/uploads$")
DOCUMENT_PATH = re.compile(r"^/api/dossiers/[^/]+/documents$")


class UploadSizeMiddleware:
    """413 naming the file for an upload whose declared size is over its path's limit."""

    def __init__(self, app: ASGIApp, limits: Mapping[re.Pattern[str], int]) -> None:
        self.app = app
        self.limits = tuple(limits.items())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length of upload requests."""
        if scope["type"] == "http" and scope["method"] == "POST":
            for path, max_bytes in self.limits:
                if not path.match(scope["path"]):
                    continue
                length = dict(scope["headers"]).get(b"content-length", b"")
                if length.isdigit() and int(length) > max_bytes:
                    response = JSONResponse(
                        {"detail": f"the file is larger than {max_bytes // 1024**2} MB",
                         "field": "file"}, status_code=413)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
