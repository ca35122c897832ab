"""`raw worker`: what it serves, how it refuses a bad config, and how it stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from temporalio.testing import WorkflowEnvironment

if TYPE_CHECKING:
    from conftest import Project, RunCli

RAW_BIN = Path(sys.executable).with_name("raw")

PROCESS = """
    from temporalio import activity, workflow


    @activity.defn
    async def shout(text: str) -> str:
        return text.upper()


    @workflow.defn
    class Hello:
        @workflow.run
        async def run(self, name: str) -> str:
            return name
"""


def configure(project: Project, modules: str, queue: str = "q") -> None:
    (project.root / ".raw" / "config.yaml").write_text(
        textwrap.dedent(f"""
        version: 1
        system:
          orchestrator:
            task_queue: {queue}
            workflows: [{modules}]
            activities: [{modules}]
    """),
        encoding="utf-8",
    )


def test_check_lists_what_the_worker_serves(project: Project, raw_cli: RunCli) -> None:
    (project.root / "hello_processes.py").write_text(textwrap.dedent(PROCESS), "utf-8")
    configure(project, "hello_processes")

    result = raw_cli("worker", "--check", "--json")

    assert result.code == 0, result.stderr
    plan = result.json()
    assert plan["task_queue"] == "q"
    assert plan["workflows"] == ["Hello", "RawScheduledRun"]
    assert plan["activities"] == ["run_raw_workflow", "run_raw_workflow_call", "shout"]


def test_a_module_that_does_not_import_is_named(project: Project, raw_cli: RunCli) -> None:
    configure(project, "no_such_module")

    result = raw_cli("worker", "--check")

    assert result.code == 1
    assert "Cannot import 'no_such_module'" in result.stderr
    assert "Traceback" not in result.stderr


def _worker_until_sigterm(
    server: WorkflowEnvironment, project: Project, *flags: str, ready: bytes
) -> str:
    """`raw worker` started on the hello process, stopped with SIGTERM once its log shows
    ``ready``; it must exit 0. Its stderr."""
    (project.root / "hello_processes.py").write_text(textwrap.dedent(PROCESS), "utf-8")
    configure(project, "hello_processes", queue=f"w-{uuid.uuid4().hex[:8]}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_")}
    env["TEMPORAL_ADDRESS"] = server.client.service_client.config.target_host
    log = project.root / "worker.log"
    with log.open("wb") as sink:
        worker = subprocess.Popen(
            [str(RAW_BIN), "worker", *flags],
            cwd=project.root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    try:
        deadline = time.monotonic() + 30
        while ready not in log.read_bytes():
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    return log.read_text()


def test_sigterm_stops_the_worker_gracefully(
    raw_dev_server_env: WorkflowEnvironment, project: Project
) -> None:
    log = _worker_until_sigterm(raw_dev_server_env, project, ready=b"polling")
    assert "raw worker: stopped." in log


def test_the_worker_logs_json_lines(
    raw_dev_server_env: WorkflowEnvironment, project: Project
) -> None:
    import json

    log = _worker_until_sigterm(
        raw_dev_server_env, project, "--log-format", "json", ready=b"raw worker: polling"
    )
    lines = [json.loads(line) for line in log.splitlines()]
    assert {line["part"] for line in lines} == {"worker"}
    assert lines[0]["message"].startswith("raw worker: polling")
    assert lines[-1]["message"] == "raw worker: stopped."


SHOUTING = """
    from datetime import timedelta

    from temporalio import activity, workflow


    @activity.defn
    async def shout(text: str) -> str:
        return text.upper()


    @workflow.defn
    class Shouting:
        @workflow.run
        async def run(self, name: str) -> str:
            return await workflow.execute_activity(
                shout, name, start_to_close_timeout=timedelta(seconds=30)
            )
"""


def _scrape(url: str) -> str:
    import httpx

    try:
        answer = httpx.get(url, timeout=5)
    except httpx.TransportError:
        return ""
    return answer.text if answer.status_code == 200 else ""


def test_metrics_port_serves_the_sdk_metrics_of_a_real_worker(
    raw_dev_server_env: WorkflowEnvironment, project: Project
) -> None:
    import asyncio

    from raw.ports import free_port

    (project.root / "shouting_processes.py").write_text(textwrap.dedent(SHOUTING), "utf-8")
    queue = f"m-{uuid.uuid4().hex[:8]}"
    configure(project, "shouting_processes", queue=queue)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_")}
    env["TEMPORAL_ADDRESS"] = raw_dev_server_env.client.service_client.config.target_host
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    log = project.root / "worker.log"
    with log.open("wb") as sink:
        worker = subprocess.Popen(
            [str(RAW_BIN), "worker", "--metrics-port", str(port), "--metrics-host", "127.0.0.1"],
            cwd=project.root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    try:
        deadline = time.monotonic() + 30
        while b"polling" not in log.read_bytes():
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        assert f"metrics at http://127.0.0.1:{port}/metrics" in log.read_text()

        async def shout() -> str:
            client = raw_dev_server_env.client
            return await client.execute_workflow(
                "Shouting", "ada", id=f"shout-{queue}", task_queue=queue
            )

        assert asyncio.run(shout()) == "ADA"
        wanted = (
            "temporal_workflow_task_schedule_to_start_latency",
            "temporal_workflow_task_execution_latency",
            "temporal_activity_schedule_to_start_latency",
            "temporal_workflow_completed",
        )
        text = ""
        while not all(name in text for name in wanted):  # the runtime exports as it records
            assert worker.poll() is None and time.monotonic() < deadline + 30, text[-2000:]
            text = _scrape(url)
            time.sleep(0.1)
        assert f'task_queue="{queue}"' in text
        assert 'workflow_type="Shouting"' in text
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_metrics_port_out_of_range_is_refused(project: Project, raw_cli: RunCli) -> None:
    result = raw_cli("worker", "--metrics-port", "70000")
    assert result.code == 2
    assert "--metrics-port 70000 is not a port" in result.stderr


def test_a_metrics_port_in_use_is_named(project: Project, raw_cli: RunCli) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = raw_cli("worker", "--metrics-port", str(port), "--metrics-host", "127.0.0.1")
    assert result.code == 2, result.stderr
    assert f"The worker's metrics cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Choose another --metrics-port" in result.stderr and "Traceback" not in result.stderr
