"""The pre-check, over HTTP and as a dossier calls it: findings with the parcel's numbers and
their block, compliant answers, the widening strip, what could not be checked, 404 and 422."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from core.errors import InvalidInputError
from layers.schemas import Buildable, ZoningLimit
from permits.precheck.rules import precheck
from permits.precheck.schemas import PrecheckAnswers, RuleName
from permits.precheck.service import precheck_for

URL = "/api/precheck"
ZONING_RULES = ["floors_max", "floors_min", "height_max_m", "footprint_max_m2",
                "floor_area_max_m2"]


@pytest.fixture
def key(conn: Connection) -> str:
    """A parcel on one zoning block that a 20 m right-of-way takes a strip of."""
    return str(conn.exec_driver_sql(
        """
        SELECT p.parcel_key FROM parcel p
        JOIN parcel_frontage pf ON pf.parcel_id = p.id
        JOIN road r ON r.id = pf.road_id AND r.right_of_way_m = 20
        WHERE (SELECT count(*) FROM parcel_zoning pz WHERE pz.parcel_id = p.id) = 1
          AND ST_Area(ST_Intersection(p.geom, r.row_geom)::geography) > 10
        ORDER BY p.parcel_key LIMIT 1
        """).scalar_one())


@pytest.fixture
def buildable(client: TestClient, key: str) -> dict[str, Any]:
    """What the parcel's card says can be built there."""
    res = client.get(f"/api/parcels/{key}")
    assert res.status_code == 200
    return dict(res.json()["buildable"])


def _check(client: TestClient, key: str, **answers: object) -> dict[str, Any]:
    res = client.post(URL, json={"parcel_key": key, "answers": answers})
    assert res.status_code == 200, res.text
    return dict(res.json())


def test_too_many_floors_are_flagged_with_the_parcel_s_number(
    client: TestClient, key: str, buildable: dict[str, Any]
) -> None:
    most = buildable["floors_max"]
    result = _check(client, key, floors=most["value"] + 2)
    assert result["parcel_key"] == key
    assert result["buildable"] == buildable
    [finding] = result["findings"]
    assert finding["field"] == "floors"
    assert finding["rule"] == "floors_max"
    assert finding["limit"] == most["value"]
    assert finding["value"] == most["value"] + 2
    assert finding["block_code"] == most["block_code"]
    assert finding["message_vi"] == (
        f"Số tầng {most['value'] + 2} vượt quá tối đa {most['value']} tầng của ô phố "
        f"{most['block_code']} (QĐ số {most['decision_no']})")
    assert most["block_code"] in finding["message_en"]
    assert result["checked"] == ["floors_max", "floors_min"]
    assert result["unchecked"] == []


def test_answers_within_every_limit_give_no_findings(
    client: TestClient, key: str, buildable: dict[str, Any]
) -> None:
    result = _check(client, key, floors=buildable["floors_max"]["value"],
                    height_m=buildable["height_max_m"]["value"],
                    footprint_m2=buildable["footprint_max_m2"],
                    floor_area_m2=buildable["floor_area_max_m2"])
    assert result["findings"] == []
    assert result["checked"] == [*ZONING_RULES, "widening_strip"]
    assert result["unchecked"] == []


def test_one_over_each_limit_is_one_finding_each(
    client: TestClient, key: str, buildable: dict[str, Any]
) -> None:
    result = _check(client, key, height_m=buildable["height_max_m"]["value"] + 0.5,
                    floor_area_m2=buildable["floor_area_max_m2"] + 1)
    assert [(f["rule"], f["limit"]) for f in result["findings"]] == [
        ("height_max_m", buildable["height_max_m"]["value"]),
        ("floor_area_max_m2", buildable["floor_area_max_m2"])]


def test_a_footprint_that_does_not_fit_outside_the_widening_strip(
    client: TestClient, key: str, buildable: dict[str, Any]
) -> None:
    # Smaller than the parcel, larger than what the right-of-way leaves of it.
    footprint = buildable["buildable_area_m2"] + 1
    assert footprint < buildable["parcel_area_m2"]
    result = _check(client, key, footprint_m2=footprint)
    by_rule = {f["rule"]: f for f in result["findings"]}
    strip = by_rule["widening_strip"]
    assert strip["limit"] == buildable["buildable_area_m2"]
    assert strip["value"] == footprint
    assert strip["block_code"] is None
    assert buildable["widening"][0]["street"] in strip["message_vi"]
    assert "lộ giới" in strip["message_vi"]
    assert by_rule["footprint_max_m2"]["limit"] == buildable["footprint_max_m2"]
    assert result["checked"] == ["footprint_max_m2", "widening_strip"]


def test_without_a_strip_the_footprint_is_held_to_the_parcel(
    client: TestClient, conn: Connection
) -> None:
    key = conn.exec_driver_sql(
        "SELECT parcel_key FROM parcel p WHERE NOT EXISTS (SELECT 1 FROM parcel_frontage pf "
        "JOIN road r ON r.id = pf.road_id WHERE pf.parcel_id = p.id "
        "AND r.right_of_way_m > 14) ORDER BY parcel_key LIMIT 1").scalar_one()
    area = float(conn.exec_driver_sql("SELECT area_m2 FROM parcel WHERE parcel_key = %(k)s",
                                      {"k": key}).scalar_one())
    result = _check(client, key, footprint_m2=area + 1)
    assert result["buildable"]["widening"] == []
    rules = {f["rule"]: f["limit"] for f in result["findings"]}
    assert rules["parcel_area"] == area
    assert "widening_strip" not in rules


def test_indicators_the_zoning_does_not_give_are_named_unchecked(
    client: TestClient, conn: Connection, key: str, buildable: dict[str, Any]
) -> None:
    conn.exec_driver_sql(
        """
        UPDATE zoning_block b SET floors_min = NULL, floors_max = NULL, height_max_m = NULL,
               coverage_max_pct = NULL, far_max = NULL
        FROM parcel p JOIN parcel_zoning pz ON pz.parcel_id = p.id
        WHERE p.parcel_key = %(k)s AND pz.block_id = b.id
        """, {"k": key})
    result = _check(client, key, floors=40, height_m=150, footprint_m2=1,
                    floor_area_m2=100_000)
    assert result["findings"] == []
    assert result["unchecked"] == ZONING_RULES
    assert result["checked"] == ["widening_strip"]
    assert result["buildable"]["floors_max"] is None
    assert result["buildable"]["buildable_area_m2"] == buildable["buildable_area_m2"]


def test_the_dossier_s_check_is_the_same_and_reads_only_the_building(
    client: TestClient, conn: Connection, key: str, buildable: dict[str, Any]
) -> None:
    answers = {"floors": buildable["floors_max"]["value"] + 1, "height_m": 12.5}
    form = {**answers, "works": "Nâng thêm một tầng"}  # the repair permit's form has more
    dossier = precheck_for(conn, key, form).model_dump(mode="json")
    assert dossier == _check(client, key, **answers)
    assert [f["rule"] for f in dossier["findings"]] == ["floors_max"]


def test_a_dossier_s_answer_of_the_wrong_type_names_its_field(conn: Connection,
                                                              key: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        precheck_for(conn, key, {"floors": "ba", "works": "Sửa mái"})
    assert caught.value.field == "floors"


def test_an_unknown_parcel_is_a_404_naming_it(client: TestClient) -> None:
    res = client.post(URL, json={"parcel_key": "999999999999", "answers": {"floors": 3}})
    assert res.status_code == 404
    assert res.json()["field"] == "parcel_key"
    assert "999999999999" in res.json()["detail"]


@pytest.mark.parametrize("answers", [
    {"floors": "three"},
    {"floors": 2.5},
    {"floors": True},
    {"floors": 0},
    {"height_m": "high"},
    {"footprint_m2": -5},
    {"floor_area_m2": [100]},
    {"storeys": 3},
])
def test_bad_answers_are_a_422(client: TestClient, key: str, answers: dict[str, Any]) -> None:
    res = client.post(URL, json={"parcel_key": key, "answers": answers})
    assert res.status_code == 422, answers
    assert res.json()["detail"][0]["loc"][:2] == ["body", "answers"]


@pytest.mark.parametrize("body", [
    {"parcel_key": "27487-012-0345", "answers": {}},
    {"parcel_key": 274870120345, "answers": {}},
    {"answers": {"floors": 3}},
    {"parcel_key": "274870120345"},
])
def test_a_malformed_request_is_a_422(client: TestClient, body: dict[str, Any]) -> None:
    assert client.post(URL, json=body).status_code == 422


def test_the_rules_word_their_numbers_as_each_language_writes_them() -> None:
    limit = ZoningLimit(value=3, block_code="C.2", decision_no="1530/QĐ-UBND")
    land = Buildable(
        governing_block="C.2", spans_blocks=False, blocks=[], floors_min=limit,
        floors_max=None, height_max_m=None, coverage_max_pct=None, far_max=None,
        parcel_area_m2=1300.0, widening=[], widening_area_m2=0, buildable_area_m2=1300.0,
        computed_on="buildable_area_m2", footprint_max_m2=None, floor_area_max_m2=None)
    low, big = precheck(land, PrecheckAnswers(floors=2, footprint_m2=1234.5 + 100))
    assert (low.rule, big.rule) == (RuleName.FLOORS_MIN, RuleName.PARCEL_AREA)
    assert low.message_vi == "Số tầng 2 thấp hơn tối thiểu 3 tầng của ô phố C.2 (QĐ số " \
        "1530/QĐ-UBND)"
    assert big.message_vi == "Diện tích xây dựng 1.334,5 m² lớn hơn diện tích thửa đất " \
        "1.300 m²"
    assert big.message_en == "A footprint of 1,334.5 m² is larger than the parcel's 1,300 m²"
    assert precheck(land, PrecheckAnswers(floors=3, footprint_m2=1300)) == []
