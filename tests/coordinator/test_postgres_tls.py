"""PostgreSQL over TLS: the coordinator, the run index and `raw db` on a TLS-only server.

The server (``pgtls_fixtures``) takes TLS connections only, with certificates made
for this run; the wrong settings each fail with one error that names what to fix.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from raw.coordinator.db.database import (
    Database,
    DatabaseTLSError,
    DatabaseURLError,
    database_url,
    upgrade,
)
from raw.coordinator.db.run_index import sync_engine
from raw.project import Project

from .dispatch_fixtures import ECHO
from .pgtls_fixtures import CERT_USER, TLSPostgres, tls_postgres
from .webhook_fixtures import API_TOKEN, SW_SECRET, standard_headers

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:trustme")

SSL_OF_THIS_CONNECTION = "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


@pytest.fixture(scope="session")
def pgtls_server() -> Iterator[TLSPostgres]:
    """The TLS-only PostgreSQL of this session (per xdist worker)."""
    with tls_postgres() as server:
        yield server


@pytest.fixture
def pgtls_database(pgtls_server: TLSPostgres) -> Iterator[str]:
    """A database of this test's own on the TLS server; its name."""
    name = pgtls_server.create_database()
    try:
        yield name
    finally:
        pgtls_server.drop_database(name)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "TEMPORAL_ADDRESS", "PGSSLMODE", "PGSSLROOTCERT"):
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("RAW_"):
            monkeypatch.delenv(name)


async def _ssl_of(db: Database) -> tuple[bool, str]:
    async with db.read() as session:
        row = (await session.execute(text(SSL_OF_THIS_CONNECTION))).one()
    return bool(row[0]), str(row[1])


def _ping(url: str) -> None:
    async def main() -> None:
        async with Database(url, pool_size=1, max_overflow=0) as db:
            await db.ping()

    asyncio.run(main())


# --- the coordinator, end to end --------------------------------------------------------

CONFIG = """\
version: 1
name: tlsdb
system:
  coordinator:
    database_url: {url}
    database_tls:
      sslmode: verify-full
      sslrootcert: certs/db-ca.pem
    dispatcher:
      poll_interval_seconds: 0.05
    webhooks:
      - name: greet
        path: /webhooks/greet
        scheme: standard-webhooks
        secrets: [TLS_SW_SECRET]
        action: {{kind: run_workflow, workflow: echo}}
"""


def _tls_project(root: Path, server: TLSPostgres, database: str) -> Project:
    (root / "certs").mkdir(exist_ok=True)
    (root / "certs" / "db-ca.pem").write_bytes(server.ca_file.read_bytes())
    config = CONFIG.format(url=server.url(database))
    (root / ".raw" / "config.yaml").write_text(config, encoding="utf-8")
    return Project(root)


def test_coordinator_takes_a_signed_webhook_and_runs_its_action_over_verify_full(
    project: Any,
    pgtls_server: TLSPostgres,
    pgtls_database: str,
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import httpx

    from raw.coordinator.app import create_app

    monkeypatch.setenv("TLS_SW_SECRET", SW_SECRET)
    monkeypatch.setenv("RAW_API_TOKEN", API_TOKEN)
    project.add_workflow("echo", ECHO)
    raw_project = _tls_project(project.root, pgtls_server, pgtls_database)
    url = database_url(raw_project)
    assert "sslmode=verify-full" in url
    assert f"sslrootcert={project.root / 'certs' / 'db-ca.pem'}" in url

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], tuple[bool, str]]:
        await upgrade(url)
        app = create_app(raw_project, run_dispatcher=True)
        coordinator = app.state.raw_coordinator
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                body = json.dumps({"name": "Ada"})
                answer = await client.post(
                    "/webhooks/greet", content=body, headers=standard_headers(body)
                )
                assert answer.status_code == 202, answer.text
                auth = {"Authorization": f"Bearer {API_TOKEN}"}
                records: list[dict[str, Any]] = []
                runs: list[dict[str, Any]] = []
                for _ in range(400):  # until the dispatcher's run is done and indexed
                    records = (await client.get("/api/inbox", headers=auth)).json()["records"]
                    runs = (await client.get("/api/runs", headers=auth)).json()["runs"]
                    done = bool(records) and records[0]["status"] == "done"
                    if done and runs and runs[0]["status"] == "succeeded":
                        break
                    await asyncio.sleep(0.05)
            ssl = await _ssl_of(coordinator.db)
        return records, runs, ssl

    records, runs, (encrypted, version) = asyncio.run(scenario())
    assert records[0]["status"] == "done"
    assert [run["workflow"] for run in runs] == ["echo"]  # written by the run index's sync engine
    assert runs[0]["status"] == "succeeded"
    assert encrypted is True
    assert version.startswith("TLSv1.")
    # The run index's own (synchronous) connections are encrypted too.
    with sync_engine(url).connect() as conn:
        assert conn.execute(text(SSL_OF_THIS_CONNECTION)).one()[0] is True


# --- sslmode require, client certificates, libpq's variables -----------------------------


def test_sslmode_require_in_the_url_encrypts_without_checking_the_certificate(
    pgtls_server: TLSPostgres, pgtls_database: str
) -> None:
    url = pgtls_server.url(pgtls_database, sslmode="require")

    async def main() -> tuple[bool, str]:
        async with Database(url) as db:
            return await _ssl_of(db)

    encrypted, _ = asyncio.run(main())
    assert encrypted is True


def test_plaintext_is_refused_naming_sslmode(
    pgtls_server: TLSPostgres, pgtls_database: str
) -> None:
    with pytest.raises(DatabaseTLSError) as caught:
        _ping(pgtls_server.url(pgtls_database, sslmode="disable"))
    assert caught.value.setting == "sslmode"
    assert "only encrypted connections" in str(caught.value)


def test_a_client_certificate_from_the_config_logs_in_a_cert_only_user(
    project: Any, pgtls_server: TLSPostgres, pgtls_database: str, clean_env: None
) -> None:
    config = f"""\
version: 1
system:
  coordinator:
    database_url: {pgtls_server.url(pgtls_database, user=CERT_USER)}
    database_tls:
      sslmode: verify-full
      sslrootcert: {pgtls_server.ca_file}
      sslcert: {pgtls_server.client_cert}
      sslkey: {pgtls_server.client_key}
"""
    (project.root / ".raw" / "config.yaml").write_text(config, encoding="utf-8")
    url = database_url(Project(project.root))

    async def main() -> str:
        async with Database(url) as db, db.read() as session:
            return str(await session.scalar(text("SELECT current_user")))

    assert asyncio.run(main()) == CERT_USER
    without = pgtls_server.url(
        pgtls_database, user=CERT_USER, sslmode="verify-full", sslrootcert=str(pgtls_server.ca_file)
    )
    with pytest.raises(DatabaseTLSError) as caught:
        _ping(without)
    assert caught.value.setting == "sslcert"
    assert "client certificate" in str(caught.value)


def test_libpq_variables_pgsslmode_and_pgsslrootcert_still_apply(
    pgtls_server: TLSPostgres, pgtls_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGSSLMODE", "verify-full")
    monkeypatch.setenv("PGSSLROOTCERT", str(pgtls_server.wrong_ca_file))
    plain = pgtls_server.url(pgtls_database)
    with pytest.raises(DatabaseTLSError) as caught:
        _ping(plain)
    assert f"sslrootcert={pgtls_server.wrong_ca_file}" in str(caught.value)
    assert "PGSSLROOTCERT" in str(caught.value)
    monkeypatch.setenv("PGSSLROOTCERT", str(pgtls_server.ca_file))
    _ping(plain)


# --- the wrong settings: one clear error each --------------------------------------------


def test_verify_full_with_the_wrong_ca_fails_at_once_naming_sslrootcert(
    pgtls_server: TLSPostgres, pgtls_database: str
) -> None:
    wrong = str(pgtls_server.wrong_ca_file)
    url = pgtls_server.url(pgtls_database, sslmode="verify-full", sslrootcert=wrong)
    with pytest.raises(DatabaseTLSError) as caught:
        _ping(url)
    message = str(caught.value)
    assert caught.value.setting == "sslrootcert"
    assert f"the server's certificate is not signed by the CA in sslrootcert={wrong}" in message
    assert "Set sslrootcert" in message
    assert "\n" not in message


def test_a_host_the_certificate_does_not_name_fails_naming_the_host(
    pgtls_server: TLSPostgres, pgtls_database: str
) -> None:
    # The connection goes to 127.0.0.1, but is checked against the name in the URL.
    url = (
        f"postgresql://postgres@db.wrong-name.invalid:{pgtls_server.port}/{pgtls_database}"
        f"?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={pgtls_server.ca_file}"
    )
    with pytest.raises(DatabaseTLSError) as caught:
        _ping(url)
    message = str(caught.value)
    assert caught.value.setting == "host"
    assert "issued for 'localhost'" in message
    assert "not for 'db.wrong-name.invalid'" in message
    assert "sslmode=verify-ca" in message


def test_a_missing_ca_file_names_sslrootcert(
    pgtls_server: TLSPostgres, pgtls_database: str, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "ca.pem"
    url = pgtls_server.url(pgtls_database, sslmode="verify-full", sslrootcert=str(missing))
    with pytest.raises(DatabaseTLSError) as caught:
        _ping(url)
    assert f"sslrootcert={missing} does not exist" in str(caught.value)


def test_raw_db_with_the_wrong_ca_prints_one_error_and_exits_4(
    project: Any, pgtls_server: TLSPostgres, pgtls_database: str
) -> None:
    wrong = str(pgtls_server.wrong_ca_file)
    url = pgtls_server.url(pgtls_database, sslmode="verify-full", sslrootcert=wrong)
    url = url.replace("postgres@", "postgres:tls-secret-pw@")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAW_", "PGSSL"))}
    env["DATABASE_URL"] = url
    done = subprocess.run(
        [sys.executable, "-c", "from raw.cli.main import main; main()", "db", "current"],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 4, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: The database at ")
    assert "not signed by the CA in sslrootcert=" in lines[0]
    assert "tls-secret-pw" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


# --- the settings, without a server --------------------------------------------------------


def test_url_and_config_sslmodes_meet_at_the_stricter_and_two_cas_are_refused(
    project: Any, clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = """\
version: 1
system:
  coordinator:
    database_tls: {sslmode: verify-full, sslrootcert: ca.pem}
"""
    (project.root / ".raw" / "config.yaml").write_text(config, encoding="utf-8")
    ca = project.root / "ca.pem"
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:pw@db.example.com/app?sslmode=require")
    url = database_url(Project(project.root))
    assert url.endswith(f"/app?sslmode=verify-full&sslrootcert={ca}")
    config = config.replace("verify-full", "require")
    (project.root / ".raw" / "config.yaml").write_text(config, encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db.example.com/app?sslmode=verify-ca")
    assert "sslmode=verify-ca&" in database_url(Project(project.root))
    monkeypatch.setenv(
        "DATABASE_URL", "postgresql://app:pw@db.example.com/app?sslrootcert=/etc/other-ca.pem"
    )
    with pytest.raises(DatabaseURLError) as caught:
        database_url(Project(project.root))
    message = str(caught.value)
    assert f"sslrootcert is '/etc/other-ca.pem' in the URL's query but '{ca}'" in message
    assert ":pw@" not in message


def test_tls_settings_leave_a_sqlite_url_alone(project: Any, clean_env: None) -> None:
    config = "version: 1\nsystem:\n  coordinator:\n    database_tls: {sslmode: require}\n"
    (project.root / ".raw" / "config.yaml").write_text(config, encoding="utf-8")
    assert database_url(Project(project.root)).startswith("sqlite+aiosqlite:///")


def test_a_key_passphrase_in_the_url_is_never_shown(pgtls_server: TLSPostgres) -> None:
    secret = f"keypass-{uuid.uuid4().hex[:8]}"
    db = Database(pgtls_server.url("postgres", sslmode="require", sslpassword=secret))
    assert secret not in repr(db)
    assert secret not in db.safe_url
