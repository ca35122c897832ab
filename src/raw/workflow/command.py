"""A run asked for on a command line: the one runtime call behind ``raw run`` and ``python run.py``.

Both entry points parse their command line into :class:`~raw.workflow.arguments.RunArgs`,
call :func:`run_command` once and print what it returns. Everything between (the
``--timeout`` and ``--params`` values, finding the workflow, parsing its flags against
its ``Params``, the run itself) happens here, and every outcome comes back as a
:class:`~raw.workflow.result.RunResult`, errors included: nothing here prints, exits
or knows which entry point called it.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from raw.errors import (
    AmbiguousWorkflowError,
    ConfigError,
    DependencyInstallError,
    InvalidWorkflowIdError,
    ProjectError,
    RawError,
    UsageError,
    WorkflowOutsideProjectError,
)
from raw.project import WORKFLOW_ID, find_project
from raw.workflow.arguments import RunArgs, parse_flags, parse_timeout, read_params
from raw.workflow.definition import WorkflowDefinition
from raw.workflow.deps import ensure_dependencies
from raw.workflow.dotenv import load_dotenv
from raw.workflow.result import RunResult, RunStatus
from raw.workflow.runner import RunOptions, WorkflowTarget, error_result, execute, resolve
from raw.workflow.script import is_plain_script, params_to_flags, run_script, script_help

__all__ = ["CommandRun", "run_command", "target_for_class"]


class CommandRun:
    """What one command line got: its run's result, or the workflow's flags for ``--help``.

    ``result`` is None when ``--help`` asked for the flags instead of a run;
    ``params_model`` is the workflow's Params, once loaded (messages name its fields as
    flags); ``help_text`` is a plain script's own ``--help`` (it has no Params to list).

    A plain class, not a dataclass, as :class:`raw.workflow.target.RunOptions` (start-up).
    """

    def __init__(
        self,
        result: RunResult | None,
        params_model: type[BaseModel] | None = None,
        description: str = "",
        help_text: str | None = None,
    ) -> None:
        self.result = result
        self.params_model = params_model
        self.description = description
        self.help_text = help_text


def _slug(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower().strip("-") or "workflow"


def target_for_class(cls: type[WorkflowDefinition[Any]]) -> WorkflowTarget:
    """The target of ``python run.py``: the class itself, in its folder and project if any."""
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
    return WorkflowTarget(workflow_id, folder, project, preloaded=cls)


def run_command(
    args: RunArgs,
    *,
    target: WorkflowTarget | None = None,
    project_dir: str | None = None,
    entry_point: str,
    on_hard_timeout: Callable[[RunResult], None] | None = None,
) -> CommandRun:
    """Run what ``args`` ask for: ``target``, or the workflow ``args.workflow_id`` names.

    ``on_hard_timeout`` is the caller's way to end the process at the deadline (see
    :attr:`RunOptions.on_hard_timeout`). Ctrl-C propagates as ``KeyboardInterrupt``
    once the run is recorded as cancelled.
    """
    workflow_id = target.workflow_id if target is not None else str(args.workflow_id)
    if target is None:
        try:
            target = resolve(workflow_id, args.project_dir or project_dir)
        except RawError as exc:
            refused = (
                InvalidWorkflowIdError
                | ConfigError
                | WorkflowOutsideProjectError
                | AmbiguousWorkflowError
            )
            status: RunStatus = "invalid_input" if isinstance(exc, refused) else "not_found"
            return CommandRun(error_result(workflow_id, status, exc, dry=args.dry))
        workflow_id = target.workflow_id  # a name of an original folder, resolved
    load_dotenv(target.workflow_dir)  # as the original runtime did; the environment wins
    try:
        timeout = parse_timeout(args.timeout)
        base = read_params(args.params) if args.params is not None else {}
    except UsageError as exc:
        # A bad --timeout or --params is the command line's fault: report it alone, not
        # with "required" errors for params that were never parsed.
        return CommandRun(error_result(workflow_id, "invalid_input", exc, dry=args.dry))
    if target.project is not None:  # `python run.py` finds its project without resolve()
        try:
            target.project.config  # noqa: B018 - a bad config.yaml is reported, not raised
        except RawError as exc:
            return CommandRun(error_result(workflow_id, "invalid_input", exc, dry=args.dry))
    options = RunOptions(
        dry=args.dry,
        timeout_seconds=timeout,
        use_cache=not args.no_cache,
        entry_point=entry_point,
        propagate_interrupt=False,  # Ctrl-C/SIGTERM: record "cancelled", return it
        # Set by the Temporal activity in subprocess mode: the same key on every retry.
        idempotency_key=os.environ.get("RAW_IDEMPOTENCY_KEY") or None,
        on_hard_timeout=on_hard_timeout,
        chdir_to_run=entry_point == "cli",  # as the original's `raw run`; `python run.py` stays
        echo_output=True,
    )
    extra_paths: list[Path] = []
    if target.preloaded is None and not args.no_deps:  # `python run.py` brought its own
        try:
            env_dir = ensure_dependencies(workflow_id, target.path)
        except DependencyInstallError as exc:
            return CommandRun(error_result(workflow_id, "failed", exc, dry=args.dry))
        if env_dir is not None:
            extra_paths.append(env_dir)
            if str(env_dir) not in sys.path:
                sys.path.insert(0, str(env_dir))
    if target.preloaded is None and is_plain_script(target.path):
        if args.help:
            return CommandRun(None, help_text=script_help(target, extra_paths))
        flags = [*params_to_flags(base), *args.flags]
        return CommandRun(run_script(target, flags, options, extra_paths=extra_paths))
    try:
        loaded = target.load()
    except RawError:  # the run records and reports the load error
        return CommandRun(execute(target, None, options=options))
    model = loaded.cls.params_model
    if args.help:
        return CommandRun(None, model, loaded.cls.description())
    values, errors = parse_flags(workflow_id, model, args.flags)
    params: dict[str, Any] | None = {**base, **values}
    if args.dry and args.params is None and not args.flags:
        params = None  # the dry run takes mocks/params.json
    result = execute(target, params, options=options, param_errors=errors or None)
    return CommandRun(result, model)
