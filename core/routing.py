"""The router every package declares its routes on: FastAPI's, told to say at once when a
path can be none of its routes'."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

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
