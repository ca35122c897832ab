"""`raw up` refusing clearly: a part that cannot start stops the rest and names itself."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from tests.examples.conftest import copy_hiring

from raw.cli.up import _sync_schedules
from raw.ports import free_port
from raw.project import Project
from raw.up.supervisor import PartFailedError, Supervisor

RAW = str(Path(sys.executable).with_name("raw"))


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_")}
    env.pop("DATABASE_URL", None)
    env.pop("TEMPORAL_ADDRESS", None)
    return env


def test_a_taken_port_is_refused_before_anything_starts(tmp_path: Path) -> None:
    root = copy_hiring(tmp_path / "hiring")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [RAW, "up", "--port", str(port)],
            cwd=root,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"Error: Port {port} on 127.0.0.1 is not free" in done.stderr
    assert "pass --port" in done.stderr
    assert not (root / ".raw" / "temporal").exists()  # the engine never started


@pytest.mark.slow
def test_a_part_that_cannot_start_stops_the_system_and_says_which(tmp_path: Path) -> None:
    root = copy_hiring(tmp_path / "hiring")
    activities = root / "hiring" / "activities.py"
    activities.write_text(activities.read_text() + "\nraise RuntimeError('broken on purpose')\n")
    done = subprocess.run(
        [RAW, "up", "--port", "0"],
        cwd=root,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "broken on purpose" in output  # the worker's own log, prefixed
    assert "Error: The worker did not start: it exited with code" in output
    assert "Stopped." in output
    assert "the embedded Temporal engine stopped" in output


def test_a_bad_config_is_refused_before_anything_starts(tmp_path: Path) -> None:
    root = copy_hiring(tmp_path / "hiring")
    config = root / ".raw" / "config.yaml"
    config.write_text(
        config.read_text().replace("task_queue: hiring", "task_queue: hiring\n    bogus: 1")
    )
    done = subprocess.run(
        [RAW, "up"], cwd=root, env=clean_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "bogus" in done.stderr and "Traceback" not in done.stderr
    assert not (root / ".raw" / "temporal").exists()


def test_make_up_passes_port_to_raw_up() -> None:
    repo = Path(__file__).resolve().parents[2]
    venv = Path(sys.executable).parent.parent
    planned = subprocess.run(  # -n: print the commands, run none
        ["make", "-n", "-o", f"{venv}/.installed", "up", "PORT=8123", f"VENV={venv}"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert planned.returncode == 0, planned.stderr
    assert f"cd examples/hiring && {venv}/bin/raw up --port 8123" in planned.stdout


def test_a_failed_schedules_sync_is_said_and_stops_raw_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """raw up syncs the schedules in its own process: a failure is said under the
    `schedules` prefix and ends the start as a part that failed (no traceback)."""
    root = copy_hiring(tmp_path / "hiring")
    monkeypatch.setenv("TEMPORAL_ADDRESS", f"127.0.0.1:{free_port()}")  # nothing listens
    out = io.StringIO()

    async def sync() -> None:
        supervisor = Supervisor(env={}, cwd=str(root), out=out)
        await _sync_schedules(supervisor, Project(root))

    with pytest.raises(PartFailedError, match="schedules sync did not start: it failed"):
        asyncio.run(sync())
    said = out.getvalue()
    assert "schedules |" in said and "Error: Cannot reach Temporal at 127.0.0.1:" in said
    assert "Traceback" not in said
