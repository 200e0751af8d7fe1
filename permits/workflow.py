"""The dossier's states and its one table of transitions (Circular 01/2018/TT-VPCP statuses)."""

from __future__ import annotations

import enum

from core.notify import queue_message
from core.workflow import Context, Transition, Visibility, Workflow


class DossierStatus(enum.StrEnum):
    """Where a dossier stands."""

    DRAFT = "draft"
    AWAITING_RECEIPT = "awaiting_receipt"
    RECEIVED = "received"
    IN_PROCESSING = "in_processing"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    REFUSED = "refused"
    OVERDUE = "overdue"
    RESULT_READY = "result_ready"
    RESULT_RETURNED = "result_returned"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"


S = DossierStatus
APPLY = "dossier.apply"


def _applicant_named(ctx: Context) -> str | None:
    applicant = ctx.row.get("applicant") or {}
    return None if str(applicant.get("full_name") or "").strip() else \
        "the applicant's full name is missing"


def _applicant_reachable(ctx: Context) -> str | None:
    applicant = ctx.row.get("applicant") or {}
    if applicant.get("phone") or applicant.get("id_number"):
        return None
    return "give a phone number or a citizen ID number, so that the office can reach you"


def _parcel_exists(ctx: Context) -> str | None:
    found = ctx.conn.execute("SELECT 1 FROM parcel WHERE parcel_key = %s",
                             (ctx.row["parcel_key"],)).fetchone()
    return None if found else f"parcel {ctx.row['parcel_key']} is no longer on the map"


def _stamp_submission(ctx: Context) -> None:
    """The day of submission is the day the statutory time starts from (the first one)."""
    ctx.conn.execute("UPDATE dossier SET submitted_at = coalesce(submitted_at, now()) "
                     "WHERE id = %s", (ctx.row["id"],))


def _tell_the_applicant(ctx: Context) -> None:
    """The applicant hears of the move (on the phone they gave, else on their account's)."""
    applicant = ctx.row.get("applicant") or {}
    phone = applicant.get("phone")
    if not phone:
        found = ctx.conn.execute("SELECT phone FROM person WHERE id = %s",
                                 (ctx.row["owner_id"],)).fetchone()
        phone = found[0] if found else None
    if not phone:
        return
    said = {"submit": "đã được nộp, chờ tiếp nhận", "withdraw": "đã được rút"}
    queue_message(ctx.conn, "sms", str(phone),
                  f"Hồ sơ {ctx.row['code']} {said[ctx.transition.action]}.")


DOSSIER = Workflow(
    name="dossier",
    states=DossierStatus,
    table="dossier",
    events="dossier_event",
    event_key="dossier_id",
    transitions=(
        Transition(None, "create", S.DRAFT, "dossier.create", visibility=Visibility.APPLICANT),
        Transition(S.DRAFT, "submit", S.AWAITING_RECEIPT, APPLY,
                   guards=("applicant_named", "applicant_reachable", "parcel_exists"),
                   effects=("stamp_submission", "tell_the_applicant"),
                   visibility=Visibility.PUBLIC),
        Transition(S.AWAITING_RECEIPT, "withdraw", S.WITHDRAWN, APPLY,
                   effects=("tell_the_applicant",), visibility=Visibility.PUBLIC),
    ),
    guards={"applicant_named": _applicant_named, "applicant_reachable": _applicant_reachable,
            "parcel_exists": _parcel_exists},
    effects={"stamp_submission": _stamp_submission, "tell_the_applicant": _tell_the_applicant},
)
