"""Virus scanning behind one small interface: a local scanner for development and tests, and
clamd (INSTREAM over its unix socket) where CIVICMAP_CLAMD_SOCKET names one."""

from __future__ import annotations

import socket
import struct
from pathlib import Path
from typing import Protocol

from core.errors import UnavailableError
from core.settings import Settings
from permits.documents import sniff

# The EICAR test file's signature, in two pieces so that this source file is not itself one.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
CHUNK = 64 * 1024


class Scanner(Protocol):
    """Looks into a file for malware."""

    def scan(self, path: Path) -> str | None:
        """The name of what was found, or None when the file is clean."""
        ...


class LocalScanner:
    """No engine: the EICAR test signature. What else it could look for (a file that is also
    an archive, or carries markup or script) the sniffing refused before any scan."""

    def scan(self, path: Path) -> str | None:
        """The name of what was found, or None."""
        return "Eicar-Test-Signature" if sniff.contains(path, EICAR) else None


class ClamdScanner:
    """clamd's INSTREAM command over its unix socket: the file in chunks, each after its
    length; the answer `stream: OK` or `stream: <name> FOUND`. Fails closed: a scanner that
    does not answer refuses the upload (503, try again)."""

    def __init__(self, socket_path: Path, timeout_s: float = 60.0) -> None:
        self.socket_path = socket_path
        self.timeout_s = timeout_s

    def scan(self, path: Path) -> str | None:
        """The name of what clamd found, or None."""
        try:
            reply = self._instream(path)
        except OSError as exc:
            raise UnavailableError("the virus scanner cannot be reached just now; "
                                   "try again in a minute", "file") from exc
        answer = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
        verdict = answer.removeprefix("stream:").strip()
        if verdict == "OK":
            return None
        if verdict.endswith(" FOUND"):
            return verdict.removesuffix(" FOUND").strip()
        # e.g. "INSTREAM size limit exceeded. ERROR": not a verdict, so not a pass either.
        raise UnavailableError(f"the virus scanner could not check the file ({answer[:100]})",
                               "file")

    def _instream(self, path: Path) -> bytes:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(self.timeout_s)
            conn.connect(str(self.socket_path))
            conn.sendall(b"zINSTREAM\0")
            try:
                with open(path, "rb") as f:
                    while chunk := f.read(CHUNK):
                        conn.sendall(struct.pack("!L", len(chunk)) + chunk)
                conn.sendall(struct.pack("!L", 0))
            except BrokenPipeError:
                pass  # clamd stops reading past its limit and says so: read what it said
            reply = b""
            while not reply.endswith(b"\0"):
                part = conn.recv(4096)
                if not part:
                    break
                reply += part
        return reply


def scanner_for(settings: Settings) -> Scanner:
    """clamd where a socket is configured, else the local scanner."""
    if settings.clamd_socket is not None:
        return ClamdScanner(settings.clamd_socket)
    return LocalScanner()
