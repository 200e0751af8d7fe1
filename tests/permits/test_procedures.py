"""The procedure catalogue over HTTP: search without diacritics and by field, one procedure
whole with its ETag, administrators' changes (If-Match, validation, the audit trail)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from tests.accounts.world import World, build

LIST = "/api/procedures"
HOUSE = f"{LIST}/construction-permit-house"


@pytest.fixture
def world(conn: Connection) -> World:
    return build(conn)


def _ids(res: Any) -> list[str]:
    assert res.status_code == 200, res.text
    return [p["id"] for p in res.json()]


def test_five_procedures_in_three_fields(client: TestClient) -> None:
    listed = client.get(LIST).json()
    assert {p["id"] for p in listed} == {
        "construction-permit-house", "construction-permit-repair",
        "household-business-registration", "household-business-change",
        "labour-rules-registration"}
    assert {p["field"] for p in listed} == {"construction", "household_business", "labour"}
    business = next(p for p in listed if p["id"] == "household-business-registration")
    assert (business["online_level"], business["statutory_days"], business["day_kind"],
            business["level"]) == ("full", 3, "working", "ward")


@pytest.mark.parametrize(("q", "found"), [
    ("giay phep xay dung", ["construction-permit-house", "construction-permit-repair"]),
    ("GIẤY PHÉP sửa chữa", ["construction-permit-repair"]),
    ("ho kinh doanh", ["household-business-change", "household-business-registration"]),
    ("household business change", ["household-business-change"]),
    ("noi quy lao dong", ["labour-rules-registration"]),
    ("khong co thu tuc nay", []),
])
def test_search_without_diacritics(client: TestClient, q: str, found: list[str]) -> None:
    assert sorted(_ids(client.get(LIST, params={"q": q}))) == found


def test_search_by_field(client: TestClient) -> None:
    assert _ids(client.get(LIST, params={"field": "labour"})) == ["labour-rules-registration"]
    assert _ids(client.get(LIST, params={"field": "construction", "q": "cai tao"})) == [
        "construction-permit-repair"]
    res = client.get(LIST, params={"field": "transport"})
    assert res.status_code == 422
    assert res.json()["detail"][0]["loc"][-1] == "field"


def test_one_procedure_whole(client: TestClient) -> None:
    res = client.get(HOUSE)
    assert res.status_code == 200, res.text
    body = res.json()
    assert res.headers["etag"] == body["etag"] == '"procedure-construction-permit-house-v1"'
    drawings = next(d for d in body["documents"] if d["key"] == "drawings")
    assert (drawings["mandatory"], drawings["types"], drawings["max_mb"]) == (
        True, ["application/pdf"], 50)
    assert next(d for d in body["documents"] if d["key"] == "adjacent_safety")["verified"] \
        is False
    assert body["form_schema"]["required"] == ["floors", "height_m", "footprint_m2",
                                               "floor_area_m2"]
    assert body["form_schema"]["properties"]["floors"]["type"] == "integer"
    assert "fee_vnd" in body["unverified"]  # facts not checked against the law say so
    assert body["applies_to"] == ["residential_existing", "residential_new", "mixed_use"]
    assert client.get(f"{LIST}/no-such-procedure").status_code == 404
    assert client.get(f"{LIST}/Not Valid").status_code == 422


def test_an_administrator_changes_a_procedure_against_its_version(
    client: TestClient, world: World, conn: Connection
) -> None:
    admin = world.actors["administrator"]
    etag = client.get(HOUSE).headers["etag"]
    change = {"fee_vnd": 80_000, "name_en": "Building permit for an individual house"}
    assert client.patch(HOUSE, json=change, headers=admin.headers()).status_code == 428
    stale = client.patch(HOUSE, json=change, headers={
        **admin.headers(), "If-Match": '"procedure-construction-permit-house-v0"'})
    assert stale.status_code == 412
    res = client.patch(HOUSE, json=change, headers={**admin.headers(), "If-Match": etag})
    assert res.status_code == 200, res.text
    assert res.json()["fee_vnd"] == 80_000
    free = client.patch(HOUSE, json={"fee_vnd": None}, headers={
        **admin.headers(), "If-Match": res.headers["etag"]})
    assert free.status_code == 200, free.text
    assert free.json()["fee_vnd"] is None  # a fee may be dropped
    res = client.patch(HOUSE, json={"fee_vnd": 80_000}, headers={
        **admin.headers(), "If-Match": free.headers["etag"]})
    assert res.headers["etag"] == '"procedure-construction-permit-house-v4"'
    assert _ids(client.get(LIST, params={"q": "building permit"})) == [
        "construction-permit-house"]  # the search follows the new name
    details = [r[0] for r in conn.exec_driver_sql(
        "SELECT detail FROM audit_event WHERE person_id = %(p)s AND kind = 'procedure_change' "
        "ORDER BY id", {"p": admin.person_id})]
    assert details == [
        {"procedure": "construction-permit-house", "changes": {
            "fee_vnd": [75_000, 80_000],
            "name_en": ["Construction permit for an individual house",
                        "Building permit for an individual house"]}},
        {"procedure": "construction-permit-house", "changes": {"fee_vnd": [80_000, None]}},
        {"procedure": "construction-permit-house", "changes": {"fee_vnd": [None, 80_000]}}]
    again = client.patch(HOUSE, json=change, headers={**admin.headers(), "If-Match": etag})
    assert again.status_code == 412  # what it read has changed since


@pytest.mark.parametrize(("body", "field"), [
    ({"statutory_days": 0}, "statutory_days"),
    ({"field": "transport"}, "field"),
    ({"online_level": "level4"}, "online_level"),
    ({"fee": 1}, "fee"),
    ({"form_schema": {"type": "array"}}, "form_schema"),
    ({"form_schema": {"type": "object", "properties": {"x": {"type": "file"}}}}, "form_schema"),
    ({"form_schema": {"type": "object", "properties": {}, "required": ["x"]}}, "form_schema"),
    ({"documents": [{"key": "a", "vi": "A", "en": "A", "types": [], "max_mb": 1}]},
     "types"),
    ({"name_vi": None}, "name_vi"),  # a fact every procedure has cannot be emptied
    ({"documents": None}, "documents"),
])
def test_bad_changes_name_the_field_and_change_nothing(
    client: TestClient, world: World, body: dict[str, Any], field: str
) -> None:
    admin = world.actors["administrator"]
    etag = client.get(HOUSE).headers["etag"]
    res = client.patch(HOUSE, json=body, headers={**admin.headers(), "If-Match": etag})
    assert res.status_code == 422, res.text
    answer = res.json()
    assert answer.get("field", str(answer["detail"][0]["loc"][-1]) if isinstance(
        answer.get("detail"), list) else None) == field
    assert client.get(HOUSE).headers["etag"] == etag


def test_only_administrators_change_procedures(client: TestClient, world: World) -> None:
    etag = client.get(HOUSE).headers["etag"]
    assert client.patch(HOUSE, json={"fee_vnd": 1}).status_code == 401
    for who in ("citizen", "officer", "planner"):
        res = client.patch(HOUSE, json={"fee_vnd": 1},
                           headers={**world.actors[who].headers(), "If-Match": etag})
        assert res.status_code == 403, who
