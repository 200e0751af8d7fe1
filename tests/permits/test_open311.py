"""The Open311 GeoReport v2 face, driven as the spec's examples do: services and a service
definition, a form-encoded POST with an attribute, requests by date and status, one request,
tokens; both formats, every field the spec names, the spec's errors; hidden reporters stay
hidden; keys issued, revoked and rate-limited."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Connection

from accounts.ratelimit import Rule
from core.deps import ConnectionDep
from core.errors import install_error_handlers
from core.workflow import SYSTEM, fire
from permits.feedback.open311.repository import Open311Repository
from permits.feedback.open311.routes import Open311Route
from permits.feedback.open311.service import ClientKeys, RequestError
from permits.feedback.workflow import FEEDBACK
from tests.accounts.world import World, build
from tests.permits.test_feedback import LAT, LON, _code, _send

API = "/open311/v2"
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type",
                  "keywords", "group"]
ATTRIBUTE_FIELDS = ["variable", "code", "datatype", "required", "datatype_description",
                    "order", "description"]
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name",
                  "service_code", "description", "agency_responsible", "service_notice",
                  "requested_datetime", "updated_datetime", "expected_datetime", "address",
                  "address_id", "zipcode", "lat", "long", "media_url"]
HIDDEN = ("Trần Văn", "Bí Mật", "0987654321", "+84987654321", "an.danh@example.vn")
BOX = f"{LON - .01},{LAT - .01},{LON + .01},{LAT + .01}"


def _key(conn: Connection, name: str = "Ứng dụng Phản ánh") -> str:
    return ClientKeys(Open311Repository(conn)).issue(name, "dev@example.vn", None).api_key


def _xml(res: Response) -> ET.Element:
    assert res.headers["content-type"] == "text/xml; charset=utf-8", res.headers
    assert res.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(res.content)


def _json(res: Response) -> Any:
    assert res.headers["content-type"] == "application/json; charset=utf-8", res.headers
    return res.json()


def _error(res: Response, status: int, field: str, fmt: str) -> str:
    """The spec's error list, in the format asked for; its description names the field."""
    assert res.status_code == status, res.text
    if fmt == "xml":
        root = _xml(res)
        assert root.tag == "errors"
        (error,) = root.findall("error")
        assert error.findtext("code") == str(status)
        description = error.findtext("description") or ""
    else:
        (error,) = _json(res)
        assert error["code"] == status
        description = error["description"]
    assert field in description, description
    return description


def _parcel(conn: Connection) -> tuple[str, float, float]:
    key, x, y = conn.exec_driver_sql(
        "SELECT p.parcel_key, ST_X(ST_PointOnSurface(p.geom)), ST_Y(ST_PointOnSurface(p.geom)) "
        "FROM parcel p JOIN admin_unit w ON w.level = 'ward' AND w.valid_to IS NULL "
        "AND ST_Contains(w.geom, ST_PointOnSurface(p.geom)) WHERE p.address IS NOT NULL "
        "ORDER BY p.id LIMIT 1").one()
    return str(key), float(x), float(y)


def _post(client: TestClient, key: str, fmt: str = "json", expect: int = 201,
          **form: Any) -> Response:
    data = {"api_key": key, "service_code": "roads", "lat": str(LAT), "long": str(LON),
            "description": "Ổ gà lớn trước chợ", "first_name": "Trần Văn",
            "last_name": "Bí Mật", "phone": "0987654321", "email": "an.danh@example.vn",
            "device_id": "tt222111", "account_id": "123456",
            "media_url": "https://anh.example.vn/o-ga.jpg", **form}
    data = {k: v for k, v in data.items() if v is not None}
    res = client.post(f"{API}/requests.{fmt}", data=data)
    assert res.status_code == expect, res.text
    return res


def _count(conn: Connection) -> int:
    return int(conn.exec_driver_sql("SELECT count(*) FROM feedback_report").scalar_one())


def test_discovery_names_the_endpoint_and_both_formats(client: TestClient) -> None:
    root = _xml(client.get(f"{API}/discovery.xml"))
    assert root.tag == "discovery"
    for field in ("changeset", "contact", "key_service"):
        assert root.findtext(field)
    endpoint = root.find("endpoints/endpoint")
    assert endpoint is not None
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url", "").endswith("/open311/v2")
    assert endpoint.findtext("type") == "production"
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml",
                                                                     "application/json"]
    body = _json(client.get(f"{API}/discovery.json"))
    assert body["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    assert body["changeset"] == root.findtext("changeset")
    _error(client.get(f"{API}/discovery.csv"), 404, "format", "xml")


def test_services_one_per_category_with_the_parcel_attribute(client: TestClient) -> None:
    root = _xml(client.get(f"{API}/services.xml"))
    assert root.tag == "services"
    services = {s.findtext("service_code"): s for s in root.findall("service")}
    assert len(services) == 13
    for service in services.values():
        assert [child.tag for child in service] == SERVICE_FIELDS
        assert service.findtext("type") == "realtime"
        assert service.findtext("group")
        assert service.findtext("keywords")
    assert services["drainage-flooding"].findtext("service_name") == "Thoát nước, ngập nước"
    assert services["drainage-flooding"].findtext("group") == "Phòng Quản lý đô thị"
    metadata = {code: s.findtext("metadata") for code, s in services.items()}
    assert metadata.pop("construction-without-permit") == "true"
    assert set(metadata.values()) == {"false"}
    listed = _json(client.get(f"{API}/services.json"))
    assert [list(s) for s in listed] == [SERVICE_FIELDS] * 13
    assert {s["service_code"]: s["metadata"] for s in listed}["construction-without-permit"]


def test_a_service_definition_in_both_formats(client: TestClient) -> None:
    body = _json(client.get(f"{API}/services/construction-without-permit.json"))
    assert body["service_code"] == "construction-without-permit"
    (attribute,) = body["attributes"]
    assert list(attribute) == ATTRIBUTE_FIELDS
    assert (attribute["variable"], attribute["code"], attribute["datatype"],
            attribute["required"], attribute["order"]) == (True, "parcel_key", "string", True, 1)
    assert "12" in attribute["datatype_description"]
    root = _xml(client.get(f"{API}/services/construction-without-permit.xml"))
    assert root.tag == "service_definition"
    node = root.find("attributes/attribute")
    assert node is not None
    assert [c.tag for c in node] == ATTRIBUTE_FIELDS
    assert (node.findtext("code"), node.findtext("required")) == ("parcel_key", "true")
    assert _json(client.get(f"{API}/services/roads.json"))["attributes"] == []
    _error(client.get(f"{API}/services/ufo.xml"), 404, "service_code", "xml")
    _error(client.get(f"{API}/services/ufo.json"), 404, "service_code", "json")


def test_a_client_posts_a_report_with_its_attribute_and_reads_it_back(
        client: TestClient, conn: Connection) -> None:
    key = _key(conn)
    parcel, x, y = _parcel(conn)
    made = _json(_post(client, key, service_code="construction-without-permit", lat=str(y),
                       long=str(x), **{"attribute[parcel_key]": parcel}))
    (created,) = made
    assert list(created) == ["service_request_id", "token", "service_notice", "account_id"]
    assert created["account_id"] == "123456"
    assert "Phòng Quản lý đô thị" in created["service_notice"]
    number, token = created["service_request_id"], created["token"]
    row = conn.exec_driver_sql(
        "SELECT status, parcel_key, reporter_phone, reporter_email, reporter_name, show_name, "
        "open311_token, open311_client_id, media_url, due_on, department FROM feedback_report "
        "WHERE id = %(i)s", {"i": number}).one()
    # Received at once, routed as any other, the phone kept as the contact, the name hidden.
    assert (row.status, row.parcel_key, row.reporter_phone, row.show_name) == \
        ("received", parcel, "+84987654321", False)
    assert row.reporter_name == "Trần Văn Bí Mật"
    assert (row.open311_token, row.media_url) == (token, "https://anh.example.vn/o-ga.jpg")
    assert row.open311_client_id is not None
    assert row.due_on is not None
    # One request, as the spec shows it (XML), every field it names.
    res = client.get(f"{API}/requests/{number}.xml")
    root = _xml(res)
    assert root.tag == "service_requests"
    (request,) = root.findall("request")
    assert [c.tag for c in request] == REQUEST_FIELDS
    fields = {c.tag: c.text for c in request}
    assert fields["service_request_id"] == str(number)
    assert (fields["status"], fields["service_code"]) == ("open",
                                                         "construction-without-permit")
    assert fields["service_name"] == "Xây dựng không phép, sai phép"
    assert fields["description"] == "Ổ gà lớn trước chợ"
    assert fields["agency_responsible"] == "Phòng Quản lý đô thị"
    assert fields["requested_datetime"].endswith("+07:00")  # type: ignore[union-attr]
    assert fields["updated_datetime"].endswith("+07:00")  # type: ignore[union-attr]
    assert fields["expected_datetime"] == f"{row.due_on.isoformat()}T23:59:59+07:00"
    assert fields["address_id"] == parcel
    assert fields["address"]
    assert abs(float(fields["lat"] or 0) - y) < 1e-9
    assert abs(float(fields["long"] or 0) - x) < 1e-9
    assert fields["media_url"] == "https://anh.example.vn/o-ga.jpg"
    as_json = _json(client.get(f"{API}/requests/{number}.json"))
    assert list(as_json[0]) == REQUEST_FIELDS
    assert {k: v for k, v in as_json[0].items() if k not in ("lat", "long")} == \
        {k: (v if k != "service_request_id" else int(v or 0)) for k, v in fields.items()
         if k not in ("lat", "long")}
    # The token names the request, in both formats.
    assert _json(client.get(f"{API}/tokens/{token}.json")) == \
        [{"service_request_id": number, "token": token}]
    token_xml = _xml(client.get(f"{API}/tokens/{token}.xml")).find("request")
    assert token_xml is not None
    assert (token_xml.findtext("service_request_id"), token_xml.findtext("token")) == \
        (str(number), token)
    _error(client.get(f"{API}/tokens/nothing.json"), 404, "token", "json")
    _error(client.get(f"{API}/requests/999999999.xml"), 404, "service_request_id", "xml")
    # The XML answer of a POST, too.
    posted = _xml(_post(client, key, "xml")).find("request")
    assert posted is not None
    assert [c.tag for c in posted] == ["service_request_id", "token", "service_notice",
                                       "account_id"]


def test_hidden_reporters_never_appear_in_either_format(client: TestClient,
                                                        conn: Connection) -> None:
    number = _json(_post(client, _key(conn)))[0]["service_request_id"]
    # And a report from the app, its name given but not allowed to be shown.
    sent = _send(client, name="Trần Văn Bí Mật", phone="0987654321", show_name=False)
    assert client.post(f"/api/feedback/{sent['id']}/confirm",
                       json={"code": _code(conn, sent["id"])}).status_code == 200
    for fmt in ("json", "xml"):
        listed = client.get(f"{API}/requests.{fmt}", params={"bbox": BOX})
        ids = ([r["service_request_id"] for r in _json(listed)] if fmt == "json" else
               [int(r.findtext("service_request_id") or 0) for r in _xml(listed)])
        assert {number, sent["id"]} <= set(ids)
        for res in (listed, client.get(f"{API}/requests/{number}.{fmt}"),
                    client.get(f"{API}/requests/{sent['id']}.{fmt}")):
            assert res.status_code == 200
            for secret in HIDDEN:
                assert secret not in res.text, (secret, res.text[:300])


def test_requests_by_date_and_status(client: TestClient, conn: Connection) -> None:
    key = _key(conn)
    open_one = _json(_post(client, key))[0]["service_request_id"]
    closed_one = _json(_post(client, key, service_code="manholes"))[0]["service_request_id"]
    fire(conn, FEEDBACK, closed_one, "close", SYSTEM, note="Thuộc công ty thoát nước",
         detail={"closing": "not_competent", "referred_to": "Công ty Thoát nước Đô thị"},
         values={"closing": "not_competent", "referred_to": "Công ty Thoát nước Đô thị",
                 "closed_at": conn.exec_driver_sql("SELECT now()").scalar_one()})
    window = {"start_date": "2000-01-01T00:00:00Z", "end_date": "2000-03-01T00:00:00+07:00"}
    now = conn.exec_driver_sql("SELECT now()").scalar_one()
    around = {"start_date": (now - _days(1)).isoformat(), "end_date": (now + _days(1)).isoformat()}

    def ids(fmt: str, **params: str) -> dict[int, dict[str, Any]]:
        res = client.get(f"{API}/requests.{fmt}", params=params)
        assert res.status_code == 200, res.text
        if fmt == "json":
            return {r["service_request_id"]: r for r in _json(res)}
        return {int(r.findtext("service_request_id") or 0): {c.tag: c.text for c in r}
                for r in _xml(res).findall("request")}

    for fmt in ("json", "xml"):
        default = ids(fmt)  # the last 90 days
        assert {open_one, closed_one} <= set(default)
        assert {open_one, closed_one}.isdisjoint(ids(fmt, **window))
        closed = ids(fmt, status="closed", **around)
        assert closed_one in closed
        assert open_one not in closed
        note = closed[closed_one]["status_notes"]
        assert closed[closed_one]["status"] == "closed"
        assert "Công ty Thoát nước Đô thị" in note
        opened = ids(fmt, status="open", service_code="roads,manholes", **around)
        assert open_one in opened
        assert closed_one not in opened
        assert set(ids(fmt, status="open,closed", **around)) >= {open_one, closed_one}
        # By number: the other arguments are overridden.
        assert set(ids(fmt, service_request_id=f"{open_one},{closed_one}", **window)) == \
            {open_one, closed_one}
        too_wide = {"start_date": "2026-01-01T00:00:00+07:00",
                    "end_date": "2026-04-02T00:00:00+07:00"}  # 91 days
        _error(client.get(f"{API}/requests.{fmt}", params=too_wide), 400, "end_date", fmt)
        _error(client.get(f"{API}/requests.{fmt}", params={"status": "pending"}), 400,
               "status", fmt)
        _error(client.get(f"{API}/requests.{fmt}", params={"start_date": "yesterday"}), 400,
               "start_date", fmt)
        _error(client.get(f"{API}/requests.{fmt}", params={"service_code": "ufo"}), 400,
               "service_code", fmt)


def _days(n: int) -> Any:
    from datetime import timedelta

    return timedelta(days=n)


def test_the_bbox_extension(client: TestClient, conn: Connection) -> None:
    number = _json(_post(client, _key(conn)))[0]["service_request_id"]
    inside = _json(client.get(f"{API}/requests.json", params={"bbox": BOX}))
    assert number in [r["service_request_id"] for r in inside]
    elsewhere = f"{LON + .05},{LAT + .05},{LON + .06},{LAT + .06}"
    assert number not in [r["service_request_id"] for r in _json(
        client.get(f"{API}/requests.json", params={"bbox": elsewhere}))]
    _error(client.get(f"{API}/requests.xml", params={"bbox": "1,2,3"}), 400, "bbox", "xml")
    _error(client.get(f"{API}/requests.json", params={"bbox": "10,10,5,5"}), 400, "bbox",
           "json")


def test_moderated_descriptions_and_me_toos_stay_out(client: TestClient,
                                                      conn: Connection) -> None:
    key = _key(conn)
    hidden = _json(_post(client, key, description="Số nhà 12 của bà Tư"))[0]
    joined = _json(_post(client, key))[0]["service_request_id"]
    conn.exec_driver_sql("UPDATE feedback_report SET hidden_reason = 'Dữ liệu cá nhân' "
                         "WHERE id = %(i)s", {"i": hidden["service_request_id"]})
    conn.exec_driver_sql("UPDATE feedback_report SET joined = true WHERE id = %(i)s",
                         {"i": joined})
    for fmt in ("json", "xml"):
        listed = client.get(f"{API}/requests.{fmt}", params={"bbox": BOX})
        assert "Số nhà 12 của bà Tư" not in listed.text
        one = client.get(f"{API}/requests/{hidden['service_request_id']}.{fmt}")
        assert "Số nhà 12 của bà Tư" not in one.text
        description = (one.json()[0]["description"] if fmt == "json"
                       else _xml(one).findtext("request/description") or None)
        assert description is None
        ids = ([r["service_request_id"] for r in listed.json()] if fmt == "json" else
               [int(r.findtext("service_request_id") or 0) for r in _xml(listed)])
        assert joined not in ids
        _error(client.get(f"{API}/requests/{joined}.{fmt}"), 404, "service_request_id", fmt)


def test_keys_missing_unknown_or_revoked_are_refused_and_nothing_is_written(
        client: TestClient, conn: Connection) -> None:
    key = _key(conn)
    before = _count(conn)
    for fmt in ("json", "xml"):
        _error(_post(client, None, fmt, 403), 403, "api_key", fmt)  # type: ignore[arg-type]
        _error(_post(client, "o311_" + secrets.token_urlsafe(32), fmt, 403), 403, "api_key",
               fmt)
    client_id = conn.exec_driver_sql("SELECT id FROM open311_client WHERE key_prefix = "
                                     "%(p)s", {"p": key[:12]}).scalar_one()
    ClientKeys(Open311Repository(conn)).revoke(client_id, None)
    for fmt in ("json", "xml"):
        assert "revoked" in _error(_post(client, key, fmt, 403), 403, "api_key", fmt)
    assert _count(conn) == before
    denied = conn.exec_driver_sql("SELECT count(*) FROM audit_event WHERE kind = "
                                  "'access_denied'").scalar_one()
    assert denied >= 6  # each refusal audited, as the app's other denials


def test_bad_fields_are_refused_naming_them_and_nothing_is_written(
        client: TestClient, conn: Connection) -> None:
    key = _key(conn)
    parcel, x, y = _parcel(conn)
    before = _count(conn)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"service_code": None}, 400, "service_code"),
        ({"service_code": "ufo"}, 404, "service_code"),
        ({"lat": None, "long": None}, 400, "lat"),
        ({"long": None}, 400, "long"),
        ({"lat": "21.03", "long": "105.85"}, 400, "lat"),  # Hà Nội
        ({"lat": None, "long": None, "address_string": "Không có số nhà này"}, 400, "lat"),
        ({"lat": None, "long": None, "address_id": "123"}, 400, "address_id"),
        ({"service_code": "construction-without-permit", "lat": str(y), "long": str(x)},
         400, "attribute[parcel_key]"),
        ({"service_code": "construction-without-permit", "lat": str(y), "long": str(x),
          "attribute[parcel_key]": "000000000000"}, 400, "attribute[parcel_key]"),
        ({"attribute[floors]": "3"}, 400, "attribute[floors]"),
        ({"phone": None, "email": None}, 400, "email"),
        ({"phone": "12345"}, 400, "phone"),
        ({"phone": None, "email": "not-an-address"}, 400, "email"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({"description": "x" * 4001}, 400, "description"),
    ]
    for form, status, field in cases:
        for fmt in ("json", "xml"):
            _error(_post(client, key, fmt, status, **form), status, field, fmt)
    assert _count(conn) == before
    assert parcel


def test_an_address_that_names_one_parcel_places_the_report(client: TestClient,
                                                            conn: Connection) -> None:
    address, parcel = conn.exec_driver_sql(
        "SELECT min(address), min(parcel_key) FROM parcel WHERE address IS NOT NULL "
        "GROUP BY address_search HAVING count(*) = 1 ORDER BY 2 LIMIT 1").one()
    made = _json(_post(client, _key(conn), lat=None, long=None,
                       address_string=f"{address}, Quận 7, Thành phố Hồ Chí Minh"))
    inside = conn.exec_driver_sql(
        "SELECT ST_Contains(p.geom, r.geom) FROM feedback_report r, parcel p "
        "WHERE r.id = %(i)s AND p.parcel_key = %(k)s",
        {"i": made[0]["service_request_id"], "k": parcel}).scalar_one()
    assert inside is True
    by_id = _json(_post(client, _key(conn, "Ứng dụng khác"), lat=None, long=None,
                        address_id=parcel))
    assert _json(client.get(f"{API}/requests/{by_id[0]['service_request_id']}.json"))[0][
        "address_id"] == parcel


def test_reads_are_rate_limited_per_address(client: TestClient,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from permits.feedback.open311 import routes

    monkeypatch.setattr(routes, "OPEN311_READ", Rule("open311-read-test", 2, 600))
    for _ in range(2):
        assert client.get(f"{API}/services.json").status_code == 200
    refused = client.get(f"{API}/services.xml")
    _error(refused, 429, "", "xml")
    assert int(refused.headers["retry-after"]) >= 1


def test_posts_are_rate_limited_per_client(client: TestClient, conn: Connection,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from permits.feedback.open311 import routes

    monkeypatch.setattr(routes, "OPEN311_SEND", Rule("open311-send-test", 1, 3600))
    key, other = _key(conn), _key(conn, "Ứng dụng khác")
    _post(client, key)
    _error(_post(client, key, "json", 429), 429, "", "json")
    _post(client, other)  # another client has its own count


def test_administrators_issue_list_and_revoke_keys(client: TestClient, conn: Connection) -> None:
    world: World = build(conn)
    admin = world.actors["administrator"].headers()
    issued = client.post("/api/admin/open311-clients", headers=admin,
                         json={"name": "Ứng dụng Quận", "contact": "it@example.vn"})
    assert issued.status_code == 201, issued.text
    body = issued.json()
    key = body["api_key"]
    assert key.startswith("o311_")
    assert body["key_prefix"] == key[:12]
    stored = conn.exec_driver_sql("SELECT key_hash FROM open311_client WHERE id = %(i)s",
                                  {"i": body["id"]}).scalar_one()
    assert stored != key
    assert len(stored) == 64
    listed = client.get("/api/admin/open311-clients", headers=admin)
    assert key not in listed.text
    assert body["id"] in [c["id"] for c in listed.json()]
    citizen = world.actors["citizen"].headers()
    assert client.get("/api/admin/open311-clients", headers=citizen).status_code == 403
    assert client.post("/api/admin/open311-clients", headers=citizen,
                       json={"name": "X Y"}).status_code == 403
    _post(client, key)
    assert client.delete(f"/api/admin/open311-clients/{body['id']}",
                         headers=admin).status_code == 204
    _post(client, key, "json", 403)
    revoked = {c["id"]: c for c in client.get("/api/admin/open311-clients",
                                              headers=admin).json()}[body["id"]]
    assert revoked["revoked_at"]
    assert revoked["revoked_by"] == \
        world.actors["administrator"].person_id
    assert client.delete("/api/admin/open311-clients/999999",
                         headers=admin).status_code == 404


def test_an_error_is_answered_after_the_routes_transaction_rolled_back(engine: Any) -> None:
    """The spec's error body is made where the app's handlers run: outside the route's
    dependencies, so what the route wrote before failing is not committed."""
    marker = "open311-rollback-" + secrets.token_hex(8)
    router = APIRouter(route_class=Open311Route)

    @router.get("/open311/v2/fail.{fmt}")
    def fail(fmt: str, conn: ConnectionDep) -> None:
        conn.exec_driver_sql("INSERT INTO rate_hit (key) VALUES (%(k)s)", {"k": marker})
        raise RequestError("always wrong", "bad_field")

    app = FastAPI()
    app.state.engine = engine
    install_error_handlers(app)
    app.include_router(router)
    with TestClient(app) as test_client:
        _error(test_client.get("/open311/v2/fail.xml"), 400, "bad_field", "xml")
        _error(test_client.get("/open311/v2/fail.json"), 400, "bad_field", "json")
    with engine.connect() as check:
        assert check.exec_driver_sql("SELECT count(*) FROM rate_hit WHERE key = %(k)s",
                                     {"k": marker}).scalar_one() == 0


def _close(conn: Connection, report_id: int, note: str | None, **facts: Any) -> None:
    now = conn.exec_driver_sql("SELECT now()").scalar_one()
    fire(conn, FEEDBACK, report_id, "close", SYSTEM, note=note, detail=facts,
         values={"closed_at": now, "closing": facts["closing"],
                 "referred_to": facts.get("referred_to"),
                 "duplicate_of": facts.get("duplicate_of")})


def test_status_notes_say_why_and_unconfirmed_reports_never_show(
        client: TestClient, conn: Connection) -> None:
    key = _key(conn)
    made = [_json(_post(client, key, description="Nắp cống <vỡ> & sâu"))[0][
        "service_request_id"] for _ in range(5)]
    fixed, duplicate, cannot, answered, untouched = made
    _close(conn, fixed, "Đã thay nắp cống", closing="fixed")
    _close(conn, duplicate, None, closing="duplicate", duplicate_of=fixed)
    _close(conn, cannot, "Đường thuộc dự án đang thi công", closing="cannot_fix")
    fire(conn, FEEDBACK, answered, "start", SYSTEM)
    fire(conn, FEEDBACK, answered, "answer", SYSTEM, note="Đã giao đội duy tu",
         detail={"answer": "Đã giao đội duy tu"})
    waiting = _send(client)  # from the app, its code not given back yet
    assert waiting["status"] == "unconfirmed"
    wanted = {fixed: ("closed", "Đã xử lý xong: Đã thay nắp cống"),
              duplicate: ("closed", f"Trùng với phản ánh #{fixed}"),
              cannot: ("closed", "Không thể xử lý: Đường thuộc dự án đang thi công"),
              answered: ("open", "Đã giao đội duy tu"), untouched: ("open", None)}
    ids = ",".join(str(i) for i in [*made, waiting["id"]])
    as_json = {r["service_request_id"]: (r["status"], r["status_notes"], r["description"])
               for r in _json(client.get(f"{API}/requests.json",
                                         params={"service_request_id": ids}))}
    root = _xml(client.get(f"{API}/requests.xml", params={"service_request_id": ids}))
    as_xml = {int(r.findtext("service_request_id") or 0):
              (r.findtext("status"), r.findtext("status_notes") or None,
               r.findtext("description")) for r in root.findall("request")}
    for found in (as_json, as_xml):
        assert waiting["id"] not in found
        assert {i: v[:2] for i, v in found.items()} == wanted
        assert {v[2] for v in found.values()} == {"Nắp cống <vỡ> & sâu"}
    _error(client.get(f"{API}/requests/{waiting['id']}.json"), 404, "service_request_id",
           "json")
