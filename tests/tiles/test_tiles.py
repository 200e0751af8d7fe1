"""Vector tiles: decoded and asserted, cache headers, targeted invalidation, GDAL reads them."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import mapbox_vector_tile
import morecantile
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from core.pgcluster import PostgresCluster
from tiles import service as tiles_service
from tiles.layers import readable_minzoom
from tiles.service import Tile, TileMemory, TileService


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    tile = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, z)
    return tile.x, tile.y


def a_parcel(conn: Connection) -> tuple[str, float, float]:
    key, lon, lat = conn.exec_driver_sql(
        "SELECT parcel_key, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
        "FROM parcel ORDER BY parcel_key LIMIT 1 OFFSET 100"
    ).one()
    return str(key), float(lon), float(lat)


def parcel_id(conn: Connection, key: str) -> int:
    return int(conn.exec_driver_sql("SELECT id FROM parcel WHERE parcel_key = %(k)s",
                                    {"k": key}).scalar_one())


def test_parcel_tile_holds_the_parcel_by_id(client: TestClient, conn: Connection) -> None:
    key, lon, lat = a_parcel(conn)
    x, y = tile_of(lon, lat, 18)
    res = client.get(f"/tiles/parcels/18/{x}/{y}.mvt")
    assert res.status_code == 200
    assert res.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    decoded = mapbox_vector_tile.decode(res.content)
    by_id = {f["id"]: f["properties"] for f in decoded["parcels"]["features"]}
    assert by_id[parcel_id(conn, key)]["number"] == int(key[-4:])
    # The card names the same feature id, so the app can highlight the tapped parcel.
    card = client.get("/api/parcels/at", params={"lon": lon, "lat": lat}).json()
    assert card["parcel"]["id"] == parcel_id(conn, key)
    assert all(f["geometry"]["type"] in {"Polygon", "MultiPolygon"}
               for f in decoded["parcels"]["features"])


def test_basemap_bundles_the_layers_of_its_zoom(client: TestClient, conn: Connection) -> None:
    _, lon, lat = a_parcel(conn)
    x, y = tile_of(lon, lat, 16)
    layers = set(mapbox_vector_tile.decode(client.get(f"/tiles/basemap/16/{x}/{y}.mvt").content))
    assert {"wards", "wards_old", "zoning_blocks", "land_use", "parcels", "roads"} <= layers
    x, y = tile_of(lon, lat, 12)
    low = mapbox_vector_tile.decode(client.get(f"/tiles/basemap/12/{x}/{y}.mvt").content)
    assert "parcels" not in low  # parcels only from the zoom where they are readable
    assert "zoning_blocks" in low


def test_zoning_tile_attributes_match_the_card(client: TestClient, conn: Connection) -> None:
    _, lon, lat = a_parcel(conn)
    card = client.get("/api/parcels/at", params={"lon": lon, "lat": lat}).json()
    x, y = tile_of(lon, lat, 16)
    blocks = mapbox_vector_tile.decode(
        client.get(f"/tiles/zoning_blocks/16/{x}/{y}.mvt").content)["zoning_blocks"]["features"]
    codes = {f["properties"]["block_code"]: f["properties"] for f in blocks}
    for zone in card["zoning"]:
        assert codes[zone["block_code"]]["function"] == zone["function_category"]


def test_etag_and_cache_control(client: TestClient, conn: Connection) -> None:
    _, lon, lat = a_parcel(conn)
    x, y = tile_of(lon, lat, 16)
    version = client.get("/tiles/parcels.json").json()["tiles"][0].rsplit("v=", 1)[1]
    res = client.get(f"/tiles/parcels/16/{x}/{y}.mvt", params={"v": version})
    assert res.headers["cache-control"] == "public, max-age=31536000, immutable"
    etag = res.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    again = client.get(f"/tiles/parcels/16/{x}/{y}.mvt", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    stale = client.get(f"/tiles/parcels/16/{x}/{y}.mvt", params={"v": int(version) - 1})
    assert stale.headers["cache-control"] == "public, max-age=300"


def test_tilejson(client: TestClient) -> None:
    doc = client.get("/tiles/basemap.json").json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"][0].startswith("http://testserver/tiles/basemap/{z}/{x}/{y}.mvt?v=")
    west, south, east, north = doc["bounds"]
    assert 106.68 < west < east < 106.76
    assert 10.69 < south < north < 10.77
    ids = {layer["id"] for layer in doc["vector_layers"]}
    assert {"parcels", "zoning_blocks", "land_use", "roads", "wards", "wards_old"} <= ids
    parcels = client.get("/tiles/parcels.json").json()
    assert parcels["vector_layers"][0]["fields"] == {"number": "Number"}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/tiles/nope/10/0/0.mvt", 404),
        ("/tiles/parcels/21/0/0.mvt", 404),
        ("/tiles/parcels/3/8/0.mvt", 404),
        ("/tiles/parcels/3/0/-1.mvt", 404),
        ("/tiles/parcels/a/0/0.mvt", 422),
        ("/tiles/parcels/3/0/1.5.mvt", 422),
        ("/tiles/nope.json", 404),
    ],
)
def test_bad_tile_addresses(client: TestClient, path: str, status: int) -> None:
    res = client.get(path)
    assert res.status_code == status
    assert "detail" in res.json()


def test_publishing_a_change_drops_only_the_tiles_over_it(
    cluster: PostgresCluster, conn: Connection
) -> None:
    """A tile away from the change keeps its bytes and ETag; the tile over it changes."""
    key, lon, lat = a_parcel(conn)
    far_lon, far_lat = conn.exec_driver_sql(
        "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(geom) AS c FROM parcel "
        "ORDER BY ST_Distance(geom, (SELECT geom FROM parcel WHERE parcel_key = %(k)s)) DESC "
        "LIMIT 1) AS s", {"k": key},
    ).one()
    near, far = tile_of(lon, lat, 18), tile_of(far_lon, far_lat, 18)
    pid = parcel_id(conn, key)

    async def scenario() -> None:
        pg = await asyncpg.connect(host=str(cluster.socket_dir), port=cluster.port,
                                   user="civicmap", database=cluster.dbname)
        tr = pg.transaction()
        await tr.start()
        try:
            service = TileService(pg, cache_size=1000)
            before_near = await service.tile("parcels", 18, *near)
            before_far = await service.tile("parcels", 18, *far)
            # The planner moves one parcel by ~5 m; the change is that parcel's two outlines.
            area = await pg.fetchval(
                "WITH old AS (SELECT geom FROM parcel WHERE parcel_key = $1), "
                "upd AS (UPDATE parcel SET geom = ST_Translate(geom, 0.00005, 0) "
                "WHERE parcel_key = $1 RETURNING geom) "
                "SELECT ST_AsBinary(ST_Union((SELECT geom FROM old), (SELECT geom FROM upd)))",
                key,
            )
            assert await service.invalidate(["parcels"], bytes(area)) >= 1
            after_near = await service.tile("parcels", 18, *near)
            after_far = await service.tile("parcels", 18, *far)
            assert after_far == before_far
            assert after_near.etag != before_near.etag
            moved = next(
                f for f in mapbox_vector_tile.decode(after_near.data)["parcels"]["features"]
                if f["id"] == pid
            )
            was = next(
                f for f in mapbox_vector_tile.decode(before_near.data)["parcels"]["features"]
                if f["id"] == pid
            )
            assert shapely.geometry.shape(moved["geometry"]).centroid.x > \
                shapely.geometry.shape(was["geometry"]).centroid.x
        finally:
            await tr.rollback()
            await pg.close()

    # Its own thread: the browser tests' Playwright may hold this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin is not installed")
def test_gdal_reads_our_tile(client: TestClient, conn: Connection, tmp_path: Path) -> None:
    key, lon, lat = a_parcel(conn)
    x, y = tile_of(lon, lat, 18)
    path = tmp_path / "18" / str(x) / f"{y}.pbf"
    path.parent.mkdir(parents=True)
    path.write_bytes(client.get(f"/tiles/basemap/18/{x}/{y}.mvt").content)
    out = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-so", f"MVT:{path}", "-oo", f"X={x}", "-oo", f"Y={y}",
         "-oo", "Z=18"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "Layer name: parcels" in out
    assert "number: Integer" in out


def test_low_zoom_land_use_is_generalized(client: TestClient, conn: Connection) -> None:
    _, lon, lat = a_parcel(conn)
    x, y = tile_of(lon, lat, 12)
    low = mapbox_vector_tile.decode(
        client.get(f"/tiles/land_use/12/{x}/{y}.mvt").content)["land_use"]["features"]
    zones = conn.exec_driver_sql("SELECT count(DISTINCT code) FROM land_use_zone "
                                 "WHERE code <> 'DGT'").scalar_one()
    # One merged feature per code (clipped parts may split it), no road zones.
    assert {f["properties"]["code"] for f in low} <= set(
        conn.exec_driver_sql("SELECT code FROM land_use_zone").scalars())
    assert "DGT" not in {f["properties"]["code"] for f in low}
    assert len(low) <= zones * 4
    x, y = tile_of(lon, lat, 15)
    detailed = mapbox_vector_tile.decode(
        client.get(f"/tiles/land_use/15/{x}/{y}.mvt").content)["land_use"]["features"]
    assert "DGT" in {f["properties"]["code"] for f in detailed}


def test_parcels_start_at_the_zoom_where_they_are_readable(
    client: TestClient, conn: Connection
) -> None:
    median = conn.exec_driver_sql(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY area_m2) FROM parcel"
    ).scalar_one()
    doc = client.get("/tiles/parcels.json").json()
    assert doc["minzoom"] == readable_minzoom(float(median), 10.73)
    # Below it, a parcel tile is empty; from it on, it has parcels.
    _, lon, lat = a_parcel(conn)
    below = client.get("/tiles/parcels/{}/{}/{}.mvt".format(
        doc["minzoom"] - 1, *tile_of(lon, lat, doc["minzoom"] - 1)))
    at = client.get("/tiles/parcels/{}/{}/{}.mvt".format(
        doc["minzoom"], *tile_of(lon, lat, doc["minzoom"])))
    assert below.content == b""
    assert "parcels" in mapbox_vector_tile.decode(at.content)


def test_readable_minzoom_follows_parcel_size() -> None:
    assert readable_minzoom(437, 10.73) == 16  # the default sample's ~20 m parcels
    assert readable_minzoom(26, 10.73) == 18  # the 1M sample's ~5 m parcels
    assert readable_minzoom(20_000, 10.73) == 15  # clamped


def test_gzip_when_asked(client: TestClient, conn: Connection) -> None:
    _, lon, lat = a_parcel(conn)
    x, y = tile_of(lon, lat, 15)
    plain = client.get(f"/tiles/basemap/15/{x}/{y}.mvt", headers={"Accept-Encoding": "identity"})
    zipped = client.get(f"/tiles/basemap/15/{x}/{y}.mvt", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) < len(plain.content) / 1.5
    assert zipped.content == plain.content  # the client decompressed it
    assert zipped.headers["etag"] != plain.headers["etag"]
    again = client.get(f"/tiles/basemap/15/{x}/{y}.mvt",
                       headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]})
    assert again.status_code == 304


def test_memory_keeps_recent_tiles_within_its_budget() -> None:
    memory = TileMemory(max_bytes=250)
    tiles = {i: Tile(bytes([i]) * 100, f'"{i}"') for i in range(3)}
    memory.put(("parcels", 1, 18, 0, 0), tiles[0])
    memory.put(("parcels", 1, 18, 0, 1), tiles[1])
    assert memory.get(("parcels", 1, 18, 0, 0)) == tiles[0]  # now the most recent
    memory.put(("parcels", 1, 18, 0, 2), tiles[2])  # over budget: the oldest goes
    assert memory.get(("parcels", 1, 18, 0, 1)) is None
    assert memory.get(("parcels", 1, 18, 0, 0)) == tiles[0]
    assert memory.size == 200
    assert memory.get(("parcels", 2, 18, 0, 0)) is None  # another version, another key


def test_hot_tiles_are_answered_from_memory_before_routing(client: TestClient) -> None:
    fake = Tile(b"\x1a\x00" * 400, '"hot"')
    state = tiles_service.LayerState({"roads": 41}, {})
    saved = tiles_service._state
    tiles_service._state = (time.monotonic(), state)
    tiles_service.MEMORY.put(("roads", 41, 14, 13059, 7649), fake)
    try:
        res = client.get("/tiles/roads/14/13059/7649.mvt?v=41",
                         headers={"Accept-Encoding": "identity"})
        assert res.content == fake.data
        assert res.headers["etag"] == '"hot"'
        assert res.headers["cache-control"] == "public, max-age=31536000, immutable"
        stale = client.get("/tiles/roads/14/13059/7649.mvt?v=40",
                           headers={"Accept-Encoding": "identity"})
        assert stale.headers["cache-control"] == "public, max-age=300"
        assert client.get("/tiles/roads/14/13059/7649.mvt",
                          headers={"If-None-Match": '"hot-gz"'}).status_code == 304
        assert client.head("/tiles/roads/14/13059/7649.mvt").content == b""
    finally:
        tiles_service.MEMORY.items.pop(("roads", 41, 14, 13059, 7649), None)
        tiles_service.MEMORY.size -= len(fake.data)
        tiles_service._state = saved
