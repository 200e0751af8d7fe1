"""The facts a dossier's papers state, from its row, its procedure, its applicant and the event
that wrote the form; and the papers themselves, for whoever may read the dossier."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from accounts.policy import Principal
from core.errors import InvalidInputError, NotFoundError
from core.workflow import Visibility
from permits.papers.render import render
from permits.papers.repository import PaperRepository
from permits.papers.template import template
from permits.repository import DossierRepository
from permits.service import reached
from permits.workflow import FORM_TITLES, VIETNAM, today

CITY = "Thành phố Hồ Chí Minh"
BLANK = "……………………"  # a fact the dossier does not hold: a line to write on, as on paper
RESULT_TEMPLATES = {"household_business": "result-household-business",
                    "construction": "result-construction-permit",
                    "labour": "result-labour-rules"}
DAY_KINDS = {"working": "ngày làm việc", "calendar": "ngày"}
RECEIVING_DESK = "Bộ phận tiếp nhận và trả kết quả"


def status_url(origin: str, code: str) -> str:
    """The public status page of a dossier: its code only, never anything personal."""
    return f"{origin.rstrip('/')}/#/lookup/{code}"


def dmy(value: date | str | None) -> str:
    """A day as the papers write it, dd/mm/yyyy (a blank line when there is none)."""
    if value is None or value == "None":
        return BLANK
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return day.strftime("%d/%m/%Y")


def dated(day: date) -> dict[str, str]:
    """The header's "ngày … tháng … năm …": days below 10 and months 1 and 2 with a leading
    zero (Decree 30/2020/NĐ-CP), so that nobody can write a digit in front."""
    return {"day": f"{day.day:02d}", "month": f"{day.month:02d}" if day.month < 3
            else str(day.month), "year": str(day.year)}


def _local(at: datetime) -> datetime:
    return at.astimezone(VIETNAM)


def _number(value: Any, unit: str = "") -> str:
    """A measure as Vietnamese writes it: a decimal comma, thousands by dots."""
    if value is None or value == "":
        return BLANK
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number.is_integer():
        text = f"{int(number):,}".replace(",", ".")
    else:
        text = f"{number:,.2f}".rstrip("0").replace(",", " ").replace(".", ",").replace(
            " ", ".")
    return f"{text} {unit}".rstrip()


def _text(value: Any) -> str:
    return str(value).strip() if value not in (None, "") and str(value).strip() else BLANK


def _lines(value: Any) -> list[str]:
    return [str(v) for v in value if str(v).strip()] if isinstance(value, list) else []


class _Facts:
    """What every paper of one dossier says: the agency, the applicant, the procedure."""

    def __init__(self, repo: PaperRepository, row: Any) -> None:
        self.repo = repo
        self.row = row
        self.procedure = repo.procedure(row.procedure_id)
        self.ward = repo.ward_name(row.ward_code) or row.ward_code

    def common(self, on: date) -> dict[str, str | list[str]]:
        """The facts of the header and the applicant's block, on the paper's day."""
        applicant: Mapping[str, Any] = self.row.applicant or {}
        by_ward = self.procedure.level == "ward"
        facts: dict[str, str | list[str]] = {
            # The handling body is data on the procedure (ward or city; which department of
            # the city is not known yet).
            "agency": f"Ủy ban nhân dân phường {self.ward}" if by_ward
            else f"Ủy ban nhân dân {CITY}",
            "place": self.ward if by_ward else CITY,
            "code": self.row.code,
            "procedure_name": self.procedure.name_vi,
            "applicant_name": _text(applicant.get("full_name")),
            "applicant_phone": _text(applicant.get("phone")),
            "applicant_address": _text(applicant.get("address")),
            "location": f"Thửa đất {self.row.parcel_key}, phường {self.ward}, {CITY}",
            "issued_on": dmy(on),
            **dated(on),
        }
        return facts

    def form(self, form: str, event: Any) -> dict[str, str | list[str]]:
        """The facts of form 01-04 from the event that wrote it."""
        at = _local(event.at)
        detail: Mapping[str, Any] = event.detail or {}
        facts = self.common(at.date())
        facts["officer"] = _text(event.actor_name)
        if form == "01":
            kind = detail.get("day_kind") or self.procedure.day_kind
            days = detail.get("days") or self.procedure.statutory_days
            facts.update(
                received_on=dmy(detail.get("received_on") or at.date()),
                received_time=f"{at.hour:02d} giờ {at.minute:02d} phút",
                due_on=dmy(detail.get("due_on") or self.row.due_on),
                days=f"{days} {DAY_KINDS.get(str(kind), 'ngày')}",
                documents=self.repo.documents_submitted(self.row.id, event.at),
                result_at=(f"trực tuyến (tra cứu bằng mã hồ sơ) hoặc {RECEIVING_DESK.lower()}"
                           if self.procedure.online_level == "full"
                           else f"{RECEIVING_DESK}, {facts['agency']}"))
        elif form == "02":
            facts.update(requested_on=dmy(at.date()), missing=_lines(detail.get("missing")),
                         due_on=dmy(detail.get("due_on")), reason=_text(event.note))
        elif form == "03":
            declined = event.action == "decline"  # not received at all
            facts.update(reasons=_lines(detail.get("reasons")),
                         refused_stage="tiếp nhận" if declined else "giải quyết",
                         signer_title="NGƯỜI TIẾP NHẬN HỒ SƠ" if declined
                         else "NGƯỜI GIẢI QUYẾT HỒ SƠ")
        elif form == "04":
            received = self.row.received_at
            facts.update(received_on=dmy(_local(received).date() if received else None),
                         old_due_on=dmy(detail.get("old_due_on")),
                         new_due_on=dmy(detail.get("new_due_on") or self.row.due_on),
                         reason=_text(detail.get("reason")))
        return facts

    def result(self, result_no: str, on: date) -> tuple[str, dict[str, str | list[str]]]:
        """The result template's code and its facts, from the dossier's answers."""
        code = RESULT_TEMPLATES.get(self.procedure.field)
        if code is None:
            raise InvalidInputError(f"the procedure {self.procedure.id} has no result paper",
                                    "procedure_id")
        answers: Mapping[str, Any] = self.row.answers or {}
        facts = self.common(on)
        facts["result_no"] = result_no
        if code == "result-household-business":
            facts.update(business_name=_text(answers.get("business_name")),
                         business_lines=_text(answers.get("business_lines")),
                         capital=_number(answers.get("capital_vnd"), "đồng"))
        elif code == "result-labour-rules":
            facts.update(employer=_text(answers.get("employer")),
                         employees=_number(answers.get("employees")))
        else:
            facts.update(floors=_number(answers.get("floors")),
                         height=_number(answers.get("height_m"), "m"),
                         footprint=_number(answers.get("footprint_m2"), "m²"),
                         floor_area=_number(answers.get("floor_area_m2"), "m²"))
        return code, facts


def result_paper(conn: Connection, dossier_row: Any, status_url: str, *,
                 result_no: str | None = None, fonts_dir: Path | None = None) -> bytes:
    """The dossier's result (the household business certificate, the construction permit) as
    an unsigned PDF; its number is the one the issue_result move gave unless one is passed."""
    if dossier_row.code is None:
        raise NotFoundError("a draft has no result", "dossier_id")
    repo = PaperRepository(conn)
    on = today()
    if result_no is None:
        issued = repo.result_event(dossier_row.id)
        if issued is None or not str(issued.detail.get("result_no") or "").strip():
            raise NotFoundError("the dossier's result has no number yet (issue_result)",
                                "result_no")
        result_no, on = str(issued.detail["result_no"]), _local(issued.at).date()
    code, facts = _Facts(repo, dossier_row).result(result_no, on)
    return render(template(code), facts, status_url, fonts_dir=fonts_dir)


class PaperService:
    """The circular's forms of a dossier as PDFs, for whoever may read the dossier."""

    def __init__(self, repository: PaperRepository, dossiers: DossierRepository,
                 fonts_dir: Path | None = None) -> None:
        self.repo = repository
        self.dossiers = dossiers
        self.fonts_dir = fonts_dir

    def form(self, principal: Principal, dossier_id: int, form: str,
             origin: str) -> tuple[str, bytes]:
        """Form 01-04 as the latest move that wrote it left it: (the dossier's code, PDF)."""
        if form not in FORM_TITLES:
            raise InvalidInputError(f"no form {form!r}: 01, 02, 03 or 04", "form")
        row = reached(self.dossiers, principal, "dossier.read", dossier_id)
        seen = [Visibility.PUBLIC.value, Visibility.APPLICANT.value]
        if principal.is_staff:
            seen.append(Visibility.STAFF.value)
        event = self.repo.form_event(dossier_id, form, seen)
        if event is None or row.code is None:
            raise NotFoundError(f"the dossier has no form {form} ({FORM_TITLES[form]}) yet",
                                "form")
        facts = _Facts(self.repo, row).form(form, event)
        pdf = render(template(form), facts, status_url(origin, row.code),
                     fonts_dir=self.fonts_dir, created_at=event.at)
        return str(row.code), pdf
