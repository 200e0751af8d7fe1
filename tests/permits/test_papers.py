"""A dossier's papers as PDFs: each form of the circular after the move that writes it, read
back as a citizen would (its text, its page, the QR code scanned), only for those who may read
the dossier; the results; the templates refused when broken, the facts when missing."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Connection

from core.errors import NotFoundError
from core.workflow import SYSTEM, fire
from permits import workflow as dossier_workflow
from permits.clock import Clock
from permits.papers.render import render
from permits.papers.service import dmy, result_paper, status_url
from permits.papers.template import (
    MissingFactError,
    TemplateError,
    load_template,
    shipped,
    template,
)
from permits.repository import DossierRepository
from permits.results.service import ResultFile
from permits.service import DossierService
from permits.workflow import DOSSIER, FORM_TITLES
from tests.accounts.world import (
    BUSINESS,
    MY_WARD,
    OTHER_WARD,
    World,
    build,
    paid,
)
from tests.permits.test_dossier_life import Desk, _submitted

PERSONAL = ("Trần", "Bích", "0907111222", "079188000111", "Đường Số 7", "+84")
MM = 72 / 25.4  # points in a millimetre
ORIGIN = "http://testserver"  # the TestClient's origin: the status page's links start with it
TEMPLATES = Path(__file__).resolve().parents[2] / "permits" / "papers" / "templates"


@pytest.fixture
def world(conn: Connection) -> World:
    return build(conn)


def _paper(client: TestClient, world: World, dossier: dict[str, Any], form: str,
           who: str = "citizen") -> bytes:
    answer = client.get(f"/api/dossiers/{dossier['id']}/papers/{form}",
                        headers=world.actors[who].headers())
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == \
        f'attachment; filename="{dossier["code"]}-mau-{form}.pdf"'
    assert answer.headers["cache-control"] == "private, no-store"
    return answer.content


def _read(pdf: bytes, page: str) -> tuple[PdfReader, str]:
    """The PDF, its text with lines joined (a wrapped phrase reads whole), checked for its
    page size and its embedded fonts."""
    reader = PdfReader(io.BytesIO(pdf))
    width, height = {"A5": (148, 210), "A4": (210, 297)}[page]
    for sheet in reader.pages:
        assert abs(float(sheet.mediabox.width) - width * MM) <= 1
        assert abs(float(sheet.mediabox.height) - height * MM) <= 1
        # Every font is a subset carried in the file: nothing to fetch, no substitute glyphs.
        for font in sheet["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            assert "/FontFile2" in descendant["/FontDescriptor"]
            assert font["/BaseFont"].split("+")[1].startswith("NotoSerif")
    text = " ".join(" ".join(sheet.extract_text() for sheet in reader.pages).split())
    return reader, text


def _scanned(reader: PdfReader) -> list[str]:
    """What the QR codes of the PDF's images say, read back as a phone's scanner would."""
    found = []
    for sheet in reader.pages:
        for image in sheet.images:
            found += [code.text for code in zxingcpp.read_barcodes(image.image)]
    return found


def _checked_qr(reader: PdfReader, code: str) -> None:
    assert _scanned(reader) == [f"{ORIGIN}/#/lookup/{code}"]
    for secret in PERSONAL:
        assert secret not in _scanned(reader)[0]


def test_the_receipt_names_the_applicant_the_documents_and_the_return_date(
        client: TestClient, world: World, conn: Connection) -> None:
    dossier = _submitted(client, world, conn)
    received = Desk(client, world, dossier).act("officer", "receive").json()
    pdf = _paper(client, world, dossier, "01")
    reader, text = _read(pdf, "A5")
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
    assert f"Mã hồ sơ: {dossier['code']}" in text
    assert "Ông/Bà: Trần Thị Bích" in text
    assert "Số điện thoại: 0907111222" in text
    due = date.fromisoformat(received["due_on"])
    assert f"Thời gian trả kết quả giải quyết hồ sơ: ngày {due:%d/%m/%Y}." in text
    assert f"ngày {dossier_workflow.today():%d/%m/%Y}." in text  # received today
    assert "Thời gian giải quyết hồ sơ theo quy định: 15 ngày làm việc." in text
    assert "- Đơn đề nghị cấp giấy phép xây dựng" in text
    assert "- Hai bộ bản vẽ thiết kế xây dựng" in text
    assert "Bản cam kết bảo đảm an toàn" not in text  # optional, and not attached
    assert "Người Thử Officer" in text  # who received it signs
    assert "ỦY BAN NHÂN DÂN PHƯỜNG TÂN MỸ" in text  # the ward's committee handles permits
    assert "Thông tư số 01/2018/TT-VPCP" in text
    assert reader.metadata is not None
    assert reader.metadata.title == f"{FORM_TITLES['01']} - {dossier['code']}"
    _checked_qr(reader, dossier["code"])
    # The officer who handles it downloads the same paper.
    _, officers = _read(_paper(client, world, dossier, "01", "officer"), "A5")
    assert officers == text


def test_the_supplement_request_lists_what_is_missing_and_by_when(
        client: TestClient, world: World, conn: Connection) -> None:
    dossier = _submitted(client, world, conn)
    desk = Desk(client, world, dossier)
    desk.act("officer", "receive")
    desk.act("officer", "start")
    later = dossier_workflow.today() + timedelta(days=10)
    desk.act("officer", "request_supplement", due_on=later.isoformat(), note="Thiếu bản vẽ",
             missing=["Bản vẽ mặt bằng tầng 1", "Giấy chứng nhận quyền sử dụng đất"])
    reader, text = _read(_paper(client, world, dossier, "02"), "A5")
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text
    assert f"Mã hồ sơ: {dossier['code']}" in text
    assert "1. Bản vẽ mặt bằng tầng 1 2. Giấy chứng nhận quyền sử dụng đất" in text
    assert f"Thời hạn bổ sung: trước ngày {later:%d/%m/%Y}." in text
    assert "Lý do: Thiếu bản vẽ" in text
    assert "Hồ sơ của: Trần Thị Bích" in text
    _checked_qr(reader, dossier["code"])
    # Answered, then asked again: the paper is the latest request's.
    answered = client.post(f"/api/dossiers/{dossier['id']}/supplement",
                           headers=world.actors["citizen"].headers(), json={"note": "Đã gửi"})
    assert answered.status_code == 200, answered.text
    desk.dossier["etag"] = answered.headers["etag"]
    desk.act("officer", "resume")
    desk.act("officer", "request_supplement", due_on=later.isoformat(),
             missing=["Bản cam kết an toàn công trình liền kề"])
    _, text = _read(_paper(client, world, dossier, "02"), "A5")
    assert "1. Bản cam kết an toàn công trình liền kề" in text
    assert "Bản vẽ mặt bằng tầng 1" not in text


def test_the_refusal_gives_the_reasons(client: TestClient, world: World,
                                       conn: Connection) -> None:
    dossier = _submitted(client, world, conn)
    desk = Desk(client, world, dossier)
    desk.act("officer", "receive")
    desk.act("officer", "start")
    desk.act("leader", "refuse", reasons=["Vượt tầng cao tối đa của ô phố",
                                          "Lấn chỉ giới đường đỏ"])
    reader, text = _read(_paper(client, world, dossier, "03"), "A5")
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN, GIẢI QUYẾT HỒ SƠ" in text
    assert "thông báo không giải quyết hồ sơ này với lý do cụ thể như sau: " \
           "- Vượt tầng cao tối đa của ô phố - Lấn chỉ giới đường đỏ" in text
    assert "Người Thử Leader" in text
    _checked_qr(reader, dossier["code"])
    # Declined at the desk, the same form says it was not received.
    other = _submitted(client, world, conn)
    Desk(client, world, other).act("officer", "decline", reasons=["Hồ sơ không đúng thẩm quyền"])
    _, declined = _read(_paper(client, world, other, "03"), "A5")
    assert "thông báo không tiếp nhận hồ sơ này" in declined
    assert "- Hồ sơ không đúng thẩm quyền" in declined
    assert other["code"] in declined
    assert dossier["code"] not in declined


def test_the_apology_gives_the_old_and_the_new_date(client: TestClient, world: World,
                                                    conn: Connection) -> None:
    dossier = _submitted(client, world, conn)
    desk = Desk(client, world, dossier)
    desk.act("officer", "receive")
    desk.act("officer", "start")
    old = dossier_workflow.today() - timedelta(days=3)
    conn.exec_driver_sql("UPDATE dossier SET due_on = %(d)s WHERE id = %(i)s",
                         {"d": old, "i": dossier["id"]})
    DossierService(DossierRepository(conn), "000.00.01.H29", Clock(conn)).mark_overdue()
    desk.dossier["etag"] = client.get(f"/api/dossiers/{dossier['id']}",
                                      headers=world.actors["officer"].headers()).headers["etag"]
    new = dossier_workflow.today() + timedelta(days=7)
    desk.act("officer", "apologise", reason="Chờ ý kiến phòng Tài nguyên",
             new_due_on=new.isoformat())
    reader, text = _read(_paper(client, world, dossier, "04"), "A5")
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in text
    assert "Kính gửi: Ông/Bà Trần Thị Bích" in text
    assert f"Ngày hẹn trả kết quả: {old:%d/%m/%Y}" in text
    assert f"hẹn trả kết quả vào ngày {new:%d/%m/%Y}." in text
    assert "Lý do: Chờ ý kiến phòng Tài nguyên" in text
    assert f"Ngày {dossier_workflow.today():%d/%m/%Y}, Ủy ban nhân dân phường" in text
    _checked_qr(reader, dossier["code"])


def test_only_those_who_may_read_the_dossier_get_its_papers(
        client: TestClient, world: World, conn: Connection) -> None:
    dossier = _submitted(client, world, conn)
    Desk(client, world, dossier).act("officer", "receive")
    url = f"/api/dossiers/{dossier['id']}/papers/01"
    statuses = {who: client.get(url, headers=world.actors[who].headers()).status_code
                for who in ("citizen", "officer", "leader", "citizen2", "officer2", "planner",
                            "anonymous")}
    # Another citizen is not told it exists; staff outside its department or wards are
    # refused; nobody must sign in first; planners hold no dossier.read at all.
    assert statuses == {"citizen": 200, "officer": 200, "leader": 200, "citizen2": 404,
                        "officer2": 403, "planner": 403, "anonymous": 401}


def test_an_unknown_form_is_refused_and_a_form_not_written_yet_is_named(
        client: TestClient, world: World, conn: Connection) -> None:
    dossier = _submitted(client, world, conn)
    Desk(client, world, dossier).act("officer", "receive")
    citizen = world.actors["citizen"].headers()
    for form in ("05", "1", "001", "xx"):
        answer = client.get(f"/api/dossiers/{dossier['id']}/papers/{form}", headers=citizen)
        assert answer.status_code == 422, form
    for form in ("02", "03", "04"):
        answer = client.get(f"/api/dossiers/{dossier['id']}/papers/{form}", headers=citizen)
        assert answer.status_code == 404
        assert f"no form {form} ({FORM_TITLES[form]}) yet" in answer.json()["detail"]
    draft = world.dossiers["c1_draft"]
    answer = client.get(f"/api/dossiers/{draft.id}/papers/01", headers=citizen)
    assert answer.status_code == 404
    assert "no form 01" in answer.json()["detail"]


def test_the_results_carry_the_answers_on_a4(client: TestClient, world: World,
                                            conn: Connection) -> None:
    business = _submitted(client, world, conn, BUSINESS, OTHER_WARD,
                          business_name="Tạp hóa Bích Ngọc", capital_vnd=150_000_000,
                          business_lines="Bán lẻ thực phẩm, đồ uống")
    permit = _submitted(client, world, conn, floors=4, height_m=15.5, footprint_m2=72,
                        floor_area_m2=288)
    repo = DossierRepository(conn)
    paid(conn, business["id"])  # a fully online procedure's fee, before its receipt
    for dossier, number in ((business, "41A8012345"), (permit, "125/GPXD")):
        for move in ("receive", "start", "approve"):
            fire(conn, DOSSIER, dossier["id"], move, SYSTEM)
        with pytest.raises(NotFoundError, match="no number yet"):
            result_paper(conn, repo.get(dossier["id"]), "x")
        fire(conn, DOSSIER, dossier["id"], "issue_result", SYSTEM, detail={"result_no": number},
             carry={"result": ResultFile("0" * 64, 1, "Thử")})  # the paper alone is tested
    url = status_url(ORIGIN, business["code"])
    reader, text = _read(result_paper(conn, repo.get(business["id"]), url), "A4")
    assert "GIẤY CHỨNG NHẬN ĐĂNG KÝ HỘ KINH DOANH" in text
    assert "Số: 41A8012345" in text
    assert "1. Tên hộ kinh doanh: Tạp hóa Bích Ngọc" in text
    assert "3. Ngành, nghề kinh doanh: Bán lẻ thực phẩm, đồ uống" in text
    assert "4. Vốn kinh doanh: 150.000.000 đồng" in text
    assert "5. Chủ hộ kinh doanh: Trần Thị Bích" in text
    assert f"Thửa đất {world.parcels[OTHER_WARD]}, phường Tân Thuận, Thành phố" in text
    assert f"Đăng ký lần đầu: ngày {dossier_workflow.today():%d/%m/%Y}" in text
    _checked_qr(reader, business["code"])
    url = status_url(ORIGIN, permit["code"])
    reader, text = _read(result_paper(conn, repo.get(permit["id"]), url), "A4")
    assert "GIẤY PHÉP XÂY DỰNG" in text
    assert "Số: 125/GPXD" in text
    assert f"Vị trí xây dựng: Thửa đất {world.parcels[MY_WARD]}, phường Tân Mỹ" in text
    assert "Số tầng: 4" in text
    assert "Chiều cao công trình: 15,5 m" in text
    assert "Diện tích xây dựng tầng 1: 72 m²" in text
    assert "Tổng diện tích sàn: 288 m²" in text
    _checked_qr(reader, permit["code"])
    # A number given by the caller wins (a result drawn up before the move records it).
    _, text = _read(result_paper(conn, repo.get(permit["id"]), url, result_no="7/GPXD"), "A4")
    assert "Số: 7/GPXD" in text
    assert "125/GPXD" not in text


def test_registered_workplace_rules_get_their_notice(client: TestClient, world: World,
                                                    conn: Connection) -> None:
    rules = _submitted(client, world, conn, "labour-rules-registration", OTHER_WARD,
                       employer="Công ty TNHH Bao Bì Tân Thuận", employees=240)
    for move in ("receive", "start", "approve"):
        fire(conn, DOSSIER, rules["id"], move, SYSTEM)
    fire(conn, DOSSIER, rules["id"], "issue_result", SYSTEM, detail={"result_no": "18/TB-LĐ"},
         carry={"result": ResultFile("0" * 64, 1, "Thử")})
    reader, text = _read(result_paper(conn, DossierRepository(conn).get(rules["id"]),
                                      status_url(ORIGIN, rules["code"])), "A4")
    assert "Về việc đăng ký nội quy lao động" in text
    assert "Số: 18/TB-LĐ" in text
    assert "Người sử dụng lao động: Công ty TNHH Bao Bì Tân Thuận" in text
    assert "Số người lao động: 240" in text
    assert f"hồ sơ {rules['code']}" in text
    _checked_qr(reader, rules["code"])


def test_every_template_shipped_loads_and_the_forms_are_a5() -> None:
    codes = shipped()
    assert codes == ["01", "02", "03", "04", "result-construction-permit",
                     "result-household-business", "result-labour-rules"]
    for code in codes:
        loaded = load_template(TEMPLATES / f"{code}.json")
        assert loaded == template(code)
        assert loaded.page == ("A5" if code in FORM_TITLES else "A4")
        if code in FORM_TITLES:  # the same title as the dossier's list of forms shows
            assert loaded.title == FORM_TITLES[code]
            assert loaded.legal_basis.unverified
            assert "01/2018/TT-VPCP" in loaded.legal_basis.text


def _broken(tmp_path: Path, name: str, change: Any) -> Path:
    raw = json.loads((TEMPLATES / "02.json").read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / name
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_loader_refuses_a_broken_template_naming_the_file_and_the_block(
        tmp_path: Path) -> None:
    assert load_template(_broken(tmp_path, "02.json", lambda raw: None)).code == "02"

    def bad_placeholder(raw: dict[str, Any]) -> None:
        raw["blocks"][4]["text"] = "Lý do: {reason.upper}"

    with pytest.raises(TemplateError, match=r"^02\.json: block 4 \(paragraph\) text: .*"
                                            r"\{reason\.upper\}"):
        load_template(_broken(tmp_path, "02.json", bad_placeholder))

    def no_items(raw: dict[str, Any]) -> None:
        del raw["blocks"][3]["items"]

    with pytest.raises(TemplateError, match=r"^02\.json: block 3 \(list\) items: Field required"):
        load_template(_broken(tmp_path, "02.json", no_items))

    def unknown_block(raw: dict[str, Any]) -> None:
        raw["blocks"][1]["type"] = "picture"

    with pytest.raises(TemplateError, match=r"^02\.json: block 1 \(picture\)"):
        load_template(_broken(tmp_path, "02.json", unknown_block))
    with pytest.raises(TemplateError, match=r"^03\.json: its code is '02'"):
        load_template(_broken(tmp_path, "03.json", lambda raw: None))
    not_json = tmp_path / "04.json"
    not_json.write_text('{"code": "04",', encoding="utf-8")
    with pytest.raises(TemplateError, match=r"^04\.json: not JSON \(line 1"):
        load_template(not_json)


def _facts(**more: Any) -> dict[str, Any]:
    """Every fact form 02 names, each with a value of its own."""
    facts: dict[str, Any] = {name: f"<{name}>" for name in template("02").facts_named()}
    facts["missing"] = ["Bản vẽ"]
    facts.update(more)
    return facts


def test_a_missing_fact_is_an_error_never_a_blank() -> None:
    url = status_url(ORIGIN, "000.00.01.H29-260101-0001")
    _, text = _read(render(template("02"), _facts(), url), "A5")
    assert "Lý do: <reason>" in text
    assert "1. Bản vẽ" in text
    for name in ("reason", "officer", "agency", "code"):
        facts = _facts()
        del facts[name]
        with pytest.raises(MissingFactError, match=f"no fact '{name}'"):
            render(template("02"), facts, url)
    with pytest.raises(MissingFactError, match=r"block 3 \(list\).*'missing' is a text"):
        render(template("02"), _facts(missing="Bản vẽ"), url)
    with pytest.raises(MissingFactError, match="'reason' is a list"):
        render(template("02"), _facts(reason=["a"]), url)


def test_dates_are_written_dd_mm_yyyy() -> None:
    assert dmy(date(2026, 3, 5)) == "05/03/2026"
    assert dmy("2026-11-30") == "30/11/2026"
    assert status_url("https://host/", "000.00.01.H29-260101-0001") == \
        "https://host/#/lookup/000.00.01.H29-260101-0001"
