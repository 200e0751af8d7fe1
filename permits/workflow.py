"""The dossier's states and its one table of transitions (Circular 01/2018/TT-VPCP statuses)."""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import date, datetime, time, timedelta

from accounts.notify import tell_person
from core import clock
from core.errors import ConflictError
from core.notify import queue_message
from core.workflow import Context, Transition, Visibility, Workflow
from permits.documents.repository import missing_documents
from permits.forms import answers_incomplete
from permits.payments.workflow import refund_fees, unpaid_fee


class DossierStatus(enum.StrEnum):
    """Where a dossier stands."""

    DRAFT = "draft"
    AWAITING_RECEIPT = "awaiting_receipt"
    RECEIVED = "received"
    IN_PROCESSING = "in_processing"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    SUPPLEMENTED = "supplemented"
    APPROVED = "approved"
    REFUSED = "refused"
    OVERDUE = "overdue"
    RESULT_READY = "result_ready"
    RESULT_RETURNED = "result_returned"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"  # not received: the office declined it, with its reasons


S = DossierStatus
APPLY = "dossier.apply"
HANDLE = "dossier.handle"  # officers: receive, process, ask for a supplement, return
DECIDE = "dossier.decide"  # leaders: approve or refuse
# Before a decision the applicant may withdraw; while the clock runs the dossier can lapse.
UNDECIDED = (S.AWAITING_RECEIPT, S.RECEIVED, S.IN_PROCESSING, S.SUPPLEMENT_REQUESTED,
             S.SUPPLEMENTED, S.OVERDUE)
CLOCK_RUNS = (S.RECEIVED, S.IN_PROCESSING, S.SUPPLEMENTED)
# Where a dossier is still the office's work: it can be given to an officer.
ASSIGNABLE = (*UNDECIDED, S.APPROVED, S.RESULT_READY, S.REFUSED)
VIETNAM = clock.VIETNAM
# The forms of Circular 01/2018/TT-VPCP each move writes in its event's detail.
FORMS = {"receive": "01", "request_supplement": "02", "refuse": "03", "decline": "03",
         "apologise": "04"}
FORM_TITLES = {
    "01": "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
    "02": "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
    "03": "Phiếu từ chối tiếp nhận, giải quyết hồ sơ",
    "04": "Phiếu xin lỗi và hẹn lại ngày trả kết quả",
}


def today() -> date:
    """Today in Vietnam (a dossier's dates are the office's days), as the clock says."""
    return clock.today()


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


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


def _answers_complete(ctx: Context) -> str | None:
    found = ctx.conn.execute("SELECT form_schema FROM procedure WHERE id = %s",
                             (ctx.row["procedure_id"],)).fetchone()
    errors = answers_incomplete(found[0] if found else {}, ctx.row.get("answers") or {})
    if not errors:
        return None
    return "the form is not complete: " + "; ".join(
        f"{e.field}: {e.message_en}" for e in errors[:5])


def _documents_attached(ctx: Context) -> str | None:
    missing = missing_documents(ctx.conn, int(ctx.row["id"]))
    if not missing:
        return None
    return "attach " + "; ".join(f"{d['key']} ({d['vi']})" for d in missing)


def _fee_paid(ctx: Context) -> str | None:
    owed = unpaid_fee(ctx.conn, int(ctx.row["id"]), str(ctx.row["procedure_id"]))
    if owed is None:
        return None
    return (f"the fee ({owed:,} đ) is not paid: a fully online procedure's fee is paid "
            "online before the dossier is received").replace(",", ".")


def _refund_fee(ctx: Context) -> None:
    """A dossier that ends without a result gets its fee back (the gateway is asked by the
    payments' sweep, outside this transaction)."""
    refund_fees(ctx.conn, int(ctx.row["id"]), ctx.transition.action)


def _stamp_submission(ctx: Context) -> None:
    """The day of submission is the day the statutory time starts from (the first one)."""
    ctx.conn.execute("UPDATE dossier SET submitted_at = coalesce(submitted_at, "
                     "%s::timestamptz, now()) WHERE id = %s", (clock.pinned(), ctx.row["id"]))


def _supplement_named(ctx: Context) -> str | None:
    missing = ctx.detail.get("missing")
    if not isinstance(missing, list) or not [m for m in missing if str(m).strip()]:
        return "say what is missing (Form 02)"
    due = _day(ctx.detail.get("due_on"))
    if due is None or due <= today():
        return "give the day the supplement is due, after today"
    return None


def _supplement_answered(ctx: Context) -> str | None:
    if (ctx.note or "").strip() or ctx.detail.get("documents"):
        return None
    # Documents uploaded for this request (while it was owed) answer it too.
    found = ctx.conn.execute(
        "SELECT 1 FROM dossier_document WHERE dossier_id = %s AND removed_at IS NULL "
        "AND for_event_id = (SELECT max(id) FROM dossier_event WHERE dossier_id = %s "
        "AND action = 'request_supplement')", (ctx.row["id"], ctx.row["id"])).fetchone()
    return None if found else "answer with a note or the documents asked for"


def _reasons_given(ctx: Context) -> str | None:
    reasons = ctx.detail.get("reasons")
    if isinstance(reasons, list) and [r for r in reasons if str(r).strip()]:
        return None
    return "give the reasons (Form 03)"


def _new_date_given(ctx: Context) -> str | None:
    if not str(ctx.detail.get("reason") or "").strip():
        return "say why the dossier is late (Form 04)"
    due = _day(ctx.detail.get("new_due_on"))
    if due is None or due <= today():
        return "give the new return date, after today"
    return None


def _result_named(ctx: Context) -> str | None:
    return None if str(ctx.detail.get("result_no") or "").strip() else \
        "give the number of the result (the permit's or the certificate's)"


def _past_due(ctx: Context) -> str | None:
    due = ctx.row.get("due_on")
    return None if due is not None and due < today() else "the return date has not passed"


def _phone(ctx: Context) -> str | None:
    """The phone the applicant gave, else their account's."""
    applicant = ctx.row.get("applicant") or {}
    if applicant.get("phone"):
        return str(applicant["phone"])
    found = ctx.conn.execute("SELECT phone FROM person WHERE id = %s",
                             (ctx.row["owner_id"],)).fetchone()
    return str(found[0]) if found and found[0] else None


SAID = {
    "submit": "đã được nộp, chờ tiếp nhận",
    "withdraw": "đã được rút",
    "receive": "đã được tiếp nhận; ngày hẹn trả kết quả {due}",
    "decline": "không được tiếp nhận; xem lý do trên ứng dụng",
    "start": "đang được xử lý",
    "supplement": "đã được bổ sung, đang chờ xử lý tiếp",
    "resume": "đang được xử lý tiếp; ngày hẹn trả kết quả {due}",
    "approve": "đã được phê duyệt",
    "refuse": "không được giải quyết; xem lý do trên ứng dụng",
    "issue_result": "đã có kết quả",
    "return_result": "đã trả kết quả",
    "lapse": "đã quá hạn; cơ quan sẽ gửi thư xin lỗi và hẹn lại ngày trả",
    "apologise": "trễ hạn: cơ quan xin lỗi và hẹn trả kết quả ngày {due}",
}


def _when(d: object) -> str:
    return d.strftime("%d/%m/%Y") if isinstance(d, date) else ""


def _tell_the_applicant(ctx: Context) -> None:
    """The applicant hears of each public move (on the phone they gave, else their account's)."""
    phone = _phone(ctx)
    if phone:
        said = SAID[ctx.transition.action].format(due=_when(ctx.row.get("due_on")))
        queue_message(ctx.conn, "sms", phone, f"Hồ sơ {ctx.row['code']} {said}.")


def access_hash(code: str) -> bytes:
    """What is kept of a supplement's access code."""
    return hashlib.sha256(code.encode()).digest()


def _open_supplement_link(ctx: Context) -> None:
    """One access code for this request, good until answered or the day after it is due; the
    link goes in the applicant's message, only its hash in the table."""
    code = secrets.token_urlsafe(18)
    due = _day(ctx.detail["due_on"])
    assert due is not None  # the guard saw it
    ends = datetime.combine(due + timedelta(days=1), time(), VIETNAM)
    ctx.conn.execute("INSERT INTO dossier_access (dossier_id, event_id, code_hash, expires_at) "
                     "VALUES (%s, %s, %s, %s)",
                     (ctx.row["id"], ctx.event_id, access_hash(code), ends))
    phone = _phone(ctx)
    if phone:
        origin = str(ctx.carry.get("origin") or "")
        queue_message(ctx.conn, "sms", phone,
                      f"Hồ sơ {ctx.row['code']} cần bổ sung trước ngày {_when(due)}. "
                      f"Bổ sung tại {origin}/#/supplement/{code}")


def _record_result(ctx: Context) -> None:
    """The signed result, made before the move (its file in the store), recorded with it."""
    made = ctx.carry.get("result")
    if made is None:
        raise ConflictError("a result is issued only once it is made and signed", "result_no")
    ctx.conn.execute(
        "INSERT INTO dossier_result (dossier_id, event_id, result_no, sha256, size_bytes, "
        "signer) VALUES (%s, %s, %s, %s, %s, %s)",
        (ctx.row["id"], ctx.event_id, ctx.detail["result_no"], made.sha256, made.size,
         made.signer))


def _close_supplement_link(ctx: Context) -> None:
    """The request is answered: its code opens nothing any more."""
    ctx.conn.execute("UPDATE dossier_access SET used_at = now() "
                     "WHERE dossier_id = %s AND used_at IS NULL", (ctx.row["id"],))


def _tell_the_assignee(ctx: Context) -> None:
    """The officer given the dossier hears of it, with its return date."""
    assignee = ctx.row.get("assignee_id")
    if assignee is not None:
        due = f", hạn {_when(ctx.row.get('due_on'))}" if ctx.row.get("due_on") else ""
        note = f". {ctx.note}" if ctx.note else ""
        tell_person(ctx.conn, int(assignee), f"Hồ sơ {ctx.row['code']} được giao cho bạn"
                                             f"{due}{note}", f"#/dossiers/{ctx.row['id']}")


def _public(source: str | None, action: str, target: str, allowed_by: str | None,
            guards: tuple[str, ...] = (), effects: tuple[str, ...] = ("tell_the_applicant",)
            ) -> Transition:
    """A move the applicant hears of and anyone holding the code sees (dates, never notes)."""
    return Transition(source, action, target, allowed_by, guards, effects, Visibility.PUBLIC)


DOSSIER = Workflow(
    name="dossier",
    states=DossierStatus,
    table="dossier",
    events="dossier_event",
    event_key="dossier_id",
    transitions=(
        Transition(None, "create", S.DRAFT, "dossier.create", visibility=Visibility.APPLICANT),
        _public(S.DRAFT, "submit", S.AWAITING_RECEIPT, APPLY,
                guards=("applicant_named", "applicant_reachable", "parcel_exists",
                        "answers_complete", "documents_attached"),
                effects=("stamp_submission", "tell_the_applicant")),
        *(_public(s, "withdraw", S.WITHDRAWN, APPLY, effects=(
            "tell_the_applicant", "close_supplement_link", "refund_fee")) for s in UNDECIDED),
        # Form 01: received, with the return date (a fully online fee paid first); or
        # declined, with the reasons.
        _public(S.AWAITING_RECEIPT, "receive", S.RECEIVED, HANDLE, guards=("fee_paid",)),
        _public(S.AWAITING_RECEIPT, "decline", S.CANCELLED, HANDLE, guards=("reasons_given",),
                effects=("tell_the_applicant", "refund_fee")),
        _public(S.RECEIVED, "start", S.IN_PROCESSING, HANDLE),
        # Form 02: what is missing, by when; the clock stops until it is answered.
        _public(S.IN_PROCESSING, "request_supplement", S.SUPPLEMENT_REQUESTED, HANDLE,
                guards=("supplement_named",), effects=("open_supplement_link",)),
        _public(S.SUPPLEMENT_REQUESTED, "supplement", S.SUPPLEMENTED, APPLY,
                guards=("supplement_answered",),
                effects=("close_supplement_link", "tell_the_applicant")),
        _public(S.SUPPLEMENTED, "resume", S.IN_PROCESSING, HANDLE),
        _public(S.IN_PROCESSING, "approve", S.APPROVED, DECIDE),
        # Form 03: the reasons; also when the supplement never came.
        _public(S.IN_PROCESSING, "refuse", S.REFUSED, DECIDE, guards=("reasons_given",),
                effects=("tell_the_applicant", "refund_fee")),
        _public(S.SUPPLEMENT_REQUESTED, "refuse", S.REFUSED, DECIDE,
                guards=("reasons_given",),
                effects=("close_supplement_link", "tell_the_applicant", "refund_fee")),
        _public(S.APPROVED, "issue_result", S.RESULT_READY, HANDLE, guards=("result_named",),
                effects=("record_result", "tell_the_applicant")),
        _public(S.RESULT_READY, "return_result", S.RESULT_RETURNED, HANDLE),
        _public(S.REFUSED, "return_result", S.RESULT_RETURNED, HANDLE),
        # Past its return date a dossier stops until the office apologises with a new date
        # (Form 04); only the platform's daily sweep marks it.
        *(_public(s, "lapse", S.OVERDUE, None, guards=("past_due",)) for s in CLOCK_RUNS),
        _public(S.OVERDUE, "apologise", S.IN_PROCESSING, HANDLE, guards=("new_date_given",)),
        # A leader gives the dossier to one of their officers (again: a reassignment); the
        # officer hears of it; the applicant sees nothing of it.
        *(Transition(s, "assign", s, "office.assign", (), ("tell_the_assignee",),
                     Visibility.STAFF) for s in ASSIGNABLE),
    ),
    guards={"applicant_named": _applicant_named, "applicant_reachable": _applicant_reachable,
            "parcel_exists": _parcel_exists, "answers_complete": _answers_complete,
            "documents_attached": _documents_attached, "supplement_named": _supplement_named,
            "supplement_answered": _supplement_answered, "reasons_given": _reasons_given,
            "new_date_given": _new_date_given, "result_named": _result_named,
            "past_due": _past_due, "fee_paid": _fee_paid},
    effects={"stamp_submission": _stamp_submission, "tell_the_applicant": _tell_the_applicant,
             "open_supplement_link": _open_supplement_link,
             "close_supplement_link": _close_supplement_link, "refund_fee": _refund_fee,
             "record_result": _record_result, "tell_the_assignee": _tell_the_assignee},
)
