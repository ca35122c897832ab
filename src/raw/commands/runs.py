"""``raw run <id> --json``: one workflow run and its record, as a document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from raw.commands.document import Document
from raw.commands.inspect import runs_root
from raw.console import NotFoundError
from raw.errors import UsageError
from raw.project import find_project
from raw.workflow.arguments import RunArgs
from raw.workflow.command import run_command
from raw.workflow.recorder import list_run_dirs, read_manifest
from raw.workflow.redaction import MASK

__all__ = ["NothingToRerunError", "RedactedParamsError", "rerun_document", "run_document"]


def run_document(
    project_dir: str | Path | None,
    workflow_id: str,
    *,
    params: dict[str, Any] | None = None,
    dry: bool = False,
    timeout_seconds: float | None = None,
    entry_point: str = "mcp",
) -> Document:
    """Run ``workflow_id`` with ``params`` (``raw run ID --params JSON``) and record it.

    The same runtime call as ``raw run`` (:func:`raw.workflow.command.run_command`); the
    body is what ``raw run --json`` prints. A dry run without params takes the mocks.
    """
    args = RunArgs()
    args.workflow_id = workflow_id
    args.as_json = True
    args.dry = dry
    args.params = json.dumps(params) if params is not None else None
    args.timeout = str(timeout_seconds) if timeout_seconds is not None else None
    args.project_dir = str(project_dir) if project_dir is not None else None
    run = run_command(args, entry_point=entry_point)
    assert run.result is not None  # help is never asked for here
    return Document(run.result.to_json_dict(), run.result.exit_code, detail=run.result)


class NothingToRerunError(NotFoundError):
    """The workflow has no failed run (or not the run named) to run again."""

    def __init__(self, workflow_id: str, run_id: str | None) -> None:
        self.workflow_id = workflow_id
        self.run_id = run_id
        what = f"no run '{run_id}'" if run_id else "no failed run"
        super().__init__(
            f"Workflow '{workflow_id}' has {what} to run again. "
            f"See 'raw show {workflow_id}' for its runs."
        )


class RedactedParamsError(UsageError):
    """The run's recorded params hide a secret, so they cannot be sent again as recorded."""

    def __init__(self, workflow_id: str, run_id: str) -> None:
        self.workflow_id = workflow_id
        self.run_id = run_id
        super().__init__(
            f"Run '{run_id}' of '{workflow_id}' recorded its params with a secret hidden; "
            f"run it with the params again: raw run {workflow_id} --params @params.json"
        )


def rerun_document(
    project_dir: str | Path | None,
    workflow_id: str,
    *,
    run_id: str | None = None,
    entry_point: str = "mcp",
) -> Document:
    """Run ``workflow_id`` again with the params (and dry flag) of a recorded run.

    The run is ``run_id``, else the latest one that did not succeed. The body is the new
    run's record, as ``raw run --json`` prints it, with ``rerun_of`` naming the old run.
    """
    project = find_project(project_dir)
    project.workflow_dir(workflow_id)  # not found: exit 3 with the closest names
    chosen: dict[str, Any] | None = None
    for run_dir in list_run_dirs(runs_root(project, workflow_id)):
        manifest = read_manifest(run_dir)
        if manifest is None:
            continue
        if run_id is not None and manifest.get("run_id") == run_id:
            chosen = manifest
            break
        if run_id is None and manifest.get("status") != "succeeded":
            chosen = manifest
            break
    if chosen is None:
        raise NothingToRerunError(workflow_id, run_id)
    params = chosen.get("params")
    if MASK in json.dumps(params, default=str):
        raise RedactedParamsError(workflow_id, str(chosen.get("run_id")))
    done = run_document(
        project.root,
        workflow_id,
        params=params,
        dry=bool(chosen.get("dry")),
        entry_point=entry_point,
    )
    return Document({**done.body, "rerun_of": chosen.get("run_id")}, done.exit_code, done.detail)
