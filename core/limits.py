"""Uploads larger than allowed are refused from their Content-Length, before a byte is read,
with the same JSON answer as every other refusal (FastAPI's body limit still stops a body
that comes without a length, counting it as it arrives: its plain-text 413 is answered in the
same JSON too)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        replaced = False

        async def send_in_json(message: Message) -> None:
            # Starlette's body limit answers "Content Too Large" in plain text: said again the
            # way every refusal is, naming the body and its limit.
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 413 and \
                    dict(message.get("headers", [])).get(b"content-type", b"").startswith(
                        b"text/plain"):
                limit = scope.get(MAX_BODY_SIZE_SCOPE_KEY)
                most = f" ({_size(limit)} at most)" if isinstance(limit, int) else ""
                body = JSONResponse({"detail": f"the request's body is too large{most}",
                                     "field": "body"}).body
                replaced = True
                await send({"type": "http.response.start", "status": 413, "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
            elif not replaced:
                await send(message)

        await self.app(scope, receive, send_in_json)


def _size(limit: int) -> str:
    return f"{limit // 1024**2} MB" if limit >= 1024**2 else f"{limit // 1024} KB"
