"""A secured Temporal: TLS, mutual TLS and an API key, through local fronts of the dev server.

Each front (tests/orchestrator/secure_fronts.py) stands before the session's dev server
with certificates made for this run by trustme. Through each, a real ``raw worker``
runs a process that a client of the kit started, and ``raw process list`` and the
coordinator's processes API (``raw serve``) see it.
A wrong CA, a missing client certificate and a wrong API key each end a command with
one error that names the setting to fix, exit code 4, and nothing else: no traceback,
no Rust error, no hang, no abort at exit. Failures are checked in subprocesses
(NOTES.md: the interpreter may abort at exit after a failed Temporal connection).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import trustme
from temporalio.testing import WorkflowEnvironment

from raw.orchestrator.client import start_process
from raw.orchestrator.connect import connect, resolve_target
from raw.ports import free_port

from .secure_fronts import ApiKeyFront, TlsTerminator

if TYPE_CHECKING:
    from conftest import Project

RAW_BIN = Path(sys.executable).with_name("raw")
UNREACHABLE = 4
API_KEY = f"tmprl-test-{uuid.uuid4().hex}"
WRONG_KEY = f"tmprl-wrong-{uuid.uuid4().hex}"

PROCESS = """
    from datetime import timedelta

    from temporalio import activity, workflow


    @activity.defn
    async def shout(text: str) -> str:
        return text.upper()


    @workflow.defn
    class Greeting:
        @workflow.run
        async def run(self, name: str) -> str:
            return await workflow.execute_activity(
                shout, f"hello {name}", start_to_close_timeout=timedelta(seconds=30)
            )
"""


@dataclass(frozen=True)
class Certificates:
    folder: Path
    ca: Path
    wrong_ca: Path
    client_cert: Path
    client_key: Path
    server_chain: bytes = field(repr=False)
    server_key: bytes = field(repr=False)
    ca_pem: bytes = field(repr=False)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A CA, a server certificate for 127.0.0.1 and localhost, a client certificate; per run."""
    folder = tmp_path_factory.mktemp("temporal-certs")
    ca, wrong = trustme.CA(), trustme.CA()
    server = ca.issue_cert("localhost", "127.0.0.1")
    client = ca.issue_cert("raw-worker.example")
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    wrong.cert_pem.write_to_path(str(folder / "wrong-ca.pem"))
    client.cert_chain_pems[0].write_to_path(str(folder / "client.pem"))
    client.private_key_pem.write_to_path(str(folder / "client.key"))
    return Certificates(
        folder=folder,
        ca=folder / "ca.pem",
        wrong_ca=folder / "wrong-ca.pem",
        client_cert=folder / "client.pem",
        client_key=folder / "client.key",
        server_chain=b"".join(blob.bytes() for blob in server.cert_chain_pems),
        server_key=server.private_key_pem.bytes(),
        ca_pem=ca.cert_pem.bytes(),
    )


def _dev_address(env: WorkflowEnvironment) -> str:
    return env.client.service_client.config.target_host


def _terminator(env: WorkflowEnvironment, certs: Certificates, *, mutual: bool) -> Iterator[str]:
    front = TlsTerminator(
        _dev_address(env),
        cert_chain_pem=certs.server_chain,
        private_key_pem=certs.server_key,
        client_ca_pem=certs.ca_pem if mutual else None,
    ).start()
    yield front.address
    front.stop()


@pytest.fixture(scope="module")
def tls_front(raw_dev_server_env: WorkflowEnvironment, certs: Certificates) -> Iterator[str]:
    yield from _terminator(raw_dev_server_env, certs, mutual=False)


@pytest.fixture(scope="module")
def mtls_front(raw_dev_server_env: WorkflowEnvironment, certs: Certificates) -> Iterator[str]:
    yield from _terminator(raw_dev_server_env, certs, mutual=True)


@pytest.fixture(scope="module")
def key_front(raw_dev_server_env: WorkflowEnvironment, certs: Certificates) -> Iterator[str]:
    front = ApiKeyFront(
        _dev_address(raw_dev_server_env),
        api_key=API_KEY,
        cert_chain_pem=certs.server_chain,
        private_key_pem=certs.server_key,
    ).start()
    yield front.address
    front.stop()


# --- a project, its settings, and the real `raw` command ---------------------------------


def clean_env(**settings: str) -> dict[str, str]:
    """The test's environment without RAW_* and TEMPORAL_* settings, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAW_", "TEMPORAL_"))}
    env.update(settings)
    return env


def write_config(project: Project, queue: str, orchestrator: str = "") -> None:
    (project.root / "greeting_processes.py").write_text(textwrap.dedent(PROCESS), "utf-8")
    body = textwrap.indent(textwrap.dedent(orchestrator).strip(), " " * 4)
    (project.root / ".raw" / "config.yaml").write_text(
        "version: 1\n"
        "system:\n"
        "  orchestrator:\n"
        f"    task_queue: {queue}\n"
        "    workflows: [greeting_processes]\n"
        "    activities: [greeting_processes]\n" + (body + "\n" if body else ""),
        encoding="utf-8",
    )


@dataclass
class Done:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def raw(project: Project, env: dict[str, str], *args: str) -> Done:
    proc = subprocess.run(
        [str(RAW_BIN), *args],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Done(proc.returncode, proc.stdout, proc.stderr)


class RunningWorker:
    """``raw worker`` in a subprocess, ready once it says it polls."""

    def __init__(self, project: Project, env: dict[str, str]) -> None:
        self.log = project.root / "worker.log"
        with self.log.open("wb") as sink:
            self.proc = subprocess.Popen(
                [str(RAW_BIN), "worker"],
                cwd=project.root,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=sink,
            )

    def wait_until_polling(self) -> None:
        # The worker's own line is the event; the deadline only bounds a broken run.
        deadline = time.monotonic() + 60
        while b"polling" not in self.log.read_bytes():
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def listed(project: Project, env: dict[str, str], process_id: str) -> list[dict[str, Any]]:
    """``raw process list`` until it shows ``process_id`` (visibility lags a little)."""
    query = f"WorkflowId = '{process_id}'"
    deadline = time.monotonic() + 30
    while True:
        done = raw(project, env, "process", "list", "--query", query, "--json")
        assert done.code == 0, done.stdout + done.stderr
        found: list[dict[str, Any]] = done.json()["processes"]
        if found and found[0]["status"] == "completed":
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.1)


def coordinator_lists(project: Project, env: dict[str, str], process_id: str) -> None:
    """``raw serve`` (the coordinator) answers its processes API through the same security."""
    port = free_port()
    token = uuid.uuid4().hex
    log = project.root / "serve.log"
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [str(RAW_BIN), "serve", "--port", str(port)],
            cwd=project.root,
            env={**env, "RAW_API_TOKEN": token, "RAW_DISPATCHER": "off"},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60  # bounds a broken start; the event is /health
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        answer = httpx.get(
            f"{base}/api/processes",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["error"] is None, body["error"]
        assert process_id in [p["id"] for p in body["processes"]], body
    finally:
        server.terminate()
        server.wait(timeout=30)


def run_through(
    project: Project, monkeypatch: pytest.MonkeyPatch, settings: dict[str, str], queue: str
) -> None:
    """A worker, a client, `raw process list` and the coordinator, each through the
    configured security."""
    env = clean_env(**settings)
    worker = RunningWorker(project, env)
    try:
        worker.wait_until_polling()
        for name in [n for n in os.environ if n.startswith(("TEMPORAL_", "RAW_"))]:
            monkeypatch.delenv(name)
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        key = uuid.uuid4().hex[:10]

        async def start_and_wait() -> tuple[str, str]:
            client = await connect(project.root)
            started = await start_process(
                client, "Greeting", "ada", business_key=key, task_queue=queue
            )
            return started.id, await client.get_workflow_handle(started.id).result()

        process_id, result = asyncio.run(start_and_wait())
        assert result == "HELLO ADA"
        found = listed(project, env, process_id)
        assert [p["id"] for p in found] == [process_id]
        coordinator_lists(project, env, process_id)
    finally:
        worker.stop()
    assert worker.proc.returncode == 0, worker.log.read_text()


# --- through each front --------------------------------------------------------------------


def test_server_tls_from_the_config_file(
    project: Project, monkeypatch: pytest.MonkeyPatch, certs: Certificates, tls_front: str
) -> None:
    queue = f"tls-{uuid.uuid4().hex[:8]}"
    write_config(
        project,
        queue,
        f"""
        address: {tls_front}
        connection:
          server_ca_cert: {certs.ca}
          server_name: localhost
        """,
    )
    run_through(project, monkeypatch, {}, queue)


def test_mutual_tls_from_temporal_settings(
    project: Project, monkeypatch: pytest.MonkeyPatch, certs: Certificates, mtls_front: str
) -> None:
    queue = f"mtls-{uuid.uuid4().hex[:8]}"
    write_config(project, queue)
    settings = {
        "TEMPORAL_ADDRESS": mtls_front,
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(certs.ca),
        "TEMPORAL_TLS_CLIENT_CERT_PATH": str(certs.client_cert),
        "TEMPORAL_TLS_CLIENT_KEY_PATH": str(certs.client_key),
    }
    run_through(project, monkeypatch, settings, queue)


def test_api_key_with_a_temporal_profile(
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    certs: Certificates,
    key_front: str,
    tmp_path: Path,
) -> None:
    # The profile file is Temporal's own (the `temporal` CLI reads it too); the key
    # comes from the environment, as a deployment's Secret gives it.
    profile = tmp_path / "temporal.toml"
    profile.write_text(
        f'[profile.cloud]\naddress = "{key_front}"\nnamespace = "default"\n'
        f'[profile.cloud.tls]\nserver_ca_cert_path = "{certs.ca}"\n',
        encoding="utf-8",
    )
    queue = f"key-{uuid.uuid4().hex[:8]}"
    write_config(
        project,
        queue,
        f"""
        connection:
          profile: cloud
          config_file: {profile}
          api_key_setting: TEMPORAL_API_KEY
        """,
    )
    run_through(project, monkeypatch, {"TEMPORAL_API_KEY": API_KEY}, queue)


def test_the_embedded_engine_stays_plain_whatever_the_temporal_settings(
    project: Project, monkeypatch: pytest.MonkeyPatch, certs: Certificates
) -> None:
    # A developer's shell may hold Temporal Cloud settings: without an address of
    # theirs, the project's own server is still the target, and reached in the clear.
    write_config(project, "q")
    for name in [n for n in os.environ if n.startswith("TEMPORAL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("TEMPORAL_API_KEY", API_KEY)
    monkeypatch.setenv("TEMPORAL_TLS_SERVER_CA_CERT_PATH", str(certs.ca))
    from raw.orchestrator.security import TemporalUnavailableError
    from raw.project import find_project

    with pytest.raises(TemporalUnavailableError, match="No Temporal server to connect to"):
        resolve_target(find_project(project.root))


# --- the three wrong settings, each named ----------------------------------------------------


def _refusal(done: Done) -> dict[str, Any]:
    assert done.code == UNREACHABLE, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "Fatal Python error" not in done.stderr
    document = done.json()
    assert document["exit_code"] == UNREACHABLE
    error: dict[str, Any] = document["error"]
    assert error["type"] == "TemporalSecurityError"
    assert "tonic" not in error["message"] and "Status {" not in error["message"]
    return error


def test_a_wrong_ca_names_the_ca_setting(
    project: Project, certs: Certificates, tls_front: str
) -> None:
    write_config(project, "q")
    env = clean_env(
        TEMPORAL_ADDRESS=tls_front, TEMPORAL_TLS_SERVER_CA_CERT_PATH=str(certs.wrong_ca)
    )
    error = _refusal(raw(project, env, "process", "list", "--json"))
    assert "not signed by the CA in" in error["message"]
    assert "Set TEMPORAL_TLS_SERVER_CA_CERT_PATH to the CA certificate" in error["message"]


def test_a_wrong_ca_in_the_config_names_the_config_key(
    project: Project, certs: Certificates, tls_front: str
) -> None:
    write_config(
        project, "q", f"address: {tls_front}\nconnection:\n  server_ca_cert: {certs.wrong_ca}"
    )
    error = _refusal(raw(project, clean_env(), "process", "list", "--json"))
    assert "Set system.orchestrator.connection.server_ca_cert to" in error["message"]


def test_a_missing_client_certificate_names_the_client_certificate_settings(
    project: Project, certs: Certificates, mtls_front: str
) -> None:
    write_config(project, "q")
    env = clean_env(TEMPORAL_ADDRESS=mtls_front, TEMPORAL_TLS_SERVER_CA_CERT_PATH=str(certs.ca))
    error = _refusal(raw(project, env, "process", "list", "--json"))
    assert "requires a client certificate (mutual TLS)" in error["message"]
    assert "TEMPORAL_TLS_CLIENT_CERT_PATH" in error["message"]
    assert "TEMPORAL_TLS_CLIENT_KEY_PATH" in error["message"]


def wrong_key_settings(project: Project, certs: Certificates, key_front: str) -> dict[str, str]:
    write_config(project, "q")
    return clean_env(
        TEMPORAL_ADDRESS=key_front,
        TEMPORAL_TLS_SERVER_CA_CERT_PATH=str(certs.ca),
        TEMPORAL_API_KEY=WRONG_KEY,
    )


def test_a_wrong_api_key_names_the_key_setting_and_never_shows_the_key(
    project: Project, certs: Certificates, key_front: str
) -> None:
    env = wrong_key_settings(project, certs, key_front)
    done = raw(project, env, "process", "list", "--json")
    error = _refusal(done)
    assert "the API key from TEMPORAL_API_KEY was not accepted" in error["message"]
    assert WRONG_KEY not in done.stdout + done.stderr


def test_a_worker_with_a_wrong_api_key_exits_4_with_one_line(
    project: Project, certs: Certificates, key_front: str
) -> None:
    env = wrong_key_settings(project, certs, key_front)
    done = raw(project, env, "worker")
    assert done.code == UNREACHABLE, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: Temporal at "), done.stderr
    assert "TEMPORAL_API_KEY" in lines[0] and WRONG_KEY not in done.stderr


def test_a_required_api_key_that_is_not_set_is_named_before_connecting(
    project: Project, key_front: str
) -> None:
    write_config(
        project, "q", f"address: {key_front}\nconnection:\n  api_key_setting: HIRING_TEMPORAL_KEY"
    )
    done = raw(project, clean_env(), "process", "list", "--json")
    error = _refusal(done)
    assert "names HIRING_TEMPORAL_KEY, but HIRING_TEMPORAL_KEY is not set" in error["message"]
