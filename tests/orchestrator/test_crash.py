"""Nothing accepted is lost and no effect runs twice, proven by killing the worker.

A real `raw worker` process serves a process on the dev server with its SQLite
file. The process runs a RAW workflow whose effect is an append to a log, keyed
on ``self.idempotency_key``. The worker is killed with SIGKILL before, during and
after that effect (always before its activity completes); a new worker picks the
process up: it completes, the activity ran at least twice with the same key, and
the log holds the effect exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from temporalio.testing import WorkflowEnvironment

from effect_workflow import EFFECT
from raw.testing.temporal import start_dev_server_env

if TYPE_CHECKING:
    from conftest import Project

RAW_BIN = Path(sys.executable).with_name("raw")

PROCESS = """
    from temporalio import workflow

    with workflow.unsafe.imports_passed_through():
        from raw.orchestrator.workflow import RawProcess, execute_raw


    @workflow.defn
    class CrashProcess(RawProcess):
        @workflow.run
        async def run(self, params: dict) -> dict:
            result = await execute_raw(
                "effect", params, step="effect", heartbeat_timeout_seconds=1.5,
                max_attempts=5, retry_interval_seconds=0.2, timeout_seconds=120,
            )
            return result.output
"""


@pytest.fixture(scope="module")
def crash_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkflowEnvironment]:
    db = tmp_path_factory.mktemp("crash-db") / "temporal.db"
    env = asyncio.run(start_dev_server_env(database_file=db))
    try:
        yield env
    finally:
        asyncio.run(env.shutdown())


def start_worker(root: Path, address: str, name: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_")}
    env["TEMPORAL_ADDRESS"] = address
    log = root / f"{name}.log"
    with log.open("wb") as sink:  # a file, not a pipe: a full pipe would stall the worker
        proc = subprocess.Popen(
            [str(RAW_BIN), "worker"], cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=sink
        )
    deadline = time.monotonic() + 30
    while b"polling" not in log.read_bytes():  # "raw worker: polling ..." once it serves
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    return proc


def wait_for_file(path: Path, timeout_seconds: float = 60) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.parametrize("stage", ["before", "during", "after"])
def test_worker_killed_around_an_effect_loses_nothing_and_repeats_nothing(
    crash_server: WorkflowEnvironment, project: Project, stage: str
) -> None:
    project.add_workflow("effect", EFFECT)
    (project.root / "crash_processes.py").write_text(textwrap.dedent(PROCESS), encoding="utf-8")
    queue = f"crash-{uuid.uuid4().hex[:8]}"
    (project.root / ".raw" / "config.yaml").write_text(
        textwrap.dedent(f"""
        version: 1
        system:
          orchestrator:
            task_queue: {queue}
            workflows: [crash_processes]
    """),
        encoding="utf-8",
    )
    files = {name: str(project.root / f"{name}.txt") for name in ("log", "attempts", "gate")}
    address = crash_server.client.service_client.config.target_host

    first = start_worker(project.root, address, "worker-1")
    second = None
    try:

        async def start() -> object:
            return await crash_server.client.start_workflow(
                "CrashProcess",
                {**files, "stage": stage},
                id=f"crash-{stage}-{queue}",
                task_queue=queue,
            )

        handle = asyncio.run(start())
        wait_for_file(Path(files["gate"]))
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

        second = start_worker(project.root, address, "worker-2")

        async def finish() -> object:
            return await crash_server.client.get_workflow_handle(handle.id).result()  # type: ignore[attr-defined]

        output = asyncio.run(asyncio.wait_for(finish(), timeout=90))
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)

    attempts = Path(files["attempts"]).read_text(encoding="utf-8").splitlines()
    keys = {line.split()[1] for line in attempts}
    pids = {line.split()[0] for line in attempts}
    log = Path(files["log"]).read_text(encoding="utf-8").splitlines()
    assert len(attempts) >= 2  # the activity ran again after the crash
    assert len(pids) >= 2  # ... in the new worker
    assert len(keys) == 1  # with the same idempotency key
    assert log == [output["key"]]  # type: ignore[index]  # the effect exactly once
    assert Path(files["gate"]).read_text(encoding="utf-8") == stage
