"""A procedure's form as a JSON Schema: each keyword's refusal named by its field in Vietnamese
and English, a draft partial but never wrong, a submission whole; the dossier API and an
administrator's form change refusing what the form refuses."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from permits.forms import answers_incomplete, form_errors
from tests.accounts.world import MY_WARD, PERMIT, World, build

FORM: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
    "additionalProperties": False,
    "properties": {
        "floors": {"type": "integer", "title": "Số tầng", "minimum": 1, "maximum": 100},
        "height_m": {"type": "number", "title": "Chiều cao (m)", "minimum": 1,
                     "maximum": 400},
        "capital_vnd": {"type": "integer", "minimum": 0, "maximum": 10**13},
        "name": {"type": "string", "minLength": 2, "maxLength": 10},
        "tax_code": {"type": "string", "pattern": "^[0-9]{10}$"},
        "kind": {"type": "string", "enum": ["new", "repair"]},
    },
    "required": ["floors", "height_m", "name"],
}


def _said(answers: dict[str, Any], complete: bool = False) -> list[tuple[str, str, str, str]]:
    return [(e.field, e.rule, e.message_vi, e.message_en)
            for e in form_errors(FORM, answers, complete=complete)]


@pytest.mark.parametrize(("answers", "expected"), [
    ({"floors": "many"}, ("floors", "type", "Phải là một số nguyên", "Must be a whole number")),
    ({"floors": 2.5}, ("floors", "type", "Phải là một số nguyên", "Must be a whole number")),
    ({"height_m": "cao"}, ("height_m", "type", "Phải là một số", "Must be a number")),
    ({"name": 12}, ("name", "type", "Phải là chữ", "Must be text")),
    ({"floors": 0}, ("floors", "minimum", "Không được nhỏ hơn 1", "Must be at least 1")),
    ({"floors": 1000}, ("floors", "maximum", "Không được lớn hơn 100", "Must be at most 100")),
    ({"capital_vnd": 10**14}, ("capital_vnd", "maximum",
                               "Không được lớn hơn 10.000.000.000.000",
                               "Must be at most 10,000,000,000,000")),
    ({"name": "Nguyễn Văn Một"}, ("name", "maxLength", "Không quá 10 ký tự",
                                  "At most 10 characters")),
    ({"name": "A"}, ("name", "minLength", "Ít nhất 2 ký tự", "At least 2 characters")),
    ({"tax_code": "03-123"}, ("tax_code", "pattern", "Không đúng định dạng",
                              "Not in the expected format")),
    ({"kind": "demolish"}, ("kind", "enum", "Phải là một trong các giá trị: new, repair",
                            "Must be one of: new, repair")),
    ({"purpose": "nhà ở"}, ("purpose", "additionalProperties", "Biểu mẫu không có trường này",
                            "The form has no such field")),
])
def test_each_keyword_is_refused_in_both_languages(answers: dict[str, Any],
                                                  expected: tuple[str, ...]) -> None:
    assert _said(answers) == [expected]
    assert expected in _said(answers, complete=True)  # a submission refuses it too


def test_a_draft_may_leave_fields_out_a_submission_may_not() -> None:
    assert _said({}) == []
    assert _said({"floors": 3}) == []
    missing = _said({"floors": 3}, complete=True)
    assert missing == [("height_m", "required", "Bắt buộc nhập", "Required"),
                       ("name", "required", "Bắt buộc nhập", "Required")]
    whole = {"floors": 3, "height_m": 11.5, "name": "Nhà An"}
    assert _said(whole, complete=True) == []
    assert answers_incomplete(FORM, whole) == []
    assert [e.field for e in answers_incomplete(FORM, {"floors": 3})] == ["height_m", "name"]


def test_refusals_come_in_the_form_s_order_one_per_field_and_rule() -> None:
    said = _said({"kind": "x", "name": "A", "floors": 1000, "extra": 1}, complete=True)
    assert [(f, r) for f, r, _, _ in said] == [
        ("floors", "maximum"), ("height_m", "required"), ("name", "minLength"),
        ("kind", "enum"), ("extra", "additionalProperties")]


# -- over HTTP ---------------------------------------------------------------------------------

@pytest.fixture
def world(conn: Connection) -> World:
    return build(conn)


def _draft(world: World, answers: dict[str, Any]) -> dict[str, Any]:
    return {"procedure_id": PERMIT, "parcel_key": world.parcels[MY_WARD],
            "applicant": {"full_name": "Nguyễn Văn An"}, "answers": answers}


@pytest.mark.parametrize(("floors", "rule", "said"), [
    ("many", "type", "Phải là một số nguyên"),
    (1000, "maximum", "Không được lớn hơn 100"),
])
def test_a_draft_with_a_wrong_answer_is_422_naming_the_field(
        client: TestClient, world: World, conn: Connection, floors: Any, rule: str,
        said: str) -> None:
    citizen = world.actors["citizen"].headers()
    before = conn.exec_driver_sql("SELECT count(*) FROM dossier").scalar_one()
    res = client.post("/api/dossiers", headers=citizen,
                      json=_draft(world, {"floors": floors, "height_m": 5000}))
    assert res.status_code == 422, res.text
    body = res.json()
    assert body["field"] == "floors"
    assert "floors" in body["detail"]
    assert [(e["field"], e["rule"]) for e in body["errors"]] == [
        ("floors", rule), ("height_m", "maximum")]
    assert body["errors"][0]["message_vi"] == said
    assert conn.exec_driver_sql("SELECT count(*) FROM dossier").scalar_one() == before


def test_a_partial_draft_saves_and_a_change_is_checked_too(client: TestClient,
                                                          world: World) -> None:
    citizen = world.actors["citizen"].headers()
    made = client.post("/api/dossiers", headers=citizen, json=_draft(world, {"floors": 3}))
    assert made.status_code == 201, made.text
    url = f"/api/dossiers/{made.json()['id']}"
    bad = client.patch(url, headers={**citizen, "If-Match": made.headers["etag"]},
                       json={"answers": {"floors": 3, "height_m": "cao"}})
    assert bad.status_code == 422
    assert (bad.json()["field"], bad.json()["errors"][0]["rule"]) == ("height_m", "type")
    good = client.patch(url, headers={**citizen, "If-Match": made.headers["etag"]},
                        json={"answers": {"floors": 4, "height_m": 14.5}})
    assert good.status_code == 200, good.text
    assert client.get(url, headers=citizen).json()["answers"] == {"floors": 4,
                                                                  "height_m": 14.5}
    # The applicant alone changes without the answers being checked again.
    named = client.patch(url, headers=citizen,
                         json={"applicant": {"full_name": "Nguyễn Văn Bình"}})
    assert named.status_code == 200, named.text


@pytest.mark.parametrize("form", [
    {"type": "object", "properties": {"floors": {"type": "integer", "minimum": "one"}}},
    {"type": "object", "properties": {"name": {"type": "string", "maxLength": -1}}},
    {"type": "object", "properties": {"floors": {"type": "integer"}}, "required": "floors"},
])
def test_an_administrator_s_form_must_be_a_valid_json_schema(
        client: TestClient, world: World, form: dict[str, Any]) -> None:
    admin = world.actors["administrator"]
    house = "/api/procedures/construction-permit-house"
    etag = client.get(house).headers["etag"]
    res = client.patch(house, json={"form_schema": form},
                       headers={**admin.headers(), "If-Match": etag})
    assert res.status_code == 422, res.text
    assert res.json()["field"] == "form_schema"
    assert "not a valid JSON Schema" in res.json()["detail"]
    assert client.get(house).headers["etag"] == etag
