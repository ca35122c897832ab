"""The one view of a process that every part shows: the orchestrator's client, the API, the CLI.

It imports no Temporal code, so the coordinator can document it (``/api/processes``)
without ``temporalio`` installed; :mod:`raw.orchestrator.client` fills it in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

__all__ = ["ProcessView"]


class ProcessView(BaseModel):
    """A Temporal process as the server describes it, plus its answer to ``raw_state``."""

    id: str
    run_id: str
    type: str
    status: str
    """running, completed, failed, canceled, terminated, continued_as_new or timed_out."""
    task_queue: str
    start_time: datetime
    close_time: datetime | None = None
    step: str | None = None
    """RawStep: the step the process is in."""
    waiting_for: str | None = None
    """RawWaitingFor: the signal it waits for, or "timer"."""
    wait_until: datetime | None = None
    """RawWaitUntil: until when it waits."""
    state: Any = None
    """The process's ``raw_state`` query answer (None when it was not asked or could not answer)."""
    state_error: str | None = None
    """Why there is no state: no worker running, or a process without the query."""
