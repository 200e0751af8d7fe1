"""Idempotent submissions: one store and one dependency for the Idempotency-Key header.

The first request with a key claims it in the request's own transaction; a retry (the same
key from the same caller, with the same body) gets the first answer back; the same key with
another body is refused. Concurrent requests with one key wait on the first one's claim, so
exactly one of them does the work. Answers are kept a day.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from sqlalchemy import Connection

from core.deps import ConnectionDep
from core.errors import InvalidInputError

KEY_PATTERN = r"^[A-Za-z0-9_.:-]{8,128}$"
KEEP = "1 day"
KeyHeader = Annotated[str | None, Header(alias="Idempotency-Key", pattern=KEY_PATTERN,
                                         description="A fresh random key per submission; "
                                         "retries send the same one")]


@dataclass
class Idempotency:
    """The key of this request (None: not sent) and where its answer is kept."""

    conn: Connection
    key: str | None
    scope: str
    fingerprint: str

    def answer(self, make: Callable[[], Response]) -> Response:
        """The answer kept for this key, or `make()`'s, kept for the retries to come."""
        if self.key is None:
            return make()
        claimed = self.conn.exec_driver_sql(
            "INSERT INTO idempotency_key (scope, key, fingerprint) VALUES (%(s)s, %(k)s, %(f)s) "
            "ON CONFLICT (scope, key) DO NOTHING RETURNING 1",
            {"s": self.scope, "k": self.key, "f": self.fingerprint}).first()
        if claimed is None:  # after the first request with the key has committed
            kept = self.conn.exec_driver_sql(
                "SELECT fingerprint, http_status, headers, body FROM idempotency_key "
                "WHERE scope = %(s)s AND key = %(k)s", {"s": self.scope, "k": self.key}).one()
            if kept.fingerprint != self.fingerprint:
                raise InvalidInputError("this Idempotency-Key was used for another request",
                                        "Idempotency-Key")
            headers = {**kept.headers, "Idempotent-Replayed": "true"}
            return Response(bytes(kept.body), status_code=kept.http_status, headers=headers)
        made = make()
        kept_headers = {k: v for k, v in made.headers.items()
                        if k.lower() in ("content-type", "etag", "location")}
        self.conn.exec_driver_sql(
            "UPDATE idempotency_key SET http_status = %(st)s, headers = %(h)s::jsonb, "
            "body = %(b)s "
            "WHERE scope = %(s)s AND key = %(k)s",
            {"st": made.status_code, "h": json.dumps(kept_headers), "b": bytes(made.body),
             "s": self.scope, "k": self.key})
        return made


async def idempotency(request: Request, conn: ConnectionDep,
                      key: KeyHeader = None) -> Idempotency:
    """The request's key, scoped to its caller and route, with the fingerprint of its body."""
    body = await request.body()
    principal = getattr(request.state, "principal", None)
    caller = getattr(principal, "person_id", None)
    route = request.scope.get("route")
    scope = f"{caller or 'anonymous'}:{request.method}:{getattr(route, 'path', request.url.path)}"
    fingerprint = hashlib.sha256(request.url.path.encode() + b"\n" + body).hexdigest()
    return Idempotency(conn, key, scope, fingerprint)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]


def forget_old(conn: Connection) -> int:
    """Drop the answers kept longer than a day; how many."""
    return conn.exec_driver_sql(
        f"DELETE FROM idempotency_key WHERE created_at < now() - interval '{KEEP}'").rowcount
