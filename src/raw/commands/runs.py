"""``raw run <id> --json``: one workflow run and its record, as a document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from raw.commands.document import Document
from raw.workflow.arguments import RunArgs
from raw.workflow.command import run_command

__all__ = ["run_document"]


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
