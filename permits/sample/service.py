"""The sample's half year of the district's work, lived through the services.

The second half of 2025, the first of the new wards. Residents sign up, apply, attach their
documents, pay and answer supplements; a leader gives each dossier to an officer, who receives
and handles it; the leader decides; the platform's daily sweep marks what ran past its return
date, and the office apologises with a new date (Form 04). Residents report problems, which
officers answer. Every move goes through the same services as the API, on its own day and hour
(the clock pinned), so the statistics of the half year, computed from the events, show the
district proposal's table: household business 1538/1618, labour 557/562, construction 33/1169.
"""

from __future__ import annotations

import heapq
import io
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

from fpdf import FPDF
from sqlalchemy import Connection

from accounts.policy import Principal
from accounts.repository import grants
from accounts.service import AccountService, GrantSpec
from core import clock
from core.notify import OutboxNotifier
from core.settings import Settings
from core.workflow import Fired
from permits.clock import Clock
from permits.documents.repository import DocumentRepository
from permits.documents.scan import scanner_for
from permits.documents.service import DocumentService
from permits.documents.storage import FileStore
from permits.feedback.repository import FeedbackRepository
from permits.feedback.service import FeedbackService, Reporter
from permits.feedback.workflow import FEEDBACK
from permits.office.repository import OfficeRepository
from permits.office.service import OfficeService
from permits.payments.providers import SandboxProvider, sandbox_secret
from permits.payments.repository import PaymentRepository
from permits.payments.service import PaymentService
from permits.repository import DossierRepository
from permits.results.service import LazyResultMaker
from permits.sample.repository import SampleRepository
from permits.service import DossierService
from permits.workflow import DOSSIER

PERIOD = "2025-H2"
FIRST, LAST = date(2025, 7, 1), date(2025, 12, 31)
MARKER = "mau.quan7.invalid"  # the e-mail domain of the sample's accounts: loaded once
DEPARTMENTS = ("economy", "home-affairs", "urban-management", "natural-resources-environment")
OFFICERS = 3  # per department
HOUSEHOLDS = 120
SUPPLEMENTS, REFUSALS = 0.10, 0.04  # shares of dossiers
REPORTS, REPORTS_ON_TIME = 45, 41
SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng")
MIDDLE = ("Văn", "Thị", "Minh", "Ngọc", "Hữu", "Thanh", "Quốc", "Thu")
GIVEN = ("An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Khoa", "Lan", "Mai", "Nam", "Phúc",
         "Quân", "Sơn", "Tâm", "Uyên", "Vy")
PROBLEMS = {"roads": "Mặt đường có ổ gà lớn", "manholes": "Nắp hố ga bị vỡ",
            "street-lighting": "Đèn đường không sáng", "drainage-flooding": "Cống nghẹt",
            "trees": "Cây xanh nghiêng", "urban-order": "Lấn chiếm vỉa hè",
            "noise": "Tiếng ồn ban đêm", "water": "Mất nước", "electricity": "Mất điện",
            "telecoms": "Cáp treo lòng thòng", "buses": "Trạm xe buýt hư",
            "administration": "Chờ lâu tại bộ phận một cửa"}


@dataclass(frozen=True)
class Share:
    """One procedure's half year: dossiers decided in it, and of them on time."""

    procedure: str
    decided: int
    on_time: int
    late_days: int  # at most this many working days past the return date


SHARES = (Share("household-business-registration", 1618, 1538, 5),
          Share("labour-rules-registration", 562, 557, 3),
          Share("construction-permit-house", 1169, 33, 12))


@dataclass(frozen=True)
class Made:
    """What the half year holds."""

    dossiers: dict[str, int]
    reports: int
    moves: int


@dataclass
class _Office:
    """A department's leader and officers, as principals."""

    leader: Principal
    officers: list[Principal]


@dataclass(order=True)
class _Step:
    at: datetime
    order: int
    run: Callable[[], object] = field(compare=False)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), clock.VIETNAM)


def _name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _pdf(title: str) -> bytes:
    """A one-page PDF standing for a document (the same file each time: it is kept once)."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(0, 10, f"Tai lieu mau: {title}")
    return bytes(pdf.output())


class HalfYear:
    """Lives the half year through the services, in one transaction of `conn`."""

    def __init__(self, conn: Connection, settings: Settings, seed: int = 7,
                 shares: tuple[Share, ...] = SHARES, results: bool = True) -> None:
        self.conn = conn
        self.settings = settings
        self.rng = random.Random(seed)
        self.shares = shares
        # Without results (a test of the figures alone) approved dossiers stay approved.
        self.results = results
        self.numbers: dict[str, int] = {}
        self.origin = f"http://127.0.0.1:{settings.port}"
        self.repo = SampleRepository(conn)
        self.calendar = Clock(conn)
        self.dossiers = DossierService(DossierRepository(conn), settings.agency_code,
                                       results=LazyResultMaker(conn, settings))
        self.documents = DocumentService(DocumentRepository(conn), DossierRepository(conn),
                                         FileStore(settings.file_dir), scanner_for(settings),
                                         settings.document_max_mb * 1024**2)
        self.sandbox = SandboxProvider(sandbox_secret(settings))
        self.payments = PaymentService(PaymentRepository(conn), self.sandbox)
        self.feedback = FeedbackService(FeedbackRepository(conn), OutboxNotifier(conn),
                                        settings.server_key())
        self.office = OfficeService(OfficeRepository(conn))
        self.steps: list[_Step] = []
        self.moves = 0
        self.files = {key: _pdf(key) for key in ("application", "identity", "land_certificate",
                                                  "drawings", "rules", "authorisation")}

    def present(self) -> bool:
        """Whether the half year is loaded already."""
        return self.repo.present(MARKER)

    def live(self) -> Made:
        """Sign the people up, plan every dossier and report, then make the moves in the
        order of their moments, each with the clock pinned at it."""
        with clock.pinned_at(_at(FIRST, 7) - timedelta(days=30)):
            offices = {d: self._office(d) for d in DEPARTMENTS}
            households = [self._household(i) for i in range(HOUSEHOLDS)]
        counts = {s.procedure: self._plan_share(s, offices, households) for s in self.shares}
        self._plan_reports(offices, households)
        for day in self._days(FIRST, LAST + timedelta(days=1)):
            # The platform's daily sweep, before the office opens.
            self._step(_at(day, 6), self.dossiers.mark_overdue)
        heapq.heapify(self.steps)
        while self.steps:
            step = heapq.heappop(self.steps)
            with clock.pinned_at(step.at):
                step.run()
        return Made(counts, REPORTS, self.moves)

    # -- people ------------------------------------------------------------------------------

    def _principal(self, person_id: int) -> Principal:
        return Principal(person_id, grants(self.conn, person_id), "cookie")

    def _office(self, department: str) -> _Office:
        accounts = AccountService(self.conn, OutboxNotifier(self.conn), self.settings.server_key())
        wards = tuple(self.repo.wards())
        short = department.split("-")[0]

        def staff(role: str, n: int, grant: GrantSpec) -> Principal:
            person_id, _ = accounts.create_staff(f"{role}-{n}.{short}@{MARKER}",
                                                 _name(self.rng), grant)
            return self._principal(person_id)
        return _Office(staff("lanh-dao", 1, GrantSpec("leader", department)),
                       [staff("can-bo", n, GrantSpec("officer", department, wards))
                        for n in range(1, OFFICERS + 1)])

    def _household(self, n: int) -> Principal:
        """A resident who signs up with an e-mail and gives back the code it was sent."""
        sent: list[str] = []

        class Inbox:
            def send(self, channel: str, recipient: str, body: str) -> None:
                sent.append(body)
        email = f"ho-{n:03d}@{MARKER}"
        accounts = AccountService(self.conn, Inbox(), self.settings.server_key(),
                                  address=f"10.7.{n // 10}.{n % 10 + 1}")
        accounts.sign_up(email, f"mau-{self.rng.getrandbits(64):x}", _name(self.rng), "vi",
                         accepted=True)
        code = next(word for word in sent[-1].split() if word.isdigit() and len(word) == 6)
        failed = accounts.verify(email, code)
        assert failed is None, failed
        return self._principal(self.repo.person(email))

    # -- planning ----------------------------------------------------------------------------

    def _step(self, at: datetime, run: Callable[[], object]) -> None:
        self.steps.append(_Step(at, len(self.steps), run))

    def _days(self, first: date, last: date) -> Iterator[date]:
        day = first
        while day <= last:
            yield day
            day += timedelta(days=1)

    def _working(self, department: str, first: date, last: date) -> list[date]:
        return self.calendar.working_days(first, last, department)

    def _plan_share(self, share: Share, offices: dict[str, _Office],
                    households: list[Principal]) -> int:
        procedure = self.dossiers.repo.procedure(share.procedure)
        assert procedure is not None, share.procedure  # the shares name seeded procedures
        office = offices[procedure.department]
        # The last receipts leave room for a late one's decision within the half year.
        every = self._working(procedure.department, FIRST, LAST)
        days = every[:-(procedure.statutory_days + share.late_days + 12)]
        parcels = self.repo.parcels(share.procedure, min(share.decided, 2000))
        late = set(self.rng.sample(range(share.decided), share.decided - share.on_time))
        documents = [d for d in procedure.documents if d["mandatory"]]
        for i in range(share.decided):
            received = days[i * len(days) // share.decided]
            self._plan_dossier(procedure, documents, office, self.rng.choice(households),
                               parcels[i % len(parcels)], received,
                               share.late_days if i in late else 0)
        return share.decided

    def _plan_dossier(self, procedure: Any, documents: list[dict[str, Any]], office: _Office,
                      applicant: Principal, parcel: str, received: date, late: int) -> None:
        """One dossier's moves; `late`: decided up to that many working days past its return
        date (0: on time)."""
        rng, dept, cal = self.rng, procedure.department, self.calendar
        officer = rng.choice(office.officers)
        case: dict[str, Any] = {}
        due = cal.due(received, procedure.statutory_days, procedure.day_kind, dept)
        working = self._working(dept, received, received + timedelta(days=120))
        minute = rng.randrange(0, 50)

        self._step(_at(received, 7, minute),
                   lambda: self._apply(case, procedure, documents, applicant, parcel))
        self._step(_at(received, 8, minute), lambda: self._assign(case, office, officer))
        self._step(_at(received, 9, minute), lambda: self._act(case, officer, "receive"))
        self._step(_at(received, 10, minute), lambda: self._act(case, officer, "start"))
        busy = working[1]  # the first working day after the receipt
        if rng.random() < SUPPLEMENTS:
            asked, answered = working[1], working[1 + rng.randint(1, 4)]
            stood = cal.stood(asked, answered, dept)
            due = cal.extend(due, stood, dept)
            self._step(_at(asked, 10, minute), lambda: self._act(
                case, officer, "request_supplement",
                {"missing": ["Bản sao có chứng thực giấy tờ còn thiếu"],
                 "due_on": (asked + timedelta(days=10)).isoformat()}))
            self._step(_at(answered, 15, minute),
                       lambda: self._act(case, applicant, "supplement",
                                         note="Đã bổ sung bản sao theo yêu cầu"))
            self._step(_at(answered, 16, minute), lambda: self._act(case, officer, "resume"))
            busy = working[working.index(answered) + 1]
        if not late:
            decided = rng.choice([d for d in working if busy <= d <= due])
        else:
            after = [d for d in working if d > due]
            apology, decided = after[0], after[rng.randint(1, late)]
            self._step(_at(apology, 8, minute), lambda: self._act(
                case, officer, "apologise",
                {"reason": "Hồ sơ cần lấy ý kiến cơ quan liên quan",
                 "new_due_on": decided.isoformat()}))
        refused = rng.random() < REFUSALS
        self._step(_at(decided, 14, minute), lambda: self._decide(case, office, refused))
        # The result (signed) is issued and handed over; a refusal's Form 03 is handed over.
        later = [d for d in working if d > decided]
        if refused:
            self._step(_at(later[0], 15, minute),
                       partial(self._act, case, officer, "return_result"))
        elif self.results:
            issued = later[rng.randint(0, 1)]
            self._step(_at(issued, 10, minute),
                       partial(self._issue, case, officer, procedure.id))
            self._step(_at(later[later.index(issued) + rng.randint(1, 3)], 15, minute),
                       partial(self._act, case, officer, "return_result"))

    def _plan_reports(self, offices: dict[str, _Office], households: list[Principal]) -> None:
        categories = self.repo.categories()
        places = self.repo.places(REPORTS)
        late = set(self.rng.sample(range(REPORTS), REPORTS - REPORTS_ON_TIME))
        for i, (lon, lat, _) in enumerate(places):
            category = categories[i % len(categories)]
            office = offices[category.department]
            sent = self._working(category.department, FIRST, LAST)[i * 110 // REPORTS]
            working = self._working(category.department, sent, sent + timedelta(days=60))
            due = self.calendar.due(sent, category.response_days, "working",
                                    category.department)
            answered = (self.rng.choice([d for d in working if sent < d <= due])
                        if i not in late else
                        [d for d in working if d > due][self.rng.randint(0, 2)])
            closed = working[working.index(answered) + 2]
            officer = self.rng.choice(office.officers)
            report: dict[str, Any] = {}
            reporter = self.rng.choice(households)
            self._step(_at(sent, 18, i % 60),
                       partial(self._report, report, reporter, category, lon, lat))
            self._step(_at(sent + timedelta(days=1), 8, i % 60),
                       partial(self._feedback_assign, report, office, officer))
            self._step(_at(answered, 9, i % 60),
                       partial(self._feedback_act, report, officer, "start", None, {}))
            self._step(_at(answered, 15, i % 60), partial(
                self._feedback_act, report, officer, "answer",
                "Đơn vị đã kiểm tra và khắc phục tại chỗ.", {}))
            self._step(_at(closed, 10, i % 60), partial(
                self._feedback_act, report, officer, "close", None, {"closing": "fixed"}))

    # -- the moves -----------------------------------------------------------------------------

    def _apply(self, case: dict[str, Any], procedure: Any, documents: list[dict[str, Any]],
               applicant: Principal, parcel: str) -> None:
        answers = self._answers(procedure.id)
        row = self.dossiers.create(applicant, procedure.id, parcel, {
            "full_name": _name(self.rng),
            "id_number": f"079{self.rng.randrange(10**9):09d}"}, answers)
        case["id"] = row.id
        for document in documents:
            key = str(document["key"])
            self.documents.upload(applicant, row.id, key, f"{key}.pdf",
                                  io.BytesIO(self.files.get(key) or _pdf(key)))
        self._act(case, applicant, "submit")
        if procedure.fee_vnd and procedure.online_level == "full":
            payment, _ = self.payments.begin(applicant, row.id, "")
            self.payments.take(self.sandbox.notice(payment.reference, "paid",
                                                   int(payment.amount_vnd)))
            self.moves += 2

    def _answers(self, procedure_id: str) -> dict[str, Any]:
        rng = self.rng
        if procedure_id.startswith("household-business"):
            return {"business_name": f"Hộ kinh doanh {rng.choice(GIVEN)} {rng.randint(1, 99)}",
                    "business_lines": rng.choice(("Bán lẻ tạp hóa", "Quán ăn", "Cà phê",
                                                  "Sửa xe máy", "Tiệm may")),
                    "capital_vnd": rng.randrange(50, 900) * 1_000_000}
        if procedure_id.startswith("labour"):
            return {"employer": f"Công ty TNHH {rng.choice(GIVEN)} {rng.randint(1, 99)}",
                    "employees": rng.randint(10, 400)}
        floors = rng.randint(2, 5)
        footprint = rng.randrange(40, 120)
        return {"floors": floors, "height_m": round(3.6 * floors + 1, 1),
                "footprint_m2": footprint, "floor_area_m2": footprint * floors}

    def _act(self, case: dict[str, Any], who: Principal, action: str,
             form: dict[str, Any] | None = None, note: str | None = None) -> Fired:
        row = self.dossiers.get(who, case["id"])
        _, fired = self.dossiers.act(who, row.id, action, DOSSIER.etag(row.id, row.version),
                                     note, form, self.origin)
        self.moves += 1
        return fired

    def _assign(self, case: dict[str, Any], office: _Office, officer: Principal) -> None:
        row = self.dossiers.get(office.leader, case["id"])
        assert officer.person_id is not None
        self.office.assign(office.leader, "dossier", row.id, officer.person_id,
                           DOSSIER.etag(row.id, row.version), None)
        self.moves += 1

    def _issue(self, case: dict[str, Any], officer: Principal, procedure_id: str) -> None:
        n = self.numbers[procedure_id] = self.numbers.get(procedure_id, 0) + 1
        number = (f"41A8{n:06d}" if procedure_id.startswith("household") else
                  f"{n}/TB-LĐ" if procedure_id.startswith("labour") else f"{n}/GPXD")
        self._act(case, officer, "issue_result", {"result_no": number})

    def _decide(self, case: dict[str, Any], office: _Office, refused: bool) -> None:
        if refused:
            self._act(case, office.leader, "refuse",
                      {"reasons": ["Công trình không phù hợp quy hoạch chi tiết 1/2000"]})
        else:
            self._act(case, office.leader, "approve")

    def _report(self, report: dict[str, Any], reporter: Principal, category: Any, lon: float,
                lat: float) -> None:
        row, _ = self.feedback.send(reporter, category.code,
                                    PROBLEMS.get(category.code, "Cần kiểm tra"), lon, lat,
                                    Reporter())
        report["id"] = row.id
        self.moves += 2

    def _feedback_assign(self, report: dict[str, Any], office: _Office,
                         officer: Principal) -> None:
        row = self.feedback.repo.get(report["id"])
        assert officer.person_id is not None
        self.office.assign(office.leader, "feedback", row.id, officer.person_id,
                           FEEDBACK.etag(row.id, row.version), None)
        self.moves += 1

    def _feedback_act(self, report: dict[str, Any], officer: Principal, action: str,
                      note: str | None, facts: dict[str, Any]) -> None:
        row = self.feedback.repo.get(report["id"])
        self.feedback.act(officer, row.id, action, FEEDBACK.etag(row.id, row.version), note,
                          facts)
        self.moves += 1
