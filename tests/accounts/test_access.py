"""The access matrix, generated: every route of the OpenAPI document × every role × own and
foreign objects. Own (or in scope) → 2xx where the policy lets the role do the route's action;
foreign → 404 for citizens (existence not revealed), 403 for staff; no rule → 401 or 403.
Personal data must never appear in a public answer or a refusal.

`make test-access` runs this module alone and prints its one-line summary.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from accounts.auth import POLICY_ACTION
from accounts.policy import STAFF_ROLES, allowed
from tests.accounts.world import (
    MY_WARD,
    PASSWORD,
    PERMIT,
    Dossier,
    World,
    build,
    in_scope,
)
from tests.permits.document_files import attach, pdf, png

ROLES = ("anonymous", "citizen", "officer", "leader", "planner", "administrator",
         "officer_token")
LON, LAT = 106.7195, 10.7335


def _tile(z: int) -> tuple[int, int]:
    n = 2**z
    x = int((LON + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(LAT))) / math.pi) / 2 * n)
    return x, y


X14, Y14 = _tile(14)
# Path parameters that are not objects someone owns: one sample each. An object's number is one
# no row holds (a browser test commits its rows, and its report or task may well be number 1).
NO_ROW = str(4 * 10**18 + 1)
SAMPLES: dict[str, str] = {
    "layer": "basemap", "z": "14", "x": str(X14), "y": str(Y14), "fontstack": "Noto Sans Regular",
    "glyph_range": "0-255", "name": "district", "kind": "json",
    "tileMatrixSetId": "WebMercatorQuad", "format": "png", "lon": str(LON), "lat": str(LAT),
    "provider": "vneid", "collection_id": "zoning_blocks",
    "layer_id": "land_use", "number": "1", "procedure_id": "construction-permit-house",
    "access_code": "a" * 24, "form": "01", "report_id": NO_ROW, "flood_id": NO_ROW,
    "category": "buses", "ext": "csv", "task_id": NO_ROW, "token": "t" * 32,
    "fmt": "json", "service_code": "roads", "service_request_id": NO_ROW,
    "photo_id": NO_ROW,  # a report's photo: public copy and original (report_id is LOOSE)
    "document_id": NO_ROW,  # a register entry (LOOSE); a dossier's documents are the world's
}
QUERIES: dict[str, dict[str, str]] = {
    "/api/parcels/at": {"lon": str(LON), "lat": str(LAT)},
    "/api/parcels": {"ward": "Tân Mỹ"},
    "/api/search": {"q": "Tân"},
    "/api/auth/oidc/{provider}/callback": {"code": "c", "state": "s"},
    "/api/calendar/working-days": {"from": "2026-02-13", "to": "2026-02-25"},
    "/api/calendar/add": {"start": "2026-02-13", "days": "3"},
    "/api/feedback/nearby": {"category": "roads", "lon": str(LON), "lat": str(LAT)},
    "/api/office/stats": {"period": "2026-H1"},
    "/api/office/calendar": {"from": "2026-02-13", "to": "2026-02-20"},
}
# Routes whose own answer depends on something the matrix does not set up (a raster in the
# catalogue, a valid one-time code, an identity provider, a form written by a move the world's
# dossiers have not made): for them only "not refused, not a 5xx" is asserted.
LOOSE = re.compile(r"^/raster/|^/api/auth/(verify|password/reset)$|^/api/auth/oidc/"
                   r"|/versions/\{number\}/publish$|^/api/supplements/"
                   r"|/papers/\{form\}$|/result$"
                   # A gateway's notices are believed for their signature: the matrix has none.
                   r"|^/api/payments/"
                   # A report by its number: the world has none confirmed (its own test does).
                   r"|^/api/feedback/\{report_id\}|^/api/feedback/floods/\{flood_id\}"
                   # The world has no task, and an assignment names an item and its version.
                   r"|^/api/office/tasks/\{task_id\}|^/api/office/assignments$"
                   # Nor a register entry to take on, nor a map report.
                   r"|^/api/office/documents/\{document_id\}/|^/api/office/reports/"
                   r"|^/api/office/calendar/feed/"
                   # Open311: a request by its number, a token: likewise none in the world.
                   r"|^/open311/v2/(requests/|tokens/)")
# The state a dossier must be in for the route to succeed on one's own.
STATE = {("PATCH", "/api/dossiers/{dossier_id}"): "draft",
         ("POST", "/api/dossiers/{dossier_id}/submit"): "draft",
         ("POST", "/api/dossiers/{dossier_id}/withdraw"): "awaiting_receipt",
         ("POST", "/api/dossiers/{dossier_id}/actions"): "awaiting_receipt",
         ("POST", "/api/dossiers/{dossier_id}/payments"): "awaiting_receipt",
         ("POST", "/api/dossiers/{dossier_id}/supplement"): "supplement_requested",
         ("POST", "/api/dossiers/{dossier_id}/documents"): "draft",
         ("DELETE", "/api/dossiers/{dossier_id}/documents/{document_id}"): "draft"}
TOKEN_SCOPE = {"planner": "layer.write", "administrator": "audit.read"}
FEATURE = {"type": "Feature", "properties": {}, "geometry": {
    "type": "Point", "coordinates": [LON, LAT]}}
Body = Callable[[World, str], Any]
MULTIPART = "__multipart__"
FORM = "__form__"  # form-encoded (Open311's POST)
BODIES: dict[tuple[str, str], Body] = {
    ("POST", "/api/auth/signup"): lambda w, r: {
        "identifier": "0939999999", "password": PASSWORD, "display_name": "Người Mới",
        "accept_purpose": True},
    ("POST", "/api/auth/verify"): lambda w, r: {"identifier": "0931000001", "code": "000000"},
    ("POST", "/api/auth/signin"): lambda w, r: {"identifier": "0931000001", "password": PASSWORD},
    ("POST", "/api/auth/password/forgot"): lambda w, r: {"identifier": "0931000001"},
    ("POST", "/api/auth/password/reset"): lambda w, r: {
        "identifier": "0931000001", "code": "000000", "new_password": "một-mật-khẩu-mới-dài"},
    ("PATCH", "/api/me"): lambda w, r: {"lang": "en"},
    ("POST", "/api/me/password"): lambda w, r: {
        "current_password": PASSWORD, "new_password": "một-mật-khẩu-mới-dài"},
    ("POST", "/api/me/deletion"): lambda w, r: {"password": PASSWORD},
    ("POST", "/api/tokens"): lambda w, r: {
        "name": "sync", "scopes": [TOKEN_SCOPE.get(r, "dossier.read")]},
    ("POST", "/api/staff"): lambda w, r: {
        "identifier": "0938888888", "display_name": "Cán Bộ Mới", "grant": {"role": "planner"}},
    ("PUT", "/api/people/{person_id}/roles"): lambda w, r: {"grants": [{"role": "citizen"}]},
    ("POST", "/api/dossiers"): lambda w, r: {
        "procedure_id": PERMIT, "parcel_key": w.parcels[MY_WARD],
        "applicant": {"full_name": "Người Nộp"}},
    ("PATCH", "/api/dossiers/{dossier_id}"): lambda w, r: {"answers": {"floors": 3}},
    ("POST", "/api/dossiers/{dossier_id}/documents"): lambda w, r: {MULTIPART: {
        "key": (None, "land_certificate"), "file": ("giay-chung-nhan.pdf", pdf(),
                                                    "application/pdf")}},
    ("POST", "/raster/{layer_id}/statistics"): lambda w, r: FEATURE,
    ("POST", "/api/layers"): lambda w, r: {"id": "matrix_layer", "title_vi": "X",
                                           "title_en": "X"},
    ("POST", "/api/layers/{layer_id}/uploads"): lambda w, r: {
        MULTIPART: {"file": ("plan.geojson", b'{"type": "FeatureCollection", "features": []}')}},
    ("POST", "/api/jobs/{job_id}/answer"): lambda w, r: {"crs": "EPSG:9210"},
    ("POST", "/api/calendar/swaps"): lambda w, r: {
        "date": "2026-01-10", "kind": "working_day", "reason": "Làm bù ngày 2/1"},
    ("POST", "/api/calendar/closures"): lambda w, r: {
        "department": "economy", "date": "2026-03-09", "reason": "Kiểm kê"},
    ("PATCH", "/api/procedures/{procedure_id}"): lambda w, r: {"fee_vnd": 80_000},
    ("POST", "/api/dossiers/{dossier_id}/actions"): lambda w, r: {"action": "receive"},
    ("POST", "/api/dossiers/{dossier_id}/payments"): lambda w, r: {},
    ("POST", "/api/feedback"): lambda w, r: {
        "category": "roads", "description": "Ổ gà", "lon": LON, "lat": LAT,
        "phone": "0912000111"},
    ("POST", "/api/feedback/{report_id}/confirm"): lambda w, r: {"code": "123456"},
    ("POST", "/api/feedback/{report_id}/actions"): lambda w, r: {"action": "start"},
    ("POST", "/api/feedback/floods/{flood_id}/actions"): lambda w, r: {"action": "close"},
    ("PATCH", "/api/feedback/categories/{category}"): lambda w, r: {"response_days": 9},
    ("POST", "/api/office/assignments"): lambda w, r: {
        "kind": "dossier", "id": w.dossiers["c1_sub"].id,
        "assignee_id": w.actors["officer"].person_id},
    ("POST", "/api/office/tasks"): lambda w, r: {"title": "Kiểm tra", "due_on": "2099-01-01"},
    ("POST", "/api/office/tasks/{task_id}/actions"): lambda w, r: {"action": "complete"},
    ("POST", "/api/office/notices/read"): lambda w, r: {"up_to": 1},
    ("POST", "/api/push/subscriptions"): lambda w, r: {
        "endpoint": f"https://push.example.org/{r}", "keys": {"p256dh": "B" * 87,
                                                              "auth": "a" * 22}},
    ("POST", "/api/push/subscriptions/end"): lambda w, r: {
        "endpoint": f"https://push.example.org/{r}"},
    ("POST", "/api/office/calendar"): lambda w, r: {
        "kind": "leave", "title": "Nghỉ phép", "starts_at": "2026-02-16T08:00:00+07:00",
        "ends_at": "2026-02-16T17:00:00+07:00"},
    ("POST", "/api/office/documents"): lambda w, r: {
        "direction": "incoming", "number": f"m-{r}", "symbol": "1/UBND",
        "issued_on": "2026-01-05", "issuer": "UBND", "summary": "Về việc", "doc_type": "CV"},
    ("POST", "/api/office/documents/{document_id}/task"): lambda w, r: {"due_on": "2099-01-01"},
    ("POST", "/api/office/reports"): lambda w, r: {"period": "2026-11"},
    ("PUT", "/api/office/documents/{document_id}/file"): lambda w, r: {MULTIPART: {
        "file": ("cong-van.pdf", pdf(), "application/pdf")}},
    ("POST", "/api/office/documents/import"): lambda w, r: {MULTIPART: {"file": (
        "so.csv", b"direction,number,symbol,issued_on,issuer,summary,doc_type\n", "text/csv")}},
    ("POST", "/api/feedback/{report_id}/photos"): lambda w, r: {MULTIPART: {
        "file": ("anh.png", png(), "image/png")}},
    ("POST", "/api/payments/{provider}/notify"): lambda w, r: {"reference": "x"},
    ("POST", "/api/dossiers/{dossier_id}/supplement"): lambda w, r: {"note": "Đã bổ sung"},
    ("POST", "/api/supplements/{access_code}"): lambda w, r: {"note": "Đã bổ sung"},
    ("POST", "/open311/v2/requests.{fmt}"): lambda w, r: {FORM: {
        "api_key": w.open311_key, "service_code": "roads", "lat": str(LAT), "long": str(LON),
        "description": "Ổ gà", "phone": "0912000111"}},
    ("POST", "/api/admin/open311-clients"): lambda w, r: {"name": "Ứng dụng thử"},
    ("POST", "/api/precheck"): lambda w, r: {
        "parcel_key": w.parcels[MY_WARD], "answers": {"floors": 3, "footprint_m2": 40}},
}
# Headers a route needs to succeed (a change names the version it changes).
HEADERS: dict[tuple[str, str], dict[str, str]] = {
    ("PATCH", "/api/procedures/{procedure_id}"): {"If-Match": "*"},
    ("PATCH", "/api/feedback/categories/{category}"): {"If-Match": "*"},
    ("POST", "/api/dossiers/{dossier_id}/actions"): {"If-Match": "*"},
}


@dataclass
class Case:
    """One request of the matrix and what the policy says of it."""

    method: str
    path: str
    action: str
    role: str
    relation: str  # own | foreign | none
    url: str
    body: Any


@dataclass
class Outcome:
    """What the matrix found."""

    cases: int = 0
    foreign_2xx: int = 0
    leaks: int = 0
    wrong: list[str] | None = None


def route_actions(app: Any) -> dict[tuple[str, str], str | None]:
    """(method, path) → the action named by the route's authorization dependency."""
    found: dict[tuple[str, str], str | None] = {}
    for route in iter_route_contexts(app.routes):  # routes of included routers, with their deps
        if not isinstance(route.original_route, APIRoute):
            continue
        action = _action_of(route.dependant)
        for method in route.methods or ():
            found[(method, str(route.path))] = action
    return found


def _action_of(dependant: Any) -> str | None:
    for sub in dependant.dependencies:
        action = getattr(sub.call, POLICY_ACTION, None) or _action_of(sub)
        if action:
            return str(action)
    return None


def _objects(world: World, role: str, param: str, method: str,
             path: str) -> Iterator[tuple[str, str]]:
    """(relation, value) pairs for an object parameter."""
    if param == "dossier_id":
        state = STATE.get((method, path))
        for dossier in world.dossiers.values():
            if in_scope(role, dossier):
                if state is None or dossier.status == state:
                    yield "own", str(dossier.id)
            else:
                yield "foreign", str(dossier.id)
    elif param == "token_id":
        me = world.actors[role].person_id
        for owner, token_id in world.tokens.items():
            mine = world.actors[owner].person_id == me and role != "anonymous"
            yield ("own" if mine else "foreign"), str(token_id)
    elif param == "person_id":  # administrators reach every person: there is no foreign one
        yield "own", str(world.actors["citizen2"].person_id)
    elif param == "job_id":  # planners reach every layer job: there is no foreign one
        yield "own", str(world.job_id)
    elif param == "code":
        submitted: list[Dossier] = [d for d in world.dossiers.values() if d.code]
        yield "own", str(submitted[0].code)


OBJECT_PARAMS = ("dossier_id", "token_id", "person_id", "code", "job_id")


def cases(app: Any, world: World) -> Iterator[Case]:
    """Every route × role × object relation."""
    actions = route_actions(app)
    samples = {**SAMPLES, "parcel_key": world.parcels[MY_WARD],
               "feature_id": str(world.zoning_block_id), "date": world.swap_day,
               "closure_id": str(world.closure_id),
               "client_id": str(world.open311_client_id)}
    for path, operations in app.openapi()["paths"].items():
        for method_lower, operation in operations.items():
            method = method_lower.upper()
            action = actions[(method, path)]
            assert action, f"{method} {path} names no action of the policy"
            params = re.findall(r"{(\w+)}", path)
            if "requestBody" in operation:
                assert (method, path) in BODIES, f"no sample body for {method} {path}"
            for role in ROLES:
                body = BODIES[(method, path)](world, role) if (method, path) in BODIES else None
                objects = [p for p in params if p in OBJECT_PARAMS]
                assert len(objects) <= 1, path
                pairs = (list(_objects(world, role, objects[0], method, path)) if objects
                         else [("none", "")])
                for relation, value in pairs:
                    url = path
                    for name in params:
                        sample = (value if name in OBJECT_PARAMS
                                  else world.documents.get(value)
                                  if name == "document_id" and path.startswith("/api/dossiers/")
                                  else samples.get(name))
                        assert sample is not None, f"no sample for {{{name}}} in {path}"
                        url = url.replace(f"{{{name}}}", sample)
                    query = QUERIES.get(path)
                    if query:
                        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
                    yield Case(method, path, action, role, relation, url, body)


def expected(world: World, case: Case) -> str:
    """The policy's answer, as a status class the response must match."""
    actor = world.actors[case.role]
    if not allowed(actor.principal, case.action):
        return "401" if actor.person_id is None else "403"
    if case.relation == "foreign":
        staff = any(g.role in STAFF_ROLES for g in actor.principal.grants)
        return "403" if staff else "404"
    return "loose" if LOOSE.search(case.path) else "2xx"


def run_matrix(client: TestClient, conn: Connection) -> Outcome:
    """Run every case in a savepoint of its own (writes by one case never reach the next)."""
    world = build(conn)
    files = client.app.state.settings.file_dir
    world.documents = {str(d.id): str(attach(conn, files, d.id, world.actors[d.owner].person_id
                                             or 0)) for d in world.dossiers.values()}
    outcome = Outcome(wrong=[])
    assert outcome.wrong is not None
    for case in cases(client.app, world):
        savepoint = conn.begin_nested()
        try:
            headers = {**world.actors[case.role].headers(),
                       **HEADERS.get((case.method, case.path), {})}
            if isinstance(case.body, dict) and MULTIPART in case.body:
                res = client.request(case.method, case.url, files=case.body[MULTIPART],
                                     headers=headers)
            elif isinstance(case.body, dict) and FORM in case.body:
                res = client.request(case.method, case.url, data=case.body[FORM],
                                     headers=headers)
            else:
                res = client.request(case.method, case.url, json=case.body, headers=headers)
        finally:
            savepoint.rollback()
        outcome.cases += 1
        want = expected(world, case)
        status = res.status_code
        if case.relation == "foreign" and 200 <= status < 300:
            outcome.foreign_2xx += 1
        ok = {"2xx": 200 <= status < 300,
              "loose": status < 500 and status not in (401, 403),
              "401": status == 401, "403": status == 403, "404": status == 404}[want]
        if not ok:
            outcome.wrong.append(f"{case.method} {case.url} as {case.role} ({case.relation}): "
                                 f"{status}, policy says {want}: {res.text[:120]}")
        public = case.action in ("public.read", "dossier.lookup") or status in (401, 403, 404)
        if public and any(p in res.text for p in world.personal):
            outcome.leaks += 1
            outcome.wrong.append(f"personal data in {case.method} {case.url} as {case.role}")
    return outcome


def test_access_matrix(client: TestClient, conn: Connection) -> None:
    outcome = run_matrix(client, conn)
    print(f"\nACCESS-MATRIX cases={outcome.cases} foreign_2xx={outcome.foreign_2xx} "
          f"leaks={outcome.leaks}")
    assert outcome.cases > 300
    assert outcome.wrong == [], "\n".join(outcome.wrong or [])
    assert outcome.foreign_2xx == 0
    assert outcome.leaks == 0


def test_every_route_names_its_action(client: TestClient) -> None:
    """Also the routes the OpenAPI document leaves out (the web app's files)."""
    missing = [f"{m} {p}" for (m, p), action in route_actions(client.app).items()
               if action is None]
    assert missing == []


def test_the_matrix_would_see_a_leaking_route(client: TestClient, conn: Connection) -> None:
    """Break the policy on purpose: the matrix must count the foreign 2xx it causes."""
    from accounts import policy

    broken = tuple(r if r.action != "dossier.read" else policy.Rule(r.role, r.action,
                                                                     policy.Scope.ANY)
                   for r in policy.POLICY)
    original = policy.POLICY
    policy.POLICY = broken
    try:
        outcome = run_matrix(client, conn)
    finally:
        policy.POLICY = original
    assert outcome.foreign_2xx > 0


def test_no_personal_data_travels_in_urls(client: TestClient) -> None:
    """Paths and query strings end up in access logs and browser history: none carries a phone,
    an e-mail, a name, a password or an ID number."""
    personal = {"identifier", "phone", "email", "password", "display_name", "id_number",
                "full_name", "address"}
    found = [f"{method.upper()} {path} ?{param['name']}"
             for path, operations in client.app.openapi()["paths"].items()
             for method, operation in operations.items()
             for param in operation.get("parameters", [])
             if param["name"] in personal]
    assert found == []
