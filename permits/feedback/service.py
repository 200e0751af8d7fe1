"""Rules of feedback reports: where a report may be, who sent it (an account, or a phone or
e-mail confirmed by a one-time code), the department and deadline its category routes it to,
and what the public sees of it (never the reporter's contact; the name only when allowed)."""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from accounts.policy import Principal, Subject, workflow_actor
from accounts.repository import audit, serves
from core import clock
from core.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from core.notify import Notifier
from core.workflow import NOW, SYSTEM, Actor, check_version, create, fire
from layers.service import buildable_by_key
from permits.clock import Clock
from permits.feedback.photos import token_hash
from permits.feedback.repository import FeedbackRepository
from permits.feedback.workflow import FEEDBACK, FLOOD, FOLLOW, HANDLE, ReportStatus
from permits.workflow import today

CODE_MINUTES = 30
PHONE = re.compile(r"^(?:\+84|0)\d{9,10}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$")
# Whoever holds the code: the code is the authority (it went only to the reporter's phone).
BY_CODE = Actor(None, authorize=lambda action, row: None)
# Flood reports of one day whose places lie within this of a flood event's join it.
FLOOD_CATEGORY, FLOOD_METRES = "drainage-flooding", 500
CONTACT_KEPT_DAYS = 365  # after a report's closing, then its reporter's contact is removed


def category_etag(code: str, version: int) -> str:
    """The ETag of a category at a version."""
    return f'"feedback-category-{code}-v{version}"'


def _follower_only(action: str, row: Mapping[str, Any]) -> None:
    """An anonymous reporter holding their report's token: only the reporter's own moves."""
    if action != FOLLOW:
        raise ForbiddenError("only the department can do this", "action")


@dataclass(frozen=True)
class Reporter:
    """Who sends a report: a signed-in person, or a name with a phone or an e-mail."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    show_name: bool = False


def _subject(row: Mapping[str, Any]) -> Subject | None:
    """What the policy needs of a report: its reporter, department and ward."""
    if "status" not in row:  # a creation: the action alone
        return None
    return Subject(owner_id=row["reporter_id"], department=row["department"],
                   ward=row["ward_code"])


def normalised_phone(phone: str) -> str:
    """A Vietnamese phone number as +84…, or a 422 naming `phone`."""
    digits = re.sub(r"[\s.-]", "", phone)
    if not PHONE.match(digits):
        raise InvalidInputError("a Vietnamese phone number, such as 0901234567", "phone")
    return "+84" + digits[1:] if digits.startswith("0") else digits


class FeedbackService:
    """Reports of citizens, routed to the departments that answer them."""

    def __init__(self, repository: FeedbackRepository, notifier: Notifier, key: bytes) -> None:
        self.repo = repository
        self.notifier = notifier
        self.key = key  # keys the hashes of confirmation codes
        self.clock = Clock(repository.conn)

    def _code_hash(self, report_id: int, code: str) -> str:
        return hmac.new(self.key, f"feedback:{report_id}:{code}".encode(), "sha256").hexdigest()

    def edit_category(self, code: str, if_match: str | None, department: str | None,
                      response_days: int | None, person_id: int | None) -> Any:
        """An administrator's change to where a category goes and how long it has (reports
        sent from now on), against the version read; audited with before and after."""
        row = self.repo.category(code, lock=True)
        if row is None:
            raise NotFoundError(f"no category {code!r}", "code")
        check_version(category_etag(code, row.version), if_match, required=True)
        known = self.repo.conn.exec_driver_sql(
            "SELECT 1 FROM role_grant WHERE department = %(d)s UNION SELECT 1 FROM "
            "feedback_category WHERE department = %(d)s LIMIT 1", {"d": department}).first()
        if department is not None and known is None:
            raise InvalidInputError(f"no department {department!r}", "department")
        after = (department or row.department, response_days or row.response_days)
        if after != (row.department, row.response_days):
            self.repo.update_category(code, *after)
            audit(self.repo.conn, "feedback.category", person_id, category=code,
                  department=[row.department, after[0]],
                  response_days=[row.response_days, after[1]])
        return self.repo.category(code)

    def _joined(self, joins: int, category: str) -> Any:
        """The report a "me too" adds its voice to: open, of the same kind; a duplicate's
        voice goes to the report it duplicates."""
        original = self.repo.public(joins)
        for _ in range(8):
            if original is None or original.closing != "duplicate":
                break
            original = self.repo.public(original.duplicate_of)
        if original is None:
            raise InvalidInputError(f"no report {joins}", "joins")
        if original.category != category:
            raise InvalidInputError(f"report {joins} is about {original.category_vi}, not "
                                    "this category", "joins")
        if original.status == ReportStatus.CLOSED:
            raise ConflictError(f"report {original.id} is closed: send a report of your own "
                                "(its reporter may reopen it)", "joins")
        return original

    def send(self, principal: Principal, category: str, description: str | None, lon: float,
             lat: float, reporter: Reporter, parcel_key: str | None = None,
             token: str | None = None, joins: int | None = None) -> tuple[Any, bool]:
        """The report and whether it waits for its one-time code (anonymous reporters, who
        add its photos with `token`); with `joins`, a "me too" on that report."""
        found = self.repo.category(category)
        if found is None:
            raise InvalidInputError(f"no category {category!r}", "category")
        original = self._joined(joins, category) if joins is not None else None
        if original is None and len((description or "").strip()) < 3:
            raise InvalidInputError("describe the problem in a few words", "description")
        if original is not None and original.parcel_key and not parcel_key:
            parcel_key = original.parcel_key
        ward = self.repo.ward_at(lon, lat)
        if ward is None:
            raise InvalidInputError("the place is outside the district", "lat")
        if found.about_parcel and not parcel_key:
            raise InvalidInputError("construction without a permit is reported on a parcel: "
                                    "choose it on the map", "parcel_key")
        if parcel_key and not self.repo.parcel_exists(parcel_key):
            raise InvalidInputError(f"no parcel {parcel_key!r}", "parcel_key")
        values: dict[str, Any] = {
            "category": category, "description": (description or "").strip(),
            "parcel_key": parcel_key,
            "ward_code": ward, "department": found.department, "show_name": reporter.show_name,
            "reporter_name": (reporter.name or "").strip() or None,
            "geom": f"SRID=4326;POINT({lon} {lat})"}
        if original is not None:
            values.update(joined=True, duplicate_of=original.id)
        signed_in = principal.person_id is not None
        if signed_in:
            values["reporter_id"] = principal.person_id
        elif reporter.phone:
            values["reporter_phone"] = normalised_phone(reporter.phone)
        elif reporter.email and EMAIL.match(reporter.email.strip()):
            values["reporter_email"] = reporter.email.strip().lower()
        else:
            raise InvalidInputError("give a phone number or an e-mail address: the code that "
                                    "confirms the report goes there", "phone")
        made = create(self.repo.conn, FEEDBACK, "send", BY_CODE, values)
        if signed_in:
            self._confirm(made.row_id, found, made.row)
            return self.repo.get(made.row_id), False
        token = token or secrets.token_urlsafe(24)
        code = f"{secrets.randbelow(10**6):06d}"
        self.repo.conn.exec_driver_sql(
            "UPDATE feedback_report SET confirm_hash = %(h)s, confirm_expires_at = %(e)s, "
            "upload_token_hash = %(u)s WHERE id = %(i)s",
            {"h": self._code_hash(made.row_id, code), "i": made.row_id,
             "e": clock.now() + timedelta(minutes=CODE_MINUTES),
             "u": token_hash(token)})
        channel, to = (("sms", values["reporter_phone"]) if "reporter_phone" in values
                       else ("email", values["reporter_email"]))
        self.notifier.send(channel, to, f"Mã xác nhận phản ánh số {made.row_id}: {code} "
                                        f"(hiệu lực {CODE_MINUTES} phút)")
        return self.repo.get(made.row_id), True

    def _confirm(self, report_id: int, category: Any, row: Mapping[str, Any]) -> None:
        if row["joined"]:  # a voice: closed at once as the duplicate it names
            fire(self.repo.conn, FEEDBACK, report_id, "join", BY_CODE,
                 detail={"duplicate_of": row["duplicate_of"]},
                 values={"confirmed_at": NOW, "closed_at": NOW, "closing": "duplicate",
                         "confirm_hash": None, "updated_at": NOW})
            return
        due = self.clock.due(today(), category.response_days, "working", category.department)
        fire(self.repo.conn, FEEDBACK, report_id, "confirm", BY_CODE,
             values={"confirmed_at": NOW, "due_on": due, "confirm_hash": None,
                     "updated_at": NOW})
        if category.code == FLOOD_CATEGORY:
            self._flooded(report_id, row)

    def _flooded(self, report_id: int, row: Mapping[str, Any]) -> None:
        """A flood report joins the day's flood event it lies near, or opens one."""
        conn, day = self.repo.conn, today()
        # One grouping at a time per day: two reports of one street make one event.
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('feedback-flood'), "
                             "%(d)s)", {"d": day.toordinal()})
        lon, lat = self.repo.conn.exec_driver_sql(
            "SELECT ST_X(geom), ST_Y(geom) FROM feedback_report WHERE id = %(i)s",
            {"i": report_id}).one()
        near = self.repo.flood_near(lon, lat, day, FLOOD_METRES)
        if near is None:
            flood_id = create(conn, FLOOD, "open", SYSTEM, {
                "day": day, "geom": f"SRID=4326;POINT({lon} {lat})",
                "ward_code": row["ward_code"]}).row_id
        else:
            flood_id = int(near.id)
            fire(conn, FLOOD, flood_id, "grow", SYSTEM, detail={"report_id": report_id},
                 values={"geom": self.repo.flood_grown(flood_id, lon, lat),
                         "updated_at": NOW})
        self.repo.set_flood(report_id, flood_id)

    def confirm(self, report_id: int, code: str) -> Any:
        """The one-time code given back: the report is received, and public."""
        row = self.repo.get(report_id, lock=True)
        if row is None or row.status != ReportStatus.UNCONFIRMED or row.confirm_hash is None:
            raise NotFoundError("no report waits for this code", "code")
        if row.confirm_expires_at < clock.now():
            raise InvalidInputError("the code has expired: send the report again", "code")
        if not hmac.compare_digest(self._code_hash(report_id, code.strip()), row.confirm_hash):
            raise InvalidInputError("the code is not the one sent", "code")
        self._confirm(report_id, self.repo.category(row.category), row._mapping)
        return self.repo.get(report_id)

    def _actor(self, principal: Principal, row: Any, token: str | None) -> Actor:
        """The caller as the engine asks about them; an anonymous reporter is known by the
        token their report's answer gave (only the reporter's moves)."""
        if principal.person_id is None and token is not None and row.upload_token_hash \
                and hmac.compare_digest(token_hash(token), row.upload_token_hash):
            return Actor(None, authorize=_follower_only)
        return workflow_actor(principal, _subject)

    def act(self, principal: Principal, report_id: int, action: str,
            if_match: str | None, note: str | None, facts: dict[str, Any],
            token: str | None = None) -> Any:
        """One move of the table, through the engine: the department's (assign, start, ask,
        answer, close, hide, show) and the reporter's (reply, reopen, rate)."""
        row = self.repo.get(report_id)
        if row is None or row.status in (ReportStatus.UNCONFIRMED, ReportStatus.EXPIRED):
            raise NotFoundError("no such report", "report_id")
        values: dict[str, Any] = {"updated_at": NOW}
        if action == "assign" and facts.get("assignee_id") is not None:
            values["assignee_id"] = self._assignee(row, int(facts["assignee_id"]))
        elif action == "rate":
            values["rating"] = facts.get("rating")
        elif action == "hide":
            values["hidden_reason"] = (note or "").strip() or None
            facts["reason"] = note
        elif action == "show":
            values["hidden_reason"] = None
        elif action == "close":
            values.update(closed_at=NOW, closing=facts.get("closing"),
                          referred_to=facts.get("referred_to"),
                          duplicate_of=facts.get("duplicate_of"))
            if facts.get("duplicate_of") is not None:
                original = self.repo.public(int(facts["duplicate_of"]))
                if original is None or original.id == report_id:
                    raise InvalidInputError("no other report has this number", "duplicate_of")
        elif action == "reopen":
            values.update(closed_at=None, closing=None, referred_to=None, duplicate_of=None)
        actor = self._actor(principal, row, token)
        fire(self.repo.conn, FEEDBACK, report_id, action, actor,
             if_match=if_match, note=note,
             detail={k: v for k, v in facts.items() if v not in (None, "")}, values=values)
        if action in ("hide", "show"):  # moderation is audited beside its staff event
            audit(self.repo.conn, f"feedback.{action}", principal.person_id,
                  report_id=report_id)
        return self.repo.get(report_id)

    def _assignee(self, row: Any, person_id: int) -> int:
        """An officer or leader of the report's department."""
        if not serves(self.repo.conn, person_id, row.department):
            raise InvalidInputError(f"person {person_id} is not an officer of "
                                    f"{row.department}", "assignee_id")
        return person_id

    def staff(self, principal: Principal, report_id: int) -> dict[str, Any]:
        """Everything the department sees of a report: its reporter, every move, its voices,
        and for construction without a permit the parcel's dossiers and what may be built."""
        row = self.repo.get(report_id)
        if row is None or row.status == ReportStatus.UNCONFIRMED:
            raise NotFoundError("no such report", "report_id")
        workflow_actor(principal, _subject).authorize(HANDLE, row._mapping)  # type: ignore[misc]
        public = self.repo.public(report_id) if row.status != ReportStatus.EXPIRED else None
        buildable = None
        if row.parcel_key:
            try:
                buildable = buildable_by_key(self.repo.conn, row.parcel_key)
            except NotFoundError:
                buildable = None
        return {
            "report": public, "row": row, "events": self.repo.staff_events(report_id),
            "voices": self.repo.voices(report_id),
            "parcel_dossiers": self.repo.parcel_dossiers(row.parcel_key)
            if row.parcel_key else [],
            "buildable": buildable}

    def close_flood(self, principal: Principal, flood_id: int, if_match: str | None,
                    note: str | None) -> Any:
        """The water is gone: the event closes and everyone who reported it hears so."""
        flood = self.repo.flood(flood_id)
        if flood is None:
            raise NotFoundError("no such flood event", "flood_id")
        def subject(row: Mapping[str, Any]) -> Subject:
            return Subject(owner_id=None, department="urban-management",
                           ward=row.get("ward_code"))
        fire(self.repo.conn, FLOOD, flood_id, "close", workflow_actor(principal, subject),
             if_match=if_match, note=note, values={"closed_at": NOW, "updated_at": NOW})
        return self.repo.flood(flood_id)

    def expire_unconfirmed(self, limit: int = 500) -> int:
        """Reports whose code was never given back in time expire (never public). Returns how
        many."""
        ids = [int(r[0]) for r in self.repo.conn.exec_driver_sql(
            "SELECT id FROM feedback_report WHERE status = 'unconfirmed' "
            "AND confirm_expires_at < now() ORDER BY id LIMIT %(n)s", {"n": limit})]
        for report_id in ids:
            fire(self.repo.conn, FEEDBACK, report_id, "expire", SYSTEM,
                 values={"confirm_hash": None, "updated_at": NOW})
        return len(ids)

    def remove_old_contacts(self, limit: int = 500) -> int:
        """A year after closing (or expiring), the reporter's name, phone, e-mail and account
        link leave the report; its events say so. Returns how many."""
        ids = self.repo.contacts_to_remove(CONTACT_KEPT_DAYS, limit)
        for report_id in ids:
            fire(self.repo.conn, FEEDBACK, report_id, "remove_contact", SYSTEM,
                 note="Thông tin liên hệ của người phản ánh đã được xoá sau một năm",
                 values={"reporter_name": None, "reporter_phone": None,
                         "reporter_email": None, "reporter_id": None, "show_name": False,
                         "upload_token_hash": None, "contact_removed_at": NOW})
        return len(ids)

    def public(self, report_id: int, principal: Principal | None = None,
               token: str | None = None) -> tuple[Any, list[Any]]:
        """What anyone sees of a report, and its public moves; its reporter (signed in, or
        holding its token) sees too the officer's questions and their own replies."""
        row = self.repo.public(report_id)
        if row is None:
            raise NotFoundError("no such report", "report_id")
        return row, self.repo.public_events(report_id, self.is_reporter(report_id, principal,
                                                                        token))

    def is_reporter(self, report_id: int, principal: Principal | None,
                    token: str | None) -> bool:
        """Whether the caller sent the report (their account, or its token)."""
        if principal is None and token is None:
            return False
        row = self.repo.get(report_id)
        if row is None:
            return False
        if principal is not None and principal.person_id is not None:
            return bool(row.reporter_id == principal.person_id)
        return token is not None and row.upload_token_hash is not None \
            and hmac.compare_digest(token_hash(token), row.upload_token_hash)

    def receive_from_client(self, values: dict[str, Any], detail: Mapping[str, Any]) -> Any:
        """A report a trusted client sent (an Open311 application holding an administrator's
        key vouches for its reporter): received at once, routed and due as from an account."""
        made = create(self.repo.conn, FEEDBACK, "send", BY_CODE, values, detail=detail)
        self._confirm(made.row_id, self.repo.category(values["category"]), made.row)
        return self.repo.get(made.row_id)
