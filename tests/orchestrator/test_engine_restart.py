"""The embedded engine restarts under a running system: processes continue, the worker reconnects.

`raw engine start`, a real `raw worker` finding the engine by itself (no address
given), a process waiting for a signal; then the engine is stopped and started
again on the same SQLite file: it comes back on the same ports, the same worker
process reconnects, and the waiting process takes the signal and completes.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from raw.orchestrator.client import SignalEnvelope
from raw.orchestrator.connect import connect
from raw.orchestrator.engine import Engine
from raw.project import Project as RawProject

if TYPE_CHECKING:
    from conftest import Project

RAW_BIN = Path(sys.executable).with_name("raw")

ECHO = """
    from pydantic import BaseModel

    from raw import BaseWorkflow, step

    class Params(BaseModel):
        name: str

    class Echo(BaseWorkflow[Params]):
        @step("echo")
        def echo(self) -> dict:
            return {"hello": self.params.name}
"""

PROCESS = """
    from datetime import timedelta

    from temporalio import workflow

    with workflow.unsafe.imports_passed_through():
        from raw.orchestrator.workflow import RawProcess, execute_raw, first_signal


    @workflow.defn
    class Greeter(RawProcess):
        @workflow.run
        async def run(self, name: str) -> dict:
            go = await first_signal(self, ["go"], timeout=timedelta(days=7))
            if go is None:
                return {"timed_out": True}
            result = await execute_raw("echo", {"name": go.payload["name"]}, step="greet")
            return result.output
"""


def test_engine_restart_keeps_processes_and_the_worker_reconnects(project: Project) -> None:
    project.add_workflow("echo", ECHO)
    (project.root / "restart_processes.py").write_text(textwrap.dedent(PROCESS), "utf-8")
    queue = f"restart-{uuid.uuid4().hex[:8]}"
    (project.root / ".raw" / "config.yaml").write_text(
        textwrap.dedent(f"""
        version: 1
        system:
          orchestrator:
            task_queue: {queue}
            workflows: [restart_processes]
    """),
        encoding="utf-8",
    )
    raw_project = RawProject(project.root)
    engine = Engine(raw_project)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAW_", "TEMPORAL_"))}
    worker = None
    try:
        first = engine.start()
        log = project.root / "worker.log"
        with log.open("wb") as sink:
            worker = subprocess.Popen(
                [str(RAW_BIN), "worker"],
                cwd=project.root,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=sink,
            )
        deadline = time.monotonic() + 30
        while b"polling" not in log.read_bytes():
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        assert first.address.encode() in log.read_bytes()  # found the engine by itself

        async def start_and_wait() -> str:
            client = await connect(raw_project)
            handle = await client.start_workflow(
                "Greeter", "ada", id=f"greeter-{queue}", task_queue=queue
            )
            for _ in range(200):  # until it waits for the signal
                state = await handle.query("raw_state")
                if state["waiting_for"]:
                    break
                await asyncio.sleep(0.05)
            assert state["waiting_for"] == "go"
            return handle.id

        process_id = asyncio.run(start_and_wait())

        engine.stop()
        second = engine.start()
        assert (second.grpc_port, second.ui_port, second.db_filename) == (
            first.grpc_port,
            first.ui_port,
            first.db_filename,
        )
        assert second.pid != first.pid

        async def signal_and_finish() -> object:
            client = await connect(raw_project)
            handle = client.get_workflow_handle(process_id)
            await handle.signal(
                "go", SignalEnvelope(idempotency_key="k-1", payload={"name": "grace"})
            )
            return await asyncio.wait_for(handle.result(), timeout=60)

        assert asyncio.run(signal_and_finish()) == {"hello": "grace"}
        assert worker.poll() is None  # the same worker process, reconnected
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
        engine.stop()
