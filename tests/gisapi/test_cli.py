"""The civicmap command and the embedded cluster it manages."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.db import database_url
from core.pgcluster import PostgresCluster
from core.settings import Settings, get_settings
from gisapi.cli import app

runner = CliRunner()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    var = Path(tempfile.mkdtemp(prefix="civicmap-test-var-"))
    var.chmod(0o755)
    monkeypatch.setenv("CIVICMAP_VAR_DIR", str(var))
    monkeypatch.delenv("CIVICMAP_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield var
    get_settings.cache_clear()
    PostgresCluster(var / "pg").destroy()
    shutil.rmtree(var, ignore_errors=True)


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "run", "db", "sample"):
        assert command in result.output
    db_help = runner.invoke(app, ["db", "--help"])
    for command in ("start", "stop", "status", "url", "migrate"):
        assert command in db_help.output


def test_embedded_cluster_starts_answers_and_stops(env: Path) -> None:
    assert runner.invoke(app, ["db", "status"]).exit_code == 1  # not created yet
    started = runner.invoke(app, ["db", "start"])
    assert started.exit_code == 0, started.output
    try:
        assert (env / "pg" / "data" / "PG_VERSION").exists()
        status = runner.invoke(app, ["db", "status"])
        assert status.exit_code == 0, status.output
        assert "PostGIS 3" in status.output
        url = runner.invoke(app, ["db", "url"]).output.strip()
        assert url.startswith("postgresql://civicmap@/civicmap?host=")
        assert runner.invoke(app, ["db", "migrate"]).exit_code == 0
    finally:
        assert runner.invoke(app, ["db", "stop"]).exit_code == 0
    assert runner.invoke(app, ["db", "status"]).exit_code == 1


def test_a_database_url_is_used_and_var_pg_never_touched(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIVICMAP_DATABASE_URL", "postgresql://someone@db.invalid:5432/civic")
    get_settings.cache_clear()
    result = runner.invoke(app, ["db", "url"])
    assert result.output.strip() == "postgresql://someone@db.invalid:5432/civic"
    assert "not used" in runner.invoke(app, ["db", "start"]).output
    assert not (env / "pg").exists()


def test_url_normalisation_picks_psycopg() -> None:
    settings = Settings(database_url="postgres://u:p@127.0.0.1:5433/x")
    assert database_url(settings) == "postgresql+psycopg://u:p@127.0.0.1:5433/x"


def test_a_bad_port_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICMAP_PORT", "99999")
    with pytest.raises(ValueError, match="port"):
        Settings()


def test_a_database_url_must_be_postgresql() -> None:
    with pytest.raises(ValueError, match="postgresql"):
        Settings(database_url="sqlite:///tmp/x.db")
