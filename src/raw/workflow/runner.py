"""Run a workflow and record it: the one code path behind every entry point.

``raw run`` (the CLI), ``raw.run_workflow`` (in-process, for the coordinator)
and the Temporal activity all end here, so they share one result contract.
``run_workflow`` always returns a :class:`RunResult`; the outcomes of a run
(``failed``, ``invalid_input``, ``not_found``, ``timed_out``) are statuses, not
exceptions.

The pieces live in files of one idea: what is run and how (:mod:`raw.workflow.target`),
one execution and its record (:mod:`raw.workflow.execution`); this module is the entry
points, and keeps their names importable from here.

asyncio is imported only where a run needs it: a sync ``raw run`` never pays for it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from raw.errors import (
    AmbiguousWorkflowError,
    ConfigError,
    FieldError,
    InvalidWorkflowIdError,
    RawError,
    RunCancelledError,
)
from raw.workflow.execution import Execution
from raw.workflow.execution import field_errors as field_errors
from raw.workflow.recorder import Recorder
from raw.workflow.result import RunResult, RunStatus
from raw.workflow.script import is_plain_script, params_to_flags, run_script
from raw.workflow.target import RunOptions as RunOptions
from raw.workflow.target import WorkflowTarget as WorkflowTarget
from raw.workflow.target import error_result as error_result
from raw.workflow.target import resolve as resolve


class _Prepared:
    """A run ready to call, or the result of one that cannot start.

    A plain class, not a dataclass, as :class:`raw.workflow.target.RunOptions` (start-up).
    """

    def __init__(self, run: Execution | None = None, result: RunResult | None = None) -> None:
        self.run = run
        self.result = result


def _prepare(
    workflow: str | WorkflowTarget,
    params: Any,
    options: RunOptions,
    project_dir: Path | str | None,
    param_errors: list[FieldError] | None,
) -> _Prepared:
    if isinstance(workflow, WorkflowTarget):
        target = workflow
    else:
        try:
            target = resolve(workflow, project_dir)
        except RawError as exc:
            # A bad id is bad input; no project or no such workflow is "not found".
            status: RunStatus = (
                "invalid_input"
                if isinstance(exc, InvalidWorkflowIdError | ConfigError | AmbiguousWorkflowError)
                else "not_found"
            )
            return _Prepared(result=error_result(str(workflow), status, exc, dry=options.dry))
    if target.preloaded is None and target.script is None:
        target.script = is_plain_script(target.path)
    if target.preloaded is None and target.script:
        # The original's plain scripts run as a subprocess, params given as their flags.
        values = params.model_dump(mode="json") if isinstance(params, BaseModel) else params
        flags = params_to_flags(dict(values)) if isinstance(values, Mapping) else []
        return _Prepared(result=run_script(target, flags, options))
    run = Execution(target, options)
    try:
        return _Prepared(run=run, result=run.prepare(params, param_errors))
    except ConfigError as exc:  # the record's location is unknown: report without one
        return _Prepared(
            result=error_result(target.workflow_id, "invalid_input", exc, dry=options.dry)
        )


def execute(
    workflow: str | WorkflowTarget,
    params: Any = None,
    *,
    options: RunOptions | None = None,
    project_dir: Path | str | None = None,
    param_errors: list[FieldError] | None = None,
) -> RunResult:
    """Run synchronously in this thread (an async workflow gets an event loop of its own)."""
    options = options or RunOptions()
    prepared = _prepare(workflow, params, options, project_dir, param_errors)
    if prepared.result is not None:
        return prepared.result
    run = prepared.run
    assert run is not None and run.loaded is not None
    run.start_hard_timer()
    if not run.loaded.cls.is_async():
        return run.call_sync()
    from raw.aio import run_sync  # Lazy: asyncio loads only for async workflows (raw run start-up)

    return run_sync(run.call_async())


async def execute_async(
    workflow: str | WorkflowTarget,
    params: Any = None,
    *,
    options: RunOptions | None = None,
    project_dir: Path | str | None = None,
) -> RunResult:
    """Run without blocking the event loop: sync workflows go to a worker thread."""
    import asyncio  # lazy: a sync run never pays for asyncio (module docstring)

    options = options or RunOptions()
    if options.cancel_event is None:
        options.cancel_event = threading.Event()
    prepared = await asyncio.to_thread(_prepare, workflow, params, options, project_dir, None)
    if prepared.result is not None:
        return prepared.result
    run = prepared.run
    assert run is not None and run.loaded is not None
    if run.loaded.cls.is_async():
        return await run.call_async()
    try:
        return await asyncio.to_thread(run.call_sync)
    except asyncio.CancelledError:
        options.cancel_event.set()  # the thread stops at its next step boundary
        run.finish("cancelled", error=RunCancelledError())
        raise


def run_workflow(
    workflow_id: str,
    params: Mapping[str, Any] | BaseModel | None = None,
    *,
    dry: bool = False,
    timeout_seconds: float | None = None,
    project_dir: Path | str | None = None,
    use_cache: bool = True,
    idempotency_key: str | None = None,
    correlation_id: str | None = None,
    cancel_event: threading.Event | None = None,
    recorder: Recorder | None = None,
) -> RunResult:
    """Run a workflow in this process and return its result; never raises for run outcomes.

    ``params`` is a mapping or a ``Params`` instance; with ``dry=True`` and no
    params, the workflow's ``mocks/params.json`` is used.
    """
    return execute(
        workflow_id,
        params,
        project_dir=project_dir,
        options=RunOptions(
            dry=dry,
            timeout_seconds=timeout_seconds,
            use_cache=use_cache,
            idempotency_key=idempotency_key,
            correlation_id=correlation_id,
            cancel_event=cancel_event,
            recorder=recorder,
        ),
    )


async def run_workflow_async(
    workflow_id: str,
    params: Mapping[str, Any] | BaseModel | None = None,
    *,
    dry: bool = False,
    timeout_seconds: float | None = None,
    project_dir: Path | str | None = None,
    use_cache: bool = True,
    idempotency_key: str | None = None,
    correlation_id: str | None = None,
    cancel_event: threading.Event | None = None,
    recorder: Recorder | None = None,
) -> RunResult:
    """The async twin of :func:`run_workflow`; sync workflows run in a worker thread."""
    return await execute_async(
        workflow_id,
        params,
        project_dir=project_dir,
        options=RunOptions(
            dry=dry,
            timeout_seconds=timeout_seconds,
            use_cache=use_cache,
            idempotency_key=idempotency_key,
            correlation_id=correlation_id,
            cancel_event=cancel_event,
            recorder=recorder,
        ),
    )
