"""The application's start: a worker is ready for its first visitor when it says it is."""

from __future__ import annotations

from typing import Any

import fastapi.routing
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from core.settings import Settings
from gisapi.main import create_app


def test_no_route_is_built_on_a_visitors_request(engine: Engine,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    original = fastapi.routing._populate_api_route_state

    def counting(route: Any, path: str, *args: Any, **kwargs: Any) -> None:
        built.append(path)
        original(route, path, *args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "_populate_api_route_state", counting)
    app = create_app(Settings(tile_cache_size=0), engine=engine)
    with TestClient(app) as client:
        at_start = len(built)
        assert at_start > 30  # every route, at startup
        for path in ("/", "/styles/district.json", "/api/health", "/tiles/basemap.json"):
            assert client.get(path).status_code == 200
        assert built[at_start:] == []
