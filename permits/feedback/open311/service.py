"""Rules of the Open311 face: the feedback categories as services, reports as service
requests (open or closed, with honest status notes, never who sent them), reports received
from trusted clients, and the clients' API keys."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

from core.errors import DomainError, ForbiddenError, InvalidInputError, NotFoundError
from layers.text import normalize_search
from permits.departments import agency
from permits.feedback.open311.repository import Open311Repository
from permits.feedback.open311.schemas import (
    Attribute,
    ClientIssued,
    ClientPublic,
    Discovery,
    Endpoint,
    RequestCreated,
    Service,
    ServiceDefinition,
    ServiceRequest,
    TokenAnswer,
)
from permits.feedback.service import EMAIL, FeedbackService, normalised_phone
from permits.feedback.workflow import Closing
from permits.workflow import VIETNAM

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ["text/xml", "application/json"]
# Sortable; the categories' versions are added to it so that an edited service changes it.
CHANGESET = "2026-12-02"
WINDOW = timedelta(days=90)  # the spec's widest date window, and its default
MAX_REQUESTS = 1000  # the spec's default volume
KEY_PREFIX = "o311_"
PARCEL_ATTRIBUTE = Attribute(
    variable=True, code="parcel_key", datatype="string", required=True,
    datatype_description="12 chữ số: mã thửa đất trên bản đồ (ví dụ 778270100012)", order=1,
    description="Thửa đất đang xây dựng không phép hoặc sai phép")
PARCEL_KEY = re.compile(r"^\d{12}$")
ATTRIBUTE = re.compile(r"^attribute\[([^\]]*)\](.*)$")
URL = re.compile(r"^https?://[^\s]{1,1990}$")


class RequestError(DomainError):
    """A request the spec answers with 400: a field missing or wrong (the table's 400)."""


def w3(moment: datetime) -> str:
    """A time as the spec writes it: ISO 8601 with the zone, Vietnam's (+07:00)."""
    return moment.astimezone(VIETNAM).isoformat(timespec="seconds")


def key_hash(key: str) -> str:
    """What is kept of a key: its SHA-256, hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def _notice(department: str, days: int) -> str:
    return f"Chuyển {agency(department)}; trả lời trong {days} ngày làm việc."


def _status_notes(row: Any) -> str | None:
    """Why a report stands where it does: the closing's reason, else the last public answer."""
    if row.status != "closed":
        return row.answer_note  # type: ignore[no-any-return]
    note = f": {row.close_note}" if row.close_note else ""
    if row.closing == Closing.NOT_COMPETENT:
        return f"Không thuộc thẩm quyền của quận, đã chuyển đến {row.referred_to}{note}"
    if row.closing == Closing.DUPLICATE:
        return f"Trùng với phản ánh #{row.duplicate_of}"
    if row.closing == Closing.CANNOT_FIX:
        return f"Không thể xử lý{note}"
    return f"Đã xử lý xong{note}"


def _request(row: Any, site: str) -> ServiceRequest:
    """A report as the spec shows it; `site` is where our photos are served from."""
    closed = row.status == "closed"
    expected = (None if row.due_on is None
                else w3(datetime.combine(row.due_on, time(23, 59, 59), VIETNAM)))
    return ServiceRequest(
        service_request_id=row.id, status="closed" if closed else "open",
        status_notes=_status_notes(row), service_name=row.service_name,
        service_code=row.category, description=row.description or None,
        agency_responsible=agency(row.department),
        service_notice=_notice(row.department, row.response_days),
        requested_datetime=w3(row.created_at),
        updated_datetime=w3(row.closed_at if closed and row.closed_at else row.updated_at),
        expected_datetime=expected,
        address=", ".join(p for p in (row.address, row.ward_name) if p) or None,
        address_id=row.address_id, zipcode=None, lat=row.lat, long=row.lon,
        # The client's own link, else the public copy of the report's first photo.
        media_url=row.media_url or (None if row.photo_id is None
                                    else f"{site}/api/feedback/{row.id}/photos/{row.photo_id}"))


def _given(params: Mapping[str, str], name: str) -> str | None:
    """A parameter's value; empty is not given (the spec's optional arguments)."""
    value = (params.get(name) or "").strip()
    return value or None


def _moment(params: Mapping[str, str], name: str) -> datetime | None:
    text = _given(params, name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RequestError("a W3C date and time, such as 2026-11-01T00:00:00+07:00",
                           name) from None
    if moment.tzinfo is None:
        raise RequestError("say the time's zone (Z or +07:00)", name)
    return moment


def _list(params: Mapping[str, str], name: str) -> list[str] | None:
    text = _given(params, name)
    return None if text is None else [v.strip() for v in text.split(",") if v.strip()]


class Open311Service:
    """GeoReport v2 over the feedback reports."""

    def __init__(self, repository: Open311Repository, feedback: FeedbackService,
                 site: str) -> None:
        self.repo = repository
        self.feedback = feedback
        self.site = site.rstrip("/")  # this server as clients reach it: photos' links

    # -- services ------------------------------------------------------------------------

    def discovery(self, url: str) -> Discovery:
        """The discovery document of this endpoint."""
        changeset = f"{CHANGESET}.{self.repo.category_versions():06d}"
        return Discovery(
            changeset=changeset,
            contact="Ủy ban nhân dân Quận 7, phản ánh kiến nghị (đường dây 1022)",
            key_service="Khóa API (api_key) do quản trị viên cấp cho từng ứng dụng; "
                        "đọc không cần khóa.",
            endpoints=[Endpoint(specification=SPECIFICATION, url=url, changeset=changeset,
                                type="production", formats=FORMATS)])

    def _attributes(self, category: Any) -> list[Attribute]:
        return [PARCEL_ATTRIBUTE] if category.about_parcel else []

    def services(self) -> list[Service]:
        """One service per feedback category."""
        return [Service(service_code=c.code, service_name=c.name_vi,
                        description=f"{c.name_en}. {_notice(c.department, c.response_days)}",
                        metadata=bool(self._attributes(c)), type="realtime",
                        keywords=f"{c.name_en}, {normalize_search(c.name_vi)}",
                        group=agency(c.department))
                for c in self.feedback.repo.categories()]

    def definition(self, service_code: str) -> ServiceDefinition:
        """A service's attributes."""
        category = self.feedback.repo.category(service_code)
        if category is None:
            raise NotFoundError(f"no service {service_code!r}", "service_code")
        return ServiceDefinition(service_code=category.code,
                                 attributes=self._attributes(category))

    # -- requests ------------------------------------------------------------------------

    def requests(self, params: Mapping[str, str]) -> list[ServiceRequest]:
        """Reports by number, or by services, window (90 days at most, the last 90 by
        default), status and box (bbox=west,south,east,north: our extension)."""
        ids = _list(params, "service_request_id")
        if ids is not None and (len(ids) > MAX_REQUESTS
                                or not all(i.isdigit() and len(i) < 19 for i in ids)):
            raise RequestError("report numbers, comma separated", "service_request_id")
        codes = _list(params, "service_code")
        known = {c.code for c in self.feedback.repo.categories()}
        for code in codes or ():
            if code not in known:
                raise RequestError(f"no service {code!r}", "service_code")
        start, end = _moment(params, "start_date"), _moment(params, "end_date")
        if start is None and end is None:
            end = datetime.now(UTC)
        if start is None:
            assert end is not None
            start = end - WINDOW
        if end is None:
            end = start + WINDOW
        if end < start:
            raise RequestError("end_date comes before start_date", "end_date")
        if end - start > WINDOW:
            raise RequestError("start_date and end_date may be 90 days apart at most",
                               "end_date")
        statuses = set(_list(params, "status") or ())
        if not statuses <= {"open", "closed"}:
            raise RequestError("open or closed", "status")
        closed = None if len(statuses) != 1 else statuses == {"closed"}
        return [_request(r, self.site) for r in self.repo.requests(
            [int(i) for i in ids] if ids is not None else None, codes, start, end, closed,
            self._bbox(_given(params, "bbox")), MAX_REQUESTS)]

    def _bbox(self, text: str | None) -> tuple[float, float, float, float] | None:
        if text is None:
            return None
        try:
            west, south, east, north = (float(v) for v in text.split(","))
        except ValueError:
            raise RequestError("west,south,east,north in degrees", "bbox") from None
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise RequestError("west,south,east,north in degrees, west < east, south < north",
                               "bbox")
        return west, south, east, north

    def request(self, service_request_id: str) -> list[ServiceRequest]:
        """One report, as a list of one (the spec's shape)."""
        if not service_request_id.isdigit() or len(service_request_id) > 18:
            raise NotFoundError("no such request", "service_request_id")
        found = self.repo.requests([int(service_request_id)], None, datetime.now(UTC),
                                   datetime.now(UTC), None, None, 1)
        if not found:
            raise NotFoundError("no such request", "service_request_id")
        return [_request(found[0], self.site)]

    def token(self, token: str) -> list[TokenAnswer]:
        """The report a token stands for."""
        row = self.repo.by_token(token) if len(token) <= 40 else None
        if row is None:
            raise NotFoundError("no such token", "token")
        return [TokenAnswer(service_request_id=row.id, token=row.open311_token)]

    # -- a client's report ---------------------------------------------------------------

    def client(self, api_key: str | None) -> int:
        """The client holding the key; 403 for none, an unknown or a revoked one."""
        if not api_key:
            raise ForbiddenError("api_key is required to send a request", "api_key")
        row = self.repo.client_by_hash(key_hash(api_key))
        if row is None:
            raise ForbiddenError("invalid api_key", "api_key")
        if row.revoked_at is not None:
            raise ForbiddenError("this api_key was revoked", "api_key")
        return int(row.id)

    def _place(self, form: Mapping[str, str]) -> tuple[float, float]:
        lat, lon = _given(form, "lat"), _given(form, "long")
        if lat is not None or lon is not None:
            if lat is None or lon is None:
                raise RequestError("lat and long go together", "lat" if lat is None else "long")
            try:
                y, x = float(lat), float(lon)
            except ValueError:
                raise RequestError("lat and long in degrees (WGS84)", "lat") from None
            if not (-90 <= y <= 90 and -180 <= x <= 180):
                raise RequestError("lat and long in degrees (WGS84)", "lat")
            return x, y
        address_id = _given(form, "address_id")
        if address_id is not None:
            found = (self.repo.place_of_parcel(address_id) if PARCEL_KEY.match(address_id)
                     else None)
            if found is None:
                raise RequestError("address_id is a parcel's key (12 digits) on the map",
                                   "address_id")
            return float(found.lon), float(found.lat)
        address = _given(form, "address_string")
        if address is not None:
            # Only an address that names exactly one parcel (its first part, before the ward
            # and city) places a report: a near match could put it on a neighbour's house.
            found = self.repo.parcels_at_address(normalize_search(address.split(",")[0]))
            if len(found) == 1:
                return float(found[0].lon), float(found[0].lat)
            raise RequestError("give lat and long: address_string names no single parcel "
                               "(or address_id, the parcel's key)", "lat")
        raise RequestError("give lat and long (or address_id, a parcel's key)", "lat")

    def _parcel_key(self, form: Mapping[str, str], category: Any) -> str | None:
        wanted = {a.code for a in self._attributes(category)}
        for name in form:
            found = ATTRIBUTE.match(name)
            if found and (found[2] or found[1] not in wanted):
                raise RequestError(f"service {category.code!r} defines no attribute "
                                   f"{found[1]!r}", name)
        if not category.about_parcel:
            return None
        key = _given(form, "attribute[parcel_key]")
        if key is None:
            raise RequestError("this service needs the parcel: its key, 12 digits",
                               "attribute[parcel_key]")
        if not PARCEL_KEY.match(key) or not self.feedback.repo.parcel_exists(key):
            raise RequestError(f"no parcel {key!r} (12 digits)", "attribute[parcel_key]")
        return key

    def _contact(self, form: Mapping[str, str]) -> dict[str, str]:
        phone, email = _given(form, "phone"), _given(form, "email")
        if phone is not None:
            try:
                return {"reporter_phone": normalised_phone(phone[:20])}
            except InvalidInputError as exc:
                raise RequestError(exc.message, "phone") from None
        if email is not None:
            if len(email) > 320 or not EMAIL.match(email):
                raise RequestError("an e-mail address, such as ten@example.vn", "email")
            return {"reporter_email": email.lower()}
        # The department answers the reporter there (and erases it a year after closing).
        raise RequestError("give the reporter's email or phone: the department answers there",
                           "email")

    def send(self, client_id: int, form: Mapping[str, str]) -> list[RequestCreated]:
        """A client's report: received at once (the client is trusted), its reporter's name
        and contact kept for the department only."""
        code = _given(form, "service_code")
        if code is None:
            raise RequestError("service_code is required", "service_code")
        category = self.feedback.repo.category(code)
        if category is None:
            raise NotFoundError(f"no service {code!r}", "service_code")
        lon, lat = self._place(form)
        ward = self.feedback.repo.ward_at(lon, lat)
        if ward is None:
            raise RequestError("the place is outside the district", "lat")
        parcel_key = self._parcel_key(form, category)
        description = (form.get("description") or "").strip()
        if len(description) > 4000:
            raise RequestError("4,000 characters at most", "description")
        media_url = _given(form, "media_url")
        if media_url is not None and not URL.match(media_url):
            raise RequestError("a link (http or https) to the picture", "media_url")
        name = " ".join(p for p in (_given(form, "first_name"), _given(form, "last_name")) if p)
        if len(name) > 120:
            raise RequestError("120 characters at most", "last_name")
        ids = {k: _given(form, k) for k in ("account_id", "device_id")}
        for field, value in ids.items():
            if value is not None and len(value) > 200:
                raise RequestError("200 characters at most", field)
        token = secrets.token_urlsafe(24)
        row = self.feedback.receive_from_client({
            "category": code, "description": description, "parcel_key": parcel_key,
            "ward_code": ward, "department": category.department, "show_name": False,
            "reporter_name": name or None, **self._contact(form),
            "geom": f"SRID=4326;POINT({lon} {lat})", "open311_client_id": client_id,
            "open311_token": token, "media_url": media_url},
            {"open311_client_id": client_id, **{k: v for k, v in ids.items() if v}})
        return [RequestCreated(service_request_id=row.id, token=token,
                               service_notice=_notice(category.department,
                                                      category.response_days),
                               account_id=ids["account_id"])]


class ClientKeys:
    """Open311 clients and their keys: issued by administrators (shown once), revoked."""

    def __init__(self, repository: Open311Repository) -> None:
        self.repo = repository

    def issue(self, name: str, contact: str | None, by: int | None) -> ClientIssued:
        """A new client and its key (only its hash and first characters are kept)."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        row = self.repo.add_client(name.strip(), (contact or "").strip() or None,
                                   key_hash(key), key[:12], by)
        return ClientIssued(**row._mapping, api_key=key)

    def list(self) -> list[ClientPublic]:
        """Every client, revoked ones too."""
        return [ClientPublic.model_validate(r, from_attributes=True)
                for r in self.repo.clients()]

    def revoke(self, client_id: int, by: int | None) -> None:
        """The key stops working at once."""
        if not self.repo.revoke_client(client_id, by):
            raise NotFoundError("no such client", "client_id")
