"""The router every package declares its routes on: FastAPI's, told to say at once when a
path can be none of its routes', and to refuse a text PostgreSQL cannot store before a route
runs."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

from core.errors import InvalidInputError

# PostgreSQL keeps no NUL character in a text or a JSON value: sent in any field, it would
# fail the first statement that writes or compares it (a 500), after the route's work.
NUL = "\x00"
JSON_NUL = b"\\u0000"  # how JSON writes it (a raw NUL in a JSON string is not JSON at all)
FORM_NUL = b"%00"
FORM_TYPE = "application/x-www-form-urlencoded"


def _refused(name: str) -> InvalidInputError:
    return InvalidInputError(f"{name}: a text may not hold a NUL character (\\u0000)", name)


def _nul_in_json(value: Any) -> str | None:
    """The dotted name of the first string or key of a JSON value holding NUL (iterative: a
    value may nest as deep as the parser allows)."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return where or "body"
        elif isinstance(item, dict):
            for key, inner in item.items():
                name = f"{where}.{key}" if where else str(key)
                if NUL in key:
                    return name
                stack.append((name, inner))
        elif isinstance(item, list):
            stack.extend((f"{where}[{n}]", inner) for n, inner in enumerate(item))
    return None


async def refuse_nul(request: Request) -> None:
    """422 naming the first path or query parameter, or JSON or form field, holding NUL."""
    for name, value in request.path_params.items():
        if isinstance(value, str) and NUL in value:
            raise _refused(name)
    for name, value in request.query_params.multi_items():
        if NUL in name or NUL in value:
            raise _refused(name.replace(NUL, "") or "query")
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    main, _, subtype = kind.partition("/")
    # What FastAPI reads as JSON: application/json and every application/…+json.
    if main == "application" and (subtype == "json" or subtype.endswith("+json")):
        body = await request.body()  # kept on the request: the route reads it from there
        if JSON_NUL in body:
            try:
                found = _nul_in_json(json.loads(body))
            except (ValueError, RecursionError):
                return  # not JSON: the route's own parsing says so
            if found:
                raise _refused(found)
    elif kind == FORM_TYPE:
        body = await request.body()
        if FORM_NUL in body:
            for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
                if NUL in name or NUL in value:
                    raise _refused(name.replace(NUL, "") or "body")


class CheckedRoute(APIRoute):
    """A route that refuses, before its dependencies run, a value no column can store."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, behind `refuse_nul`."""
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            await refuse_nul(request)
            return await handler(request)

        return checked


# A request scope holding this key is matched against every route, refused or not: the
# app's warm-up walks them all at startup (FastAPI builds a route's state on its first match).
WALK_EVERY_ROUTE = "civicmap.walk_every_route"


class Router(APIRouter):
    """An APIRouter that refuses, with one string comparison, a path none of its routes
    begins with.

    FastAPI matches a request against each included router in turn, and each router against
    each of its routes, the one it takes twice (to choose it, then to run it). Measured with
    25 routers, a route near the end of the list cost 0.7 ms of CPU a request in matching
    alone, more than a whole signed-in read's framework work. The literal start of each route
    (its path up to its first parameter) is a condition of every match, so a router whose
    routes all start otherwise answers NONE without matching any. Include it without a
    prefix: the starts are those of its own routes' paths.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("route_class", CheckedRoute)
        super().__init__(*args, **kwargs)
        self._starts: tuple[str, ...] | None = None
        self._starts_of = -1  # how many routes the starts were read from

    def _route_starts(self) -> tuple[str, ...] | None:
        """The literal starts of the routes, or None when one of them has no plain path."""
        if self._starts_of != len(self.routes):  # routes added since (tests add some)
            starts: tuple[str, ...] | None = tuple(sorted({
                route.path.split("{", 1)[0] for route in self.routes
                if isinstance(route, APIRoute)}))
            if any(not isinstance(route, APIRoute) for route in self.routes):
                starts = None  # a mount, another router inside: matched the usual way
            self._starts, self._starts_of = starts, len(self.routes)
        return self._starts

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """NONE when no route of this router can start the path; else FastAPI's match."""
        starts = self._route_starts()
        if starts is not None and WALK_EVERY_ROUTE not in scope and not get_route_path(
                scope).startswith(starts):
            return Match.NONE, {}
        return super().matches(scope)
