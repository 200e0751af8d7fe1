"""The workload and feedback-density map of a period, as a shareable HTML report: pydeck
describes the deck.gl layers (open work per ward as columns, the period's reports as dots,
the wards' outlines); the page draws them with the platform's own bundle (`/report.js`: deck.gl
over MapLibre and our district style), so it loads nothing from anywhere else. Made on demand
by a leader, and for every department on the first of each month by a periodic task."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pydeck as pdk

from accounts.policy import Principal, Subject, check, reach
from core.errors import NotFoundError
from permits.departments import DEPARTMENT_NAMES
from permits.office.repository import OfficeRepository
from permits.office.stats import STATS, period

KIND = "workload"
CENTRE = (106.7195, 10.7335)
PAGE = """<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/maplibre-gl.css">
</head>
<body>
<h1 id="report-title">{title}</h1>
<p id="report-legend">{legend}</p>
<div id="deck-container"></div>
<script type="application/json" id="deck-spec">{spec}</script>
<script type="module" src="/report.js"></script>
</body>
</html>
"""


@dataclass(frozen=True)
class Made:
    """A report kept: its number, and what it covers."""

    id: int
    period: str
    department: str | None


def _scope(department: str | None) -> str:
    return DEPARTMENT_NAMES.get(department, department) if department else "toàn quận"


def render(repo: OfficeRepository, department: str | None, first: date, last: date) -> str:
    """The report's page for a department (None: the whole district) and a period's days."""
    departments = None if department is None else [department]
    wards = [{"lon": w.lon, "lat": w.lat, "open": w.open, "late": w.late,
              # Redder as more of the ward's open work is overdue.
              "colour": [200, 60 + round(120 * (1 - w.late / max(w.open, 1))), 30, 190],
              "tip": f"{w.name}: {w.open} việc đang mở, {w.late} quá hạn"} for w in
             repo.workload_by_ward(departments)]
    reports = [{"lon": r.lon, "lat": r.lat,
                "colour": [164, 22, 26, 200] if r.late else [43, 138, 62, 200],
                "tip": f"{r.category}{' · trễ hạn' if r.late else ''}"} for r in
               repo.feedback_points(first, last, departments)]
    outlines = repo.ward_outlines()
    layers = [
        pdk.Layer("GeoJsonLayer", id="wards", data=outlines, stroked=True, filled=False,
                  get_line_color=[60, 60, 60, 200], line_width_min_pixels=1),
        pdk.Layer("ColumnLayer", id="workload", data=wards, get_position=["lon", "lat"],
                  get_elevation="open", elevation_scale=40, radius=180, extruded=True,
                  get_fill_color="colour", pickable=True),
        pdk.Layer("ScatterplotLayer", id="feedback", data=reports,
                  get_position=["lon", "lat"], get_radius=25, radius_min_pixels=3,
                  get_fill_color="colour", pickable=True),
    ]
    deck = pdk.Deck(layers=layers, map_provider=None, map_style=None,
                    initial_view_state=pdk.ViewState(longitude=CENTRE[0], latitude=CENTRE[1],
                                                     zoom=12.5, pitch=40))
    spec = json.loads(deck.to_json())
    title = f"Khối lượng công việc và phản ánh {_scope(department)}, {_span(first, last)}"
    legend = (f"Cột: việc đang mở theo phường ({sum(w['open'] for w in wards)}; đỏ hơn khi "
              f"nhiều việc quá hạn). Chấm: {len(reports)} phản ánh trong kỳ (đỏ: trả lời "
              "trễ hạn hoặc đang quá hạn).")
    # The spec is data in a JSON block (never executed): "</" cannot end it early.
    return PAGE.format(title=html.escape(title), legend=html.escape(legend),
                       spec=json.dumps(spec, ensure_ascii=False).replace("</", "<\\/"))


def _span(first: date, last: date) -> str:
    return f"{first:%d/%m/%Y} – {last:%d/%m/%Y}"


class ReportService:
    """The office's map reports, kept so that they can be shared by their link."""

    def __init__(self, repository: OfficeRepository) -> None:
        self.repo = repository

    def make(self, principal: Principal | None, department: str | None, text: str) -> Made:
        """The report of a period for a department (a leader's own; an administrator's
        choice, None for the district); `principal` None: the monthly task. Made again, it
        replaces the one before."""
        first, last = period(text)  # a 422 naming `period` before anything is read
        if principal is not None:
            check(principal, STATS)
            reached = reach(principal, STATS)
            if not reached.everything:
                department = principal.department("leader")
            check(principal, STATS, Subject(department=department or "-"))
        page = render(self.repo, department, first, last)
        report_id = self.repo.save_report(KIND, text, department, page,
                                          principal.person_id if principal else None)
        return Made(report_id, text, department)

    def monthly(self, day: date) -> list[Made]:
        """The month before `day`'s reports: the district's and each department's."""
        last = day.replace(day=1) - timedelta(days=1)
        text = f"{last:%Y-%m}"
        return [self.make(None, department, text) for department in (None, *DEPARTMENT_NAMES)]

    def list(self, principal: Principal) -> list[Any]:
        """The reports the principal may open, newest first."""
        check(principal, STATS)
        reached = reach(principal, STATS)
        return self.repo.reports(None if reached.everything else list(reached.departments))

    def page(self, principal: Principal, report_id: int) -> str:
        """A report's page, if the principal may read it (404 otherwise)."""
        found = self.repo.report(report_id)
        if found is None:
            raise NotFoundError("no such report", "report_id")
        reached = reach(principal, STATS)
        if not reached.everything and found.department not in reached.departments:
            raise NotFoundError("no such report", "report_id")
        return str(found.html)

