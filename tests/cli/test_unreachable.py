"""A service that does not answer exits 4, not 1 ("the workflow failed"), whichever command.

Each service here is really absent: a port bound on 127.0.0.1 but never listening
(connections are refused), or no Temporal server configured or running at all.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from raw import pids
from raw.integrations.services import STATE_FILE, ServicesState

if TYPE_CHECKING:
    from conftest import Project, RunCli

UNREACHABLE = 4


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound, never listening."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        yield closed.getsockname()[1]


def test_a_process_command_with_no_temporal_server_exits_4(
    project: Project, raw_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)
    result = raw_cli("process", "signal", "hiring-process/c-1", "booked", "--json")
    assert result.code == UNREACHABLE, result.stdout + result.stderr
    error = result.json()["error"]
    assert error["type"] == "TemporalUnavailableError"
    assert error["message"].startswith("No Temporal server to connect to")
    assert result.json()["exit_code"] == UNREACHABLE


def test_a_database_that_refuses_connections_exits_4(
    project: Project, raw_cli: RunCli, refused_port: int
) -> None:
    url = f"postgresql://raw:not-shown@127.0.0.1:{refused_port}/raw"
    result = raw_cli("db", "upgrade", env={"DATABASE_URL": url})
    assert result.code == UNREACHABLE, result.stderr
    assert "cannot be reached" in result.stderr
    assert "not-shown" not in result.stderr and "Traceback" not in result.stderr


def test_a_phone_simulator_that_does_not_answer_exits_4(
    project: Project, raw_cli: RunCli, refused_port: int
) -> None:
    # The record says the local services run (this test's own pid is alive), but the
    # simulator's port refuses connections: it crashed, or something else took over.
    state = ServicesState(
        pid=os.getpid(),
        pid_started=pids.start_ticks(os.getpid()),
        started_at=datetime.now(UTC),
        host="127.0.0.1",
        smtp_port=refused_port,
        phone_url=f"http://127.0.0.1:{refused_port}",
    )
    path = project.root / STATE_FILE
    path.parent.mkdir(parents=True)
    path.write_text(state.model_dump_json(), encoding="utf-8")
    result = raw_cli("integrations", "end-call", "CA0001")
    assert result.code == UNREACHABLE, result.stderr
    assert f"The local phone simulator at http://127.0.0.1:{refused_port} did not answer" in (
        result.stderr
    )
    assert "raw integrations serve" in result.stderr
