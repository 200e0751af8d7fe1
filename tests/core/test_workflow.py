"""The one workflow engine: every table exhaustively, If-Match, guards, events, and nothing but
the engine writing a status."""

from __future__ import annotations

import ast
import itertools
import re
import secrets
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb
from sqlalchemy import Connection

from core.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    PreconditionRequiredError,
)
from core.settings import PROJECT_ROOT
from core.workflow import (
    ENGINE_SETTING,
    SYSTEM,
    Actor,
    Context,
    GuardError,
    Visibility,
    Workflow,
    create,
    driver,
    fire,
)
from layers.catalogue.workflow import JOB, VERSION
from permits.feedback.workflow import FEEDBACK, FLOOD
from permits.office.workflow import TASK
from permits.payments.providers import new_reference
from permits.payments.workflow import PAYMENT
from permits.results.service import ResultFile
from permits.workflow import DOSSIER
from tests.accounts.world import attach_all, complete_answers

WORKFLOWS = (DOSSIER, VERSION, JOB, PAYMENT, FEEDBACK, FLOOD, TASK)
PLANNER = Actor(None, authorize=lambda action, row: None, staff=True)
CITIZEN = Actor(None, authorize=lambda action, row: None, staff=False)


def _dossier_values(conn: Connection) -> dict[str, Any]:
    parcel = conn.exec_driver_sql("SELECT parcel_key FROM parcel LIMIT 1").scalar_one()
    owner = conn.exec_driver_sql(
        "INSERT INTO person (phone, display_name, password_hash) VALUES (%(p)s, 'Thử', 'x') "
        "RETURNING id",
        {"p": "+8493" + "".join(secrets.choice("0123456789") for _ in range(7))}).scalar_one()
    return {"owner_id": owner, "procedure_id": "construction-permit-house",
            "department": "urban-management", "ward_code": "27487", "parcel_key": parcel,
            "applicant": {"full_name": "Nguyễn Văn Thử", "phone": "0930000123"},
            "answers": complete_answers(conn, "construction-permit-house")}


def _version_values(conn: Connection) -> dict[str, Any]:
    conn.exec_driver_sql("INSERT INTO catalogue_layer (id, kind, title_vi, title_en) VALUES "
                         "('t_workflow', 'free', 'Thử', 'Test') ON CONFLICT DO NOTHING")
    number = conn.exec_driver_sql("SELECT coalesce(max(number), 0) + 1 FROM catalogue_version "
                                  "WHERE layer_id = 't_workflow'").scalar_one()
    return {"layer_id": "t_workflow", "number": number, "data_table": "t_workflow_vx"}


def _job_values(conn: Connection) -> dict[str, Any]:
    return {"layer_id": "land_use", "source_name": "x.zip", "source_path": "/nonexistent/x.zip",
            "source_sha256": "0" * 64}


def _payment_values(conn: Connection) -> dict[str, Any]:
    dossier = create(conn, DOSSIER, "create", SYSTEM, _dossier_values(conn)).row_id
    return {"dossier_id": dossier, "provider": "sandbox", "reference": new_reference(),
            "amount_vnd": 75_000}


def _feedback_values(conn: Connection) -> dict[str, Any]:
    return {"category": "roads", "description": "Ổ gà", "department": "urban-management",
            "geom": "SRID=4326;POINT(106.72 10.73)", "reporter_phone": "+84930000123"}


def _flood_values(conn: Connection) -> dict[str, Any]:
    return {"day": date.today(), "geom": "SRID=4326;POINT(106.72 10.73)"}


def _task_values(conn: Connection) -> dict[str, Any]:
    return {"title": "Kiểm tra", "department": "urban-management", "due_on": date.today()}


def _values_of(conn: Connection, workflow: Workflow) -> dict[str, Any]:
    """A new row's columns, for each workflow."""
    return {DOSSIER.name: _dossier_values, VERSION.name: _version_values,
            JOB.name: _job_values, PAYMENT.name: _payment_values,
            FEEDBACK.name: _feedback_values, FLOOD.name: _flood_values,
            TASK.name: _task_values}[workflow.name](conn)


def _code(row_id: int) -> str:
    return f"000.00.01.H29-260101-{row_id % 10_000:04d}"


def _values(workflow: Workflow, action: str, row_id: int) -> dict[str, Any]:
    return {"code": _code(row_id)} if workflow is DOSSIER and action == "submit" else {}


LATER = (date.today() + timedelta(days=30)).isoformat()
# What each guarded move of a dossier needs said: its form's facts.
FORM_FACTS: dict[str, dict[str, Any]] = {
    "request_supplement": {"missing": ["Bản vẽ mặt bằng"], "due_on": LATER},
    "supplement": {"documents": ["ban-ve"]},
    "refuse": {"reasons": ["Sai quy hoạch"]}, "decline": {"reasons": ["Không thuộc thẩm quyền"]},
    "apologise": {"reason": "Chờ ý kiến phòng Tài nguyên", "new_due_on": LATER},
    "issue_result": {"result_no": "123/GPXD"},
}


# What each guarded move of a feedback report needs said.
FEEDBACK_FACTS: dict[str, dict[str, Any]] = {
    "ask": {"question": "Ở số nhà nào?"}, "reply": {"reply": "Trước số 12"},
    "answer": {"answer": "Đã giao đội duy tu"}, "close": {"closing": "fixed"},
    "reopen": {"reason": "Vẫn còn ổ gà"}, "rate": {"rating": 4},
    "hide": {"reason": "Có số điện thoại của người khác"}, "note": {"note": "Chờ đội duy tu"},
}


def _detail(workflow: Workflow, action: str) -> dict[str, Any]:
    facts = {DOSSIER.name: FORM_FACTS, FEEDBACK.name: FEEDBACK_FACTS}.get(workflow.name, {})
    return facts.get(action, {})


def _carry(workflow: Workflow, action: str) -> dict[str, Any]:
    # A result is made (signed, in the store) before the move that issues it records it.
    made = ResultFile(sha256="0" * 64, size=1, signer="Thử")
    return {"result": made} if workflow is DOSSIER and action == "issue_result" else {}


def _row_in(conn: Connection, workflow: Workflow, state: str) -> int:
    """A row of the workflow standing in `state` (set as the engine would, for the test)."""
    values = _values_of(conn, workflow)
    creator = next(t for t in workflow.transitions if t.source is None)
    row_id = create(conn, workflow, creator.action, SYSTEM, values).row_id
    if workflow is DOSSIER:
        attach_all(conn, row_id)
    conn.exec_driver_sql("SELECT set_config(%(s)s, %(t)s, true)",
                         {"s": ENGINE_SETTING, "t": workflow.table})
    # A dossier past its draft has its code, and a return date (passed: it can lapse).
    code = ", code = %(c)s, due_on = current_date - 1" \
        if workflow is DOSSIER and state != "draft" else ""
    if workflow is FEEDBACK and state == "closed":  # closed a day ago: it may be reopened
        code = ", closed_at = now() - interval '1 day', closing = 'fixed'"
    conn.exec_driver_sql(f"UPDATE {workflow.table} SET status = %(st)s{code} WHERE id = %(i)s",
                         {"st": state, "i": row_id, "c": _code(row_id)})
    conn.exec_driver_sql("SELECT set_config(%(s)s, '', true)", {"s": ENGINE_SETTING})
    return row_id


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_every_allowed_move_succeeds_and_every_other_pair_is_refused(
        conn: Connection, workflow: Workflow) -> None:
    actions = sorted({t.action for t in workflow.transitions if t.source is not None})
    for state, action in itertools.product(workflow.states, actions):
        move = workflow.move(state, action)
        conn.exec_driver_sql("SAVEPOINT pair")
        row_id = _row_in(conn, workflow, state)
        if move is None:
            with pytest.raises(ConflictError, match=f"cannot be {action}"):
                fire(conn, workflow, row_id, action, SYSTEM,
                     values=_values(workflow, action, row_id),
                     detail=_detail(workflow, action), carry=_carry(workflow, action))
        else:
            fired = fire(conn, workflow, row_id, action, SYSTEM,
                         values=_values(workflow, action, row_id),
                         detail=_detail(workflow, action), carry=_carry(workflow, action))
            assert (fired.source, fired.target, fired.version) == (state, move.target, 2)
            status = conn.exec_driver_sql(
                f"SELECT status FROM {workflow.table} WHERE id = %(i)s", {"i": row_id}
            ).scalar_one()
            assert status == move.target
        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT pair")


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_the_status_check_is_the_enum(conn: Connection, workflow: Workflow) -> None:
    definition = conn.exec_driver_sql(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %(t)s::regclass "
        "AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%%status%%ANY%%'",
        {"t": workflow.table}).scalar_one()
    assert set(re.findall(r"'(\w+)'", definition)) == {s.value for s in workflow.states}


def test_if_match_stale_is_412_missing_for_staff_is_428(conn: Connection) -> None:
    row_id = _row_in(conn, DOSSIER, "draft")
    stale = DOSSIER.etag(row_id, 7)
    code = _values(DOSSIER, "submit", row_id)
    with pytest.raises(PreconditionFailedError):
        fire(conn, DOSSIER, row_id, "submit", CITIZEN, if_match=stale, values=code)
    with pytest.raises(PreconditionRequiredError):
        fire(conn, DOSSIER, row_id, "submit", PLANNER, values=code)
    fired = fire(conn, DOSSIER, row_id, "submit", PLANNER, if_match=DOSSIER.etag(row_id, 1),
                 values=code)
    assert fired.etag == DOSSIER.etag(row_id, 2)
    with pytest.raises(PreconditionFailedError):  # what was read before the move is stale
        fire(conn, DOSSIER, row_id, "withdraw", PLANNER, if_match=DOSSIER.etag(row_id, 1))
    assert fire(conn, DOSSIER, row_id, "withdraw", CITIZEN).version == 3  # citizens may omit it


def test_failing_guards_are_each_named(conn: Connection) -> None:
    row_id = _row_in(conn, DOSSIER, "draft")
    conn.exec_driver_sql("UPDATE dossier SET applicant = '{\"full_name\": \" \"}' "
                         "WHERE id = %(i)s", {"i": row_id})
    with pytest.raises(GuardError) as refused:
        fire(conn, DOSSIER, row_id, "submit", SYSTEM, values=_values(DOSSIER, "submit", row_id))
    assert [g["guard"] for g in refused.value.extra["guards"]] == [
        "applicant_named", "applicant_reachable"]
    assert refused.value.status_code == 409


def test_the_policy_is_asked_with_the_row(conn: Connection) -> None:
    row_id = _row_in(conn, DOSSIER, "draft")
    asked: list[tuple[str, int]] = []

    def refuse(action: str, row: Any) -> None:
        asked.append((action, row["id"]))
        raise ForbiddenError("not yours")

    with pytest.raises(ForbiddenError):
        fire(conn, DOSSIER, row_id, "submit", Actor(None, authorize=refuse),
             values=_values(DOSSIER, "submit", row_id))
    assert asked == [("dossier.apply", row_id)]
    only_system = VERSION.move("draft", "validate")
    assert only_system is not None
    assert only_system.allowed_by is None
    version_id = _row_in(conn, VERSION, "draft")
    with pytest.raises(ForbiddenError, match="only the platform"):
        fire(conn, VERSION, version_id, "validate", CITIZEN)


def test_a_move_appends_its_event_and_runs_its_effects(conn: Connection) -> None:
    row_id = _row_in(conn, DOSSIER, "draft")
    fired = fire(conn, DOSSIER, row_id, "submit", SYSTEM, note="nộp trực tuyến",
                 detail={"channel": "web"}, values={"code": "000.00.01.H29-260101-9999"})
    event = conn.exec_driver_sql(
        "SELECT action, from_status, to_status, note, visibility, detail FROM dossier_event "
        "WHERE id = %(i)s", {"i": fired.event_id}).one()
    assert tuple(event) == ("submit", "draft", "awaiting_receipt", "nộp trực tuyến",
                            Visibility.PUBLIC, {"channel": "web"})
    message = conn.exec_driver_sql(
        "SELECT recipient, body FROM outbox_message ORDER BY id DESC LIMIT 1").one()
    assert message.recipient == "0930000123"
    assert "000.00.01.H29-260101-9999" in message.body
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        with conn.begin_nested():
            driver(conn).execute("UPDATE dossier_event SET note = 'x' WHERE id = %s",
                                 (fired.event_id,))


def test_sight_comes_first_and_settled_columns_come_from_the_locked_row(
        conn: Connection) -> None:
    row_id = _row_in(conn, DOSSIER, "draft")
    code = _values(DOSSIER, "submit", row_id)
    seen: list[int] = []

    def hidden(row: Any) -> None:
        seen.append(row["version"])
        raise NotFoundError("not found")

    def settle(ctx: Context) -> dict[str, Any]:
        assert ctx.row["status"] == "draft"  # the locked row, before the move
        ctx.detail["settled_from"] = ctx.row["version"]
        return {"updated_at": date(2026, 1, 2)}

    # Hidden from the caller: a 404 even with a stale ETag, which would tell the row is there.
    with pytest.raises(NotFoundError):
        fire(conn, DOSSIER, row_id, "submit", CITIZEN, if_match=DOSSIER.etag(row_id, 9),
             values=code, seen=hidden, settle=settle)
    assert seen == [1]
    called: list[str] = []

    def never(ctx: Context) -> dict[str, Any]:
        called.append(ctx.transition.action)
        return {}

    with pytest.raises(PreconditionFailedError):  # a refused move works nothing out
        fire(conn, DOSSIER, row_id, "submit", CITIZEN, if_match=DOSSIER.etag(row_id, 9),
             values=code, settle=never)
    assert called == []
    fired = fire(conn, DOSSIER, row_id, "submit", CITIZEN, values=code, seen=lambda row: None,
                 settle=settle)
    assert fired.row["updated_at"].date() == date(2026, 1, 2)
    assert fired.row["code"] == code["code"]  # the caller's values stay
    detail = conn.exec_driver_sql("SELECT detail FROM dossier_event WHERE id = %(i)s",
                                  {"i": fired.event_id}).scalar_one()
    assert detail == {"settled_from": 1}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_nothing_but_the_engine_writes_a_status(conn: Connection, workflow: Workflow) -> None:
    row_id = _row_in(conn, workflow, workflow.states(next(
        t.target for t in workflow.transitions if t.source is None)))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="workflow engine"):
        with conn.begin_nested():
            driver(conn).execute(f"UPDATE {workflow.table} SET status = status WHERE id = %s",
                                 (row_id,))
    values = _values_of(conn, workflow)
    first = next(t.target for t in workflow.transitions if t.source is None)
    params = [Jsonb(v) if isinstance(v, dict) else v for v in values.values()] + [first]
    insert = (f"INSERT INTO {workflow.table} ({', '.join(values)}, status) VALUES "
              f"({', '.join(['%s'] * len(values))}, %s)")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="workflow engine"), \
            conn.begin_nested():
        driver(conn).execute(insert, params)


def _sql_texts(path: Path) -> list[str]:
    """The string literals of a Python file (implicit concatenations joined, f-strings with
    their holes as {}), where its SQL is."""
    texts = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            texts.append("".join(v.value if isinstance(v, ast.Constant) else "{}"
                                 for v in node.values))
    return texts


def test_no_code_writes_a_workflow_status_but_the_engine() -> None:
    tables = "|".join(w.table for w in WORKFLOWS)
    writes = re.compile(rf"(UPDATE\s+({tables})\b[^;]*?\bSET\b[^;]*?\bstatus\s*=|"
                        rf"INSERT\s+INTO\s+({tables})\s*\([^)]*\bstatus\b)", re.I | re.S)
    found = []
    for path in PROJECT_ROOT.glob("*/**/*.py"):
        relative = path.relative_to(PROJECT_ROOT)
        # bench/ writes statuses by hand on purpose: the raw baseline the engine is measured by.
        if relative.parts[0] in (".venv", "tests", "migrations", "var", "mobile_web", "bench") or \
                relative == Path("core/workflow.py"):
            continue
        found += [f"{relative}: {m[0][:60]}" for text in _sql_texts(path)
                  for m in writes.finditer(text)]
    for path in PROJECT_ROOT.glob("*/**/*.sql"):
        found += [f"{path.relative_to(PROJECT_ROOT)}: {m[0][:60]}"
                  for m in writes.finditer(path.read_text())]
    assert found == []
    # The pattern does see a write where there is one.
    assert writes.search("UPDATE dossier SET code = 'x', status = 'received' WHERE id = 1")
