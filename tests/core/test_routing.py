"""The house's router: a path none of a router's routes can start is refused at once, and
everything else is matched as FastAPI matches it."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Match
from starlette.types import Scope

from core.routing import Router
from core.settings import Settings
from gisapi.main import create_app


def _app() -> tuple[FastAPI, Router, Router]:
    first, second = Router(prefix="/api/things"), Router(prefix="/api/things/{thing}/parts")

    @first.get("")
    def things() -> str:
        return "things"

    @first.get("/{thing}")
    def thing(thing: int) -> str:
        return f"thing {thing}"

    @second.get("/{part}")
    def part(thing: int, part: str) -> str:
        return f"part {part} of {thing}"

    app = FastAPI()
    app.include_router(first)
    app.include_router(second)
    return app, first, second


def test_a_router_takes_what_its_routes_take_and_refuses_the_rest_at_once() -> None:
    app, _, _ = _app()
    with TestClient(app) as client:
        assert client.get("/api/things").json() == "things"
        assert client.get("/api/things/7").json() == "thing 7"
        assert client.get("/api/things/7/parts/wheel").json() == "part wheel of 7"
        assert client.post("/api/things/7").status_code == 405  # a partial match still is one
        assert client.get("/api/other").status_code == 404
        assert client.get("/api/things/7/", follow_redirects=False).status_code == 307


def test_no_route_is_looked_at_for_a_path_none_of_them_starts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    app, _, _ = _app()
    looked: list[str] = []
    original = APIRoute.matches

    def matching(route: APIRoute, scope: Scope) -> tuple[Match, Scope]:
        looked.append(route.path)
        return original(route, scope)

    monkeypatch.setattr(APIRoute, "matches", matching)
    with TestClient(app) as client:
        assert client.get("/api/other").status_code == 404
        assert looked == []
        assert client.get("/api/things").status_code == 200
        assert looked[0] == "/api/things"
        assert "/api/things/{thing}/parts/{part}" not in looked  # not its router's start


def test_a_route_added_after_the_first_request_is_reached() -> None:
    app, first, _ = _app()
    with TestClient(app) as client:
        assert client.get("/api/things/7").status_code == 200

        @first.get("/{thing}/colour")
        def colour(thing: int) -> str:
            return "red"

        assert client.get("/api/things/7/colour").json() == "red"


def test_every_router_of_ours_is_the_house_router() -> None:
    app = create_app(Settings())
    included = [route.original_router for route in app.router.routes
                if hasattr(route, "original_router")]
    # titiler's raster router is not ours: its endpoints are titiler's.
    ours = [r for r in included
            if not any(route.endpoint.__module__.startswith("titiler") for route in r.routes)]
    assert len(ours) > 20
    assert len(ours) == len(included) - 1
    assert [r.prefix for r in ours if not isinstance(r, Router)] == []
