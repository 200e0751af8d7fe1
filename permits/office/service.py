"""Rules of the officers' office: what is in an officer's queue and how urgent it is (in their
department's working days), the one next move of each item, and the leaders' assignments."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from accounts.policy import Principal, Reach, Subject, check, reach, workflow_actor
from accounts.repository import serves
from core.errors import InvalidInputError, NotFoundError
from core.workdays import WorkingCalendar
from core.workflow import NOW, Workflow, create, fire
from permits.calendar.repository import CalendarRepository
from permits.calendar.service import CalendarService
from permits.feedback.repository import FeedbackRepository
from permits.feedback.workflow import FEEDBACK
from permits.feedback.workflow import HANDLE as FEEDBACK_HANDLE
from permits.office.repository import OPEN, OfficeRepository
from permits.office.workflow import ASSIGN, TASK, WORK
from permits.workflow import DECIDE, DOSSIER, HANDLE, today

SOON_DAYS = 2  # "due within 2 working days"


class Urgency(enum.StrEnum):
    """How soon an item is due, in the order the queue shows them."""

    OVERDUE = "overdue"
    TODAY = "today"
    SOON = "soon"  # within SOON_DAYS working days
    LATER = "later"
    NONE = "none"  # no deadline yet (a dossier waiting to be received)


WORKFLOWS: Mapping[str, Workflow] = {"dossier": DOSSIER, "feedback": FEEDBACK, "task": TASK}
# The one next move of an item in a status, and the policy action it needs.
NEXT: Mapping[tuple[str, str], tuple[str, str]] = {
    ("dossier", "awaiting_receipt"): ("receive", HANDLE),
    ("dossier", "received"): ("start", HANDLE),
    ("dossier", "in_processing"): ("approve", DECIDE),
    ("dossier", "supplemented"): ("resume", HANDLE),
    ("dossier", "approved"): ("issue_result", HANDLE),
    ("dossier", "result_ready"): ("return_result", HANDLE),
    ("dossier", "refused"): ("return_result", HANDLE),
    ("dossier", "overdue"): ("apologise", HANDLE),
    ("feedback", "received"): ("start", FEEDBACK_HANDLE),
    ("feedback", "assigned"): ("start", FEEDBACK_HANDLE),
    ("feedback", "in_progress"): ("answer", FEEDBACK_HANDLE),
    ("feedback", "answered"): ("close", FEEDBACK_HANDLE),
    ("task", "open"): ("complete", WORK),
}


@dataclass(frozen=True)
class Item:
    """One row of the queue."""

    row: Any
    urgency: Urgency
    working_days_left: int | None  # negative when overdue
    next_action: str | None
    etag: str


class OfficeService:
    """The queue and the assignments of the district's officers."""

    def __init__(self, repository: OfficeRepository) -> None:
        self.repo = repository
        self.calendars = CalendarService(CalendarRepository(repository.conn))
        self._by_department: dict[str, WorkingCalendar] = {}

    def calendar(self, department: str | None) -> WorkingCalendar:
        """The department's working days around this year (its closures included)."""
        key = department or ""
        if key not in self._by_department:
            year = today().year
            self._by_department[key] = self.calendars.calendar(year - 1, year + 2,
                                                               department)
        return self._by_department[key]

    def queue_query(self, principal: Principal, limit: int) -> dict[str, Any]:
        """The parameters of the queue's SQL: whom the principal serves, today and the
        calendar's window, and who may make each item's next move (the policy's reach)."""
        check(principal, WORK)
        assert principal.person_id is not None
        day = today()
        year = day.year
        offs, ons = self.calendar(None).exceptions()
        served = reach(principal, WORK)
        pairs = [(d, w) for d, wards in served.department_wards for w in wards]
        reaches: dict[str, Reach] = {}
        moves = []
        for (kind, status), (move, action) in NEXT.items():
            # A move's subject has no owner and is not private: `may` is its reach.
            can = reaches.setdefault(action, reach(principal, action))
            moves.append({"kind": kind, "status": status, "next": move,
                          "everything": can.everything, "departments": list(can.departments),
                          "pairs": [f"{d}|{w}" for d, wards in can.department_wards
                                    for w in wards]})
        return {"me": principal.person_id, "depts": list(served.departments),
                "pd": [p[0] for p in pairs], "pw": [p[1] for p in pairs], "today": day,
                "soon": SOON_DAYS, "limit": limit, "first": date(year - 1, 1, 1),
                "last": date(year + 2, 12, 31), "offs": offs, "ons": ons,
                "moves": json.dumps(moves), **OPEN}

    def queue(self, principal: Principal, limit: int = 500) -> list[Item]:
        """The officer's open items: overdue first, then due today, within two working days,
        the rest, and those with no deadline yet; each with its one next move."""
        return [Item(r, Urgency(r.urgency), r.working_days_left, r.next_action, r.etag)
                for r in self.repo.queue(self.queue_query(principal, limit))]

    def queue_json(self, principal: Principal, limit: int = 500) -> str:
        """The same queue, as the JSON array of the API (written by the database)."""
        return self.repo.queue_json(self.queue_query(principal, limit))

    def _assignee(self, department: str, person_id: int) -> int:
        if not serves(self.repo.conn, person_id, department):
            raise InvalidInputError(f"person {person_id} is not an officer of {department}",
                                    "assignee_id")
        return person_id

    def assign(self, principal: Principal, kind: str, item_id: int, assignee_id: int,
               if_match: str | None, note: str | None) -> Any:
        """A leader gives a dossier, a report or a task to an officer of their department
        (again: a reassignment); an event of the item, and the officer hears of it."""
        workflow = WORKFLOWS[kind]
        row = self.repo.conn.exec_driver_sql(
            f"SELECT id, department, ward_code FROM {workflow.table} WHERE id = %(i)s",
            {"i": item_id}).first()
        if row is None:
            raise NotFoundError(f"no {kind} {item_id}", "id")
        check(principal, ASSIGN, Subject(department=row.department, ward=row.ward_code))
        values = {"assignee_id": self._assignee(row.department, assignee_id),
                  "updated_at": NOW}

        def subject(r: Mapping[str, Any]) -> Subject:
            return Subject(owner_id=None, department=r["department"], ward=r["ward_code"])
        return fire(self.repo.conn, workflow, item_id, "assign",
                    workflow_actor(principal, subject), if_match=if_match, note=note,
                    detail={"assignee_id": assignee_id}, values=values)

    def create_task(self, principal: Principal, title: str, description: str,
                    due_on: date, assignee_id: int | None, lon: float | None,
                    lat: float | None, note: str | None) -> Any:
        """A free task of the leader's department, for one of its officers or for all."""
        department = principal.department("leader")
        if department is None:
            check(principal, ASSIGN, Subject(department="-"))  # refused, as the policy says
        assert department is not None
        if due_on < today():
            raise InvalidInputError("the due date has passed", "due_on")
        values: dict[str, Any] = {"title": title.strip(), "description": description.strip(),
                                  "department": department, "due_on": due_on,
                                  "created_by": principal.person_id}
        if assignee_id is not None:
            values["assignee_id"] = self._assignee(department, assignee_id)
        if lon is not None and lat is not None:
            ward = FeedbackRepository(self.repo.conn).ward_at(lon, lat)
            if ward is None:
                raise InvalidInputError("the place is outside the district", "lat")
            values.update(geom=f"SRID=4326;POINT({lon} {lat})", ward_code=ward)
        def subject(r: Mapping[str, Any]) -> Subject:
            return Subject(owner_id=None, department=r["department"], ward=r.get("ward_code"))
        return create(self.repo.conn, TASK, "create", workflow_actor(principal, subject),
                      values, note=note)

    def reached(self, principal: Principal, task_id: int) -> Any:
        """The task, when the principal may work on it (else 404 or 403, as the policy says)."""
        row = self.repo.task(task_id)
        if row is None:
            raise NotFoundError(f"no task {task_id}", "task_id")
        check(principal, WORK, _task_subject(row._mapping))
        return row

    def act_on_task(self, principal: Principal, task_id: int, action: str,
                    if_match: str | None, note: str | None) -> Any:
        """Complete, cancel or reopen a task."""
        if self.repo.task(task_id) is None:
            raise NotFoundError(f"no task {task_id}", "task_id")
        values: dict[str, Any] = {"updated_at": NOW}
        if action == "complete":
            values["done_at"] = NOW
        elif action == "reopen":
            values["done_at"] = None
        return fire(self.repo.conn, TASK, task_id, action,
                    workflow_actor(principal, _task_subject), if_match=if_match, note=note,
                    values=values)


def _task_subject(row: Mapping[str, Any]) -> Subject:
    """A task's department and ward; its assignee counts as its owner."""
    return Subject(owner_id=row.get("assignee_id"), department=row["department"],
                   ward=row.get("ward_code"))
