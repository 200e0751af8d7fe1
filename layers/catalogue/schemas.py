"""API shapes of the layer catalogue, versions and ingest jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

from etl.fields import MAP_PREFIX, PLAN_PREFIX
from layers.catalogue.workflow import VERSION, VersionStatus

STRICT = ConfigDict(extra="forbid")


class FieldSpec(BaseModel):
    """A field a layer's features carry."""

    model_config = STRICT

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    type: str = Field(default="text", pattern="^(text|integer|number|date|boolean)$")
    required: bool = False
    key: bool = Field(default=False, description="The field naming each feature (its id)")
    aliases: list[str] = Field(default_factory=list, max_length=10)


class LayerCreate(BaseModel):
    """A new free layer (the planning layers exist already)."""

    model_config = STRICT

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,47}$", examples=["cong_trinh_cong_cong"])
    kind: str = Field(default="free", pattern="^(free|scanned_plan)$",
                      description="free: vector features; scanned_plan: a georeferenced GeoTIFF")
    title_vi: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=200)
    visibility: str = Field(default="public", pattern="^(public|staff)$")
    schema_fields: list[FieldSpec] = Field(default_factory=list, max_length=100, alias="schema")


class LayerPublic(BaseModel):
    """A layer of the catalogue."""

    id: str
    kind: str
    title_vi: str
    title_en: str
    visibility: str
    published_version: int | None
    published_raster: str | None = Field(
        default=None, description="Scanned plans: the raster id to ask /raster/{id}/... for")
    fields: list[dict[str, Any]] = Field(validation_alias="schema")


class VersionPublic(BaseModel):
    """A version of a layer, with its validation report and its changes."""

    id: int = Field(exclude=True)
    version: int = Field(exclude=True)
    number: int
    status: VersionStatus
    source_name: str | None
    srid: int | None
    encoding: str | None
    feature_count: int | None
    report: dict[str, Any]
    changes: dict[str, Any]
    created_at: datetime
    published_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def etag(self) -> str:
        """The ETag to send back as If-Match when publishing this version."""
        return VERSION.etag(self.id, self.version)


class JobPublic(BaseModel):
    """An ingest job: where it is, and the question it waits on."""

    id: int
    layer_id: str
    status: str
    stage: str
    progress: float
    rows: int
    message: str | None
    question: dict[str, Any] | None
    version: int | None
    updated_at: datetime


class Answer(BaseModel):
    """The planner's answer to a doctor's question."""

    model_config = STRICT

    crs: str | None = Field(default=None, pattern=r"^EPSG:\d{4,6}(:swapped)?$",
                            examples=["EPSG:9210"])
    encoding: str | None = Field(default=None, pattern="^(utf-8|cp1258|tcvn3|vni)$")
    layer: str | None = Field(default=None, max_length=200)
    fields: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")],
                 Annotated[str, Field(max_length=200)]] | None = Field(
        default=None, alias="map", max_length=100, examples=[{"ma_o_pho": "KH_OPHO"}],
        description="The field doctor's answer: schema field -> the file's field ('' for none "
                    "of these, where the field is optional)")
    plans: dict[Annotated[str, Field(min_length=1, max_length=200)],
                Annotated[str, Field(min_length=1, max_length=32)]] | None = Field(
        default=None, max_length=100, examples=[{"4927/QĐ-UBND": "new"}],
        description="Decision number -> 'new' (make a zoning plan for it) or a plan's code")

    def answers(self) -> dict[str, str]:
        """The answer as the job keeps it (one flat map of strings)."""
        out = {k: v for k, v in {"crs": self.crs, "encoding": self.encoding,
                                 "layer": self.layer}.items() if v}
        out |= {MAP_PREFIX + target: source for target, source in (self.fields or {}).items()}
        out |= {PLAN_PREFIX + " ".join(d.split()): c for d, c in (self.plans or {}).items()}
        return out
