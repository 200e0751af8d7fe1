"""Results signed behind one small interface: a development identity made once under
signing_dir (a root CA that nobody else trusts, and the signer it issued), and the official
remote signing service (the Cloud Signature Consortium API: it signs a hash with the credential
it keeps) where CIVICMAP_SIGNING_SERVICE_URL names one. Both write a PAdES signature
(ETSI.CAdES.detached, SHA-256) that a standard PDF reader verifies; `verify` checks one the
same way, offline, against the roots it is given.

Signing and verifying run pyHanko's own event loop: call them from a thread (a job, or
`run_in_threadpool` in a route), not from inside a running loop.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import errno
import hashlib
import http.client
import json
import os
import shutil
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from io import BytesIO
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

from asn1crypto import keys as asn1_keys
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from asn1crypto.algos import SignedDigestAlgorithm
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import CertificateStore, SimpleCertificateStore

from core.errors import InvalidInputError, UnavailableError
from core.settings import Settings

T = TypeVar("T")
CA_NAME = "civicmap development CA — not for official use"
CA_FILE = "ca.pem"
SIGNER_FILE = "signer.pem"
KEY_FILE = "signer-key.pem"
# The CSC API names algorithms by OID: SHA-256, and sha256WithRSAEncryption (PKCS #1 v1.5).
HASH_ALGO = "2.16.840.1.101.3.4.2.1"
SIGN_ALGO = "1.2.840.113549.1.1.11"
# id-kp-documentSigning (RFC 9336), Microsoft's document signing, and e-mail protection (the
# one older Acrobat versions insist on): the purposes PDF readers accept for a signer.
DOCUMENT_SIGNING = (ObjectIdentifier("1.3.6.1.5.5.7.3.36"),
                    ObjectIdentifier("1.3.6.1.4.1.311.10.3.12"))
MAX_ANSWER = 1024 * 1024


class ResultSigner(Protocol):
    """Signs a result PDF."""

    def sign(self, pdf: bytes, *, reason: str, location: str) -> bytes:
        """The PDF with one more signature, appended as an incremental update."""
        ...


@dataclass(frozen=True)
class SigningIdentity:
    """The development root CA, the signer it issued, and the signer's key (asn1crypto)."""

    ca_cert: asn1_x509.Certificate
    signer_cert: asn1_x509.Certificate
    signer_key: asn1_keys.PrivateKeyInfo


@dataclass(frozen=True)
class SignatureCheck:
    """What validating a PDF's last signature found."""

    valid: bool  # intact, cryptographically valid, trusted, and nothing added after it
    intact: bool  # the signed bytes are the ones that were signed
    trusted: bool  # the signer's certificate chains to one of the trust roots
    covers_whole_file: bool  # no incremental update was appended after the signature
    signer: str  # the signer's common name
    signer_subject: str  # the signer's full subject (RFC 4514)
    signed_at: datetime | None  # the time the signer claims (no timestamp authority)
    reason: str | None


UNSIGNED = SignatureCheck(valid=False, intact=False, trusted=False, covers_whole_file=False,
                          signer="", signer_subject="", signed_at=None, reason=None)


def development_identity(settings: Settings) -> SigningIdentity:
    """The development identity under signing_dir, made on first use."""
    folder = settings.signing_identity_dir
    if not (folder / KEY_FILE).exists():
        _make_identity(folder, settings.signing_name)
    try:
        return SigningIdentity(
            ca_cert=_load_cert(folder / CA_FILE),
            signer_cert=_load_cert(folder / SIGNER_FILE),
            signer_key=asn1_keys.PrivateKeyInfo.load(_unarmor(folder / KEY_FILE)),
        )
    except FileNotFoundError as exc:
        raise RuntimeError(f"{folder} holds an incomplete signing identity: remove it") from exc


def _make_identity(folder: Path, name: str) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    # All three files in a draft folder renamed into place at once: a rename onto a folder
    # that is not empty fails, so of two processes making one at once the first wins whole
    # and the other reads the winner's files.
    draft = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        ca_pem, signer_pem, key_pem = _issue(name)
        _write(draft / CA_FILE, ca_pem, 0o644)
        _write(draft / SIGNER_FILE, signer_pem, 0o644)
        _write(draft / KEY_FILE, key_pem, 0o600)
        try:
            os.rename(draft, folder)
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
    finally:
        shutil.rmtree(draft, ignore_errors=True)


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def _issue(name: str) -> tuple[bytes, bytes, bytes]:
    """A self-signed root, a signer it issued, the signer's key: PEM. The root's key is
    dropped once the signer is issued, so this root can vouch for nothing else."""
    now = datetime.now(UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "civicmap"),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
    ])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))  # a reader's clock a little behind
        .not_valid_after(now + timedelta(days=20 * 365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    signer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        ]))
        .issuer_name(ca_name)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=10 * 365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([*DOCUMENT_SIGNING,
                                              ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = signer_key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
    return (ca.public_bytes(serialization.Encoding.PEM),
            signer.public_bytes(serialization.Encoding.PEM), key_pem)


def _unarmor(path: Path) -> bytes:
    data = path.read_bytes()
    return pem.unarmor(data)[2] if pem.detect(data) else data


def _load_cert(path: Path) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(_unarmor(path))


def _store(certs: Iterable[asn1_x509.Certificate]) -> CertificateStore:
    store = SimpleCertificateStore()  # type: ignore[no-untyped-call]
    for cert in certs:
        store.register(cert)
    return store


def _common_name(cert: asn1_x509.Certificate) -> str:
    native: dict[str, Any] = cert.subject.native
    return str(native.get("common_name") or native.get("organization_name") or "")


def _off_any_loop(work: Callable[[], T]) -> T:
    """Run pyHanko's blocking calls where no event loop runs: they start one of their own
    (asyncio.run), which a thread already running one (an async route, Playwright's sync
    API) refuses; there they go to a thread of their own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(1, thread_name_prefix="pyhanko") as other:
        return other.submit(work).result()


def _sign_with(signer: signers.Signer, pdf: bytes, *, reason: str, location: str) -> bytes:
    """A PAdES signature in a new invisible field, appended as an incremental update."""
    return _off_any_loop(lambda: _signed(signer, pdf, reason=reason, location=location))


def _signed(signer: signers.Signer, pdf: bytes, *, reason: str, location: str) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    # A result signed again (a countersignature) gets a field of its own.
    taken = sum(1 for _ in fields.enumerate_sig_fields(writer))
    name = f"Signature{taken + 1}"
    meta = signers.PdfSignatureMetadata(
        field_name=name, reason=reason, location=location, md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES, name=signer.subject_name,
    )
    out = signers.sign_pdf(writer, meta, signer=signer,
                           new_field_spec=fields.SigFieldSpec(sig_field_name=name))
    return bytes(out.getvalue())


class _KeptKeySigner(signers.SimpleSigner):
    """SimpleSigner with its key parsed once: pyHanko's parses (and checks) the key for every
    signature, twice a PDF counting the dry run that sizes the space (~90 ms each here)."""

    def __init__(self, identity: SigningIdentity) -> None:
        super().__init__(
            signing_cert=identity.signer_cert, signing_key=identity.signer_key,
            cert_registry=_store([identity.ca_cert]),
            signature_mechanism=SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
        )
        key = serialization.load_der_private_key(identity.signer_key.dump(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise RuntimeError("the development signer's key is not an RSA key")
        self._key = key

    async def async_sign_raw(self, data: bytes, digest_algorithm: str,
                             dry_run: bool = False) -> bytes:
        """The PKCS #1 v1.5 signature of `data` (zeros of its size in a dry run)."""
        if digest_algorithm != "sha256":
            raise SigningError(f"the development signer signs SHA-256, not {digest_algorithm}")
        if dry_run:
            return bytes(self._key.key_size // 8)
        return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())


class LocalSigner:
    """Signs with the development identity (pyHanko's SimpleSigner): a reader verifies the
    signature and names the signer, but trusts it only where the development CA is added.
    Making one parses the key (~90 ms): keep it rather than make one per result."""

    def __init__(self, identity: SigningIdentity) -> None:
        self.identity = identity
        self._signer = _KeptKeySigner(identity)

    def sign(self, pdf: bytes, *, reason: str, location: str) -> bytes:
        """The PDF with the development identity's signature appended."""
        return _sign_with(self._signer, pdf, reason=reason, location=location)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would carry the bearer token elsewhere (and turn the POST into a GET)."""

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int,
                         msg: str, headers: Message, newurl: str) -> None:
        return None


class RemoteSigner(signers.Signer):
    """The official signing service (CSC API): pyHanko builds the signature and hands the
    hash of its signed attributes to signatures/signHash; the certificate chain comes from
    credentials/info, asked once. Fails closed: a service that does not answer, or answers
    with a signature that does not check against its certificate, refuses (503, retry)."""

    def __init__(self, base_url: str, token: str, credential_id: str,
                 timeout_s: float = 30.0) -> None:
        super().__init__(signature_mechanism=SignedDigestAlgorithm({"algorithm": "sha256_rsa"}))
        self.base_url = base_url.rstrip("/")
        self.credential_id = credential_id
        self.timeout_s = timeout_s
        self._token = token
        self._opener = urllib.request.build_opener(_NoRedirect())
        self._lock = threading.Lock()
        self._chain: tuple[asn1_x509.Certificate, CertificateStore] | None = None

    def sign(self, pdf: bytes, *, reason: str, location: str) -> bytes:
        """The PDF with the service's signature appended."""
        self._credential()  # the chain before pyHanko asks for it, outside its event loop
        return _sign_with(self, pdf, reason=reason, location=location)

    @property
    def signing_cert(self) -> asn1_x509.Certificate:
        """The credential's certificate, as the service gives it."""
        return self._credential()[0]

    @property
    def cert_registry(self) -> CertificateStore:
        """The rest of the credential's chain, embedded beside the signer's certificate."""
        return self._credential()[1]

    async def async_sign_raw(self, data: bytes, digest_algorithm: str,
                             dry_run: bool = False) -> bytes:
        """The service's signature of the hash of `data`."""
        if digest_algorithm != "sha256":
            raise SigningError(f"the signing service is asked for SHA-256, not {digest_algorithm}")
        if dry_run:  # pyHanko sizes the space it reserves; an RSA signature is the key's size
            return bytes(self.signing_cert.public_key.byte_size)
        digest = hashlib.sha256(data).digest()
        return await asyncio.to_thread(self._sign_hash, digest)

    def _credential(self) -> tuple[asn1_x509.Certificate, CertificateStore]:
        with self._lock:
            if self._chain is None:
                self._chain = self._fetch_chain()
            return self._chain

    def _fetch_chain(self) -> tuple[asn1_x509.Certificate, CertificateStore]:
        answer = self._post("credentials/info",
                            {"credentialID": self.credential_id, "certificates": "chain"})
        try:
            encoded = answer["cert"]["certificates"]
            chain = [asn1_x509.Certificate.load(base64.b64decode(item, validate=True))
                     for item in encoded]
            signer = chain[0]
            if signer.public_key.algorithm != "rsa":
                raise ValueError("not an RSA key")
        except (KeyError, IndexError, TypeError, ValueError, binascii.Error) as exc:
            raise UnavailableError("the signing service gave no usable certificate "
                                   f"({exc})") from exc
        return signer, _store(chain[1:])

    def _sign_hash(self, digest: bytes) -> bytes:
        answer = self._post("signatures/signHash", {
            "credentialID": self.credential_id,
            "hashes": [base64.b64encode(digest).decode()],
            "hashAlgo": HASH_ALGO,
            "signAlgo": SIGN_ALGO,
        })
        try:
            signature = base64.b64decode(answer["signatures"][0], validate=True)
        except (KeyError, IndexError, TypeError, ValueError, binascii.Error) as exc:
            raise UnavailableError("the signing service gave no signature") from exc
        # A signature that does not check would make a result that no reader accepts.
        public_key = serialization.load_der_public_key(self.signing_cert.public_key.dump())
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise UnavailableError("the signing service's key is not an RSA key")
        try:
            public_key.verify(signature, digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        except InvalidSignature as exc:
            raise UnavailableError("the signing service's signature does not match "
                                   "its certificate") from exc
        return signature

    def _post(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.base_url}/{endpoint}", data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {self._token}",
                     "Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                answer = json.loads(response.read(MAX_ANSWER))
        except urllib.error.HTTPError as exc:
            raise UnavailableError(f"the signing service refused ({exc.code} on "
                                   f"{endpoint}); try again later") from exc
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise UnavailableError("the signing service cannot be reached just now; "
                                   "try again in a minute") from exc
        if not isinstance(answer, dict):
            raise UnavailableError(f"the signing service's answer on {endpoint} is not JSON")
        return answer


def signer_for(settings: Settings) -> ResultSigner:
    """The remote service where a URL is configured, else the development identity."""
    url, token = settings.signing_service_url, settings.signing_service_token
    if url is not None and token is not None and settings.signing_credential_id is not None:
        return RemoteSigner(url, token.get_secret_value(), settings.signing_credential_id)
    return LocalSigner(development_identity(settings))


def trust_roots(settings: Settings) -> list[asn1_x509.Certificate]:
    """The roots a result's signature must chain to: the configured bundle, else the dev CA."""
    if settings.signing_trust_roots is not None:
        data = settings.signing_trust_roots.read_bytes()
        return [asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
    return [development_identity(settings).ca_cert]


def verify(pdf: bytes, trust_roots: Iterable[asn1_x509.Certificate]) -> SignatureCheck:
    """Validate the PDF's last signature offline (nothing fetched) against `trust_roots`."""
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
    except (PdfError, ValueError) as exc:
        raise InvalidInputError("the file is not a readable PDF", "file") from exc
    context = ValidationContext(trust_roots=list(trust_roots), allow_fetching=False)
    try:
        signatures = reader.embedded_regular_signatures
        if not signatures:
            return UNSIGNED
        embedded = signatures[-1]
        status = _off_any_loop(lambda: validate_pdf_signature(embedded, context))
    except (SignatureValidationError, PdfError, ValueError):
        # A signature too damaged to read or evaluate is simply not a valid one.
        return UNSIGNED
    cert = status.signing_cert
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    reason = embedded.sig_object.get("/Reason")
    return SignatureCheck(
        valid=bool(status.bottom_line and whole), intact=status.intact,
        trusted=status.trusted, covers_whole_file=whole, signer=_common_name(cert),
        signer_subject=x509.load_der_x509_certificate(cert.dump()).subject.rfc4514_string(),
        signed_at=status.signer_reported_dt, reason=None if reason is None else str(reason),
    )


def sha256_hex(pdf: bytes) -> str:
    """The file's SHA-256, in hex (what a result's record and QR page show)."""
    return hashlib.sha256(pdf).hexdigest()
