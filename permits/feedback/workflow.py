"""A feedback report's states and its one table of transitions (the 1022 system's: received,
being handled, answered, closed; with the reporter's confirmation, the officer's question,
and a reopening when it was closed but not fixed)."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta

from core.workflow import Context, Guard, Transition, Visibility, Workflow


class ReportStatus(enum.StrEnum):
    """Where a report stands."""

    UNCONFIRMED = "unconfirmed"  # sent, its one-time code not yet given back: not public
    EXPIRED = "expired"  # never confirmed
    RECEIVED = "received"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    QUESTION = "question"  # the officer asked the reporter something
    ANSWERED = "answered"  # the department answered publicly
    CLOSED = "closed"  # with its reason: fixed, not ours (referred), duplicate, cannot be fixed


class Closing(enum.StrEnum):
    """Why a report was closed: more honest than "fixed" for every one."""

    FIXED = "fixed"
    NOT_COMPETENT = "not_competent"
    DUPLICATE = "duplicate"
    CANNOT_FIX = "cannot_fix"


R = ReportStatus
REPORT = "feedback.report"  # anyone: send a report, confirm it with its code
FOLLOW = "feedback.follow"  # its reporter: answer a question, reopen
HANDLE = "feedback.handle"  # the department's officers
OPEN = (R.RECEIVED, R.ASSIGNED, R.IN_PROGRESS, R.QUESTION, R.ANSWERED)
REOPEN_DAYS = 30


def _said(key: str, why: str) -> Guard:
    def guard(ctx: Context) -> str | None:
        return None if str(ctx.detail.get(key) or ctx.note or "").strip() else why
    return guard


def _closing_given(ctx: Context) -> str | None:
    closing = ctx.detail.get("closing")
    if closing not in {c.value for c in Closing}:
        return "say why it is closed: fixed, not_competent, duplicate or cannot_fix"
    if closing == Closing.NOT_COMPETENT and not str(ctx.detail.get("referred_to") or "").strip():
        return "name the body it is referred to (not the district's competence)"
    if closing == Closing.DUPLICATE and not ctx.detail.get("duplicate_of"):
        return "name the report it duplicates"
    if closing == Closing.CANNOT_FIX and not (ctx.note or "").strip():
        return "say why it cannot be fixed"
    return None


def _within_reopen_window(ctx: Context) -> str | None:
    closed = ctx.row.get("closed_at")
    if ctx.row.get("closing") == Closing.DUPLICATE:
        return "a duplicate is followed on the report it duplicates"
    if closed is None or datetime.now(UTC) - closed > timedelta(days=REOPEN_DAYS):
        return f"a report can be reopened within {REOPEN_DAYS} days of its closing"
    return None


def _move(source: R | None, action: str, target: R, allowed_by: str | None,
          guards: tuple[str, ...] = (), visibility: Visibility = Visibility.PUBLIC
          ) -> Transition:
    return Transition(source, action, target, allowed_by, guards, (), visibility)


FEEDBACK = Workflow(
    name="feedback",
    states=ReportStatus,
    table="feedback_report",
    events="feedback_event",
    event_key="report_id",
    transitions=(
        _move(None, "send", R.UNCONFIRMED, REPORT, visibility=Visibility.STAFF),
        # The code given back (or the reporter signed in): public from now on.
        _move(R.UNCONFIRMED, "confirm", R.RECEIVED, REPORT),
        _move(R.UNCONFIRMED, "expire", R.EXPIRED, None, visibility=Visibility.STAFF),
        *(_move(s, "assign", R.ASSIGNED, HANDLE, visibility=Visibility.STAFF)
          for s in (R.RECEIVED, R.ASSIGNED)),
        *(_move(s, "start", R.IN_PROGRESS, HANDLE) for s in (R.RECEIVED, R.ASSIGNED)),
        _move(R.IN_PROGRESS, "ask", R.QUESTION, HANDLE, ("question_given",),
              Visibility.APPLICANT),
        _move(R.QUESTION, "reply", R.IN_PROGRESS, FOLLOW, ("reply_given",),
              Visibility.APPLICANT),
        *(_move(s, "answer", R.ANSWERED, HANDLE, ("answer_given",))
          for s in (R.IN_PROGRESS, R.QUESTION)),
        *(_move(s, "close", R.CLOSED, HANDLE, ("closing_given",)) for s in OPEN),
        _move(R.CLOSED, "reopen", R.IN_PROGRESS, FOLLOW, ("reopen_reason", "reopen_window")),
    ),
    guards={"question_given": _said("question", "write the question to the reporter"),
            "reply_given": _said("reply", "write your answer to the officer's question"),
            "answer_given": _said("answer", "write the department's answer"),
            "closing_given": _closing_given,
            "reopen_reason": _said("reason", "say why it is not fixed"),
            "reopen_window": _within_reopen_window},
)


class FloodStatus(enum.StrEnum):
    """Where a flood event stands: one day's flood reports in one flooded area."""

    OPEN = "open"
    CLOSED = "closed"  # the water is gone: everyone who reported it hears so


FLOOD = Workflow(
    name="flood",
    states=FloodStatus,
    table="feedback_flood",
    events="feedback_flood_event",
    event_key="flood_id",
    transitions=(
        # The platform groups a day's flood reports; the department closes the event.
        Transition(None, "open", FloodStatus.OPEN, None, (), (), Visibility.PUBLIC),
        Transition(FloodStatus.OPEN, "grow", FloodStatus.OPEN, None, (), (), Visibility.STAFF),
        Transition(FloodStatus.OPEN, "close", FloodStatus.CLOSED, HANDLE, (), (),
                   Visibility.PUBLIC),
    ),
)
