"""A free task's states and its one table of transitions: a leader gives it to an officer of
their department (or the department), the officer completes it; every assignment an event."""

from __future__ import annotations

import enum

from accounts.notify import tell_person
from core.workflow import Context, Transition, Visibility, Workflow


class TaskStatus(enum.StrEnum):
    """Where a task stands."""

    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


T = TaskStatus
ASSIGN = "office.assign"  # leaders: give work to an officer of their department
WORK = "office.work"  # officers: the department's work in their wards, leaders: all of it


def _tell_the_assignee(ctx: Context) -> None:
    """The officer given the work hears of it."""
    assignee = ctx.row.get("assignee_id")
    if assignee is not None:
        note = f". {ctx.note}" if ctx.note else ""
        tell_person(ctx.conn, int(assignee),
                    f"Việc mới: {ctx.row['title']} (hạn {ctx.row['due_on']:%d/%m/%Y}){note}",
                    "#/office")


def _move(source: T | None, action: str, target: T, allowed_by: str | None,
          effects: tuple[str, ...] = ()) -> Transition:
    return Transition(source, action, target, allowed_by, (), effects, Visibility.STAFF)


TASK = Workflow(
    name="task",
    states=TaskStatus,
    table="office_task",
    events="office_task_event",
    event_key="task_id",
    transitions=(
        _move(None, "create", T.OPEN, ASSIGN, ("tell_the_assignee",)),
        # An officer takes on the deadline an incoming document sets, as their own task.
        _move(None, "take_on", T.OPEN, WORK),
        _move(T.OPEN, "assign", T.OPEN, ASSIGN, ("tell_the_assignee",)),
        _move(T.OPEN, "complete", T.DONE, WORK),
        _move(T.OPEN, "cancel", T.CANCELLED, ASSIGN),
        _move(T.DONE, "reopen", T.OPEN, ASSIGN),
    ),
    effects={"tell_the_assignee": _tell_the_assignee},
)
