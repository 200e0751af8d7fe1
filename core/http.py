"""HTTP manners shared by every package: content codings, pre-compressed copies, security
headers, request ids and HEAD."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def packed_copy(path: Path, accepted: set[str]) -> tuple[str, Path] | None:
    """The pre-compressed copy of a file (built beside it) in the smallest coding accepted."""
    for coding, suffix in (("br", ".br"), ("gzip", ".gz")):  # the smaller first
        packed = path.with_name(path.name + suffix)
        if coding in accepted and packed.is_file():
            return coding, packed
    return None


def accepted_codings(accept_encoding: str) -> set[str]:
    """The content codings a client accepts (those it lists without q=0)."""
    accepted = set()
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.partition(";")
        if params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            accepted.add(coding.strip())
    return accepted


def content_security_policy(script_hashes: tuple[str, ...] = ()) -> str:
    """Our own origin only; the page's inline scripts allowed by their hashes."""
    scripts = " ".join(["'self'", *(f"'sha256-{h}'" for h in script_hashes)])
    return "; ".join((
        "default-src 'self'", f"script-src {scripts}", "worker-src 'self' blob:",
        "img-src 'self' data: blob:", "style-src 'self'", "font-src 'self'",
        "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'",
        "frame-ancestors 'none'",
    ))


def inline_script_hashes(html: str) -> tuple[str, ...]:
    """The base64 SHA-256 of each inline <script> of a page, as CSP names them."""
    bodies = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, flags=re.S)
    return tuple(base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() for b in bodies)


def security_headers(csp: str) -> dict[str, str]:
    """The headers every answer carries, whoever makes it."""
    return {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY",
            "Cross-Origin-Opener-Policy": "same-origin"}


# Answers made before the app (hot tiles) carry these too: the page's hashes do not matter
# to a tile, so the policy without them is the one they carry.
BASE_HEADERS = security_headers(content_security_policy())


class HttpMannersMiddleware:
    """One place for HTTP manners: a request id, the security headers on every answer, and
    HEAD answered wherever GET is (the GET's status and headers, no body)."""

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in
                        security_headers(csp).items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the id and headers; run a HEAD as the GET it stands for."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = rid
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}

        async def send_with_manners(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra,
                                                  (b"x-request-id", rid.encode())]}
            elif head and message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app(scope, receive, send_with_manners)
