"""The leader's forecast: each open item's chance of running late, from the working days it
has left, its officer's queue ahead of it and pace (items they brought to an end in the last
20 working days, from the events) and their leave; and the reassignments that would lower it,
which the leader accepts (an assignment) or not.

The model is deliberately plain, so a leader can follow it: an officer needs (items ahead of
this one + 1) / pace working days to reach it; the slack is the working days left less those
and less their leave before the deadline; the chance is 1 / (1 + e^slack)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from accounts.policy import Principal, Subject, check
from permits.office.repository import OfficeRepository
from permits.office.service import OfficeService, Urgency
from permits.office.workflow import ASSIGN
from permits.workflow import today

PACE_DAYS = 20  # working days the pace is measured over
MIN_PACE = 0.25  # items a working day: a new officer is not assumed idle
WORTH = 0.2  # a reassignment is suggested when it lowers the chance by this much


def chance(slack: float) -> float:
    """The chance of running late with `slack` working days to spare."""
    return 1 / (1 + math.exp(max(-30.0, min(30.0, slack))))


@dataclass(frozen=True)
class Officer:
    """An officer of the department: their load, pace and leave."""

    person_id: int
    name: str
    open: int
    pace: float  # items brought to an end a working day
    leave: frozenset[date]


@dataclass(frozen=True)
class Risk:
    """One open item's forecast."""

    item: Any  # the queue's Item
    chance: float


@dataclass(frozen=True)
class Suggestion:
    """Give `item` to `to`: its chance falls from `now` to `after`."""

    item: Any
    to: int
    now: float
    after: float


class Forecast:
    """The department's open items, their risk, and better hands for the riskiest."""

    def __init__(self, repository: OfficeRepository) -> None:
        self.repo = repository
        self.office = OfficeService(repository)

    def _slack(self, item: Any, ahead: int, officer: Officer, day: date) -> float:
        left = item.working_days_left
        if left is None:
            return 0.0
        due = item.row.due_on
        cal = self.office.calendar(item.row.department)
        away = sum(1 for d in officer.leave if day < d <= due and cal.is_working_day(d))
        return float(left) - away - (ahead + 1) / officer.pace

    def run(self, principal: Principal) -> tuple[list[Officer], list[Risk], list[Suggestion]]:
        """The leader's department: officers, each open item's chance, suggestions."""
        department = principal.department("leader")
        check(principal, ASSIGN, Subject(department=department or "-"))
        assert department is not None
        day = today()
        items = [i for i in self.office.queue(principal, 5000)
                 if i.row.department == department]
        staff = self.repo.officers(department)
        people = [int(r.person_id) for r in staff]
        cal = self.office.calendar(department)
        since = day
        for _ in range(PACE_DAYS):
            since -= timedelta(days=1)
            while not cal.is_working_day(since):
                since -= timedelta(days=1)
        handled = self.repo.handled_since(people, since)
        leave = self.repo.leave_days(people, day, day + timedelta(days=120))
        load: dict[int, list[Any]] = {p: [] for p in people}
        for item in items:
            if item.row.assignee_id in load:
                load[item.row.assignee_id].append(item)
        officers = {int(r.person_id): Officer(
            int(r.person_id), r.display_name, len(load[int(r.person_id)]),
            max(MIN_PACE, handled.get(int(r.person_id), 0) / PACE_DAYS),
            frozenset(leave.get(int(r.person_id), ()))) for r in staff}
        risks: list[Risk] = []
        for item in items:
            if item.urgency is Urgency.OVERDUE:
                risks.append(Risk(item, 1.0))
                continue
            mine = load.get(item.row.assignee_id)
            if mine is None:  # the department's, nobody's yet: the time left alone
                slack = float(item.working_days_left or 0) - 1
            else:
                slack = self._slack(item, mine.index(item), officers[item.row.assignee_id],
                                    day)
            risks.append(Risk(item, chance(slack)))
        suggestions, planned = [], dict(officers)  # loads as the suggestions would leave them
        for risk in sorted(risks, key=lambda r: -r.chance):
            if risk.chance < 0.5 or risk.item.urgency is Urgency.OVERDUE \
                    or risk.item.working_days_left is None:
                continue
            best = min(
                (o for o in planned.values() if o.person_id != risk.item.row.assignee_id
                 and day not in o.leave),
                key=lambda o: chance(self._slack(risk.item, o.open, o, day)), default=None)
            if best is None:
                continue
            after = chance(self._slack(risk.item, best.open, best, day))
            if risk.chance - after >= WORTH:
                suggestions.append(Suggestion(risk.item, best.person_id, risk.chance, after))
                planned[best.person_id] = Officer(best.person_id, best.name, best.open + 1,
                                                  best.pace, best.leave)
        return list(officers.values()), risks, suggestions
