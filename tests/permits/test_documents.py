"""A dossier's documents as an applicant's phone sends them and an officer reads them: files
judged by their content, cleaned, scanned, kept by hash, refused with the document named and
nothing left behind; who may see them; the sweep; clamd."""

from __future__ import annotations

import io
import os
import socketserver
import struct
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import ExifTags, Image
from sqlalchemy import Connection, Engine

from core.deps import get_connection
from core.errors import UnavailableError
from core.settings import Settings
from core.workflow import ENGINE_SETTING, SYSTEM, fire
from gisapi.main import create_app
from gisapi.queue import platform_queue
from permits.documents import sniff
from permits.documents.repository import missing_documents
from permits.documents.scan import EICAR, ClamdScanner, LocalScanner
from permits.documents.storage import FileStore, sweep
from permits.workflow import DOSSIER
from tests.accounts.world import World, attach_all, build
from tests.permits.document_files import (
    HOSTILE,
    ROTATED_90,
    attach,
    jpeg,
    pdf,
    png,
    with_content,
)

APPLICATION = "Đơn đề nghị cấp giấy phép xây dựng"
DRAWINGS = "Hai bộ bản vẽ thiết kế xây dựng"


@pytest.fixture
def world(conn: Connection) -> World:
    made = build(conn)
    # The world's dossiers carry stand-ins for their documents; these tests attach real ones.
    conn.exec_driver_sql("DELETE FROM dossier_document WHERE sha256 = repeat('0', 64)")
    return made


def _url(world: World, key: str = "c1_draft") -> str:
    return f"/api/dossiers/{world.dossiers[key].id}/documents"


def _send(client: TestClient, world: World, name: str, data: bytes,
          declared: str = "application/pdf", key: str = "application",
          who: str = "citizen", dossier: str = "c1_draft") -> Any:
    return client.post(_url(world, dossier), headers=world.actors[who].headers(),
                       data={"key": key}, files={"file": (name, data, declared)})


def _stored(files_dir: Path) -> list[Path]:
    """Every file under the store, temporary ones included."""
    return sorted(p for p in files_dir.rglob("*") if p.is_file()) if files_dir.exists() else []


def _rows(conn: Connection, world: World) -> int:
    return int(conn.exec_driver_sql(
        "SELECT count(*) FROM dossier_document WHERE dossier_id = %(d)s",
        {"d": world.dossiers["c1_draft"].id}).scalar_one())


def _submit(conn: Connection, world: World, key: str = "c1_draft") -> None:
    attach_all(conn, world.dossiers[key].id)  # what the test did not attach itself
    fire(conn, DOSSIER, world.dossiers[key].id, "submit", SYSTEM,
         values={"code": "000.00.01.H29-260301-0001"})


def test_a_pdf_is_kept_by_its_hash_and_read_back_as_a_download(
        client: TestClient, world: World, files_dir: Path) -> None:
    data = pdf()
    sent = _send(client, world, "Đơn đề nghị (bản ký).pdf", data)
    assert sent.status_code == 201, sent.text
    doc = sent.json()
    assert (doc["key"], doc["name_vi"], doc["content_type"]) == (
        "application", APPLICATION, "application/pdf")
    assert doc["file_name"] == "Đơn đề nghị (bản ký).pdf"
    assert doc["size_bytes"] == len(data)
    assert doc["for_event_id"] is None
    digest = doc["sha256"]
    assert _stored(files_dir) == [files_dir / "sha256" / digest[:2] / digest[2:4] / digest]
    citizen = world.actors["citizen"].headers()
    listed = client.get(_url(world), headers=citizen).json()
    assert [(d["id"], d["key"], d["name_en"]) for d in listed] == [
        (doc["id"], "application", "Application form")]
    got = client.get(f"{_url(world)}/{doc['id']}", headers=citizen)
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"].startswith("default-src 'none'; sandbox")
    # The same file again (a retry on a bad network) is the same attachment.
    again = _send(client, world, "Đơn đề nghị (bản ký).pdf", data)
    assert again.status_code == 200
    assert again.json()["id"] == doc["id"]
    assert len(_stored(files_dir)) == 1


def test_a_photo_loses_its_exif_and_stands_upright(client: TestClient, world: World,
                                                   files_dir: Path) -> None:
    original = jpeg()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert Image.open(io.BytesIO(original)).getexif()[ExifTags.Base.Orientation] == ROTATED_90
    sent = _send(client, world, "IMG_0001.JPG", original, "application/octet-stream",
                 key="land_certificate")
    assert sent.status_code == 201, sent.text
    doc = sent.json()
    assert (doc["content_type"], doc["file_name"]) == ("image/jpeg", "IMG_0001.jpg")
    kept = client.get(f"{_url(world)}/{doc['id']}",
                      headers=world.actors["citizen"].headers()).content
    image = Image.open(io.BytesIO(kept))
    assert image.format == "JPEG"
    assert image.size == (20, 40)  # turned as the camera was held
    assert dict(image.getexif()) == {}
    assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert b"Exif" not in kept
    assert "Điện thoại".encode() not in kept
    assert len(_stored(files_dir)) == 1
    shown = client.post(_url(world), headers=world.actors["citizen"].headers(),
                        data={"key": "land_certificate"},
                        files={"file": ("chup.png", png(), "image/png")})
    assert shown.status_code == 201, shown.text
    assert Image.open(io.BytesIO(client.get(
        f"{_url(world)}/{shown.json()['id']}", headers=world.actors["citizen"].headers()
    ).content)).mode == "RGBA"


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_file_is_refused_naming_the_document_and_nothing_is_kept(
        client: TestClient, world: World, conn: Connection, files_dir: Path,
        case: str) -> None:
    name, make, declared, status, says = HOSTILE[case]
    res = _send(client, world, name, make(), declared)
    assert res.status_code == status, res.text
    detail = res.json()["detail"]
    assert f"application ({APPLICATION})" in detail
    assert says in detail
    assert res.json()["field"] == "file"
    assert _rows(conn, world) == 0
    assert _stored(files_dir) == []


def test_a_type_the_document_does_not_accept_is_refused(client: TestClient, world: World,
                                                        files_dir: Path) -> None:
    res = _send(client, world, "ban-ve.pdf", png(), "application/pdf", key="drawings")
    assert res.status_code == 415
    assert f"drawings ({DRAWINGS})" in res.json()["detail"]
    assert "(PDF)" in res.json()["detail"]
    assert _stored(files_dir) == []
    unknown = _send(client, world, "x.pdf", pdf(), key="passport")
    assert unknown.status_code == 422
    assert unknown.json()["field"] == "key"


def test_a_file_over_the_documents_limit_is_refused(client: TestClient, world: World,
                                                    conn: Connection, files_dir: Path) -> None:
    conn.exec_driver_sql(
        "UPDATE procedure SET documents = (SELECT jsonb_agg(CASE WHEN d->>'key' = "
        "'application' THEN d || '{\"max_mb\": 1}' ELSE d END) FROM jsonb_array_elements("
        "documents) d) WHERE id = 'construction-permit-house'")
    big = with_content(b"0" * (1024**2 + 1))
    res = _send(client, world, "don.pdf", big)
    assert res.status_code == 413
    assert f"application ({APPLICATION})" in res.json()["detail"]
    assert "1 MB" in res.json()["detail"]
    assert _rows(conn, world) == 0
    assert _stored(files_dir) == []
    assert _send(client, world, "don.pdf", with_content(b"0" * 1000)).status_code == 201


def test_two_gigabytes_are_refused_before_a_byte_is_read(client: TestClient,
                                                         world: World) -> None:
    pulled: list[int] = []

    def body() -> Iterator[bytes]:
        for _ in range(4):
            pulled.append(1)
            yield b"-" * 1024

    headers = {**world.actors["citizen"].headers(), "Content-Length": str(2 * 1024**3),
               "Content-Type": "multipart/form-data; boundary=x"}
    res = client.post(_url(world), headers=headers, content=body())
    assert res.status_code == 413
    assert res.json()["field"] == "file"
    assert pulled == []


class _FakeClamd:
    """clamd's INSTREAM on a unix socket, finding a made-up signature."""

    SIGNATURE = b"CIVICMAP-FAKE-VIRUS"

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="clamd-")) / "clamd.sock"
        self.received: list[bytes] = []
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                assert self.rfile.read(10) == b"zINSTREAM\0"
                data = b""
                while (size := struct.unpack("!L", self.rfile.read(4))[0]) != 0:
                    data += self.rfile.read(size)
                fake.received.append(data)
                found = fake.SIGNATURE in data or EICAR in data
                self.wfile.write(b"stream: Fake.Virus FOUND\0" if found else b"stream: OK\0")

        self.server = socketserver.ThreadingUnixStreamServer(str(self.path), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()




@pytest.fixture(scope="module")
def fake_clamd() -> Iterator[_FakeClamd]:
    fake = _FakeClamd()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def small_cap(engine: Engine, conn: Connection, files_dir: Path,
              fake_clamd: _FakeClamd) -> Iterator[TestClient]:
    """An app whose largest document is 1 MB, and whose clamd is a fake one."""
    app = create_app(Settings(tile_cache_size=0, files_dir=files_dir, document_max_mb=1,
                              clamd_socket=fake_clamd.path), engine=engine)
    app.dependency_overrides[get_connection] = lambda: conn
    app.state.side_transaction = lambda: nullcontext(conn)
    with TestClient(app) as test_client:
        yield test_client


def test_a_body_without_a_length_is_counted_as_it_comes(small_cap: TestClient, world: World,
                                                        files_dir: Path) -> None:
    def body() -> Iterator[bytes]:
        yield b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n"
        for _ in range(3):
            yield b"0" * 1024**2

    res = small_cap.post(_url(world), content=body(), headers={
        **world.actors["citizen"].headers(), "Content-Type": "multipart/form-data; boundary=x"})
    assert res.status_code == 413
    assert _stored(files_dir) == []


def test_who_may_attach_read_and_remove(client: TestClient, world: World, conn: Connection,
                                        files_dir: Path) -> None:
    doc = _send(client, world, "don.pdf", pdf()).json()
    one = f"{_url(world)}/{doc['id']}"
    other = world.actors["citizen2"].headers()
    assert client.get(_url(world), headers=other).status_code == 404
    assert client.get(one, headers=other).status_code == 404
    assert _send(client, world, "x.pdf", pdf(), who="citizen2").status_code == 404
    assert client.delete(one, headers=other).status_code == 404
    assert client.get(_url(world)).status_code == 401
    assert client.get(one).status_code == 401
    officer = world.actors["officer"].headers()
    assert client.get(one, headers=officer).status_code == 403  # a draft is its owner's alone
    # Another dossier's document through this dossier's URL is not found.
    foreign = attach(conn, files_dir, world.dossiers["c2_draft"].id,
                     world.actors["citizen2"].person_id or 0)
    assert client.get(f"{_url(world)}/{foreign}",
                      headers=world.actors["citizen"].headers()).status_code == 404
    _submit(conn, world)
    listed = client.get(_url(world), headers=officer)
    assert listed.status_code == 200
    assert doc["id"] in [d["id"] for d in listed.json()]
    assert client.get(one, headers=officer).content == pdf()
    assert client.get(one, headers=world.actors["leader"].headers()).status_code == 200
    assert client.get(one, headers=world.actors["officer2"].headers()).status_code == 403
    # Submitted: the applicant can neither add nor take away.
    assert _send(client, world, "y.pdf", with_content(b"y")).status_code == 409
    citizen = world.actors["citizen"].headers()
    assert client.delete(one, headers=citizen).status_code == 409
    assert client.delete(one, headers=officer).status_code == 403


def test_a_removed_file_leaves_the_list_and_the_draft_can_take_another(
        client: TestClient, world: World, conn: Connection) -> None:
    citizen = world.actors["citizen"].headers()
    doc = _send(client, world, "don.pdf", pdf()).json()
    assert missing_documents(conn, world.dossiers["c1_draft"].id)[0]["key"] == "land_certificate"
    gone = client.delete(f"{_url(world)}/{doc['id']}", headers=citizen)
    assert gone.status_code == 204
    assert client.get(_url(world), headers=citizen).json() == []
    assert client.get(f"{_url(world)}/{doc['id']}", headers=citizen).status_code == 404
    assert client.delete(f"{_url(world)}/{doc['id']}", headers=citizen).status_code == 404
    assert [d["key"] for d in missing_documents(conn, world.dossiers["c1_draft"].id)] == [
        "application", "land_certificate", "drawings"]
    assert _send(client, world, "don.pdf", pdf()).status_code == 201


def test_a_supplement_request_opens_the_dossier_to_files_again(
        client: TestClient, world: World, conn: Connection) -> None:
    dossier = world.dossiers["c1_sub"].id
    assert _send(client, world, "x.pdf", pdf(), dossier="c1_sub").status_code == 409
    # The office's request is another engineer's transition: made here as the engine would.
    conn.exec_driver_sql("SELECT set_config(%(s)s, 'dossier', true)", {"s": ENGINE_SETTING})
    conn.exec_driver_sql("UPDATE dossier SET status = 'supplement_requested' WHERE id = %(d)s",
                         {"d": dossier})
    conn.exec_driver_sql("SELECT set_config(%(s)s, '', true)", {"s": ENGINE_SETTING})
    event = conn.exec_driver_sql(
        "INSERT INTO dossier_event (dossier_id, action, from_status, to_status) VALUES "
        "(%(d)s, 'request_supplement', 'in_processing', 'supplement_requested') RETURNING id",
        {"d": dossier}).scalar_one()
    res = _send(client, world, "ban-ve.pdf", pdf(), key="drawings", dossier="c1_sub")
    assert res.status_code == 201, res.text
    assert res.json()["for_event_id"] == event


def test_missing_documents_are_the_mandatory_ones_not_attached(
        client: TestClient, world: World, conn: Connection) -> None:
    dossier = world.dossiers["c1_draft"].id
    assert [d["key"] for d in missing_documents(conn, dossier)] == [
        "application", "land_certificate", "drawings"]  # not the optional adjacent_safety
    assert _send(client, world, "don.pdf", pdf()).status_code == 201
    assert _send(client, world, "ban-ve.pdf", with_content(b"b"), key="drawings"
                 ).status_code == 201
    raw = conn.connection.driver_connection  # as a workflow guard holds it
    missing = missing_documents(raw, dossier)  # type: ignore[arg-type]
    assert missing == [missing_documents(conn, dossier)[0]]
    assert (missing[0]["key"], missing[0]["vi"]) == (
        "land_certificate", "Bản sao giấy chứng nhận quyền sử dụng đất")


def _age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_the_sweep_removes_orphans_and_keeps_what_rows_need(
        client: TestClient, world: World, conn: Connection, files_dir: Path) -> None:
    store = FileStore(files_dir)
    kept = _send(client, world, "don.pdf", pdf()).json()
    removed = _send(client, world, "ban-ve.pdf", with_content(b"old"), key="drawings").json()
    shared = _send(client, world, "chung.pdf", with_content(b"shared")).json()
    twin = attach(conn, files_dir, world.dossiers["c1_draft"].id,
                  world.actors["citizen"].person_id or 0)  # the same bytes as `kept`
    assert twin != kept["id"]
    citizen = world.actors["citizen"].headers()
    assert client.delete(f"{_url(world)}/{removed['id']}", headers=citizen).status_code == 204
    assert client.delete(f"{_url(world)}/{kept['id']}", headers=citizen).status_code == 204
    orphan = store.path_of("ab" * 32)  # a file whose row was rolled back after a crash
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"orphan")
    young = store.path_of("cd" * 32)
    young.parent.mkdir(parents=True)
    young.write_bytes(b"an upload's, its row not committed yet")
    stale = store.tmp / "part-stale"
    stale.write_bytes(b"half an upload")
    for path in [*_stored(files_dir)]:
        if path != young:
            _age(path, 2)
    report = sweep(conn, store)
    assert (report.removed, report.temporary) == (2, 1)
    left = set(_stored(files_dir))
    assert store.path_of(kept["sha256"]) in left  # its twin row still needs it
    assert store.path_of(shared["sha256"]) in left
    assert young in left
    assert store.path_of(removed["sha256"]) not in left
    assert orphan not in left
    assert stale not in left
    assert client.get(f"{_url(world)}/{twin}", headers=citizen).status_code == 200


def test_the_sweep_runs_every_hour_on_the_queue() -> None:
    queue = platform_queue("postgresql://nobody@localhost/none", 1)
    assert "documents:sweep_files" in queue.tasks
    assert any(p.task.name == "documents:sweep_files"
               for p in queue.periodic_registry.periodic_tasks.values())


@pytest.mark.parametrize("offset", [-40, -5, 0, 3])
def test_what_straddles_two_reads_of_a_file_is_still_found(tmp_path: Path, offset: int) -> None:
    """The scanner's signature and a script URL (literals) and markup (a pattern), each cut
    by the boundary between two chunks of the file as it is read."""
    def cut(needle: bytes) -> Path:
        start = sniff.CHUNK - len(needle) // 2 + offset
        path = tmp_path / f"{len(needle)}-{offset}.bin"
        path.write_bytes(b"%PDF-1.7\n" + b"0" * (start - 9) + needle + b"0" * 4096)
        return path

    assert LocalScanner().scan(cut(EICAR)) == "Eicar-Test-Signature"
    assert "javascript:" in (sniff.polyglot(cut(b"JavaScript:alert(1)")) or "")
    assert "<script" in (sniff.polyglot(cut(b"<SCRIPT>alert(1)</SCRIPT>")) or "")
    clean = tmp_path / "clean.bin"
    clean.write_bytes(b"%PDF-1.7\n" + b"0" * (2 * sniff.CHUNK))
    assert LocalScanner().scan(clean) is None
    assert sniff.polyglot(clean) is None


def test_the_clamd_adapter_speaks_instream(tmp_path: Path, fake_clamd: _FakeClamd) -> None:
    clean, infected = tmp_path / "clean.pdf", tmp_path / "infected.pdf"
    clean.write_bytes(pdf() * 40)  # more than one chunk
    infected.write_bytes(with_content(_FakeClamd.SIGNATURE))
    scanner = ClamdScanner(fake_clamd.path)
    assert scanner.scan(clean) is None
    assert fake_clamd.received[-1] == clean.read_bytes()
    assert scanner.scan(infected) == "Fake.Virus"
    assert LocalScanner().scan(infected) is None  # only clamd knows this one
    with pytest.raises(UnavailableError) as gone:
        ClamdScanner(tmp_path / "no.sock").scan(clean)
    assert gone.value.status_code == 503


def test_uploads_go_through_clamd_when_it_is_configured(
        small_cap: TestClient, world: World, conn: Connection, files_dir: Path,
        fake_clamd: _FakeClamd) -> None:
    res = small_cap.post(_url(world), headers=world.actors["citizen"].headers(),
                         data={"key": "application"}, files={"file": (
                             "don.pdf", with_content(_FakeClamd.SIGNATURE), "application/pdf")})
    assert res.status_code == 422
    assert f"application ({APPLICATION})" in res.json()["detail"]
    assert "Fake.Virus" in res.json()["detail"]
    assert _rows(conn, world) == 0
    assert _stored(files_dir) == []
    ok = small_cap.post(_url(world), headers=world.actors["citizen"].headers(),
                        data={"key": "application"},
                        files={"file": ("don.pdf", pdf(), "application/pdf")})
    assert ok.status_code == 201, ok.text
    assert fake_clamd.received[-1] == pdf()
