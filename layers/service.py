"""Rules of the parcel look-ups: which parcel, which ward, and why there is none."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
from sqlalchemy import Connection

from core.errors import InvalidInputError, NotFoundError
from layers.repository import ParcelRepository, card_by_key_in
from layers.schemas import (
    Buildable,
    LandUseCodePublic,
    ParcelList,
    ParcelSummary,
    SearchResult,
    StreetSummary,
)
from layers.text import normalize_search

MAX_RESULTS = 50


class ParcelService:
    """Parcel cards and look-ups."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.repo = ParcelRepository(conn)

    async def card_at(self, lon: float, lat: float) -> str:
        """The card JSON of the parcel under the point, or a 404 saying what is there."""
        card = await self.repo.card_at(lon, lat)
        if card is not None:
            return card
        row = await self.repo.features_at(lon, lat)
        here = f"({lon:.6f}, {lat:.6f})"
        if row is None or not row["in_district"]:
            raise NotFoundError(f"No parcel: the point {here} is outside District 7", "lon")
        if row["road"]:
            raise NotFoundError(f"No parcel: the point {here} is on the road {row['road']} "
                                "(right-of-way)", "lon")
        if row["water"]:
            raise NotFoundError(f"No parcel: the point {here} is on {row['water']}", "lon")
        raise NotFoundError(f"No parcel is recorded at {here}", "lon")

    async def card_by_key(self, key: str) -> str:
        """The card JSON of a parcel by key."""
        card = await self.repo.card_by_key(key)
        if card is None:
            raise NotFoundError(f"No parcel with key {key}", "parcel_key")
        return card

    async def ward_ids(self, ward: str) -> list[int]:
        """Ids of the wards (old or new) matching a code or a name, diacritics optional."""
        needle = normalize_search(ward).removeprefix("phuong ")
        ids = [int(w["id"]) for w in await self.repo.wards()
               if w["code"] == ward.strip() or normalize_search(str(w["name"])) == needle]
        if not ids:
            raise NotFoundError(f"No ward '{ward}' (give an old or new ward code or name)",
                                "ward")
        return ids

    async def find(self, ward: str, sheet: int | None, number: int | None) -> ParcelList:
        """Parcels by ward and sheet/parcel numbers."""
        if sheet is None and number is not None:
            raise InvalidInputError("give the sheet number with the parcel number", "sheet")
        rows = await self.repo.find(await self.ward_ids(ward), sheet, number, MAX_RESULTS)
        items = [_summary(r) for r in rows]
        return ParcelList(count=len(items), items=items)

    async def search(self, query: str, limit: int) -> SearchResult:
        """Parcels by address and streets by name."""
        needle = normalize_search(query)
        if len(needle) < 2:
            raise InvalidInputError("search needs at least 2 characters", "q")
        limit = min(limit, MAX_RESULTS)
        parcels = [_summary(r) for r in await self.repo.search_addresses(needle, limit)]
        streets = [
            StreetSummary(name=r["name"], right_of_way_m=r["right_of_way_m"],
                          bbox=[r["west"], r["south"], r["east"], r["north"]])
            for r in await self.repo.search_streets(needle, limit)
        ]
        return SearchResult(query=query, parcels=parcels, streets=streets)

    async def land_use_codes(self) -> list[LandUseCodePublic]:
        """The land-use legend: every code with its colour, and whether the district uses it."""
        return [LandUseCodePublic.model_validate(dict(r.items()))
                for r in await self.repo.land_use_codes()]


def buildable_by_key(conn: Connection, key: str) -> Buildable:
    """What can be built on a parcel, as its card says, read in the caller's transaction."""
    card = card_by_key_in(conn, key)
    if card is None:
        raise NotFoundError(f"No parcel with key {key}", "parcel_key")
    return Buildable.model_validate(json.loads(card)["buildable"])


def _summary(r: Any) -> ParcelSummary:
    return ParcelSummary.model_validate(dict(r.items()), from_attributes=False)
