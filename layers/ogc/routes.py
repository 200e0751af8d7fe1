"""HTTP routes of OGC API – Features (read by QGIS, ArcGIS, GDAL's OAPIF driver)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request, Response

from accounts.auth import may
from core.deps import ReadConnectionDep
from core.routing import Router
from layers.ogc.repository import FeatureRepository
from layers.ogc.service import CONFORMANCE, GEOJSON, FeatureService

router = Router(prefix="/ogc", tags=["ogc api features"])
CollectionId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,47}$", examples=["zoning_blocks"])]
PUBLIC, PRIVATE = "public, max-age=60", "private, no-store"


def _staff(request: Request, response: Response) -> bool:
    # A staff member also sees the layers published for staff: such answers are private.
    staff = may(request, "layer.staff_read")
    response.headers["Vary"] = "Cookie, Authorization"
    if staff:
        response.headers["Cache-Control"] = PRIVATE
    return staff


async def _service(conn: ReadConnectionDep, request: Request,
             staff: Annotated[bool, Depends(_staff)]) -> FeatureService:
    return FeatureService(FeatureRepository(conn), str(request.base_url), staff)


Service = Annotated[FeatureService, Depends(_service)]


def _headers(service: FeatureService) -> dict[str, str]:
    return {"Cache-Control": PRIVATE if service.staff else PUBLIC,
            "Vary": "Cookie, Authorization"}


@router.get("", summary="Landing page")
async def landing(service: Service) -> dict[str, Any]:
    """Links to the conformance declaration, the API definition and the collections."""
    return service.landing()


@router.get("/conformance", summary="Conformance classes")
async def conformance() -> dict[str, Any]:
    """Core, GeoJSON, OpenAPI 3.0."""
    return {"conformsTo": CONFORMANCE}


@router.get("/collections", summary="Published layers")
async def collections(service: Service) -> dict[str, Any]:
    """Every published public layer, with its extent and filters."""
    return await service.collections()


@router.get("/collections/{collection_id}", summary="One published layer")
async def collection(collection_id: CollectionId, service: Service) -> dict[str, Any]:
    """The layer's description."""
    return await service.collection(collection_id)


@router.get("/collections/{collection_id}/items", summary="Features (GeoJSON, paged)",
            description="`bbox=minLon,minLat,maxLon,maxLat`, `limit` (≤ 1000), `offset`, and "
            "equality filters on the layer's queryables, e.g. `?code=ODT`.")
async def items(collection_id: CollectionId, request: Request, service: Service) -> Response:
    """A page of features with `next` and `prev` links."""
    body = await service.items(collection_id, dict(request.query_params))
    return Response(body, media_type=GEOJSON, headers=_headers(service))


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature")
async def item(collection_id: CollectionId,
               feature_id: Annotated[str, Path(max_length=32)], service: Service) -> Response:
    """The feature as GeoJSON."""
    return Response(await service.item(collection_id, feature_id), media_type=GEOJSON,
                    headers=_headers(service))
