"""A feedback report's states and its one table of transitions (the 1022 system's: received,
being handled, answered, closed; with the reporter's confirmation, the officer's question,
and a reopening when it was closed but not fixed)."""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Any

from psycopg import sql

from accounts.notify import tell_person
from core import clock
from core.notify import queue_message
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
SEEN = (*OPEN, R.CLOSED)  # the confirmed: what the public sees
REOPEN_DAYS = 30
# What the reporters hear of a public move (the report's number first).
TOLD = {
    "start": "đang được xử lý",
    "ask": "có câu hỏi của cán bộ: {note}. Trả lời trong ứng dụng",
    "answer": "đã có trả lời của {department}: {note}",
    "reopen": "đã được mở lại",
}
CLOSED_TOLD = {
    Closing.FIXED: "đã được khắc phục và đóng",
    Closing.NOT_COMPETENT: "không thuộc thẩm quyền của quận, đã chuyển đến {referred_to}",
    Closing.DUPLICATE: "trùng với phản ánh số {duplicate_of}: bạn sẽ nhận tin của phản ánh đó",
    Closing.CANNOT_FIX: "đã đóng, không thể khắc phục: {note}",
}
# Everyone who follows a report: its reporter, and those of the reports joined or merged into
# it, however deep (a merged report's own voices follow the original too). Contacts removed a
# year after closing are gone from here as well.
FOLLOWERS = """
WITH RECURSIVE tree(id) AS (
    SELECT id FROM feedback_report WHERE id = ANY(%(ids)s)
    UNION SELECT r.id FROM feedback_report r JOIN tree ON r.duplicate_of = tree.id
    WHERE r.status = 'closed')
SELECT DISTINCT coalesce(r.reporter_phone, p.phone) AS phone,
       coalesce(r.reporter_email, p.email) AS email
FROM tree JOIN feedback_report r ON r.id = tree.id LEFT JOIN person p ON p.id = r.reporter_id
WHERE r.contact_removed_at IS NULL AND (NOT %(own)s OR r.id = ANY(%(ids)s))
"""


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
    if closed is None or clock.now() - closed > timedelta(days=REOPEN_DAYS):
        return f"a report can be reopened within {REOPEN_DAYS} days of its closing"
    return None


def _rating_given(ctx: Context) -> str | None:
    rating = ctx.detail.get("rating")
    ok = isinstance(rating, int) and not isinstance(rating, bool) and 1 <= rating <= 5
    return None if ok else "give a rating from 1 to 5"


def tell(conn: Any, report_ids: list[int], text: str, *, own_only: bool = False) -> None:
    """One message to each follower of the reports (by SMS, else e-mail), in the move's
    transaction: through the outbox, once per contact."""
    with conn.cursor() as cur:
        cur.execute(sql.SQL(FOLLOWERS), {"ids": report_ids, "own": own_only})
        contacts = cur.fetchall()
    for phone, email in contacts:
        if phone:
            queue_message(conn, "sms", phone, text)
        elif email:
            queue_message(conn, "email", email, text)


def _tell_the_reporters(ctx: Context) -> None:
    """The reporters hear of each public move: the one asked a question, all who follow it
    of the rest (the voices and merged duplicates too)."""
    row, action = ctx.row, ctx.transition.action
    closing = str(row.get("closing") or ctx.detail.get("closing"))
    said = (CLOSED_TOLD[Closing(closing)] if action == "close"
            else TOLD[action]).format(note=ctx.note or "", department=row["department"],
                                      referred_to=row.get("referred_to") or "",
                                      duplicate_of=row.get("duplicate_of") or "")
    tell(ctx.conn, [int(row["id"])], f"Phản ánh số {row['id']} {said}.",
         own_only=action == "ask")


def _tell_the_assignee(ctx: Context) -> None:
    """The officer given the report hears of it, with its deadline."""
    assignee = ctx.row.get("assignee_id")
    if assignee is not None:
        due = ctx.row.get("due_on")
        when = f" (hạn {due:%d/%m/%Y})" if due else ""
        tell_person(ctx.conn, int(assignee),
                    f"Phản ánh số {ctx.row['id']} được giao cho bạn{when}",
                    f"#/feedback/{ctx.row['id']}")


def _move(source: R | None, action: str, target: R, allowed_by: str | None,
          guards: tuple[str, ...] = (), visibility: Visibility = Visibility.PUBLIC
          ) -> Transition:
    told = ("tell_the_reporters",) if action in (*TOLD, "close") else ()
    return Transition(source, action, target, allowed_by, guards, told, visibility)


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
        # A "me too": its reporter's voice on the report it names, closed as its duplicate
        # once confirmed; its reporter hears what the original's reporters hear.
        _move(R.UNCONFIRMED, "join", R.CLOSED, REPORT, visibility=Visibility.STAFF),
        # Given to an officer (again: reassigned), who hears of it; begun work stays begun.
        *(Transition(s, "assign", R.ASSIGNED, HANDLE, (), ("tell_the_assignee",),
                     Visibility.STAFF) for s in (R.RECEIVED, R.ASSIGNED)),
        *(Transition(s, "assign", s, HANDLE, (), ("tell_the_assignee",), Visibility.STAFF)
          for s in (R.IN_PROGRESS, R.QUESTION, R.ANSWERED)),
        *(_move(s, "start", R.IN_PROGRESS, HANDLE) for s in (R.RECEIVED, R.ASSIGNED)),
        _move(R.IN_PROGRESS, "ask", R.QUESTION, HANDLE, ("question_given",),
              Visibility.APPLICANT),
        _move(R.QUESTION, "reply", R.IN_PROGRESS, FOLLOW, ("reply_given",),
              Visibility.APPLICANT),
        *(_move(s, "answer", R.ANSWERED, HANDLE, ("answer_given",))
          for s in (R.IN_PROGRESS, R.QUESTION)),
        *(_move(s, "close", R.CLOSED, HANDLE, ("closing_given",)) for s in OPEN),
        _move(R.CLOSED, "reopen", R.IN_PROGRESS, FOLLOW, ("reopen_reason", "reopen_window")),
        # The reporter's rating of the closing (an unhappy one is asked whether to reopen).
        _move(R.CLOSED, "rate", R.CLOSED, FOLLOW, ("rating_given",), Visibility.APPLICANT),
        # Moderation: a description hidden from the public (abuse, someone's personal data)
        # with its reason, and shown again; the staff event is the audit.
        *(_move(s, "hide", s, HANDLE, ("hide_reason",), Visibility.STAFF) for s in SEEN),
        *(_move(s, "show", s, HANDLE, (), Visibility.STAFF) for s in SEEN),
        # The department's internal note: for its officers alone, never the reporter's.
        *(_move(s, "note", s, HANDLE, ("note_given",), Visibility.INTERNAL) for s in SEEN),
        # A year after closing (or expiring unconfirmed), the reporter's contact is removed
        # (a job on the queue).
        *(_move(s, "remove_contact", s, None, visibility=Visibility.STAFF)
          for s in (R.CLOSED, R.EXPIRED)),
    ),
    guards={"question_given": _said("question", "write the question to the reporter"),
            "reply_given": _said("reply", "write your answer to the officer's question"),
            "answer_given": _said("answer", "write the department's answer"),
            "closing_given": _closing_given,
            "reopen_reason": _said("reason", "say why it is not fixed"),
            "reopen_window": _within_reopen_window,
            "rating_given": _rating_given,
            "hide_reason": _said("reason", "say why the description is hidden"),
            "note_given": _said("note", "write the note")},
    effects={"tell_the_reporters": _tell_the_reporters,
             "tell_the_assignee": _tell_the_assignee},
)


class FloodStatus(enum.StrEnum):
    """Where a flood event stands: one day's flood reports in one flooded area."""

    OPEN = "open"
    CLOSED = "closed"  # the water is gone: everyone who reported it hears so


def _tell_the_flooded(ctx: Context) -> None:
    """Closing a flood event tells everyone who reported it (and their voices)."""
    with ctx.conn.cursor() as cur:
        cur.execute("SELECT id FROM feedback_report WHERE flood_id = %s", (ctx.row["id"],))
        ids = [int(r[0]) for r in cur.fetchall()]
    note = f": {ctx.note}" if ctx.note else ""
    tell(ctx.conn, ids, f"Điểm ngập ngày {ctx.row['day']:%d/%m/%Y} mà bạn phản ánh đã "
                        f"hết ngập{note}.")


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
        Transition(FloodStatus.OPEN, "close", FloodStatus.CLOSED, HANDLE, (),
                   ("tell_the_flooded",), Visibility.PUBLIC),
    ),
    effects={"tell_the_flooded": _tell_the_flooded},
)
