"""``run_raw_workflow``: the activity that runs a RAW workflow inside a Temporal process.

Called the way the architecture shows it, with CLI-style arguments, it returns the
workflow's output itself::

    analysis = await workflow.execute_activity(
        run_raw_workflow,
        args=["analyze-cv", f"--id={candidate_id}"],
        start_to_close_timeout=timedelta(minutes=5),
    )
    if not analysis["qualified"]: ...

Called with one :class:`RawWorkflowCall` it returns a :class:`RawWorkflowResult`
(output, status, RAW run id). Temporal decodes a result by the return type the
activity declares, and for an activity passed by reference it ignores
``result_type``; this one is declared ``-> Any`` so that both forms share one
activity. So a typed call gets the model in one of three ways::

    # the typed twin, RawWorkflowCall -> RawWorkflowResult (what execute_raw uses)
    result = await workflow.execute_activity(run_raw_workflow_call, call, ...)
    # the same activity by name, with result_type
    result = await workflow.execute_activity(
        "run_raw_workflow", call, result_type=RawWorkflowResult, ...
    )
    # by reference: the result as a dict, RawWorkflowResult.model_validate(...) reads it
    doc = await workflow.execute_activity(run_raw_workflow, call, ...)

CLI-style arguments are read as ``raw run`` reads them: flags generated from the
workflow's Params, plus the command's own ``--dry``, ``--timeout SECONDS``,
``--params JSON|@FILE`` and ``--no-cache``. A RawWorkflowCall's ``args`` are the
same flags without the workflow id; they win over its ``params``.

Both forms, in both modes, give one contract:

- ``in_process`` (default): the run goes through the same runner as
  ``raw.run_workflow``, in a worker thread, so the worker's event loop never blocks.
  Cancelling the activity sets the run's cancel event: the run stops at its next
  step boundary and records ``cancelled``; the activity reports the cancellation
  once the run has stopped, or after ``cancel_grace_seconds`` (a thread cannot be
  killed: a step longer than that finishes in the background, then the run stops).
- ``subprocess``: ``raw run <id> --json`` in a child process; its one JSON document
  is the result. Cancelling the activity sends SIGTERM (the child records
  ``cancelled``), then SIGKILL after ``kill_grace_seconds``.

Outcomes: ``succeeded`` returns; ``invalid_input`` and ``not_found`` raise a
non-retryable ``ApplicationError`` carrying RAW's message (per-field errors in its
details); ``failed``, ``timed_out`` and ``cancelled`` raise a retryable one, so the
caller's retry policy decides. The activity heartbeats while the run goes.

Effects are at least once, made safe by a key: every run gets
``idempotency_key = "<workflow id>:<workflow run id>:<activity id>"``, the same on
every retry of one activity invocation (``self.idempotency_key`` in the RAW
workflow); the subprocess gets it as ``RAW_IDEMPOTENCY_KEY``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from raw import tracing
from raw.errors import (
    ConfigError,
    InvalidWorkflowIdError,
    RawError,
    ServiceUnreachableError,
    UsageError,
)
from raw.orchestrator._common import (
    RUN_RAW_WORKFLOW,
    RUN_RAW_WORKFLOW_CALL,
    SERVICE_UNAVAILABLE,
    RawWorkflowCall,
    RawWorkflowResult,
)
from raw.project import Project, check_workflow_id, find_project
from raw.workflow.arguments import parse_flags, parse_timeout, read_params, split_args
from raw.workflow.result import RunResult, RunStatus
from raw.workflow.runner import RunOptions, WorkflowTarget, error_result, execute, resolve

__all__ = [
    "ERROR_TYPES",
    "IDEMPOTENCY_ENV",
    "RUN_RAW_WORKFLOW",
    "RUN_RAW_WORKFLOW_CALL",
    "ActivityMode",
    "OutageInterceptor",
    "RawActivities",
    "RawWorkflowCall",
    "RawWorkflowResult",
    "run_raw_workflow",
    "run_raw_workflow_call",
]

IDEMPOTENCY_ENV = "RAW_IDEMPOTENCY_KEY"
"""The environment variable that carries the key to a ``raw run`` subprocess."""

ActivityMode = Literal["in_process", "subprocess"]

ERROR_TYPES: dict[str, str] = {
    "invalid_input": "RawInvalidInput",
    "not_found": "RawWorkflowNotFound",
    "failed": "RawWorkflowFailed",
    "timed_out": "RawWorkflowTimedOut",
    "cancelled": "RawWorkflowCancelled",
}
"""RAW status -> ``ApplicationError.type`` of the failure the activity raises."""

_NON_RETRYABLE = frozenset({"invalid_input", "not_found"})
_T = TypeVar("_T")


# --- turning calls into runs ------------------------------------------------------


def _call_from_args(args: Sequence[Any]) -> tuple[RawWorkflowCall, bool]:
    """Read either calling form; returns the call and whether the caller wants the output."""
    if len(args) == 1 and isinstance(args[0], RawWorkflowCall):
        return args[0], False
    if len(args) == 1 and isinstance(args[0], dict):
        try:
            return RawWorkflowCall.model_validate(args[0]), False
        except ValidationError as exc:
            raise ApplicationError(
                f"run_raw_workflow got a RawWorkflowCall that does not validate: {exc}",
                type="RawInvalidCall",
                non_retryable=True,
            ) from None
    if len(args) == 1 and isinstance(args[0], list | tuple):
        args = list(args[0])
    if args and all(isinstance(a, str) for a in args):
        return RawWorkflowCall(workflow=args[0], args=list(args[1:])), True
    raise ApplicationError(
        "run_raw_workflow takes CLI-style arguments such as ['analyze-cv', '--id=123'] or "
        f"one RawWorkflowCall; it got {len(args)} argument(s) of type "
        f"{', '.join(type(a).__name__ for a in args) or 'none'}.",
        type="RawInvalidCall",
        non_retryable=True,
    )


def _normalise(call: RawWorkflowCall) -> RawWorkflowCall | RunResult:
    """Apply the command's own options found in ``args`` (``--dry``, ``--timeout`` ...).

    Both modes read CLI-style arguments as ``raw run`` does, so they agree. Returns an
    ``invalid_input`` result for options that cannot work inside a process.
    """
    if not call.args:
        return call

    try:
        parsed = split_args(list(call.args), expect_id=False)
        if parsed.help:
            raise UsageError("--help is not available when a process runs a workflow.")
        if parsed.params == "-":
            raise UsageError("--params - (stdin) is not available when a process runs a workflow.")
        base = read_params(parsed.params) if parsed.params is not None else {}
        timeout = parse_timeout(parsed.timeout)
    except RawError as exc:
        dry = call.dry or "--dry" in call.args
        return error_result(call.workflow, "invalid_input", exc, dry=dry)
    return call.model_copy(
        update={
            "params": {**call.params, **base},
            "args": parsed.flags,
            "dry": call.dry or parsed.dry,
            "timeout_seconds": timeout if timeout is not None else call.timeout_seconds,
            "use_cache": call.use_cache and not parsed.no_cache,
            "project_dir": parsed.project_dir or call.project_dir,
        }
    )


class _Projects:
    """The project of each folder given, found once and kept while its config.yaml is unchanged,
    and each workflow of it, resolved once and kept while its run.py is unchanged.

    A worker runs many workflows of one project: finding it (resolving paths, walking up
    to ``.raw/``) and reading its config for every run cost about a quarter of a run;
    resolving the workflow (its folder, the inside-the-project check, whether run.py is
    a plain script, its load) as much again. An edited config.yaml (a new modification
    time) is read again, an edited or replaced run.py (a new ``lstat``) resolved again.
    """

    def __init__(self) -> None:
        self._found: dict[str, tuple[Project, int | None, Path]] = {}
        self._targets: dict[tuple[str, str], tuple[WorkflowTarget, tuple[int, ...], Path]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _stamp(config_path: Path) -> int | None:
        try:
            return os.stat(config_path).st_mtime_ns
        except OSError:
            return None

    def get(self, project_dir: str | None) -> Project | str | None:
        """The project for ``project_dir``; None (the cwd, which may change) is not kept."""
        if project_dir is None:
            return None
        with self._lock:
            kept = self._found.get(project_dir)
        if kept is not None and self._stamp(kept[2]) == kept[1]:
            return kept[0]
        project = find_project(project_dir)
        config_path = project.config_path
        stamp = self._stamp(config_path)
        project.config  # noqa: B018 - read now (it raises ConfigError if bad: then not kept)
        with self._lock:
            self._found[project_dir] = (project, stamp, config_path)
        return project

    @staticmethod
    def _version(path: Path) -> tuple[int, ...] | None:
        try:
            st = os.lstat(path)
        except OSError:
            return None
        return (st.st_dev, st.st_ino, st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def target(self, project_dir: str | None, workflow: str) -> WorkflowTarget:
        """``resolve(workflow, project)``, or the target kept from the last run of it."""
        where = self.get(project_dir)
        if project_dir is None or not isinstance(where, Project):
            return resolve(workflow, where)
        key = (project_dir, workflow)
        with self._lock:
            kept = self._targets.get(key)
        if kept is not None and kept[0].project is where and self._version(kept[2]) == kept[1]:
            return kept[0].again()
        check_workflow_id(workflow)  # before a path is made of it
        guess = where.workflows_dir / workflow / "run.py"
        version = self._version(guess)  # before the load: a later edit is seen next time
        target = resolve(workflow, where)
        if version is not None and target.path == guess:
            with self._lock:
                self._targets[key] = (target, version, guess)
        return target


def _run_in_process(
    call: RawWorkflowCall,
    *,
    project_dir: str | None,
    idempotency_key: str | None,
    cancel_event: threading.Event,
    projects: _Projects | None = None,
) -> RunResult:
    """Run ``call`` in this thread, as ``raw run`` would (flags parsed against Params)."""
    options = RunOptions(
        dry=call.dry,
        timeout_seconds=call.timeout_seconds,
        use_cache=call.use_cache,
        idempotency_key=idempotency_key,
        cancel_event=cancel_event,
        entry_point="temporal",
        propagate_interrupt=False,
    )
    try:
        if projects is not None:
            target = projects.target(project_dir, call.workflow)
        else:
            target = resolve(call.workflow, project_dir)
    except RawError as exc:
        status: RunStatus = (
            "invalid_input"
            if isinstance(exc, InvalidWorkflowIdError | ConfigError)
            else "not_found"
        )
        return error_result(call.workflow, status, exc, dry=call.dry)
    params: dict[str, Any] | None = dict(call.params)
    errors = None
    if call.args:
        try:
            model = target.load().cls.params_model
        except RawError:
            return execute(target, None, options=options)  # records the load failure
        values, found = parse_flags(call.workflow, model, list(call.args))
        params = {**call.params, **values}
        errors = found or None
    elif call.dry and not call.params:
        params = None  # a dry run without params takes mocks/params.json, as `raw run --dry`
    return execute(target, params, options=options, param_errors=errors)


def _subprocess_command(
    base: Sequence[str], call: RawWorkflowCall, project_dir: str | None
) -> tuple[list[str], bytes | None]:
    cmd = list(base)
    if project_dir:
        cmd += ["--project-dir", project_dir]
    cmd += ["run", call.workflow, "--json"]
    if call.dry:
        cmd.append("--dry")
    if not call.use_cache:
        cmd.append("--no-cache")
    if call.timeout_seconds is not None:
        cmd += ["--timeout", repr(float(call.timeout_seconds))]
    stdin = None
    if call.params:
        cmd += ["--params", "-"]
        stdin = json.dumps(call.params).encode("utf-8")
    cmd += list(call.args or [])
    return cmd, stdin


def _result_from_child(
    call: RawWorkflowCall, code: int | None, out: bytes, err: bytes
) -> RunResult:
    text = out.decode("utf-8", errors="replace").strip()
    try:
        return RunResult.model_validate(json.loads(text))
    except (ValueError, ValidationError):
        tail = err.decode("utf-8", errors="replace").strip()[-2000:]
        raise ApplicationError(
            f"'raw run {call.workflow} --json' exited with code {code} without a result "
            f"document. Its stderr ends with: {tail or '(nothing)'}",
            {"workflow": call.workflow, "return_code": code},
            type="RawSubprocessError",
        ) from None


# --- outcomes -----------------------------------------------------------------------


_VERBS = {
    "invalid_input": "was given invalid input",
    "not_found": "was not found",
    "failed": "failed",
    "timed_out": "timed out",
    "cancelled": "was cancelled",
}


def _typed(result: RunResult, key: str | None) -> RawWorkflowResult:
    return RawWorkflowResult(
        workflow=result.workflow,
        run_id=result.run_id,
        status=result.status,
        output=result.output,
        error=result.error.message if result.error else None,
        return_code=result.return_code,
        idempotency_key=key,
        llm=result.llm,
    )


def _failure(result: RunResult, key: str | None) -> ApplicationError:
    """The ApplicationError a run that did not succeed maps to."""
    status = result.status
    message = result.error.message if result.error else f"the run ended {status}."
    details = {
        "workflow": result.workflow,
        "run_id": result.run_id,
        "status": status,
        "error_type": result.error.type if result.error else None,
        "fields": result.error.fields if result.error else None,
        "idempotency_key": key,
        "log_path": result.log_path,
    }
    away = result.error.unavailable if result.error else None
    if away:  # an outage, not a failure: the process waits it out, spending no attempt
        details["unavailable"] = away
        return ApplicationError(
            f"RAW workflow '{result.workflow}' could not reach {away}: {message}",
            details,
            type=SERVICE_UNAVAILABLE,  # execute_raw's policy does not retry it: it waits
        )
    return ApplicationError(
        f"RAW workflow '{result.workflow}' {_VERBS.get(status, status)}: {message}",
        details,
        type=ERROR_TYPES.get(status, "RawWorkflowFailed"),
        non_retryable=status in _NON_RETRYABLE,
    )


def _invocation_key() -> str | None:
    """Stable across retries of one activity invocation; None outside an activity."""
    if not activity.in_activity():
        return None
    info = activity.info()
    return f"{info.workflow_id}:{info.workflow_run_id}:{info.activity_id}"


# --- the activities -----------------------------------------------------------------


class RawActivities:
    """The RAW-workflow activities with their mode and project; register ``activities()``.

    ``RawActivities(mode="subprocess", project_dir=root).activities()`` gives both
    ``run_raw_workflow`` (either calling form) and ``run_raw_workflow_call`` (typed).
    """

    def __init__(
        self,
        *,
        mode: ActivityMode = "in_process",
        project_dir: Path | str | None = None,
        heartbeat_interval_seconds: float = 5.0,
        cancel_grace_seconds: float = 10.0,
        kill_grace_seconds: float = 5.0,
        max_threads: int = 16,
        raw_command: Sequence[str] | None = None,
    ) -> None:
        if mode not in ("in_process", "subprocess"):
            raise ValueError(f"mode must be 'in_process' or 'subprocess', not {mode!r}.")
        if heartbeat_interval_seconds <= 0 or max_threads < 1:
            raise ValueError("heartbeat_interval_seconds must be > 0 and max_threads >= 1.")
        self.mode: ActivityMode = mode
        self.project_dir = str(project_dir) if project_dir is not None else None
        self.heartbeat_interval_seconds = heartbeat_interval_seconds
        self.cancel_grace_seconds = cancel_grace_seconds
        self.kill_grace_seconds = kill_grace_seconds
        self.max_threads = max_threads
        self.raw_command = list(raw_command or [sys.executable, "-m", "raw.cli.main"])
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._projects = _Projects()

    def activities(self) -> list[Callable[..., Any]]:
        """Both activities, bound to this configuration, for ``Worker(activities=...)``."""
        return [self.run_raw_workflow, self.run_raw_workflow_call]

    @activity.defn(name=RUN_RAW_WORKFLOW)
    async def run_raw_workflow(self, *args: Any) -> Any:
        """CLI-style args -> the output itself; one RawWorkflowCall -> a RawWorkflowResult."""
        call, wants_output = _call_from_args(args)
        result = await self.run(call)
        return result.output if wants_output else result

    @activity.defn(name=RUN_RAW_WORKFLOW_CALL)
    async def run_raw_workflow_call(self, call: RawWorkflowCall) -> RawWorkflowResult:
        """The typed form: ``RawWorkflowCall -> RawWorkflowResult``."""
        return await self.run(call)

    async def run(self, call: RawWorkflowCall) -> RawWorkflowResult:
        """Run ``call`` in this configuration's mode; ApplicationError unless it succeeded."""
        key = call.idempotency_key or _invocation_key()
        normalised = _normalise(call)
        if not isinstance(normalised, RawWorkflowCall):
            raise _failure(normalised, key)
        call = normalised
        project_dir = call.project_dir or self.project_dir
        if self.mode == "subprocess":
            result = await self._run_subprocess(call, project_dir, key)
        else:
            result = await self._run_in_thread(call, project_dir, key)
        if result.status != "succeeded":
            raise _failure(result, key)
        return _typed(result, key)

    # -- modes

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self.max_threads, thread_name_prefix="raw-activity"
                )
            return self._executor

    async def _run_in_thread(
        self, call: RawWorkflowCall, project_dir: str | None, key: str | None
    ) -> RunResult:
        cancel_event = threading.Event()
        context = contextvars.copy_context()
        future = asyncio.get_running_loop().run_in_executor(
            self._pool(),
            lambda: context.run(
                _run_in_process,
                call,
                project_dir=project_dir,
                idempotency_key=key,
                cancel_event=cancel_event,
                projects=self._projects,
            ),
        )

        async def stop() -> None:
            cancel_event.set()  # the run stops at its next step boundary and records it
            await asyncio.wait({future}, timeout=self.cancel_grace_seconds)

        return await self._supervise(future, stop)

    async def _run_subprocess(
        self, call: RawWorkflowCall, project_dir: str | None, key: str | None
    ) -> RunResult:
        cmd, stdin = _subprocess_command(self.raw_command, call, project_dir)
        env = dict(os.environ)
        env.pop(IDEMPOTENCY_ENV, None)
        if key is not None:
            env[IDEMPOTENCY_ENV] = key
        env.pop(tracing.TRACEPARENT_SETTING, None)
        traceparent = tracing.current_traceparent()  # the child's run joins this trace
        if traceparent is not None:
            env[tracing.TRACEPARENT_SETTING] = traceparent
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=project_dir,
        )
        talk = asyncio.ensure_future(proc.communicate(stdin))

        async def stop() -> None:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)  # the child records "cancelled"
            await asyncio.wait({talk}, timeout=self.kill_grace_seconds)
            if not talk.done():
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await asyncio.wait({talk})

        out, err = await self._supervise(talk, stop)
        return _result_from_child(call, proc.returncode, out, err)

    async def _supervise(self, work: asyncio.Future[_T], stop: Callable[[], Awaitable[None]]) -> _T:
        """Heartbeat until ``work`` is done; on cancellation, ``stop`` it and re-raise."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        interval = self.heartbeat_interval_seconds
        if activity.in_activity():
            timeout = activity.info().heartbeat_timeout
            if timeout:
                interval = max(0.05, min(interval, timeout.total_seconds() / 3))
        try:
            while True:
                done, _ = await asyncio.wait({work}, timeout=interval)
                if done:
                    return work.result()
                if activity.in_activity():
                    activity.heartbeat({"elapsed_seconds": round(loop.time() - started, 3)})
        except asyncio.CancelledError:
            await stop()
            raise


_default = RawActivities()
run_raw_workflow = _default.run_raw_workflow
"""The activity in the default configuration: in-process, the project found from the cwd."""
run_raw_workflow_call = _default.run_raw_workflow_call


# --- outages: a service away is not a failure of the activity ---------------------------


class OutageInterceptor(Interceptor):
    """Worker interceptor: an activity that raises a :class:`~raw.errors.ServiceUnreachableError`
    (an SMTP server, a call provider, a database that is away) fails as a
    ``RawServiceUnavailable`` naming the service. ``raw.orchestrator.workflow.execute_activity``
    (and ``execute_raw``) mark that type non-retryable in their retry policy and wait the
    outage out on durable timers, spending no attempt; Temporal's own
    ``workflow.execute_activity`` retries it under its policy, as before. The kit's
    workers install it.
    """

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _OutageInbound(next)


class _OutageInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except ServiceUnreachableError as exc:
            service = str(getattr(exc, "service", None) or type(exc).__name__)
            raise ApplicationError(
                f"{service} is away: {exc}",
                {"unavailable": service, "idempotency_key": None},
                type=SERVICE_UNAVAILABLE,  # retryable for Temporal's own execute_activity
            ) from exc
