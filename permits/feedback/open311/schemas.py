"""What the Open311 resources answer: every field the spec names, in its order (a field the
spec allows to be absent is null here, an empty element in XML)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class Endpoint(BaseModel):
    """One API endpoint the discovery document lists."""

    specification: str
    url: str
    changeset: str
    type: Literal["production", "test"]
    formats: list[str]


class Discovery(BaseModel):
    """Where the GeoReport v2 endpoint is, and how to get a key."""

    changeset: str
    contact: str
    key_service: str
    endpoints: list[Endpoint]


class Service(BaseModel):
    """A service: one feedback category."""

    service_code: str
    service_name: str
    description: str
    metadata: bool = Field(description="The service defines attributes (see its definition)")
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str
    group: str


class Attribute(BaseModel):
    """A field a service asks for, sent as attribute[code]."""

    variable: bool
    code: str
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist",
                      "multivaluelist"]
    required: bool
    datatype_description: str | None
    order: int
    description: str


class ServiceDefinition(BaseModel):
    """A service's attributes."""

    service_code: str
    attributes: list[Attribute]


class ServiceRequest(BaseModel):
    """A report as anyone sees it: never who sent it, nor how to reach them."""

    service_request_id: int
    status: Literal["open", "closed"]
    status_notes: str | None
    service_name: str
    service_code: str
    description: str | None
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float
    long: float
    media_url: str | None


class RequestCreated(BaseModel):
    """A report received from a client."""

    service_request_id: int
    token: str
    service_notice: str | None
    account_id: str | None


class TokenAnswer(BaseModel):
    """The report a token stands for."""

    service_request_id: int
    token: str


class Error(BaseModel):
    """One error, as the spec words it."""

    code: int
    description: str


class ClientIn(BaseModel):
    """An application an administrator gives an API key."""

    model_config = {"extra": "forbid"}

    name: str = Field(min_length=2, max_length=200)
    contact: str | None = Field(default=None, max_length=300,
                                description="Who answers for the application")


class ClientPublic(BaseModel):
    """A client as administrators see it (never its key, only the key's first characters)."""

    id: int
    name: str
    contact: str | None
    key_prefix: str
    issued_by: int | None
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: int | None


class ClientIssued(ClientPublic):
    """A client just issued, with its key: shown this once."""

    api_key: str
