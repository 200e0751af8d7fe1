"""The public reports layer: points from tile zoom 14, clusters below, only confirmed reports on
their own, nothing of the reporter; served live (short max-age, ETag), hidden in the style
until the app's first map is drawn."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import asyncpg
import mapbox_vector_tile
import morecantile
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from core.pgcluster import PostgresCluster
from core.workflow import ENGINE_SETTING
from permits.feedback.workflow import ReportStatus
from permits.workflow import today
from tiles.layers import FEEDBACK, FEEDBACK_URGENCY
from tiles.service import TileService

TMS = morecantile.tms.get("WebMercatorQuad")
# The centre of a zoom-16 tile east of the district, where no report of the web app's tests
# (committed by their live server) lies even at zoom 12: reports within ~25 m of it are in
# that tile and no other.
_AROUND = TMS.bounds(TMS.tile(106.7195 + 0.12, 10.7335, 16))
LON, LAT = (_AROUND.left + _AROUND.right) / 2, (_AROUND.bottom + _AROUND.top) / 2
FAR_LON = LON + 0.0095  # ~1 km east: another cell at zoom 13, the same tile
NAME, PHONE, EMAIL = "Nguyễn Thị Công Khai", "+84912345678", "cong.khai@example.vn"
SECRET = "Mô tả riêng: nhà số 12, gọi chị Lan"


@dataclass(frozen=True)
class Seed:
    """A report to write: where, its status, and the facts the tile is made of."""

    status: str
    lon: float = LON
    lat: float = LAT
    due_on: date | None = None
    joined: bool = False
    closing: str | None = None
    category: str = "roads"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    tile = TMS.tile(lon, lat, z)
    return z, tile.x, tile.y


async def seed(pg: asyncpg.Connection, reports: list[Seed]) -> list[int]:
    """Reports as the engine leaves them (the status trigger lets this transaction write),
    each from a reporter who allowed the name, with a phone, an e-mail and a description."""
    await pg.execute("SELECT set_config($1, 'feedback_report', true)", ENGINE_SETTING)
    ids = []
    for r in reports:
        ids.append(await pg.fetchval(
            "INSERT INTO feedback_report (category, status, description, geom, ward_code, "
            "department, reporter_name, reporter_phone, reporter_email, show_name, due_on, "
            "joined, closing, closed_at, confirmed_at) VALUES ($1, $2::text, $3, "
            "ST_SetSRID(ST_MakePoint($4, $5), 4326), '27487', 'urban-management', $6, $7, "
            "$8, true, $9, $10, $11, CASE WHEN $2::text = 'closed' THEN now() END, "
            "CASE WHEN $2::text NOT IN ('unconfirmed', 'expired') THEN now() END) RETURNING id",
            r.category, r.status, SECRET, r.lon, r.lat, NAME, PHONE, EMAIL, r.due_on,
            r.joined, r.closing))
    return ids


def features(data: bytes) -> list[dict[str, Any]]:
    """The decoded features of the feedback layer (none when the tile is empty)."""
    return list(mapbox_vector_tile.decode(data).get("feedback", {"features": []})["features"])


def in_a_transaction(cluster: PostgresCluster,
                     body: Callable[[asyncpg.Connection], Awaitable[None]]) -> None:
    """Run body on an asyncpg connection (the tiles' driver) inside a rolled-back transaction."""
    async def scenario() -> None:
        pg = await asyncpg.connect(host=str(cluster.socket_dir), port=cluster.port,
                                   user="civicmap", database=cluster.dbname)
        tr = pg.transaction()
        await tr.start()
        try:
            await body(pg)
        finally:
            await tr.rollback()
            await pg.close()

    # Its own thread: the browser tests' Playwright may hold this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()


def assert_nothing_of_the_reporter(data: bytes, props: list[dict[str, Any]]) -> None:
    for secret in (NAME, PHONE, EMAIL, SECRET, "12345678", "example.vn", "Công Khai"):
        assert secret.encode() not in data
        assert not any(secret in str(v) for p in props for v in p.values())
    assert not {k for p in props for k in p} - {"id", "status", "category", "late", "count"}


def test_points_are_confirmed_reports_on_their_own_with_nothing_of_the_reporter(
        cluster: PostgresCluster, engine: Engine) -> None:
    yesterday = today() - timedelta(days=1)
    z, x, y = tile_of(LON, LAT, 16)

    async def body(pg: asyncpg.Connection) -> None:
        service = TileService(pg)
        assert features((await service.live_tile("feedback", z, x, y)).data) == []
        shown = await seed(pg, [
            Seed("received", due_on=yesterday),  # late
            Seed("in_progress", lon=LON + 0.0002, due_on=today() + timedelta(days=3)),
            Seed("closed", lon=LON - 0.0002, due_on=yesterday, closing="fixed"),  # not late
            # An officer's merge: closed as a duplicate, still a report of its own.
            Seed("closed", lat=LAT + 0.0002, closing="duplicate"),
            Seed("question", lat=LAT - 0.0002, category="drainage-flooding"),
        ])
        hidden = await seed(pg, [
            Seed("unconfirmed"), Seed("expired"),
            Seed("closed", closing="duplicate", joined=True),  # a "me too": on its original
        ])
        tile = await service.live_tile("feedback", z, x, y)
        found = features(tile.data)
        by_id = {f["properties"]["id"]: f for f in found}
        assert set(by_id) == set(shown)
        assert not set(by_id) & set(hidden)
        for f in found:
            assert f["id"] == f["properties"]["id"]  # the MVT id too, for feature-state
            assert f["geometry"]["type"] == "Point"
            assert "count" not in f["properties"]
        props = [by_id[i]["properties"] for i in shown]
        assert [(p["status"], p["late"]) for p in props] == [
            ("received", True), ("in_progress", False), ("closed", False), ("closed", False),
            ("question", False)]
        assert props[4]["category"] == "drainage-flooding"
        assert_nothing_of_the_reporter(tile.data, [f["properties"] for f in found])
        # The same points at zoom 14, where points start; a cluster of them at 13.
        ids = {f["properties"]["id"] for f in features(
            (await service.live_tile("feedback", *tile_of(LON, LAT, 14))).data)}
        assert ids == set(shown)
        low = features((await service.live_tile("feedback", *tile_of(LON, LAT, 13))).data)
        assert [f["properties"] for f in low] == [
            {"count": len(shown), "status": "received", "late": True}]

    in_a_transaction(cluster, body)


def test_low_zooms_cluster_reports_by_cell(cluster: PostgresCluster, engine: Engine) -> None:
    z, x, y = tile_of(LON, LAT, 13)
    assert tile_of(FAR_LON, LAT, 13) == (z, x, y)
    yesterday = today() - timedelta(days=1)

    async def body(pg: asyncpg.Connection) -> None:
        service = TileService(pg)
        assert features((await service.live_tile("feedback", z, x, y)).data) == []
        near = [Seed(s, lon=LON + i * 0.0001, due_on=yesterday if s == "in_progress" else None)
                for i, s in enumerate(["closed", "answered", "in_progress", "assigned",
                                       "closed"])]
        together = await seed(pg, near)
        await seed(pg, [Seed("unconfirmed"), Seed("expired"),
                        Seed("closed", closing="duplicate", joined=True)])
        alone = (await seed(pg, [Seed("answered", lon=FAR_LON)]))[0]
        tile = await service.live_tile("feedback", z, x, y)
        found = features(tile.data)
        clusters = [f for f in found if "count" in f["properties"]]
        singles = [f for f in found if "count" not in f["properties"]]
        assert len(clusters) == 1
        group = clusters[0]
        assert group["properties"] == {"count": len(together), "status": "assigned",
                                       "late": True}
        assert group.get("id") in (None, 0)  # a cluster is no report (0: the decoder's unset)
        assert [f["properties"] for f in singles] == [
            {"id": alone, "status": "answered", "category": "roads", "late": False}]
        assert singles[0]["id"] == alone
        assert_nothing_of_the_reporter(tile.data, [f["properties"] for f in found])
        # The cluster sits within its cell: the centroid of its members.
        cell = 4096 / FEEDBACK.cluster_cells
        px, py = group["geometry"]["coordinates"]
        cx, cy = divmod(px, cell)[0], divmod(py, cell)[0]
        for s in near:
            mx, my = TMS.xy(s.lon, s.lat)
            bounds = TMS.xy_bounds(morecantile.Tile(x, y, z))
            tx = (mx - bounds.left) / (bounds.right - bounds.left) * 4096
            ty = (my - bounds.bottom) / (bounds.top - bounds.bottom) * 4096  # decoded y up
            assert (divmod(tx, cell)[0], divmod(ty, cell)[0]) == (cx, cy)
        # Closed ones alone make a closed cluster; a zoom 9 tile is empty (below minzoom).
        await pg.execute("SELECT set_config($1, 'feedback_report', true)", ENGINE_SETTING)
        await pg.execute("UPDATE feedback_report SET status = 'closed' WHERE id = ANY($1)",
                         together)
        again = features((await service.live_tile("feedback", z, x, y)).data)
        assert next(f for f in again if "count" in f["properties"])["properties"] == {
            "count": len(together), "status": "closed", "late": False}
        assert (await service.live_tile("feedback", *tile_of(LON, LAT, 9))).data == b""

    in_a_transaction(cluster, body)


def test_a_cluster_is_counted_once_across_neighbouring_tiles(
        cluster: PostgresCluster, engine: Engine) -> None:
    """Reports spread over four tiles: every report in exactly one feature's count, whatever
    the tile that draws it (clusters in a tile's buffer belong to the next tile's count)."""
    z = 12
    _, x, y = tile_of(LON, LAT, z)
    bounds = TMS.bounds(morecantile.Tile(x, y, z))
    # A grid of reports around the tile's south-east corner, so that four tiles share them.
    spots = [(bounds.right + dx * 0.0021, bounds.bottom + dy * 0.0021)
             for dx in range(-3, 4) for dy in range(-3, 4)]

    async def body(pg: asyncpg.Connection) -> None:
        service = TileService(pg)
        ids = await seed(pg, [Seed("received", lon=lon, lat=lat) for lon, lat in spots])
        total = 0
        for tx, ty in ((x, y), (x + 1, y), (x, y + 1), (x + 1, y + 1)):
            for f in features((await service.live_tile("feedback", z, tx, ty)).data):
                px, py = f["geometry"]["coordinates"]
                if 0 <= px < 4096 and 0 < py <= 4096:  # its own tile, not the buffer
                    total += f["properties"].get("count", 1)
        assert total == len(ids)

    in_a_transaction(cluster, body)


def test_the_tile_is_live_with_a_short_max_age_and_an_etag(client: TestClient) -> None:
    z, x, y = tile_of(LON, LAT, 16)
    res = client.get(f"/tiles/feedback/{z}/{x}/{y}.mvt", params={"v": 3})
    assert res.status_code == 200
    assert res.headers["cache-control"] == "public, max-age=30"
    etag = res.headers["etag"]
    again = client.get(f"/tiles/feedback/{z}/{x}/{y}.mvt", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["cache-control"] == "public, max-age=30"
    head = client.head(f"/tiles/feedback/{z}/{x}/{y}.mvt")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == etag
    assert client.get("/tiles/feedback/21/0/0.mvt").status_code == 404
    assert client.get("/tiles/feedback/3/8/0.mvt").status_code == 404
    doc = client.get("/tiles/feedback.json").json()
    assert doc["tiles"] == ["http://testserver/tiles/feedback/{z}/{x}/{y}.mvt"]  # no version
    assert doc["vector_layers"][0]["fields"] == FEEDBACK.fields
    assert (doc["minzoom"], doc["maxzoom"]) == (10, FEEDBACK.cluster_below)
    # Not in the basemap: its tiles are immutable per version, reports move all day.
    basemap = client.get("/tiles/basemap.json").json()
    assert "feedback" not in {layer["id"] for layer in basemap["vector_layers"]}


def test_the_urgency_order_names_every_public_status() -> None:
    public = [s.value for s in ReportStatus if s not in (ReportStatus.UNCONFIRMED,
                                                          ReportStatus.EXPIRED)]
    assert sorted(FEEDBACK_URGENCY) == sorted(public)


def test_the_style_draws_reports_above_the_parcels_hidden_until_shown(
        client: TestClient) -> None:
    style = client.get("/styles/district.json").json()
    doc = client.get("/tiles/feedback.json").json()
    source = style["sources"]["feedback"]
    assert source["tiles"] == doc["tiles"]  # inline: no TileJSON request at load
    assert (source["minzoom"], source["maxzoom"]) == (doc["minzoom"], doc["maxzoom"])
    ids = [layer["id"] for layer in style["layers"]]
    mine = {layer["id"]: layer for layer in style["layers"] if layer.get("source") == "feedback"}
    assert set(mine) == {"feedback-clusters", "feedback-cluster-counts", "feedback-points"}
    assert min(ids.index(i) for i in mine) > max(
        ids.index(i) for i in ("parcels", "parcel-selected", "parcel-numbers"))
    for layer in mine.values():
        assert layer["source-layer"] == "feedback"
        # A source whose layers are all hidden loads no tile: the first map waits for none.
        assert layer["layout"]["visibility"] == "none"
    assert mine["feedback-clusters"]["filter"] == ["has", "count"]
    assert mine["feedback-points"]["filter"] == ["!", ["has", "count"]]
    assert mine["feedback-clusters"]["paint"]["circle-radius"][2] == ["get", "count"]
    label = mine["feedback-cluster-counts"]["layout"]
    assert label["text-field"] == ["to-string", ["get", "count"]]
    assert style["glyphs"].startswith("http://testserver/fonts/")
    assert client.get(style["glyphs"].replace("http://testserver", "").replace(
        "{fontstack}", label["text-font"][0]).replace("{range}", "0-255")).status_code == 200
    colour = mine["feedback-points"]["paint"]["circle-color"]
    by_status = dict(zip(colour[2:-1:2], colour[3:-1:2], strict=True))
    assert set(by_status) == set(FEEDBACK_URGENCY)
    assert by_status["received"] == by_status["assigned"]
    assert by_status["in_progress"] == by_status["question"]
    assert len({by_status[s] for s in ("received", "in_progress", "answered", "closed")}) == 4
    ring = mine["feedback-points"]["paint"]["circle-stroke-color"]
    assert ring[1] == ["boolean", ["get", "late"], False]
    assert ring[2] == "#D62828"

