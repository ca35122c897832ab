"""Where the project's running ``raw up`` listens (``.raw/up/state.json``); any part may read it.

``raw up`` writes it before it starts anything (its pid, the coordinator's host, port
and URL), again once Temporal is there (its address and web UI), and removes it when
it stops. The commands that talk to the running system read it when no address is
given: ``raw webhook send`` (the coordinator), the Temporal clients through
:func:`raw.orchestrator.connect.resolve_target` (``raw process``, ``raw schedules``,
``raw worker``) and ``raw up --print-url``; a second ``raw up`` in the same project
refuses to start. A record whose process is gone (killed, a crash) counts as none.

The folder holds its own ``.gitignore`` (``*``), so the record is never committed,
whatever the project's ignore file says.

Errors (all :class:`raw.errors.RawError`):

    UpAlreadyRunningError    another ``raw up`` runs in this project (exit 2)
    UpNotRunningError        none runs, and the command needs one (exit 4)
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from raw import clock, pids
from raw.errors import ServiceUnreachableError, UsageError
from raw.files import write_atomic
from raw.project import Project

__all__ = [
    "UpAlreadyRunningError",
    "UpNotRunningError",
    "UpState",
    "read_running",
    "remove_state",
    "running_or_fail",
    "state_path",
    "write_state",
]


class UpState(BaseModel):
    """A running ``raw up``: who it is and where each part listens."""

    model_config = ConfigDict(extra="ignore")

    pid: int
    pid_started: int | None = None
    """The process's start time in clock ticks since boot (Linux), so a reused pid is told apart."""
    started_at: datetime
    host: str
    port: int
    api_url: str
    """The coordinator's base URL: the API, ``/docs``, ``/operator``, the webhook routes."""
    temporal_address: str | None = None
    temporal_ui_url: str | None = None

    @classmethod
    def here(cls, host: str, port: int) -> UpState:
        """The record of this process, listening on ``host:port``."""
        pid = os.getpid()
        return cls(
            pid=pid,
            pid_started=pids.start_ticks(pid),
            started_at=clock.now(),
            host=host,
            port=port,
            api_url=f"http://{host}:{port}",
        )


class UpAlreadyRunningError(UsageError):
    def __init__(self, running: UpState, root: Path) -> None:
        self.running = running
        self.root = root
        super().__init__(
            f"Another `raw up` is running here (pid {running.pid}, port {running.port}: "
            f"{running.api_url}), for the project in {root}. Use that one, or stop it first "
            f"(Ctrl-C in its terminal, or 'kill {running.pid}')."
        )


class UpNotRunningError(ServiceUnreachableError):
    def __init__(self, root: Path, instead: str = "") -> None:
        self.root = root
        super().__init__(
            f"No `raw up` is running for the project in {root}: start it with 'raw up'"
            + (f", or {instead}." if instead else ".")
        )


def state_path(project: Project) -> Path:
    return project.raw_dir / "up" / "state.json"


def read_running(project: Project) -> UpState | None:
    """The project's running ``raw up``, or None (no record, or its process is gone)."""
    try:
        state = UpState.model_validate_json(state_path(project).read_bytes())
    except (OSError, ValidationError):
        return None
    return state if pids.alive(state.pid, state.pid_started) else None


def running_or_fail(project: Project, instead: str = "") -> UpState:
    """The running ``raw up``; raises :class:`UpNotRunningError` (``instead``: what else to do)."""
    state = read_running(project)
    if state is None:
        raise UpNotRunningError(project.root, instead)
    return state


def write_state(project: Project, state: UpState) -> None:
    """Write the record at once (a reader never sees half of it), in a git-ignored folder."""

    path = state_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    ignore = path.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Written by `raw up` while it runs: never committed.\n*\n")
    write_atomic(path, state.model_dump_json(indent=2).encode())


def remove_state(project: Project, pid: int) -> None:
    """Remove the record if it is ``pid``'s (a later ``raw up`` may have replaced it)."""
    path = state_path(project)
    try:
        state = UpState.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return
    if state.pid == pid:
        path.unlink(missing_ok=True)
