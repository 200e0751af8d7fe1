"""A result as a reader meets it: signed by the district's identity, verified offline against
its root, refused when a byte changes, when something is appended, or when another identity
signed it; the development identity made once, even by racing processes; the remote signing
service (a fake one on this machine) signing the same way, and refusing when it is down."""

from __future__ import annotations

import base64
import json
import multiprocessing
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from typing import Any

import pydantic
import pypdf
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from fpdf import FPDF
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from core.errors import InvalidInputError, UnavailableError
from core.settings import Settings
from permits.results.signing import (
    CA_FILE,
    HASH_ALGO,
    KEY_FILE,
    SIGN_ALGO,
    SIGNER_FILE,
    LocalSigner,
    RemoteSigner,
    SigningIdentity,
    development_identity,
    sha256_hex,
    signer_for,
    trust_roots,
    verify,
)

FONT = "/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf"
TITLE = "GIẤY PHÉP XÂY DỰNG"
HOLDER = "Cấp cho ông Nguyễn Văn Ấn, thửa đất số 128, tờ bản đồ số 7"
REASON = "Phê duyệt kết quả hồ sơ 000.00.01.H29-260101-0001"
LOCATION = "Phường Tân Thuận, Thành phố Hồ Chí Minh"
TOKEN = "test-bearer-token"
CREDENTIAL = "ubnd-tan-thuan-results"


def result_pdf() -> bytes:
    """A one-page result with Vietnamese text, its content stream left uncompressed so that
    a test can find and change one glyph."""
    doc = FPDF()
    doc.set_compression(False)
    doc.add_page()
    doc.add_font("NotoSerif", fname=FONT)
    doc.set_font("NotoSerif", size=16)
    doc.cell(text=TITLE, new_x="LMARGIN", new_y="NEXT")
    doc.set_font_size(12)
    doc.cell(text=HOLDER)
    return bytes(doc.output())


def page_text(pdf: bytes) -> str:
    return pypdf.PdfReader(BytesIO(pdf)).pages[0].extract_text()


def trust_roots_file(settings: Settings) -> Path:
    development_identity(settings)
    return settings.signing_identity_dir / CA_FILE


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path)


@pytest.fixture
def signed(settings: Settings) -> bytes:
    return signer_for(settings).sign(result_pdf(), reason=REASON, location=LOCATION)


def byte_range(pdf: bytes) -> tuple[int, int, int, int]:
    found = re.findall(rb"/ByteRange \[(\d+) (\d+) (\d+) (\d+)\]", pdf)
    a, b, c, d = (int(x) for x in found[-1])
    return a, b, c, d


def test_a_signed_result_verifies_against_the_district_root(settings: Settings,
                                                             signed: bytes) -> None:
    check = verify(signed, trust_roots(settings))
    assert check.intact
    assert check.trusted
    assert check.covers_whole_file
    assert check.valid
    assert check.signer == settings.signing_name == "UBND phường Tân Thuận (môi trường phát triển)"
    assert "CN=UBND phường Tân Thuận" in check.signer_subject
    assert check.reason == REASON
    assert check.signed_at is not None
    assert abs(check.signed_at - datetime.now(UTC)) < timedelta(minutes=1)
    # What a reader shows beside the signature: PAdES, the place, the signer's name.
    reader = pypdf.PdfReader(BytesIO(signed))
    field = reader.get_fields()["Signature1"]
    sig = field["/V"]
    assert sig["/SubFilter"] == "/ETSI.CAdES.detached"
    assert sig["/Location"] == LOCATION
    assert sig["/Name"] == settings.signing_name


def test_one_changed_byte_in_the_page_breaks_the_signature(settings: Settings,
                                                           signed: bytes) -> None:
    reader = pypdf.PdfReader(BytesIO(signed))
    contents = reader.pages[0].raw_get("/Contents")
    start = signed.index(b"\n%d 0 obj" % contents.idnum)
    glyph = signed.index(b"Td (", start) + 5  # the low byte of the first glyph id shown
    assert glyph < byte_range(signed)[1]  # inside the signed bytes
    tampered = bytearray(signed)
    tampered[glyph] ^= 0x03
    tampered_pdf = bytes(tampered)
    assert page_text(tampered_pdf) != page_text(signed)  # a reader would show other text

    check = verify(tampered_pdf, trust_roots(settings))
    assert not check.intact
    assert not check.valid
    assert verify(signed, trust_roots(settings)).valid


def test_a_damaged_signature_is_not_valid(settings: Settings, signed: bytes) -> None:
    cms = byte_range(signed)[1] + 41  # a hex digit early in the signature's CMS structure
    damaged = bytearray(signed)
    damaged[cms] = ord("f") if damaged[cms] != ord("f") else ord("e")
    check = verify(bytes(damaged), trust_roots(settings))
    assert not check.valid
    assert not check.intact


def drawn_on(signed: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    box = writer.add_object(generic.StreamObject(stream_data=b"0 0 1 rg 72 72 200 40 re f"))
    writer.add_stream_to_page(0, box)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def retitled(signed: bytes) -> bytes:
    """An update pyHanko's own policy allows (metadata), shown in a reader's title bar."""
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    info = writer.trailer["/Info"].get_object()
    info[generic.NameObject("/Title")] = generic.TextStringObject("Giấy phép (bản khác)")
    writer.update_container(info)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("change", [drawn_on, retitled, lambda signed: signed + b"\n"],
                         ids=["drawn-on", "retitled", "trailing-byte"])
def test_anything_appended_after_signing_is_not_valid(settings: Settings, signed: bytes,
                                                      change: Any) -> None:
    check = verify(change(signed), trust_roots(settings))
    assert check.intact  # the signed revision is untouched ...
    assert check.trusted
    assert not check.covers_whole_file  # ... but something came after it
    assert not check.valid


def test_a_result_signed_by_another_identity_is_not_trusted(settings: Settings,
                                                            tmp_path: Path) -> None:
    other = Settings(var_dir=tmp_path, signing_dir=tmp_path / "other")
    by_other = signer_for(other).sign(result_pdf(), reason=REASON, location=LOCATION)

    check = verify(by_other, trust_roots(settings))
    assert check.intact
    assert not check.trusted
    assert not check.valid
    assert verify(by_other, trust_roots(other)).valid
    assert development_identity(settings).ca_cert.dump() != \
        development_identity(other).ca_cert.dump()


def test_a_countersigned_result_verifies_by_its_last_signature(settings: Settings,
                                                               signed: bytes) -> None:
    twice = signer_for(settings).sign(signed, reason="Đối chiếu", location=LOCATION)
    assert set(pypdf.PdfReader(BytesIO(twice)).get_fields()) == {"Signature1", "Signature2"}
    check = verify(twice, trust_roots(settings))
    assert check.valid
    assert check.reason == "Đối chiếu"


def test_an_unsigned_pdf_is_not_valid_and_a_non_pdf_is_refused(settings: Settings) -> None:
    check = verify(result_pdf(), trust_roots(settings))
    assert not check.valid
    assert not check.intact
    assert check.signer == ""
    with pytest.raises(InvalidInputError):
        verify(b"not a pdf at all", trust_roots(settings))


def test_the_signed_pdf_still_reads_with_its_text(settings: Settings) -> None:
    original = result_pdf()
    signed = signer_for(settings).sign(original, reason=REASON, location=LOCATION)
    assert TITLE in page_text(original)
    assert HOLDER in page_text(original)
    assert page_text(signed) == page_text(original)
    assert len(pypdf.PdfReader(BytesIO(signed)).pages) == 1
    assert signed.startswith(original)  # appended as an update: the result's bytes unchanged


def test_the_signature_checks_with_openssl_too(settings: Settings, signed: bytes,
                                               tmp_path: Path) -> None:
    """An independent verifier of the CMS over the signed byte range (not pyHanko)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl on this machine")
    a, b, c, d = byte_range(signed)
    (tmp_path / "content").write_bytes(signed[a:a + b] + signed[c:c + d])
    (tmp_path / "cms.der").write_bytes(bytes.fromhex(signed[a + b + 1:c - 1].decode()))
    command = [openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in",
               str(tmp_path / "cms.der"), "-content", str(tmp_path / "content"),
               "-CAfile", str(settings.signing_identity_dir / CA_FILE), "-purpose", "any",
               "-out", "/dev/null"]
    assert subprocess.run(command, capture_output=True).returncode == 0
    other = Settings(var_dir=tmp_path, signing_dir=tmp_path / "other")
    command[command.index("-CAfile") + 1] = str(trust_roots_file(other))  # another root
    assert subprocess.run(command, capture_output=True).returncode != 0


def test_the_identity_is_made_once(settings: Settings) -> None:
    first = signer_for(settings)
    folder = settings.signing_identity_dir
    assert folder == settings.var_dir / "signing"
    made = {name: (folder / name).read_bytes() for name in (CA_FILE, SIGNER_FILE, KEY_FILE)}
    assert (folder / KEY_FILE).stat().st_mode & 0o777 == 0o600
    second = signer_for(settings)
    assert isinstance(first, LocalSigner)
    assert isinstance(second, LocalSigner)
    assert second.identity.signer_cert.dump() == first.identity.signer_cert.dump()
    assert {name: (folder / name).read_bytes() for name in made} == made
    assert sorted(p.name for p in settings.var_dir.iterdir()) == ["signing"]  # no drafts left
    cert = first.identity.signer_cert
    assert cert.issuer == first.identity.ca_cert.subject
    assert cert.key_usage_value.native == {"digital_signature", "non_repudiation"}
    assert "1.3.6.1.5.5.7.3.36" in cert.extended_key_usage_value.native
    assert "not for official use" in first.identity.ca_cert.subject.native["common_name"]


def _race(signing_dir: str, barrier: Any, answers: Any) -> None:
    barrier.wait()
    identity = development_identity(Settings(signing_dir=Path(signing_dir)))
    answers.put(identity.signer_cert.sha256.hex() + " " + identity.signer_key.dump().hex())


def test_racing_processes_make_one_identity(tmp_path: Path) -> None:
    racers = 4
    context = multiprocessing.get_context("fork")  # the modules already loaded: a fast start
    barrier = context.Barrier(racers)
    answers = context.Queue()
    folder = tmp_path / "signing"
    processes = [context.Process(target=_race, args=(str(folder), barrier, answers))
                 for _ in range(racers)]
    for process in processes:
        process.start()
    seen = {answers.get(timeout=60) for _ in processes}
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert len(seen) == 1
    on_disk = development_identity(Settings(signing_dir=folder))
    assert seen == {on_disk.signer_cert.sha256.hex() + " " + on_disk.signer_key.dump().hex()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["signing"]


def test_racing_threads_make_one_identity(settings: Settings) -> None:
    barrier = threading.Barrier(4)
    found: list[bytes] = []

    def race() -> None:
        barrier.wait()
        found.append(development_identity(settings).signer_cert.dump())

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 4
    assert len(set(found)) == 1


class FakeSigningService:
    """The CSC API's two calls, on this machine, signing with a development identity's key."""

    def __init__(self, identity: SigningIdentity, *, wrong_key: bool = False) -> None:
        self.identity = identity
        self.calls: list[str] = []
        key = serialization.load_der_private_key(identity.signer_key.dump(), password=None)
        if wrong_key:  # a service whose signatures do not match its certificate
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        assert isinstance(key, rsa.RSAPrivateKey)
        self.key = key
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/csc/v1"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                service.calls.append(f"GET {self.path} {self.headers.get('Authorization')}")
                self._answer(405, {"error": "invalid_request"})

            def do_POST(self) -> None:
                service.calls.append(self.path)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._answer(401, {"error": "invalid_token"})
                if body.get("credentialID") != CREDENTIAL:
                    return self._answer(400, {"error": "invalid_request"})
                if self.path == "/csc/v1/credentials/info":
                    chain = [service.identity.signer_cert, service.identity.ca_cert]
                    return self._answer(200, {
                        "key": {"status": "enabled", "algo": [SIGN_ALGO], "len": 2048},
                        "cert": {"status": "valid", "certificates": [
                            base64.b64encode(cert.dump()).decode() for cert in chain]},
                    })
                if self.path == "/csc/v1/signatures/signHash":
                    assert body["hashAlgo"] == HASH_ALGO
                    assert body["signAlgo"] == SIGN_ALGO
                    signatures = [
                        base64.b64encode(service.key.sign(
                            base64.b64decode(h), padding.PKCS1v15(),
                            Prehashed(hashes.SHA256()))).decode()
                        for h in body["hashes"]]
                    return self._answer(200, {"signatures": signatures})
                return self._answer(404, {"error": "not_found"})

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def __enter__(self) -> FakeSigningService:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def service_settings(tmp_path: Path) -> Settings:
    """The service's own identity, in a folder the signing side never reads."""
    return Settings(signing_dir=tmp_path / "service")


@pytest.fixture
def service(service_settings: Settings) -> Iterator[FakeSigningService]:
    with FakeSigningService(development_identity(service_settings)) as running:
        yield running


def remote_settings(tmp_path: Path, url: str, token: str = TOKEN) -> Settings:
    return Settings(var_dir=tmp_path / "app", signing_service_url=url,
                    signing_service_token=token, signing_credential_id=CREDENTIAL)


def test_a_result_signed_by_the_remote_service_verifies(
        tmp_path: Path, service: FakeSigningService, service_settings: Settings) -> None:
    settings = remote_settings(tmp_path, service.url)
    signer = signer_for(settings)
    assert isinstance(signer, RemoteSigner)
    result = signer.sign(result_pdf(), reason=REASON, location=LOCATION)

    check = verify(result, trust_roots(service_settings))
    assert check.valid
    assert check.signer == service_settings.signing_name
    assert check.reason == REASON
    assert service.calls == ["/csc/v1/credentials/info", "/csc/v1/signatures/signHash"]
    assert not settings.signing_identity_dir.exists()  # no development identity made
    assert page_text(result) == page_text(result_pdf())


def test_the_remote_service_down_refuses_to_sign(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    signer = signer_for(remote_settings(tmp_path, f"http://127.0.0.1:{port}/csc/v1"))
    with pytest.raises(UnavailableError, match="cannot be reached"):
        signer.sign(result_pdf(), reason=REASON, location=LOCATION)


def test_the_remote_service_refusing_the_token_refuses_to_sign(
        tmp_path: Path, service: FakeSigningService) -> None:
    signer = signer_for(remote_settings(tmp_path, service.url, token="expired"))
    with pytest.raises(UnavailableError, match="refused"):
        signer.sign(result_pdf(), reason=REASON, location=LOCATION)


def test_a_redirect_does_not_carry_the_token_elsewhere(
        tmp_path: Path, service: FakeSigningService) -> None:
    class Redirect(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.send_response(302)
            self.send_header("Location", service.url + self.path.removeprefix("/csc/v1"))
            self.send_header("Content-Length", "0")
            self.end_headers()

    detour = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=detour.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{detour.server_address[1]}/csc/v1"
        with pytest.raises(UnavailableError, match="refused"):
            signer_for(remote_settings(tmp_path, url)).sign(
                result_pdf(), reason=REASON, location=LOCATION)
    finally:
        detour.shutdown()
        detour.server_close()
    assert service.calls == []


def test_a_remote_signature_that_does_not_match_is_refused(
        tmp_path: Path, service_settings: Settings) -> None:
    with FakeSigningService(development_identity(service_settings), wrong_key=True) as bad:
        signer = signer_for(remote_settings(tmp_path, bad.url))
        with pytest.raises(UnavailableError, match="does not match"):
            signer.sign(result_pdf(), reason=REASON, location=LOCATION)


def test_the_remote_service_needs_its_token_and_https() -> None:
    with pytest.raises(pydantic.ValidationError, match="SIGNING_SERVICE_TOKEN"):
        Settings(signing_service_url="https://ca.example.vn/csc/v1")
    with pytest.raises(pydantic.ValidationError, match="https"):
        Settings(signing_service_url="http://ca.example.vn/csc/v1",
                 signing_service_token=TOKEN, signing_credential_id=CREDENTIAL)


def test_configured_trust_roots_replace_the_development_root(tmp_path: Path,
                                                             signed: bytes) -> None:
    official = Settings(var_dir=tmp_path / "official")
    bundle = tmp_path / "roots.pem"
    bundle.write_bytes(trust_roots_file(official).read_bytes())
    settings = Settings(var_dir=tmp_path, signing_trust_roots=bundle)
    roots = trust_roots(settings)
    assert [r.dump() for r in roots] == [development_identity(official).ca_cert.dump()]
    assert not verify(signed, roots).trusted


def test_sha256_hex_names_the_file() -> None:
    assert sha256_hex(b"abc") == ("ba7816bf8f01cfea414140de5dae2223"
                                  "b00361a396177a9cb410ff61f20015ad")
