"""Recorded histories from a system's own process tests, for the ``temporal-validate`` gate.

``raw temporal record`` exports histories from a running server; a process test on
the time-skipping server can keep its history instead, with no server to run::

    outcome = await handle.result()
    await keep_history(ROOT, handle)

The first run writes ``.raw/histories/<process type>/<process id>.json``; later
runs leave it alone, so the gate keeps replaying what the code did *before* a
change (the point of a replay test). ``RAW_RECORD_HISTORIES=1`` writes them again,
once a change is deliberate and no process started before it is still running.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle

from raw.orchestrator.replay import _file_for
from raw.project import Project

__all__ = ["RECORD_SETTING", "keep_history"]

RECORD_SETTING = "RAW_RECORD_HISTORIES"


async def keep_history(project_dir: Path | str, handle: WorkflowHandle[Any, Any]) -> Path:
    """Save the process's history for the replay gate unless it is already recorded."""
    project = Project(Path(project_dir))
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    path = _file_for(project, started.workflow_type.name, handle.id)
    if path.exists() and not os.environ.get(RECORD_SETTING):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(history.to_json(), encoding="utf-8")
    return path
