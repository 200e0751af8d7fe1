"""Settings read once from the environment (prefix CIVICMAP_)."""

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Platform settings; with no database URL the embedded cluster under var/pg is used."""

    model_config = SettingsConfigDict(env_prefix="CIVICMAP_", env_file=None, extra="ignore")

    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    var_dir: Path = PROJECT_ROOT / "var"
    pool_size: int = Field(default=10, ge=1, le=200)
    pool_max_overflow: int = Field(default=10, ge=0, le=200)
    sample_parcels: int = Field(default=60_000, ge=100)
    sample_seed: int = 7
    tile_cache_size: int = Field(default=100_000, ge=0, description="Tiles kept in the cache")
    upload_max_mb: int = Field(default=512, ge=1, le=100_000, description="Largest upload")
    uploads_dir: Path | None = Field(default=None, description="Default: var_dir/uploads")
    # Dossiers' documents: kept by content hash outside the web root; the largest one any
    # procedure may ask for (each document has its own, smaller, limit); clamd's unix socket,
    # when there is one (without it the local scanner looks for the test signature only).
    files_dir: Path | None = Field(default=None, description="Default: var_dir/files")
    document_max_mb: int = Field(default=100, ge=1, le=2_000, description="Largest document")
    clamd_socket: Path | None = Field(default=None, description="clamd's socket (INSTREAM)")
    # The job queue (procrastinate, core/jobs.py): jobs one worker runs at once; whether an app
    # made by create_app runs a worker in its own process (`serve` runs one beside uvicorn's
    # processes instead); how often a worker says it is alive, and after how long without a
    # word its jobs are given to another worker.
    worker_concurrency: int = Field(default=2, ge=1, le=64)
    embedded_worker: bool = True
    job_heartbeat_s: float = Field(default=10.0, gt=0, le=3600)
    job_stalled_s: float = Field(default=30.0, gt=0, le=86_400)
    # Worker processes checking the slices of one big file (1: checked in the job's thread).
    ingest_processes: int = Field(default=min(2, os.cpu_count() or 1), ge=1, le=32)
    # Keys the hashes of one-time codes; without it a key file is made once under var_dir.
    secret_key: SecretStr | None = Field(default=None, min_length=32)
    agency_code: str = Field(default="000.00.01.H29", pattern=r"^[0-9A-Z.]{3,24}$",
                             description="Prefix of dossier codes (mã đơn vị)")
    # The fee gateway. Only the sandbox exists here: a page of our own standing in for the
    # gateway, its notices signed with this key (default: derived from the server key).
    payment_provider: Literal["sandbox"] = "sandbox"
    payment_sandbox_secret: SecretStr | None = Field(default=None, min_length=32)
    # Results are signed: by a development identity made once under signing_dir (its root CA
    # trusted by nobody else), or, where a URL is set, by the official remote signing service
    # (CSC API: it signs a hash with the credential it keeps, we never hold the key).
    signing_dir: Path | None = Field(default=None, description="Default: var_dir/signing")
    signing_name: str = Field(default="UBND phường Tân Thuận (môi trường phát triển)",
                              min_length=1, max_length=64,
                              description="The development signer's name (its CN)")
    signing_service_url: str | None = Field(default=None, description="CSC API base URL")
    signing_service_token: SecretStr | None = None
    signing_credential_id: str | None = Field(default=None, min_length=1, max_length=200)
    # The roots a result's signature must chain to (PEM bundle); without it, the development CA.
    signing_trust_roots: Path | None = Field(default=None, description="PEM file of root CAs")
    # Web Push: the platform's VAPID key is made once under push_dir. Messages reach browsers'
    # push services (outside the machine) only when push_delivery is on; else the outbox keeps
    # them, as it keeps SMS and e-mail.
    push_dir: Path | None = Field(default=None, description="Default: var_dir/push")
    push_delivery: bool = False
    push_subject: str = Field(default="mailto:cntt@quan7.hochiminhcity.gov.vn",
                              pattern=r"^(mailto:|https://)", description="VAPID contact")
    # Subscriptions name https push services; a local stand-in (tests) needs http on loopback.
    push_allow_loopback: bool = False
    # The papers (forms 01-04, results) embed Noto Serif from here, so nothing is fetched and
    # every Vietnamese letter has a glyph.
    fonts_dir: Path = Field(default=Path("/usr/share/fonts/truetype/noto"),
                            description="Holds NotoSerif-Regular.ttf and NotoSerif-Bold.ttf")

    @model_validator(mode="after")
    def _stalled_after_heartbeats(self) -> Self:
        if self.job_stalled_s <= self.job_heartbeat_s:
            raise ValueError("CIVICMAP_JOB_STALLED_S must be longer than JOB_HEARTBEAT_S")
        return self

    @model_validator(mode="after")
    def _signing_service_complete(self) -> Self:
        if self.signing_service_url is None:
            return self
        if self.signing_service_token is None or self.signing_credential_id is None:
            raise ValueError("CIVICMAP_SIGNING_SERVICE_URL needs CIVICMAP_SIGNING_SERVICE_TOKEN "
                             "and CIVICMAP_SIGNING_CREDENTIAL_ID")
        url = urlsplit(self.signing_service_url)
        # The bearer token travels with every request: plain HTTP only to this machine.
        local = url.hostname in ("127.0.0.1", "::1", "localhost")
        if url.scheme != "https" and not (url.scheme == "http" and local):
            raise ValueError("CIVICMAP_SIGNING_SERVICE_URL must be an https:// URL")
        return self

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql", "postgres://")):
            raise ValueError("CIVICMAP_DATABASE_URL must be a postgresql:// URL")
        return value or None

    @property
    def pg_dir(self) -> Path:
        """Folder of the embedded PostgreSQL cluster."""
        return self.var_dir / "pg"

    def server_key(self) -> bytes:
        """The secret key: from the environment, else from a file made on first use (0600)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.var_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            draft = path.with_name(f".secret_key.{os.getpid()}")
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48))
            try:  # a link is atomic and refuses to replace: the first worker's key wins
                os.link(draft, path)
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        return path.read_text().strip().encode()

    @property
    def upload_dir(self) -> Path:
        """Folder of uploaded files and their unpacked contents, one folder per job."""
        return self.uploads_dir or self.var_dir / "uploads"

    @property
    def file_dir(self) -> Path:
        """Folder of dossiers' documents, named by their content hash."""
        return self.files_dir or self.var_dir / "files"

    @property
    def signing_identity_dir(self) -> Path:
        """Folder of the development signing identity (root CA, signer, its key)."""
        return self.signing_dir or self.var_dir / "signing"

    @property
    def push_key_dir(self) -> Path:
        """Folder of the platform's VAPID key."""
        return self.push_dir or self.var_dir / "push"

    @property
    def sample_dir(self) -> Path:
        """Folder where generated sample planning files are written."""
        return self.var_dir / "sample"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
