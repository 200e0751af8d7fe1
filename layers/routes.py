"""HTTP routes of the parcel card and look-ups."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request, Response

from core.deps import ReadConnectionDep
from core.routing import Router
from layers.schemas import LandUseCodePublic, ParcelCard, ParcelList, SearchResult
from layers.service import ParcelService

router = Router(prefix="/api", tags=["parcels"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No parcel there; the message says what is there instead"}
}
CARD_HEADERS = {"Cache-Control": "public, max-age=60"}


def _card(body: str) -> Response:
    # The card is assembled as JSON by PostGIS; passing it through avoids a parse and re-dump.
    return Response(content=body, media_type="application/json", headers=CARD_HEADERS)


@router.get(
    "/parcels/at",
    response_model=ParcelCard,
    responses=NOT_FOUND,
    summary="Parcel card at a point (chạm vào thửa đất)",
    description="The planning card of the parcel under a WGS84 point: zoning blocks with "
    "their share, land-use plan, road right-of-way, approving decisions, old and new ward, "
    "and the services that can be started there.",
)
async def parcel_at(
    request: Request,
    lon: Annotated[float, Query(ge=-180, le=180, description="Longitude, WGS84",
                                examples=[106.7195])],
    lat: Annotated[float, Query(ge=-90, le=90, description="Latitude, WGS84",
                                examples=[10.7335])],
) -> Response:
    """The card of the parcel under the point."""
    # The hottest route takes its connection straight from the pool: no dependency frame.
    async with request.app.state.read_pool.acquire() as conn:
        return _card(await ParcelService(conn).card_at(lon, lat))


@router.get(
    "/parcels/{parcel_key}",
    response_model=ParcelCard,
    responses=NOT_FOUND,
    summary="Parcel card by parcel key (MaThuaDat)",
)
async def parcel_by_key(
    conn: ReadConnectionDep,
    parcel_key: Annotated[str, Path(pattern=r"^\d{12}$",
                                    description="Ward code (5) + sheet (3) + parcel (4)",
                                    examples=["274870120345"])],
) -> Response:
    """The card of a parcel by its key."""
    return _card(await ParcelService(conn).card_by_key(parcel_key))


@router.get(
    "/parcels",
    response_model=ParcelList,
    summary="Find parcels by ward, map sheet and parcel number (tờ bản đồ, số thửa)",
)
async def find_parcels(
    conn: ReadConnectionDep,
    ward: Annotated[str, Query(min_length=1, max_length=64,
                               description="Old or new ward: code or name",
                               examples=["27487", "Tân Phú", "Tan My"])],
    sheet: Annotated[int | None, Query(ge=1, le=999)] = None,
    parcel: Annotated[int | None, Query(ge=1, le=9999)] = None,
) -> ParcelList:
    """Parcels in the ward with that sheet and number."""
    return await ParcelService(conn).find(ward, sheet, parcel)


@router.get(
    "/search",
    response_model=SearchResult,
    summary="Search addresses and streets (tìm địa chỉ, tên đường)",
)
async def search(
    conn: ReadConnectionDep,
    q: Annotated[str, Query(min_length=1, max_length=100,
                            examples=["Nguyễn Thị Thập", "12 duong so 5"])],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SearchResult:
    """Addresses and streets containing the text, with or without diacritics."""
    return await ParcelService(conn).search(q, limit)


@router.get(
    "/land-use-codes",
    response_model=list[LandUseCodePublic],
    summary="Land-use type codes and their colours (mã loại đất, chú giải)",
)
async def land_use_codes(conn: ReadConnectionDep) -> list[LandUseCodePublic]:
    """The legend of the land-use plan."""
    return await ParcelService(conn).land_use_codes()
