"""Tile rules: which layers, which tiles exist, caching, versions, ETags."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import asyncpg

from gisapi.errors import NotFoundError
from tiles.layers import LAYERS, MAX_ZOOM, TileLayer
from tiles.repository import TileRepository

BASEMAP = "basemap"  # one tile bundling every layer a phone needs at that zoom
VERSION_TTL_S = 5.0  # how long a worker trusts its copy of the layer versions
TRIM_EVERY = 500  # stores between two trims of the cache to its size bound

_versions: tuple[float, dict[str, int]] = (0.0, {})
_stores = 0


@dataclass(frozen=True)
class Tile:
    """Tile bytes and their strong ETag."""

    data: bytes
    etag: str


def etag_of(data: bytes) -> str:
    """A strong ETag from the tile's bytes: same bytes, same ETag, whatever the version."""
    return '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'


class TileService:
    """Serves tiles of registered layers, through the shared tile cache."""

    def __init__(self, conn: asyncpg.Connection, cache_size: int = 100_000) -> None:
        self.repo = TileRepository(conn)
        self.cache_size = cache_size

    @staticmethod
    def layers_of(layer_id: str, z: int) -> list[TileLayer]:
        """The registered layers behind a layer id at a zoom (404 for an unknown id)."""
        if layer_id == BASEMAP:
            return [layer for layer in LAYERS.values() if layer.minzoom <= z <= layer.maxzoom]
        if layer_id not in LAYERS:
            raise NotFoundError(f"No tile layer '{layer_id}' (have {', '.join(LAYERS)}, "
                                f"{BASEMAP})", "layer")
        layer = LAYERS[layer_id]
        return [layer] if layer.minzoom <= z <= layer.maxzoom else []

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
        layers = self.layers_of(layer_id, z)
        if self.cache_size:
            hit = await self.repo.cached(layer_id, z, x, y)
            if hit is not None:
                return Tile(*hit)
        data = b"".join([await self.repo.render(layer, z, x, y) for layer in layers])
        tile = Tile(data, etag_of(data))
        if not self.cache_size:
            return tile
        await self.repo.store(layer_id, z, x, y, tile.data, tile.etag)
        _stores += 1
        if _stores % TRIM_EVERY == 0:
            await self.repo.trim(self.cache_size)
        return tile

    async def versions(self) -> dict[str, int]:
        """Layer versions, refreshed at most every few seconds per worker."""
        global _versions
        fetched_at, versions = _versions
        if time.monotonic() - fetched_at > VERSION_TTL_S:
            versions = await self.repo.versions()
            versions[BASEMAP] = sum(versions.values())
            _versions = (time.monotonic(), versions)
        return versions

    async def tilejson(self, layer_id: str, base_url: str) -> dict[str, object]:
        """TileJSON 3.0 for a layer or the basemap."""
        if layer_id == BASEMAP:
            layers = list(LAYERS.values())
        else:
            self.layers_of(layer_id, MAX_ZOOM)  # 404 for an unknown layer
            layers = [LAYERS[layer_id]]
        version = (await self.versions()).get(layer_id, 1)
        bounds = await self.repo.bounds() or [106.69, 10.70, 106.75, 10.76]
        return {
            "tilejson": "3.0.0",
            "name": layer_id if layer_id == BASEMAP else layers[0].title,
            "description": "Quận 7 basemap" if layer_id == BASEMAP else layers[0].description,
            "version": f"1.0.{version}",
            "scheme": "xyz",
            "tiles": [f"{base_url}tiles/{layer_id}/{{z}}/{{x}}/{{y}}.mvt?v={version}"],
            "minzoom": min(layer.minzoom for layer in layers),
            "maxzoom": MAX_ZOOM,
            "bounds": bounds,
            "center": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, 14],
            "vector_layers": [
                {"id": layer.id, "description": layer.title, "minzoom": layer.minzoom,
                 "maxzoom": layer.maxzoom, "fields": layer.fields}
                for layer in layers
            ],
        }

    async def invalidate(self, layers: list[str], area_wkb: bytes | None) -> int:
        """After a data change: drop the cached tiles over the area and bump the versions."""
        global _versions
        dropped = await self.repo.invalidate([*layers, BASEMAP], area_wkb)
        _versions = (0.0, {})
        return dropped
