"""``python run.py --flags``: the original runtime's ``Workflow.main()``."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

from raw.cli import output
from raw.cli.run import run_target
from raw.errors import ProjectError, RawError
from raw.project import WORKFLOW_ID, find_project
from raw.workflow.arguments import split_args
from raw.workflow.runner import WorkflowTarget


def _slug(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower().strip("-") or "workflow"


def run_class(cls: type[Any], argv: list[str]) -> int:
    """Run ``cls`` with flags from ``argv``, recorded like ``raw run``; returns the exit code."""
    try:
        path = Path(inspect.getfile(cls)).resolve()
    except TypeError:
        path = Path.cwd() / "run.py"
    folder = path.parent
    workflow_id = folder.name if WORKFLOW_ID.match(folder.name) else _slug(cls.__name__)
    try:
        project = find_project(folder)
    except ProjectError:
        project = None
    target = WorkflowTarget(workflow_id, folder, project, preloaded=cls)
    try:
        args = split_args(argv, expect_id=False)
    except RawError as exc:
        output.fail(exc, as_json="--json" in argv)
    return run_target(target, args, entry_point="python run.py")
