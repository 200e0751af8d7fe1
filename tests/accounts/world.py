"""A small world of people, sessions, tokens and dossiers for access tests (in the test's
transaction): who owns what is set here, independently of the policy under test."""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from accounts.policy import Principal
from accounts.repository import grants
from accounts.service import AccountService, GrantSpec
from core.notify import OutboxNotifier
from core.workdays import WorkingCalendar
from core.workflow import SYSTEM, create, fire
from layers.catalogue.workflow import JOB
from permits.calendar.repository import CalendarRepository
from permits.calendar.service import CalendarService
from permits.feedback.open311.repository import Open311Repository
from permits.feedback.open311.service import ClientKeys
from permits.payments.providers import new_reference
from permits.payments.workflow import PAYMENT
from permits.workflow import DOSSIER

PASSWORD = "mật-khẩu-dài-đủ"
URBAN, ECONOMY = "urban-management", "economy"
PERMIT, BUSINESS = "construction-permit-house", "household-business-registration"
MY_WARD, OTHER_WARD = "27487", "27466"


@dataclass
class Actor:
    """A person of the world, signed in with a cookie or holding a bearer token."""

    name: str
    person_id: int | None = None
    phone: str = ""
    cookie: str | None = None
    csrf: str | None = None
    bearer: str | None = None
    principal: Principal = field(default_factory=Principal)

    def headers(self) -> dict[str, str]:
        """What the actor sends with every request."""
        if self.bearer:
            return {"Authorization": f"Bearer {self.bearer}"}
        out = {}
        if self.cookie:
            out["Cookie"] = f"civicmap_session={self.cookie}"
        if self.csrf:
            out["X-CSRF-Token"] = self.csrf
        return out


@dataclass
class Dossier:
    """A dossier of the world and the facts that decide who may reach it."""

    key: str
    id: int
    owner: str
    department: str
    ward: str
    status: str
    code: str | None


@dataclass
class World:
    """Everyone and everything, by name."""

    actors: dict[str, Actor]
    dossiers: dict[str, Dossier]
    tokens: dict[str, int]  # owner name -> token id
    personal: list[str]  # personal strings that must never appear in a public answer
    parcels: dict[str, str]  # ward code -> parcel key
    job_id: int = 0  # an ingest job waiting for an answer
    zoning_block_id: int = 0  # a published feature (ids change when a layer is republished)
    swap_day: str = ""  # a government swap stored in the calendar
    closure_id: int = 0  # a department's closure stored in the calendar
    documents: dict[str, str] = field(default_factory=dict)  # dossier id -> a document's id
    open311_client_id: int = 0  # an Open311 client, and its API key
    open311_key: str = ""


def _parcel_in(conn: Connection, ward: str) -> str:
    return str(conn.exec_driver_sql(
        "SELECT p.parcel_key FROM parcel p JOIN admin_unit w ON w.id = p.current_ward_id "
        "WHERE w.code = %(w)s ORDER BY p.id LIMIT 1", {"w": ward}).scalar_one())


def complete_answers(conn: Connection, procedure_id: str) -> dict[str, Any]:
    """Answers the procedure's form accepts for a submission: each required field at its
    least (a number's minimum, a one-word text)."""
    schema = conn.exec_driver_sql("SELECT form_schema FROM procedure WHERE id = %(p)s",
                                  {"p": procedure_id}).scalar_one()
    answers: dict[str, Any] = {}
    for name in schema.get("required", []):
        spec = schema["properties"][name]
        answers[name] = spec.get("minimum", 1) if spec["type"] in ("integer", "number") \
            else "Thử"
    return answers


def paid(conn: Connection, dossier_id: int) -> int:
    """The dossier's fee paid, as the gateway's notice would have it (through the engine)."""
    fee = conn.exec_driver_sql("SELECT p.fee_vnd FROM dossier x JOIN procedure p "
                               "ON p.id = x.procedure_id WHERE x.id = %(d)s",
                               {"d": dossier_id}).scalar_one()
    payment = create(conn, PAYMENT, "begin", SYSTEM, {
        "dossier_id": dossier_id, "provider": "sandbox", "reference": new_reference(),
        "amount_vnd": fee}).row_id
    fire(conn, PAYMENT, payment, "confirm", SYSTEM, values={"provider_txn": "SBXTEST"})
    return payment


def attach_all(conn: Connection, dossier_id: int) -> None:
    """A row for each mandatory document of the dossier's procedure (the tests that read the
    files upload them; these only stand for them at submission)."""
    conn.exec_driver_sql(
        """
        INSERT INTO dossier_document (dossier_id, doc_key, sha256, content_type, size_bytes,
                                      file_name, uploaded_by)
        SELECT x.id, d->>'key', repeat('0', 64), 'application/pdf', 1, 'thu.pdf', x.owner_id
        FROM dossier x JOIN procedure p ON p.id = x.procedure_id,
             jsonb_array_elements(p.documents) AS d
        WHERE x.id = %(d)s AND (d->>'mandatory')::boolean
          AND NOT EXISTS (SELECT 1 FROM dossier_document a WHERE a.dossier_id = x.id
                          AND a.doc_key = d->>'key' AND a.removed_at IS NULL)
        """, {"d": dossier_id})


def calendar_of(conn: Connection, department: str, first_year: int,
                last_year: int) -> WorkingCalendar:
    """A department's working days as the services count them, with the overrides the world
    holds (a swapped day off on 28/12/2026, a closure of the permit department on 29/12/2026):
    a date counted from today crosses them in December 2026."""
    return CalendarService(CalendarRepository(conn)).calendar(first_year, last_year, department)


def build(conn: Connection) -> World:
    """People of every role, their sessions and tokens, and dossiers around them."""
    service = AccountService(conn, OutboxNotifier(conn), b"k" * 32)
    people = {
        "citizen": ("0931000001", None),
        "citizen2": ("0931000002", None),
        "officer": ("0931000003", GrantSpec("officer", URBAN, (MY_WARD,))),
        "leader": ("0931000004", GrantSpec("leader", URBAN)),
        "planner": ("0931000005", GrantSpec("planner")),
        "administrator": ("0931000006", GrantSpec("administrator")),
        "officer2": ("0931000007", GrantSpec("officer", ECONOMY, (OTHER_WARD,))),
    }
    actors: dict[str, Actor] = {"anonymous": Actor("anonymous")}
    personal: list[str] = []
    for name, (phone, grant) in people.items():
        display = f"Người Thử {name.title()}"
        if grant is None:
            person_id = int(conn.exec_driver_sql(
                "INSERT INTO person (phone, password_hash, display_name, verified_at) "
                "VALUES (%(p)s, %(h)s, %(n)s, now()) RETURNING id",
                {"p": "+84" + phone[1:], "h": _hash(), "n": display}).scalar_one())
            conn.exec_driver_sql("INSERT INTO role_grant (person_id, role) "
                                 "VALUES (%(p)s, 'citizen')", {"p": person_id})
        else:
            person_id, _ = service.create_staff(phone, display, grant)
            conn.exec_driver_sql("UPDATE person SET password_hash = %(h)s WHERE id = %(p)s",
                                 {"h": _hash(), "p": person_id})
        session = service._new_session(person_id)
        actors[name] = Actor(name, person_id, "+84" + phone[1:], session.token,
                             session.csrf_token,
                             principal=Principal(person_id, grants(conn, person_id), "cookie",
                                                 csrf_token=session.csrf_token))
        personal += ["+84" + phone[1:], phone, display]
    tokens: dict[str, int] = {}
    for name in ("officer", "leader", "planner", "administrator", "officer2"):
        scope = {"planner": "layer.write", "administrator": "audit.read"}.get(name, "dossier.read")
        tokens[name], _ = service.issue_token(actors[name].principal, f"{name} sync", [scope], 30)
    officer = actors["officer"]
    token_id, secret = service.issue_token(officer.principal, "one-stop sync", ["dossier.read"], 30)
    tokens["officer_token"] = token_id
    actors["officer_token"] = Actor(
        "officer_token", officer.person_id, officer.phone, bearer=secret,
        principal=Principal(officer.person_id, officer.principal.grants, "token",
                            frozenset({"dossier.read"})))
    parcels = {ward: _parcel_in(conn, ward) for ward in (MY_WARD, OTHER_WARD)}
    dossiers: dict[str, Dossier] = {}
    for key, owner, procedure, ward, submit in [
        ("c1_draft", "citizen", PERMIT, MY_WARD, False),
        ("c1_sub", "citizen", PERMIT, MY_WARD, True),
        ("c2_draft", "citizen2", BUSINESS, OTHER_WARD, False),
        ("c2_sub", "citizen2", BUSINESS, OTHER_WARD, True),
        ("c2_urban_other_ward", "citizen2", PERMIT, OTHER_WARD, True),
        ("c2_economy_my_ward", "citizen2", BUSINESS, MY_WARD, True),
    ]:
        applicant = {"full_name": f"Đương Sự {key}",
                     "id_number": f"0790{zlib.crc32(key.encode()) % 10**8:08d}",
                     "phone": actors[owner].phone, "address": None}
        personal += [applicant["full_name"], applicant["id_number"]]
        department_of = conn.exec_driver_sql(
            "SELECT department FROM procedure WHERE id = %(p)s", {"p": procedure}).scalar_one()
        dossier_id = create(conn, DOSSIER, "create", SYSTEM, {
            "owner_id": actors[owner].person_id, "procedure_id": procedure,
            "department": department_of, "ward_code": ward, "parcel_key": parcels[ward],
            "applicant": applicant, "answers": complete_answers(conn, procedure)}).row_id
        attach_all(conn, dossier_id)
        code = None
        if submit:
            code = f"000.00.01.H29-260101-{len(dossiers) + 1:04d}"
            fire(conn, DOSSIER, dossier_id, "submit", SYSTEM, values={"code": code})
        department = URBAN if procedure == PERMIT else ECONOMY
        dossiers[key] = Dossier(key, dossier_id, owner, department, ward,
                                "awaiting_receipt" if submit else "draft", code)
    job_id = create(conn, JOB, "upload", SYSTEM, {
        "layer_id": "land_use", "source_name": "x.zip", "source_path": "/nonexistent/x.zip",
        "source_sha256": "0" * 64, "created_by": actors["planner"].person_id}).row_id
    for move in ("claim", "ask"):  # a job waiting for the planner's answer
        fire(conn, JOB, job_id, move, SYSTEM)
    block = int(conn.exec_driver_sql("SELECT min(id) FROM zoning_block").scalar_one())
    swap_day = "2026-12-28"
    conn.exec_driver_sql("INSERT INTO working_day_swap (day, kind, reason) "
                         "VALUES (%(d)s, 'day_off', 'Nghỉ bù Tết Dương lịch')", {"d": swap_day})
    closure_id = int(conn.exec_driver_sql(
        "INSERT INTO department_closure (department, day, reason) "
        "VALUES (%(p)s, '2026-12-29', 'Chuyển trụ sở') RETURNING id", {"p": URBAN}).scalar_one())
    client = ClientKeys(Open311Repository(conn)).issue("Ứng dụng thử", None,
                                                       actors["administrator"].person_id)
    return World(actors, dossiers, tokens, personal, parcels, job_id, block, swap_day,
                 closure_id, open311_client_id=client.id, open311_key=client.api_key)


_HASH: list[str] = []


def _hash() -> str:
    from accounts.service import HASHER

    if not _HASH:
        _HASH.append(HASHER.hash(PASSWORD))
    return _HASH[0]


def _json(value: Any) -> str:
    return json.dumps(value)


def outbox_code(conn: Connection, recipient: str) -> str:
    """The six-digit code of the newest message to the recipient (the development inbox)."""
    body = conn.exec_driver_sql(
        "SELECT body FROM outbox_message WHERE recipient = %(r)s ORDER BY id DESC LIMIT 1",
        {"r": recipient}).scalar_one()
    found = re.search(r"\b(\d{6})\b", body)
    assert found, body
    return found[1]


def in_scope(actor: str, dossier: Dossier) -> bool:
    """Whether the actor should reach the dossier: the rule of the issue, restated by hand."""
    if actor == "citizen":
        return dossier.owner == "citizen"
    if dossier.status == "draft":
        return False
    if actor in ("officer", "officer_token"):
        return dossier.department == URBAN and dossier.ward == MY_WARD
    if actor == "leader":
        return dossier.department == URBAN
    return False


