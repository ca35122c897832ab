"""`raw up` for real: the hiring system as subprocesses over HTTP, killed mid-process, resumed.

A short happy path with the phone simulator's delay turned down: a CV through the
real webhook route, the scheduling email in the SMTP catcher, a booking a few
seconds ahead; then every process of the system (raw up, its parts, the Temporal
engine) is SIGKILLed while the process sleeps until the call. A second `raw up`
resumes it: the call is placed, its signed status callback comes back, the
summary is stored.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import copy_hiring

RAW = str(Path(sys.executable).with_name("raw"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Up:
    """One `raw up` process with its output collected line by line."""

    def __init__(self, root: Path, port: int, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [RAW, "up", "--port", str(port)],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                self.lines.append(line.rstrip())

    def wait_for(self, text: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert self.process.poll() is None, "raw up exited:\n" + "\n".join(self.lines)
            assert time.monotonic() < deadline, f"no '{text}' in:\n" + "\n".join(self.lines)
            time.sleep(0.1)

    def log(self) -> str:
        return "\n".join(self.lines[-80:])


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def kill_everything(up: Up, root: Path) -> None:
    """SIGKILL raw up, every part it started, and the Temporal engine: a machine crash."""
    engine_file = root / ".raw" / "temporal" / "engine.json"
    engine = [json.loads(engine_file.read_text())["pid"]] if engine_file.exists() else []
    for pid in [up.process.pid, *descendants(up.process.pid), *engine]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    up.process.wait(10)


def send(
    root: Path, env: dict[str, str], base: str, route: str, data: dict[str, Any]
) -> dict[str, Any]:
    done = subprocess.run(
        [RAW, "webhook", "send", route, "--url", base, "--data", json.dumps(data), "--json"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    assert answer["status_code"] == 202
    return answer


def candidate(base: str, token: str, candidate_id: str) -> dict[str, Any]:
    answer = httpx.get(
        f"{base}/api/candidates/{candidate_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def until_status(base: str, token: str, candidate_id: str, status: str, up: Up) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        body = candidate(base, token, candidate_id)
        if body["status"] == status:
            return body
        assert time.monotonic() < deadline, f"status {body['status']}, not {status}:\n{up.log()}"
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.usefixtures("clean_env")
@pytest.mark.timeout(300)
def test_raw_up_runs_the_hiring_system_and_resumes_after_a_crash(tmp_path: Path) -> None:
    root = copy_hiring(tmp_path / "hiring")
    config = root / ".raw" / "config.yaml"
    config.write_text(
        config.read_text().replace("callback_delay_seconds: 3", "callback_delay_seconds: 0.5")
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_")}
    env.pop("DATABASE_URL", None)
    env.pop("TEMPORAL_ADDRESS", None)

    up = Up(root, port, env)
    try:
        up.wait_for("Ready in")
        assert "recorded responses" in up.log()  # no LLM provider here: it says so
        # Pattern 3 on the dev server (the time-skipping server has no Schedules).
        schedules = subprocess.run(  # finds the running engine by itself
            [RAW, "schedules", "list", "--json"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        listed = {s["id"]: s for s in json.loads(schedules.stdout)["schedules"]}
        assert listed["daily-report"]["workflow"] == "generate-report"
        assert listed["daily-report"]["cron"] == "0 18 * * *"
        token = next(
            line.split("=", 1)[1]
            for line in (root / ".raw" / "local.env").read_text().splitlines()
            if line.startswith("RAW_API_TOKEN=")
        )
        accepted = send(
            root,
            env,
            base,
            "cv-submission",
            {
                "submission_id": "live-1",
                "name": "Ada Lovelace",
                "email": "ada@example.com",
                "phone": "+442071838750",
                "cv_text": "Ten years of Python and PostgreSQL.",
            },
        )
        cid = accepted["response"]["target"].split("/", 1)[1]  # hiring-process/<candidate>
        until_status(base, token, cid, "awaiting-booking", up)
        mail = subprocess.run(
            [RAW, "integrations", "mail", "--json"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        subjects = [m["subject"] for m in json.loads(mail.stdout)["messages"]]
        assert subjects == ["Book your screening call for Backend engineer"]

        call_time = datetime.now(UTC) + timedelta(seconds=6)
        send(
            root,
            env,
            base,
            "calendar-booking",
            {
                "triggerEvent": "BOOKING_CREATED",
                "createdAt": datetime.now(UTC).isoformat(),
                "payload": {
                    "uid": "live-booking",
                    "startTime": call_time.isoformat(),
                    "endTime": (call_time + timedelta(minutes=20)).isoformat(),
                    "metadata": {"candidate_id": cid},
                },
            },
        )
        until_status(base, token, cid, "call-scheduled", up)
    finally:
        kill_everything(up, root)

    again = Up(root, port, env)
    try:
        again.wait_for("Ready in")
        done = until_status(base, token, cid, "completed", again)
        assert done["call_attempts"] == 1
        assert done["summary"]["recommendation"] == "advance"
        assert done["process"]["step"] == "completed"
        stored = json.loads((root / ".raw" / "storage" / "summaries" / f"{cid}.json").read_text())
        assert stored == done["summary"]
        # The worker's RAW runs are in the run index the API reads (one database for all parts).
        runs = httpx.get(
            f"{base}/api/runs",
            params={"workflow": "generate-call-summary"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()["runs"]
        assert [r["status"] for r in runs] == ["succeeded"]
    finally:
        again.process.send_signal(signal.SIGTERM)
        code = again.process.wait(60)
    assert code == 0, again.log()
    assert "Stopped." in again.log()
