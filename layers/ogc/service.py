"""OGC API – Features documents: landing page, conformance, collections, items."""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import urlencode

from core.errors import DomainError, NotFoundError
from layers.ogc.repository import Collection, FeatureRepository, Query

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
JSON, GEOJSON = "application/json", "application/geo+json"
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
PAGING = ("limit", "offset", "bbox", "f")


class ParameterError(DomainError):
    """A query parameter the API cannot use (OGC API answers these with 400)."""



def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    """minLon,minLat,maxLon,maxLat in CRS84."""
    if raw is None:
        return None
    try:
        values = [float(v) for v in raw.split(",")]
    except ValueError:
        raise ParameterError("bbox must be four numbers: minLon,minLat,maxLon,maxLat",
                             "bbox") from None
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ParameterError("bbox must be four numbers: minLon,minLat,maxLon,maxLat", "bbox")
    x1, y1, x2, y2 = values
    if not (-180 <= x1 <= x2 <= 180 and -90 <= y1 <= y2 <= 90):
        raise ParameterError("bbox must be minLon,minLat,maxLon,maxLat within CRS84", "bbox")
    return x1, y1, x2, y2


class FeatureService:
    """Builds the documents from the catalogue and the layers' tables."""

    def __init__(self, repository: FeatureRepository, base: str, staff: bool = False) -> None:
        self.repo = repository
        self.base = base.rstrip("/") + "/ogc"
        self.staff = staff  # the caller may read layers published for staff only

    def landing(self) -> dict[str, Any]:
        """The landing page."""
        return {
            "title": "civicmap — dữ liệu quy hoạch Quận 7 (OGC API – Features)",
            "description": "Published planning layers of District 7, Ho Chi Minh City.",
            "links": [
                _link(self.base, "self", JSON, "this document"),
                _link(self.base.removesuffix("/ogc") + "/openapi.json", "service-desc",
                      "application/vnd.oai.openapi+json;version=3.0", "the API definition"),
                _link(self.base.removesuffix("/ogc") + "/docs", "service-doc", "text/html"),
                _link(f"{self.base}/conformance", "conformance", JSON),
                _link(f"{self.base}/collections", "data", JSON, "the layers"),
            ],
        }

    async def _collection(self, collection_id: str) -> Collection:
        for c in await self.repo.collections(self.staff):
            if c.id == collection_id:
                return c
        raise NotFoundError(f"no published layer {collection_id!r}", "collectionId")

    async def _describe(self, c: Collection) -> dict[str, Any]:
        url = f"{self.base}/collections/{c.id}"
        extent = await self.repo.extent(c)
        doc: dict[str, Any] = {
            "id": c.id, "title": c.title_vi, "description": c.title_en, "itemType": "feature",
            "crs": [CRS84], "storageCrs": CRS84,
            "links": [_link(url, "self", JSON),
                      _link(f"{url}/items", "items", GEOJSON, "the features"),
                      _link(f"{url}/items?f=json", "items", JSON)],
            "version": c.version,
            "queryables": list(c.queryables),
        }
        if extent:
            doc["extent"] = {"spatial": {"bbox": [extent], "crs": CRS84}}
        return doc

    async def collections(self) -> dict[str, Any]:
        """Every published layer the caller may read."""
        return {
            "links": [_link(f"{self.base}/collections", "self", JSON)],
            "collections": [await self._describe(c)
                            for c in await self.repo.collections(self.staff)],
        }

    async def collection(self, collection_id: str) -> dict[str, Any]:
        """One layer."""
        return await self._describe(await self._collection(collection_id))

    async def items(self, collection_id: str, params: dict[str, str]) -> str:
        """A page of features as a GeoJSON FeatureCollection (text: PostgreSQL built it)."""
        c = await self._collection(collection_id)
        equals = {k: v for k, v in params.items() if k not in PAGING}
        for name in equals:
            if name not in c.queryables:
                allowed = ", ".join(c.queryables) or "none"
                raise ParameterError(f"unknown parameter {name!r} (filters: {allowed})", name)
        limit = self._int(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        offset = self._int(params, "offset", 0, 0, 10_000_000)
        query = Query(parse_bbox(params.get("bbox")), equals, limit, offset)
        features, returned, matched = await self.repo.items(c, query)
        url = f"{self.base}/collections/{c.id}/items"
        keep = {k: v for k, v in params.items() if k not in ("offset", "f")}
        links = [_link(f"{url}?{urlencode({**keep, 'offset': offset})}", "self", GEOJSON),
                 _link(f"{self.base}/collections/{c.id}", "collection", JSON)]
        if returned == limit and (matched is None or offset + limit < matched):
            following = urlencode({**keep, "limit": limit, "offset": offset + limit})
            links.append(_link(f"{url}?{following}", "next", GEOJSON, "next page"))
        if offset > 0:
            before = urlencode({**keep, "limit": limit, "offset": max(0, offset - limit)})
            links.append(_link(f"{url}?{before}", "prev", GEOJSON, "previous page"))
        head = {"type": "FeatureCollection", "numberReturned": returned, "links": links}
        if matched is not None:
            head["numberMatched"] = matched
        prefix = json.dumps(head, ensure_ascii=False)[:-1]
        return f'{prefix}, "features": {features}}}'

    async def item(self, collection_id: str, feature_id: str) -> str:
        """One feature."""
        c = await self._collection(collection_id)
        try:
            fid = int(feature_id)
        except ValueError:
            raise NotFoundError(f"no feature {feature_id!r}", "featureId") from None
        if not -2**63 <= fid < 2**63:  # no key column holds it
            raise NotFoundError(f"no feature {feature_id!r} in {collection_id}", "featureId")
        found = await self.repo.item(c, fid)
        if found is None:
            raise NotFoundError(f"no feature {feature_id!r} in {collection_id}", "featureId")
        return found

    @staticmethod
    def _int(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
        raw = params.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ParameterError(f"{name} must be a whole number", name) from None
        if not low <= value <= high:
            raise ParameterError(f"{name} must be between {low} and {high}", name)
        return value
