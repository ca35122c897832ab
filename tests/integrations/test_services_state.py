"""The local services' state file: a killed predecessor never blocks a new start."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from raw import pids
from raw.integrations import LocalServices
from raw.integrations.errors import IntegrationError
from raw.integrations.services import STATE_FILE, ServicesState, read_state


def _state(pid: int, started: int | None) -> str:
    return ServicesState(
        pid=pid,
        pid_started=started,
        started_at=datetime(2030, 1, 1, tzinfo=UTC),
        host="127.0.0.1",
        smtp_port=1,
        phone_url="http://127.0.0.1:2",
    ).model_dump_json()


@pytest.fixture
def predecessor(integ_project: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process the state file names as the running services."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    path = integ_project / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_state(child.pid, pids.start_ticks(child.pid)))
    yield child
    child.kill()
    child.wait()


async def _start(root: Path) -> int:
    async with LocalServices.start(root) as services:
        return services.smtp_port


def test_a_killed_and_unreaped_predecessor_does_not_block_a_start(
    integ_project: Path, predecessor: subprocess.Popen[bytes]
) -> None:
    assert read_state(integ_project) is not None  # it runs: it would block a start
    predecessor.kill()  # as `raw up` and its parts killed at once: nobody reaps it yet
    deadline = time.monotonic() + 10
    while read_state(integ_project) is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert read_state(integ_project) is None
    assert asyncio.run(_start(integ_project)) > 0


def test_a_living_predecessor_blocks_a_start(
    integ_project: Path, predecessor: subprocess.Popen[bytes]
) -> None:
    with pytest.raises(IntegrationError, match=f"already run \\(pid {predecessor.pid}"):
        asyncio.run(_start(integ_project))
