"""Recorded histories and their replay: the architecture's ``temporal-validate`` gate.

``raw temporal record`` exports the histories of finished (or running) processes
to ``.raw/histories/<process-type>/<process-id>.json``, from a server or from a
test through :func:`save_history`. ``raw temporal replay`` replays every file
against the current code with Temporal's own ``Replayer`` (the workflow sandbox
included) and fails on any non-determinism, and for every process type the
worker serves that has no recorded history: replaying nothing is not a pass.

Changing a running process safely: guard the new code with
``workflow.patched("my-change")`` so histories recorded before the change take
the old branch; record a new history once the change is live, and remove the
old branch with ``workflow.deprecate_patch`` only when no process that started
before it is still running.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.client import WorkflowHistory as _History
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from raw.orchestrator import runtime
from raw.project import Project

HISTORIES = "histories"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def histories_dir(project: Project) -> Path:
    return project.raw_dir / HISTORIES


def _file_for(project: Project, workflow_type: str, workflow_id: str) -> Path:
    return (
        histories_dir(project)
        / _SAFE.sub("_", workflow_type)
        / (_SAFE.sub("_", workflow_id) + ".json")
    )


async def save_history(
    project: Project, handle: WorkflowHandle[Any, Any], *, name: str | None = None
) -> Path:
    """Export one process's history into the project's recorded histories.

    The file is named after the process id, or ``name`` when given (e.g. a scenario's).
    """
    history = await handle.fetch_history()
    # The type from the history itself: describe() cannot decode an unset Datetime search
    # attribute on the time-skipping server.
    started = history.events[0].workflow_execution_started_event_attributes
    path = _file_for(project, started.workflow_type.name, name or handle.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(history.to_json(), encoding="utf-8")
    return path


async def record(
    client: Client, project: Project, *, query: str | None = None, limit: int = 20
) -> list[Path]:
    """Export the histories of the processes a visibility query finds (default: all closed)."""
    paths = []
    count = 0
    async for execution in client.list_workflows(query or "ExecutionStatus != 'Running'"):
        if execution.workflow_type == "RawScheduledRun":
            continue
        paths.append(await save_history(project, client.get_workflow_handle(execution.id)))
        count += 1
        if count >= limit:
            break
    return paths


@dataclass
class ReplayReport:
    replayed: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Process types the worker serves with no recorded history."""

    @property
    def ok(self) -> bool:
        return not self.failures and not self.missing and bool(self.replayed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "replayed": self.replayed,
            "failures": self.failures,
            "missing": self.missing,
        }


def _type_name(cls: type) -> str:
    defn = workflow._Definition.from_class(cls)
    return defn.name if defn is not None and defn.name else cls.__name__


async def replay(
    project: Project, workflows: list[type], *, required: list[str] | None = None
) -> ReplayReport:
    """Replay every recorded history against ``workflows``; see the module docstring."""
    report = ReplayReport()
    runtime.install()
    restrictions = SandboxRestrictions.default.with_passthrough_modules(
        "raw", "pydantic", "pydantic_core"
    )
    replayer = Replayer(
        workflows=workflows,
        data_converter=pydantic_data_converter,
        workflow_runner=SandboxedWorkflowRunner(restrictions=restrictions),
    )
    files = sorted(histories_dir(project).glob("*/*.json"))
    seen: set[str] = set()
    for path in files:
        workflow_id = path.stem
        try:
            history = _History.from_json(workflow_id, path.read_text(encoding="utf-8"))
        except Exception as exc:
            report.failures.append({"file": str(path), "error": f"unreadable history: {exc}"})
            continue
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        seen.add(path.parent.name)
        if result.replay_failure is not None:
            report.failures.append({"file": str(path), "error": str(result.replay_failure)})
        else:
            report.replayed.append({"file": str(path), "type": path.parent.name})
    wanted = required if required is not None else [_type_name(w) for w in workflows]
    report.missing = sorted(
        {t for t in wanted if _SAFE.sub("_", t) not in seen and t != "RawScheduledRun"}
    )
    return report
