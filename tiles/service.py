"""Tile rules: which layers, which tiles exist, caching, versions, ETags."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from gzip import compress
from typing import cast

import asyncpg

from core.errors import NotFoundError
from tiles.layers import LAYERS, LIVE_LAYERS, MAX_ZOOM, LiveLayer, TileLayer
from tiles.repository import TileRepository
from tiles.style import district_style

BASEMAP = "basemap"  # one tile bundling every layer a phone needs at that zoom
VERSION_TTL_S = 5.0  # how long a worker trusts its copy of the layer versions
TRIM_EVERY = 500  # stores between two trims of the cache to its size bound
GZIP_LEVEL = 5  # most of level 9's gain at a fraction of its CPU
DISTRICT_BOUNDS = [106.69, 10.70, 106.75, 10.76]  # before any ward is loaded

@dataclass(frozen=True)
class LayerState:
    """What the database says about the layers: versions and data-driven minimum zooms."""

    versions: dict[str, int]
    minzooms: dict[str, int]

    def minzoom(self, layer: TileLayer) -> int:
        """The layer's minimum zoom: the data's when it sets one, else the registry's."""
        return self.minzooms.get(layer.id, layer.minzoom)


_state: tuple[float, LayerState | None] = (0.0, None)


class TileMemory:
    """A per-worker LRU of hot tiles in front of the shared cache table.

    Keys carry the layer's version, so an invalidation (which bumps it) retires every entry of
    the layer in this worker at once, and in the others within VERSION_TTL_S; tiles away from
    the change come back from the shared cache with their old bytes and ETag.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.items: OrderedDict[tuple[str, int, int, int, int], Tile] = OrderedDict()
        self.size = 0

    def get(self, key: tuple[str, int, int, int, int]) -> Tile | None:
        """The tile under key, marked as recently used."""
        tile = self.items.get(key)
        if tile is not None:
            self.items.move_to_end(key)
        return tile

    def put(self, key: tuple[str, int, int, int, int], tile: Tile) -> None:
        """Keep a tile, evicting the least recently used beyond the byte budget."""
        if key in self.items or len(tile.data) > self.max_bytes:
            return
        self.items[key] = tile
        self.size += len(tile.data)
        while self.size > self.max_bytes:
            _, old = self.items.popitem(last=False)
            self.size -= len(old.data)


MEMORY = TileMemory(64 * 1024 * 1024)


def memory_hit(layer_id: str, z: int, x: int, y: int) -> tuple[Tile, int] | None:
    """A hot tile and its layer version straight from this worker's memory (no database)."""
    fetched_at, state = _state
    if state is None or time.monotonic() - fetched_at > VERSION_TTL_S:
        return None
    version = state.versions.get(layer_id)
    tile = None if version is None else MEMORY.get((layer_id, version, z, x, y))
    return None if tile is None else (tile, version)  # type: ignore[return-value]
_stores = 0


@dataclass(frozen=True)
class Tile:
    """Tile bytes and their strong ETag."""

    data: bytes
    etag: str

    @cached_property
    def gzipped(self) -> bytes:
        """The gzip representation, made once per tile held in memory."""
        return compress(self.data, GZIP_LEVEL)


def etag_of(data: bytes) -> str:
    """A strong ETag from the tile's bytes: same bytes, same ETag, whatever the version."""
    return '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'


class TileService:
    """Serves tiles of registered layers, through the shared tile cache."""

    def __init__(self, conn: asyncpg.Connection, cache_size: int = 100_000) -> None:
        self.repo = TileRepository(conn)
        self.cache_size = cache_size

    async def layers_of(self, layer_id: str, z: int) -> list[TileLayer]:
        """The registered layers behind a layer id at a zoom (404 for an unknown id)."""
        if layer_id != BASEMAP and layer_id not in LAYERS:
            raise NotFoundError(f"No tile layer '{layer_id}' (have {', '.join(LAYERS)}, "
                                f"{BASEMAP})", "layer")
        candidates = list(LAYERS.values()) if layer_id == BASEMAP else [LAYERS[layer_id]]
        state = await self.state()
        return [layer for layer in candidates
                if state.minzoom(layer) <= z <= layer.maxzoom]

    @staticmethod
    def check_address(z: int, x: int, y: int) -> None:
        """404 for a tile address outside the tile matrix."""
        if not 0 <= z <= MAX_ZOOM:
            raise NotFoundError(f"zoom {z} is outside 0-{MAX_ZOOM}", "z")
        for name, value in (("x", x), ("y", y)):
            if not 0 <= value < 2**z:
                raise NotFoundError(f"{name}={value} is outside 0-{2**z - 1} at zoom {z}", name)

    async def tile(self, layer_id: str, z: int, x: int, y: int) -> Tile:
        """The tile, from the cache or rendered (and then cached)."""
        global _stores
        self.check_address(z, x, y)
        layers = await self.layers_of(layer_id, z)
        if not self.cache_size:
            data = b"".join([await self.repo.render(layer, z, x, y) for layer in layers])
            return Tile(data, etag_of(data))
        key = (layer_id, (await self.state()).versions.get(layer_id, 0), z, x, y)
        if (hot := MEMORY.get(key)) is not None:
            return hot
        hit = await self.repo.cached(layer_id, z, x, y)
        if hit is not None:
            MEMORY.put(key, Tile(*hit))
            return Tile(*hit)
        data = b"".join([await self.repo.render(layer, z, x, y) for layer in layers])
        tile = Tile(data, etag_of(data))
        MEMORY.put(key, tile)
        await self.repo.store(layer_id, z, x, y, tile.data, tile.etag)
        _stores += 1
        if _stores % TRIM_EVERY == 0:
            await self.repo.trim(self.cache_size)
        return tile

    async def live_tile(self, layer_id: str, z: int, x: int, y: int) -> Tile:
        """A live layer's tile as the rows are now: never cached here (they change all day, and
        "late" changes with the date alone); the client revalidates it with its ETag."""
        layer = LIVE_LAYERS[layer_id]
        self.check_address(z, x, y)
        data = await self.repo.render_live(layer, z, x, y) if z >= layer.minzoom else b""
        return Tile(data, etag_of(data))

    @staticmethod
    def live_tilejson(layer: LiveLayer, base_url: str, bounds: list[float]) -> dict[str, object]:
        """TileJSON 3.0 of a live layer: tile URLs without a version (nothing is immutable)."""
        return {
            "tilejson": "3.0.0", "name": layer.title, "description": layer.description,
            "version": "1.0.0", "scheme": "xyz",
            "tiles": [f"{base_url}tiles/{layer.id}/{{z}}/{{x}}/{{y}}.mvt"],
            "minzoom": layer.minzoom, "maxzoom": layer.source_maxzoom, "bounds": bounds,
            "center": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, 14],
            "vector_layers": [{"id": layer.id, "description": layer.title,
                               "minzoom": layer.minzoom, "maxzoom": layer.source_maxzoom,
                               "fields": layer.fields}],
        }

    async def state(self, fresh: bool = False) -> LayerState:
        """Layer versions and data-driven minimum zooms, re-read at most every few seconds;
        always when `fresh` (a TileJSON or the style: rare requests naming the tiles' URLs,
        which a publish or a rollback has just changed)."""
        global _state
        fetched_at, state = _state
        if fresh or state is None or time.monotonic() - fetched_at > VERSION_TTL_S:
            rows = await self.repo.versions()
            versions = {layer: version for layer, (version, _) in rows.items()}
            versions[BASEMAP] = sum(versions.values())
            state = LayerState(versions, {k: m for k, (_, m) in rows.items() if m is not None})
            _state = (time.monotonic(), state)
        return state

    async def tilejson(self, layer_id: str, base_url: str) -> dict[str, object]:
        """TileJSON 3.0 for a layer or the basemap."""
        if layer_id in LIVE_LAYERS:
            return self.live_tilejson(LIVE_LAYERS[layer_id], base_url,
                                      await self.repo.bounds() or DISTRICT_BOUNDS)
        await self.layers_of(layer_id, MAX_ZOOM)  # 404 for an unknown layer
        layers = list(LAYERS.values()) if layer_id == BASEMAP else [LAYERS[layer_id]]
        state = await self.state(fresh=True)
        version = state.versions.get(layer_id, 1)
        bounds = await self.repo.bounds() or DISTRICT_BOUNDS
        return {
            "tilejson": "3.0.0",
            "name": layer_id if layer_id == BASEMAP else layers[0].title,
            "description": "Quận 7 basemap" if layer_id == BASEMAP else layers[0].description,
            "version": f"1.0.{version}",
            "scheme": "xyz",
            "tiles": [f"{base_url}tiles/{layer_id}/{{z}}/{{x}}/{{y}}.mvt?v={version}"],
            "minzoom": min(state.minzoom(layer) for layer in layers),
            "maxzoom": MAX_ZOOM,
            "bounds": bounds,
            "center": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, 14],
            "vector_layers": [
                {"id": layer.id, "description": layer.title, "minzoom": state.minzoom(layer),
                 "maxzoom": layer.maxzoom, "fields": layer.fields}
                for layer in layers
            ],
        }

    async def invalidate(self, layers: list[str], area_wkb: bytes | None) -> int:
        """After a data change: drop the cached tiles over the area and bump the versions."""
        global _state
        dropped = await self.repo.invalidate([*layers, BASEMAP], area_wkb)
        _state = (0.0, None)
        return dropped

    async def style(self, base_url: str) -> dict[str, object]:
        """The district style with land-use colours from the reference table."""
        tilejson = await self.tilejson(BASEMAP, base_url)
        # The basemap's TileJSON inline: a phone asks for tiles one round trip sooner.
        source = {"type": "vector", **{key: tilejson[key] for key in (
            "tiles", "minzoom", "maxzoom", "bounds", "scheme")}}
        state = await self.state()
        bounds = cast(list[float], tilejson["bounds"])
        west, south, east, north = bounds
        reports = self.live_tilejson(LIVE_LAYERS["feedback"], base_url, bounds)
        feedback = {"type": "vector", **{key: reports[key] for key in (
            "tiles", "minzoom", "maxzoom", "bounds", "scheme")}}
        return district_style(
            base_url, source, await self.repo.land_use_colours(),
            state.minzoom(LAYERS["parcels"]), [(west + east) / 2, (south + north) / 2],
            feedback,
        )
