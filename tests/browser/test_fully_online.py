"""A household-business registration fully online (toàn trình) in Chromium: the citizen
submits and pays through the gateway, the office receives it (its receipt a PDF), decides and
issues the certificate, the citizen downloads it signed, and a copy is checked on the public
status page by its hash (a changed copy is not)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import Engine

from accounts.service import GrantSpec
from core.settings import Settings
from permits.results.signing import trust_roots, verify
from tests.accounts.world import ECONOMY
from tests.browser.test_dossiers import _as, _person, _status, pages  # noqa: F401
from tests.browser.test_payments import business_draft


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


def test_registered_paid_received_issued_downloaded_and_checked(
        pages: list[Page], live_server: str, engine: Engine, tmp_path: Path,  # noqa: F811
        signing_dir: Path) -> None:
    citizen, officer, leader, stranger = pages
    citizen_token, phone = _person(engine, "Võ Thị Tạp Hoá", None)
    draft, ward = business_draft(engine, phone, "Võ Thị Tạp Hoá", nth=3,
                                 business_name="Tạp hoá Cô Ba")
    officer_token, _ = _person(engine, "Cán Bộ Kinh Tế", GrantSpec("officer", ECONOMY, (ward,)))
    leader_token, _ = _person(engine, "Trưởng Phòng Kinh Tế", GrantSpec("leader", ECONOMY))
    # Submitted from the draft's screen, then the fee: the gateway and back.
    _as(citizen, live_server, citizen_token, f"#/dossiers/{draft}")
    citizen.get_by_role("button", name="Nộp hồ sơ").click()
    _status(citizen, "Chờ tiếp nhận")
    code = citizen.locator("#dossier-title").inner_text().removeprefix("Hồ sơ ")
    citizen.get_by_role("button", name="Thanh toán lệ phí").click()
    expect(citizen.locator("#amount")).to_have_text("100.000 đ", timeout=30_000)
    citizen.get_by_role("button", name="Thanh toán thành công").click()
    expect(citizen.locator("#dossier-fee-state")).to_have_text("Đã thanh toán", timeout=30_000)
    # The office receives it; its receipt (Form 01) is a PDF in Vietnamese.
    _as(officer, live_server, officer_token, f"#/dossiers/{draft}")
    officer.get_by_role("button", name="Tiếp nhận", exact=True).click()
    _status(officer, "Đã tiếp nhận")
    receipt = officer.locator(".dossier-form[data-form='01']")
    with officer.expect_download() as got:
        receipt.get_by_role("link", name="Tải phiếu (PDF)").click()
    text = _text(Path(got.value.path()).read_bytes())
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
    assert code in text
    officer.get_by_role("button", name="Chuyển xử lý").click()
    _status(officer, "Đang xử lý")
    _as(leader, live_server, leader_token, f"#/dossiers/{draft}")
    leader.get_by_role("button", name="Phê duyệt").click()
    _status(leader, "Đã phê duyệt")
    officer.reload()
    issue = officer.locator(".dossier-move[data-action='issue_result']")
    issue.get_by_label("Số giấy phép / giấy chứng nhận").fill("41A8099001")
    issue.get_by_role("button", name="Ban hành kết quả").click()
    _status(officer, "Có kết quả")
    # The citizen downloads the certificate, signed so that a PDF reader's check holds.
    citizen.goto(f"{live_server}/#/dossiers/{draft}")
    _status(citizen, "Có kết quả")
    with citizen.expect_download() as got:
        citizen.get_by_role("link", name="Tải kết quả (PDF có chữ ký số)").click()
    certificate = tmp_path / "ket-qua.pdf"
    got.value.save_as(certificate)
    signed = certificate.read_bytes()
    settings = Settings(signing_dir=signing_dir)  # the live server's
    assert verify(signed, trust_roots(settings)).valid  # safe beside Playwright's loop
    text = _text(signed)
    assert "GIẤY CHỨNG NHẬN ĐĂNG KÝ HỘ KINH DOANH" in text
    assert "Tạp hoá Cô Ba" in text
    assert "41A8099001" in text
    # Anyone holding a copy checks it on the status page; the file never leaves the browser.
    stranger.goto(f"{live_server}/#/lookup/{code}")
    expect(stranger.locator("#lookup-result")).to_contain_text("Có kết quả", timeout=30_000)
    stranger.locator("#result-copy").set_input_files(certificate)
    expect(stranger.locator("#result-verdict")).to_have_text(
        re.compile("^Khớp: đây đúng là kết quả"), timeout=30_000)
    forged = tmp_path / "ban-sua.pdf"
    middle = len(signed) // 2
    forged.write_bytes(signed[:middle] + bytes([signed[middle] ^ 1]) + signed[middle + 1:])
    stranger.locator("#result-copy").set_input_files(forged)
    expect(stranger.locator("#result-verdict")).to_have_text(re.compile("^Không khớp"))
