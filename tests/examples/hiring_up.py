"""The hiring example running for real under `raw up`, as a user runs it.

A copy of ``examples/hiring`` (no local state) in a folder of the test's.
``raw up`` starts the embedded Temporal dev server, the worker, the local
integrations and the coordinator as subprocesses, on the embedded defaults (the
environment holds no RAW_*, DATABASE_URL or TEMPORAL_ADDRESS); webhooks go in
through ``raw webhook send``, signed as their senders sign them. Used by the live
test (tests/examples/test_hiring_up.py) and the operator page's browser tests.

``fast_dispatcher=True`` makes the dispatcher give up after two quick attempts, so
a signal to a process that does not exist becomes a dead letter in about a second.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from raw import pids
from raw.ports import free_port

RAW = str(Path(sys.executable).with_name("raw"))
FAST_DISPATCHER = """\
    dispatcher:
      max_attempts: 2
      base_delay_seconds: 0.2
      max_delay_seconds: 0.5
      poll_interval_seconds: 0.1
"""


def candidate_id(email: str) -> str:
    """The hiring system's candidate id for an email (``hiring.models.candidate_id_for``)."""
    return "c-" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:12]


class HiringUp:
    """`raw up` in a copied hiring folder, with its output collected line by line."""

    def __init__(
        self,
        root: Path,
        *,
        fast_dispatcher: bool = False,
        config_changes: dict[str, str] | None = None,
    ) -> None:
        self.root = root
        config = root / ".raw" / "config.yaml"
        text = config.read_text(encoding="utf-8")
        changes = dict(config_changes or {})
        if fast_dispatcher:
            marker = "    migrations: hiring/migrations\n"
            changes[marker] = marker + FAST_DISPATCHER
        for old, new in changes.items():
            assert old in text, f"the hiring config has no {old!r}: update the test"
            text = text.replace(old, new)
        config.write_text(text, encoding="utf-8")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("RAW_") and k not in ("TEMPORAL_ADDRESS", "DATABASE_URL")
        }
        self.lines: list[str] = []
        self.process: subprocess.Popen[str] | None = None

    def start(self, timeout_seconds: float = 120) -> None:
        """Start `raw up` (again, after a stop or a kill) and wait for its "Ready" line."""
        self.lines = []
        self.process = subprocess.Popen(
            [RAW, "up", "--port", str(self.port)],
            cwd=self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + timeout_seconds
        while not any("Ready in" in line for line in self.lines):
            assert self.process.poll() is None, "raw up exited:\n" + self.log()
            assert time.monotonic() < deadline, "raw up is not ready:\n" + self.log()
            time.sleep(0.1)

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                self.lines.append(line.rstrip())

    def log(self, last: int = 80) -> str:
        return "\n".join(self.lines[-last:])

    def setting(self, name: str) -> str:
        """A development secret `raw up` wrote to .raw/local.env."""
        for line in (self.root / ".raw" / "local.env").read_text().splitlines():
            if line.startswith(f"{name}="):
                return line.split("=", 1)[1]
        raise AssertionError(f"{name} is not in .raw/local.env")

    @property
    def token(self) -> str:
        return self.setting("RAW_API_TOKEN")

    def secrets(self) -> list[str]:
        """Every value in .raw/local.env: none may ever appear on a page."""
        lines = (self.root / ".raw" / "local.env").read_text().splitlines()
        return [line.split("=", 1)[1] for line in lines if "=" in line and not line.startswith("#")]

    def raw(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [RAW, *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def send(self, route: str, data: dict[str, Any]) -> dict[str, Any]:
        """A signed delivery through `raw webhook send`; its answer must be 202."""
        done = self.raw(
            "webhook", "send", route, "--url", self.base, "--data", json.dumps(data), "--json"
        )
        assert done.returncode == 0, done.stdout + done.stderr
        answer: dict[str, Any] = json.loads(done.stdout)
        assert answer["status_code"] == 202, answer
        return answer

    def kill(self) -> None:
        """SIGKILL raw up, every part it started and the Temporal engine: a machine crash."""
        assert self.process is not None
        engine_file = self.root / ".raw" / "temporal" / "engine.json"
        engine = [json.loads(engine_file.read_text())["pid"]] if engine_file.exists() else []
        killed = [self.process.pid, *descendants(self.process.pid), *engine]
        for pid in killed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(10)
        deadline = time.monotonic() + 10  # as after a crash: every one of them gone
        while any(pids.alive(pid) for pid in killed) and time.monotonic() < deadline:
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (parts start sessions of their own: a group kill misses them)."""
    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cv(email: str, name: str) -> dict[str, str]:
    return {
        "submission_id": f"form-{email}",
        "name": name,
        "email": email,
        "phone": "+442071838750",
        "cv_text": "Ten years of Python and PostgreSQL; led a team of five.",
    }


def booking(email: str, start: str, end: str, token: str = "") -> dict[str, Any]:
    """The candidate's booking through their link (``token``: the CV delivery's correlation id)."""
    return {
        "triggerEvent": "BOOKING_CREATED",
        "createdAt": start,
        "payload": {
            "uid": f"booking-{email}",
            "startTime": start,
            "endTime": end,
            "attendees": [{"name": email.split("@")[0], "email": email}],
            "metadata": {"candidate_id": candidate_id(email), "booking_token": token},
        },
    }
