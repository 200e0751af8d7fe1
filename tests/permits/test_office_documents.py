"""The register of official documents: entries by hand and from the document system's CSV
(one bad line refuses the file, naming it; nothing written), linked to the dossiers and parcels
their text names, found without diacritics, within the caller's department."""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from permits.documents.storage import FileStore, sweep
from tests.accounts.world import MY_WARD, World, build
from tests.permits.document_files import _content, _open_action, jpeg, pdf

CSV_HEAD = "direction,number,symbol,issued_on,issuer,summary,doc_type,urgency,body_text\n"


@pytest.fixture
def world(conn: Connection) -> World:
    return build(conn)


def _entry(**changes: Any) -> dict[str, Any]:
    return {"direction": "incoming", "number": "125", "symbol": "45/SXD-QLQH",
            "issued_on": "2026-03-10", "issuer": "Sở Xây dựng",
            "summary": "Về việc góp ý đồ án quy hoạch phân khu 1/2000 phường Tân Mỹ",
            "doc_type": "Công văn", **changes}


def test_a_document_is_found_without_diacritics_and_linked(
        client: TestClient, conn: Connection, world: World) -> None:
    officer = world.actors["officer"].headers()
    code = world.dossiers["c1_sub"].code
    parcel = world.parcels[MY_WARD]
    made = client.post("/api/office/documents", json=_entry(
        body_text=f"Đề nghị xem xét hồ sơ {code} trên thửa {parcel} và hồ sơ "
                  "000.00.01.H29-990101-0001 (không có)."), headers=officer)
    assert made.status_code == 201, made.text
    assert {(link["kind"], link["ref"]) for link in made.json()["links"]} == \
        {("dossier", code), ("parcel", parcel)}
    client.post("/api/office/documents", json=_entry(
        number="126", summary="Về việc tổ chức hội nghị tổng kết", doc_type="Giấy mời"),
        headers=officer)
    # (The web app's tests commit documents of their own: ours are told by their numbers.)
    def numbers(query: str) -> set[str]:
        return {d["number"] for d in client.get(f"/api/office/documents?{query}",
                                                headers=officer).json()} & {"125", "126"}
    assert numbers("q=quy hoach phan khu") == {"125"}
    assert numbers("q=QUY HOẠCH") == {"125"}
    assert numbers("year=2025") == set()
    assert numbers("year=2026") == {"125", "126"}
    # The same number of the same day again: refused; another department sees none of it.
    again = client.post("/api/office/documents", json=_entry(), headers=officer)
    assert (again.status_code, again.json()["field"]) == (422, "number")
    assert client.get("/api/office/documents", headers=world.actors["officer2"].headers()
                      ).json() == []
    assert client.get("/api/office/documents",
                      headers=world.actors["citizen"].headers()).status_code == 403


def test_an_import_is_checked_whole_before_anything_is_written(
        client: TestClient, conn: Connection, world: World) -> None:
    officer = world.actors["officer"].headers()
    good = CSV_HEAD + (
        "incoming,1,12/UBND,2026-01-05,UBND Thành phố,Về việc cấp phép xây dựng,Công văn,"
        "urgent,\n"
        "outgoing,7,3/QLĐT,05/01/2026,Phòng Quản lý đô thị,Trả lời kiến nghị,Công văn,,\n")
    bad = good + "incoming,2,13/UBND,31/02/2026,UBND,Về việc,Công văn,,\n"
    before = conn.exec_driver_sql("SELECT count(*) FROM office_document").scalar_one()
    refused = client.post("/api/office/documents/import", headers=officer,
                          files={"file": ("so-van-ban.csv", bad.encode(), "text/csv")})
    assert refused.status_code == 422
    assert refused.json()["field"] == "issued_on"
    assert "line 4" in refused.json()["detail"]
    assert conn.exec_driver_sql("SELECT count(*) FROM office_document").scalar_one() == before
    done = client.post("/api/office/documents/import", headers=officer,
                       files={"file": ("so.csv", ("\ufeff" + good).encode(), "text/csv")})
    assert done.json() == {"added": 2, "skipped": 0, "links": 0}
    again = client.post("/api/office/documents/import", headers=officer,
                        files={"file": ("so.csv", good.encode(), "text/csv")})
    assert again.json() == {"added": 0, "skipped": 2, "links": 0}
    headless = client.post("/api/office/documents/import", headers=officer,
                           files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")})
    assert (headless.status_code, headless.json()["field"]) == (422, "file")
    latin = client.post("/api/office/documents/import", headers=officer,
                        files={"file": ("x.csv", b"direction\xff\xfe,x\n", "text/csv")})
    assert (latin.status_code, latin.json()["field"]) == (422, "file")


def test_an_entry_keeps_its_file_checked_as_every_upload(
        client: TestClient, conn: Connection, world: World, files_dir: Path) -> None:
    officer = world.actors["officer"].headers()
    made = client.post("/api/office/documents", json=_entry(number="126"), headers=officer)
    assert made.status_code == 201, made.text
    entry = made.json()
    assert entry["file_name"] is None
    url = f"/api/office/documents/{entry['id']}/file"
    assert client.get(url, headers=officer).status_code == 404  # no file yet
    # Its own content: the same bytes committed by another test would be theirs to keep.
    scan = pdf(_content(f"% {secrets.token_hex(8)}".encode()))
    sent = client.put(url, headers=officer, files={
        "file": ("45-SXD-QLQH.pdf", scan, "application/pdf")})
    assert sent.status_code == 200, sent.text
    assert (sent.json()["file_name"], sent.json()["file_type"], sent.json()["file_size"]) == \
        ("45-SXD-QLQH.pdf", "application/pdf", len(scan))
    listed = client.get("/api/office/documents?q=quy hoach", headers=officer).json()
    assert [d["file_name"] for d in listed if d["id"] == entry["id"]] == ["45-SXD-QLQH.pdf"]
    got = client.get(url, headers=officer)
    assert got.status_code == 200
    assert got.content == scan
    assert got.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in got.headers["content-security-policy"]
    # Hostile or wrong files are refused, naming the document, and the file stays as it was.
    for name, data, status in (("cong-van.pdf", pdf(_open_action(S="/JavaScript", JS="x")), 422),
                               ("cong-van.exe", b"MZ\x90\x00" + b"\x00" * 200, 415),
                               ("rong.pdf", b"", 422)):
        refused = client.put(url, headers=officer, files={"file": (name, data, "text/plain")})
        assert refused.status_code == status, (name, refused.text)
        assert refused.json()["field"] == "file"
        assert "45/SXD-QLQH" in refused.json()["detail"]
    assert client.get(url, headers=officer).content == scan
    # A scan as an image loses its metadata; it replaces the PDF.
    photo = client.put(url, headers=officer, files={"file": ("anh.jpg", jpeg(), "image/jpeg")})
    assert (photo.status_code, photo.json()["file_type"]) == (200, "image/jpeg")
    assert b"Exif" not in client.get(url, headers=officer).content
    # Another department's officer reaches neither the entry nor its file.
    stranger = world.actors["officer2"].headers()
    assert client.get(url, headers=stranger).status_code == 404
    assert client.put(url, headers=stranger, files={
        "file": ("x.pdf", scan, "application/pdf")}).status_code == 404
    assert client.get(url, headers=world.actors["citizen"].headers()).status_code == 403
    # The sweep keeps the entry's file (and lets the replaced PDF go).
    store = FileStore(files_dir)
    report = sweep(conn, store, older_than=timedelta(0), now=time.time() + 60)
    assert report.removed == 1
    assert client.get(url, headers=officer).status_code == 200
