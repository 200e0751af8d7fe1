"""HTTP routes of the layer catalogue: layers, uploads, jobs, versions, publishing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import (
    Depends,
    File,
    Form,
    Path,
    Request,
    Response,
    UploadFile,
)
from sqlalchemy import Connection

from accounts.auth import authorize
from accounts.policy import Principal, workflow_actor
from core.deps import ConnectionDep, IfMatch
from core.errors import InvalidInputError
from core.routing import Router
from core.workflow import driver
from layers.catalogue.publish import publish
from layers.catalogue.schemas import Answer, JobPublic, LayerCreate, LayerPublic, VersionPublic
from layers.catalogue.service import CatalogueService, mapping_answers
from layers.catalogue.tasks import defer_ingest

router = Router(prefix="/api", tags=["layers"])
Planner = Annotated[Principal, Depends(authorize("layer.write"))]
LayerId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,47}$", examples=["land_use"])]
Number = Annotated[int, Path(ge=1, le=1_000_000)]
JobId = Annotated[int, Path(ge=1, le=2**62)]
GEOJSON = "application/geo+json"


async def _service(conn: ConnectionDep, request: Request) -> CatalogueService:
    settings = request.app.state.settings
    return CatalogueService(conn, settings.upload_dir, settings.upload_max_mb * 1024**2)


Service = Annotated[CatalogueService, Depends(_service)]


def _queue(request: Request, conn: Connection, job_id: int) -> None:
    """Queue the job's run in the request's transaction (no run for a request rolled back)."""
    driver = conn.connection.driver_connection
    defer_ingest(request.app.state.queue, driver, job_id)  # type: ignore[arg-type]


@router.get("/layers", response_model=list[LayerPublic], summary="The layer catalogue")
def layers(_: Planner, service: Service) -> list[Any]:
    """Every layer, with its published version."""
    return [LayerPublic.model_validate(r, from_attributes=True) for r in service.layers()]


@router.post("/layers", status_code=201, response_model=LayerPublic,
             summary="Create a free layer")
def create_layer(body: LayerCreate, _: Planner, service: Service) -> LayerPublic:
    """A layer of its own kind, filled by its first upload."""
    service.create(body.id, body.title_vi, body.title_en, body.visibility,
                   [f.model_dump() for f in body.schema_fields], body.kind)
    row = next(r for r in service.layers() if r.id == body.id)
    return LayerPublic.model_validate(row, from_attributes=True)


@router.post("/layers/{layer_id}/uploads", status_code=202, response_model=JobPublic,
             summary="Upload a file: it becomes a version through a background job")
def upload(
    layer_id: LayerId,
    planner: Planner,
    service: Service,
    conn: ConnectionDep,
    request: Request,
    file: Annotated[UploadFile, File(description="Zipped shapefile, GeoPackage, GeoJSON, DXF, "
                                                 "KML, KMZ, or a GeoTIFF for a scanned plan")],
    crs: Annotated[str | None, Form(pattern=r"^EPSG:\d{4,6}(:swapped)?$")] = None,
    encoding: Annotated[str | None, Form(pattern="^(utf-8|cp1258|tcvn3|vni)$")] = None,
    layer: Annotated[str | None, Form(max_length=200)] = None,
    publish_when_valid: Annotated[bool, Form(alias="publish")] = False,
    fields: Annotated[list[str], Form(alias="map", max_length=100, description=(
        "target=source, as the CLI's --map: a field mapping given up front (or changing "
        "the one remembered)"))] = [],  # noqa: B006 - FastAPI copies defaults
) -> JobPublic:
    """Follow the job at /api/jobs/{id}: progress, the doctors' questions, the version."""
    answers = {k: v for k, v in {"crs": crs, "encoding": encoding, "layer": layer}.items() if v}
    answers |= mapping_answers(fields)
    job_id = service.upload(layer_id, file.filename or "upload", file.file, answers,
                            publish_when_valid, planner.person_id)
    _queue(request, conn, job_id)
    return JobPublic.model_validate(service.job(job_id), from_attributes=True)


@router.get("/jobs/{job_id}", response_model=JobPublic, summary="An ingest job's progress")
def job(job_id: JobId, _: Planner, service: Service) -> JobPublic:
    """Stage, percentage, rows, the question it waits on, the version it made."""
    return JobPublic.model_validate(service.job(job_id), from_attributes=True)


@router.post("/jobs/{job_id}/answer", status_code=202, response_model=JobPublic,
             summary="Answer the doctor's question; the job runs again")
def answer(job_id: JobId, body: Answer, planner: Planner, service: Service,
           conn: ConnectionDep, request: Request) -> JobPublic:
    """The CRS, the encoding, the layer, the fields or the plans to use."""
    service.answer(job_id, body.answers(), planner.person_id)
    _queue(request, conn, job_id)
    return JobPublic.model_validate(service.job(job_id), from_attributes=True)


@router.get("/layers/{layer_id}/versions", response_model=list[VersionPublic],
            summary="A layer's versions")
def versions(layer_id: LayerId, _: Planner, service: Service) -> list[Any]:
    """Newest first, with their reports and changes."""
    return [VersionPublic.model_validate(r, from_attributes=True)
            for r in service.versions(layer_id)]


@router.get("/layers/{layer_id}/versions/{number}", response_model=VersionPublic,
            summary="One version: validation report and changes")
def version(layer_id: LayerId, number: Number, _: Planner, service: Service,
            response: Response) -> VersionPublic:
    """The report lists each problem feature with what was done about it."""
    found = VersionPublic.model_validate(service.version(layer_id, number), from_attributes=True)
    response.headers["ETag"] = found.etag
    return found


@router.get("/layers/{layer_id}/versions/{number}/issues.geojson",
            summary="The features with problems, for the map")
def issues(layer_id: LayerId, number: Number, _: Planner, service: Service) -> Response:
    """Repaired and rejected features with their problem."""
    return Response(service.issues_geojson(layer_id, number), media_type=GEOJSON)


@router.get("/layers/{layer_id}/versions/{number}/changes.geojson",
            summary="Where this version differs from the one published before it")
def changes(layer_id: LayerId, number: Number, _: Planner, service: Service) -> Response:
    """The changed area, with the counts of added, removed and changed features."""
    return Response(service.changes_geojson(layer_id, number), media_type=GEOJSON)


@router.get("/layers/{layer_id}/versions/{number}/changes/{z}/{x}/{y}.mvt",
            summary="The changed area as a vector tile layer")
def changes_tile(layer_id: LayerId, number: Number, z: Annotated[int, Path(ge=0, le=22)],
                 x: Annotated[int, Path(ge=0)], y: Annotated[int, Path(ge=0)], _: Planner,
                 service: Service) -> Response:
    """Layer `changes`: the outline of what this version changes, with the counts."""
    if x >= 2**z or y >= 2**z:
        raise InvalidInputError(f"no tile {z}/{x}/{y}", "x")
    return Response(service.changes_tile(layer_id, number, z, x, y),
                    media_type="application/vnd.mapbox-vector-tile",
                    headers={"Cache-Control": "private, max-age=60"})


@router.post("/layers/{layer_id}/versions/{number}/publish",
             summary="Publish this version (an earlier one: roll back)")
def publish_version(layer_id: LayerId, number: Number, planner: Planner, conn: ConnectionDep,
                    response: Response, if_match: IfMatch = None) -> dict[str, Any]:
    """In one transaction; only the tiles over what changed are dropped. If-Match names the
    version read (its ETag): a planner never publishes what someone else changed since."""
    done = publish(driver(conn), layer_id, number, workflow_actor(planner), if_match)
    response.headers["ETag"] = done["etag"]
    return done
