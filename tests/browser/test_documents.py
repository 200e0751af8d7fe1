"""A draft's documents in Chromium: the procedure's list, a file chosen and attached, a photo
input that opens the camera, a hostile file refused naming the document."""

from __future__ import annotations

import secrets
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from accounts.service import AccountService
from core.notify import OutboxNotifier
from core.workflow import SYSTEM, create
from permits.workflow import DOSSIER
from tests.browser.conftest import wait_for
from tests.permits.document_files import pdf


def _draft_of_a_signed_in_citizen(page: Page, live_server: str, engine: Engine) -> int:
    phone = "+8498" + "".join(secrets.choice("0123456789") for _ in range(7))
    with engine.begin() as conn:
        person = int(conn.exec_driver_sql(
            "INSERT INTO person (phone, password_hash, display_name, verified_at) VALUES "
            "(%(p)s, '-', 'Chủ Hồ Sơ', now()) RETURNING id", {"p": phone}).scalar_one())
        conn.exec_driver_sql("INSERT INTO role_grant (person_id, role) VALUES (%(p)s, "
                             "'citizen')", {"p": person})
        parcel, ward = conn.exec_driver_sql(
            "SELECT p.parcel_key, w.code FROM parcel p JOIN admin_unit w ON w.id = "
            "p.current_ward_id ORDER BY p.id LIMIT 1").one()
        dossier = create(conn, DOSSIER, "create", SYSTEM, {
            "owner_id": person, "procedure_id": "construction-permit-house",
            "department": "urban-management", "ward_code": ward, "parcel_key": parcel,
            "applicant": {"full_name": "Chủ Hồ Sơ", "phone": phone}, "answers": {}}).row_id
        session = AccountService(conn, OutboxNotifier(conn), b"k" * 32)._new_session(person)
    page.context.add_cookies([{"name": "civicmap_session", "value": session.token,
                               "url": live_server}])
    page.add_init_script("localStorage.setItem('signedIn', '1')")
    return dossier


def test_a_draft_takes_a_file_per_document(page: Page, live_server: str, engine: Engine,
                                           tmp_path: Path) -> None:
    dossier = _draft_of_a_signed_in_citizen(page, live_server, engine)
    page.goto(live_server + f"/#/dossiers/{dossier}")
    wait_for(page, "window.__civicmap && window.__civicmap.loaded", timeout=90_000)
    panel = page.locator("#dossier")
    expect(panel.get_by_role("heading", name="Thành phần hồ sơ")).to_be_visible(timeout=30_000)
    application = panel.locator(".document").filter(has_text="Đơn đề nghị cấp giấy phép")
    expect(application).to_contain_text("Chưa có tệp")
    camera = application.get_by_label("Chụp ảnh")
    assert camera.get_attribute("capture") == "environment"
    assert "image/jpeg" in (camera.get_attribute("accept") or "")
    assert "application/pdf" not in (camera.get_attribute("accept") or "")
    drawings = panel.locator(".document").filter(has_text="Hai bộ bản vẽ")
    expect(drawings.get_by_label("Chụp ảnh")).to_have_count(0)  # PDF only: no camera
    good = tmp_path / "don-de-nghi.pdf"
    good.write_bytes(pdf())
    application.get_by_label("Chọn tệp").set_input_files(good)
    expect(application.get_by_role("link", name="don-de-nghi.pdf")).to_be_visible()
    script = tmp_path / "ban-ve.pdf"
    script.write_bytes(b"#!/bin/sh\necho pwned\n")
    drawings.get_by_label("Chọn tệp").set_input_files(script)
    expect(drawings.get_by_role("alert")).to_contain_text("drawings (Hai bộ bản vẽ thiết kế")
    expect(drawings).to_contain_text("Chưa có tệp")
