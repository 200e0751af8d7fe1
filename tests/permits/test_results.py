"""A dossier's result issued as a signed PDF: made from its template only once every check of
the move holds, signed so that pyHanko's validator (a PDF reader's check) verifies it, kept in
the store by its hash (the sweep leaves it), downloaded by whoever may read the dossier, and
checked against its hash on the public status page; a byte changed and it no longer holds."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Connection

from permits.documents.storage import FileStore, sweep
from permits.results import service as results_service
from permits.results.signing import trust_roots, verify
from tests.accounts.world import World, build
from tests.permits.test_dossier_life import Desk, _submitted


@pytest.fixture
def world(conn: Connection) -> World:
    return build(conn)


def _approved(client: TestClient, world: World, conn: Connection) -> Desk:
    desk = Desk(client, world, _submitted(client, world, conn, floors=3))
    for who, move in (("officer", "receive"), ("officer", "start"), ("leader", "approve")):
        desk.act(who, move)
    return desk


def _stored(files: Path) -> list[Path]:
    return sorted(p for p in (files / "sha256").rglob("*") if p.is_file()) \
        if (files / "sha256").exists() else []


def test_the_result_is_signed_downloaded_and_checked_by_its_hash(
        client: TestClient, world: World, conn: Connection, files_dir: Path) -> None:
    desk = _approved(client, world, conn)
    before = _stored(files_dir)
    desk.act("officer", "issue_result", result_no="125/GPXD")
    url = f"/api/dossiers/{desk.dossier['id']}/result"
    answer = client.get(url, headers=world.actors["citizen"].headers())
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["cache-control"] == "private, no-store"
    assert f'{desk.dossier["code"]}-ket-qua.pdf' in answer.headers["content-disposition"]
    signed = answer.content
    # A PDF reader's check: intact, trusted, the whole file signed, by the office's signer.
    settings = client.app.state.settings  # type: ignore[attr-defined]
    check = verify(signed, trust_roots(settings))
    assert (check.valid, check.intact, check.trusted) == (True, True, True)
    assert check.signer == settings.signing_name
    assert check.reason == f"Kết quả giải quyết hồ sơ {desk.dossier['code']}"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(signed)).pages)
                    .split())
    assert "GIẤY PHÉP XÂY DỰNG" in text
    assert "Số: 125/GPXD" in text
    # One byte changed (inside the signed page) and the signature no longer holds.
    at = signed.index(b"stream") + 20
    changed = signed[:at] + bytes([signed[at] ^ 1]) + signed[at + 1:]
    assert verify(changed, trust_roots(settings)).valid is False
    # The status page says a result exists and gives its hash; nothing else of it.
    public = client.get(f"/api/dossiers/lookup/{desk.dossier['code']}").json()
    assert public["result_sha256"] == hashlib.sha256(signed).hexdigest()
    assert public["result_signed_at"]
    # Kept once in the store, and the sweep knows a result needs it.
    kept = [p for p in _stored(files_dir) if p not in before]
    assert [p.name for p in kept] == [public["result_sha256"]]
    report = sweep(conn, FileStore(files_dir), older_than=timedelta(0))
    assert kept[0].is_file()
    assert report.kept >= 1
    # The officer in scope downloads it too; another citizen finds nothing.
    assert client.get(url, headers=world.actors["officer"].headers()).status_code == 200
    assert client.get(url, headers=world.actors["citizen2"].headers()).status_code == 404


def test_no_result_is_made_before_the_move_may_happen(
        client: TestClient, world: World, conn: Connection, files_dir: Path) -> None:
    desk = _approved(client, world, conn)
    before = _stored(files_dir)
    desk.act("officer", "issue_result", 409)  # no number: refused before anything is signed
    stale = {**world.actors["officer"].headers(), "If-Match": '"dossier-1-v1"'}
    answer = client.post(f"/api/dossiers/{desk.dossier['id']}/actions", headers=stale,
                         json={"action": "issue_result", "result_no": "1/GPXD"})
    assert answer.status_code == 412
    assert _stored(files_dir) == before
    assert client.get(f"/api/dossiers/{desk.dossier['id']}/result",
                      headers=world.actors["citizen"].headers()).status_code == 404


def test_a_signature_that_would_not_verify_issues_nothing(
        client: TestClient, world: World, conn: Connection,
        monkeypatch: pytest.MonkeyPatch) -> None:
    desk = _approved(client, world, conn)

    class Broken:
        def sign(self, pdf: bytes, *, reason: str, location: str) -> bytes:
            return pdf  # "signed" by nobody

    monkeypatch.setattr(results_service, "kept_signer", lambda settings: Broken())
    refused = desk.act("officer", "issue_result", 503, result_no="9/GPXD")  # try again later
    assert refused.json()["field"] == "result_no"
    status = conn.exec_driver_sql("SELECT status FROM dossier WHERE id = %(i)s",
                                  {"i": desk.dossier["id"]}).scalar_one()
    assert status == "approved"
    assert conn.exec_driver_sql("SELECT count(*) FROM dossier_result WHERE dossier_id = %(i)s",
                                {"i": desk.dossier["id"]}).scalar_one() == 0
