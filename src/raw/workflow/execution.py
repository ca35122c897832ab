"""One execution of a workflow: its context, its record and its one-time finalisation.

Timeouts in-process are cooperative: checked between steps, between retry
attempts and inside ``self.llm``; an async workflow is also cancelled at its
deadline. The CLI adds a hard stop (``on_hard_timeout``) that ends the process.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from pydantic import BaseModel, ValidationError

from raw import clock, tracing
from raw.errors import (
    FieldError,
    InvalidParamsError,
    RawError,
    RunCancelledError,
    RunTimedOutError,
    WorkflowLoadError,
)
from raw.ids import new_run_id
from raw.redact import environment_secrets
from raw.version import __version__
from raw.workflow.context import RunContext, _current_run
from raw.workflow.loader import LoadedWorkflow
from raw.workflow.recorder import (
    FileRecorder,
    default_recorder,
    defer,
    flush_log,
    written_files,
)
from raw.workflow.redaction import (
    RedactingHandle,
    mask_keys,
    redact_json,
    secret_keys,
    secrets_in,
    values_at_keys,
)
from raw.workflow.result import ErrorInfo, RunResult, RunStatus, Timings
from raw.workflow.target import RunOptions, WorkflowTarget

__all__ = ["Execution", "field_errors"]


def _is_async_cancel(exc: BaseException) -> bool:
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and isinstance(exc, asyncio.CancelledError)


def field_errors(exc: ValidationError) -> list[FieldError]:
    out = []
    for err in exc.errors(include_url=False):
        path = ".".join(str(p) for p in err["loc"]) or "params"
        out.append(FieldError(path, err["msg"]))
    return out


def _env_flag(name: str) -> bool:
    """True when the variable is set to anything but empty, 0, false, no or off."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def _environment(entry_point: str) -> dict[str, Any]:
    # An allowlist: never environment variables, which hold secrets.
    return {
        "python": sys.version.split()[0],
        "raw": __version__,
        "host": os.uname().nodename,
        "pid": os.getpid(),
        "entry_point": entry_point,
    }


class Execution:
    """One execution: owns the context, the record and the one-time finalisation."""

    def __init__(self, target: WorkflowTarget, options: RunOptions) -> None:
        self.target = target
        self.options = options
        self.started_at = clock.now()
        self.t0 = clock.monotonic()
        self.run_id = new_run_id(self.started_at)
        self.params: BaseModel | None = None
        self.raw_params: Any = None
        self.loaded: LoadedWorkflow | None = None
        self.handle: RedactingHandle | None = None
        self.ctx: RunContext | None = None
        self._final: RunResult | None = None
        self._final_lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._cancel_start_record: Callable[[], None] | None = None
        self.span: tracing.OpenSpan | None = None

    # -- before the workflow runs

    def prepare(self, params: Any, param_errors: list[FieldError] | None) -> RunResult | None:
        """Load and validate; returns a finished result when the run cannot start."""
        try:
            self.loaded = self.target.load()
        except WorkflowLoadError as exc:
            self._open_record()
            self._log_exception(exc)
            return self.finish("failed", error=exc)
        model = self.loaded.cls.params_model
        if param_errors:  # report them with whatever else is wrong with the params
            errors = list(param_errors)
            try:
                model.model_validate(params if params is not None else {})
            except ValidationError as exc:
                errors += [
                    e
                    for e in field_errors(exc)
                    if not any(
                        p.field.lstrip("-").replace("-", "_") == e.field for p in param_errors
                    )
                ]
            self._open_record()
            return self.finish(
                "invalid_input", error=InvalidParamsError(self.target.workflow_id, errors)
            )
        self.raw_params = params
        try:
            if params is None and self.options.dry:
                params = self.raw_params = self._mock_params()
            if isinstance(params, model):
                self.params = params
            elif isinstance(params, BaseModel):
                self.params = model.model_validate(params.model_dump())
            else:
                self.params = model.model_validate(params if params is not None else {})
        except ValidationError as exc:
            keys = secret_keys(model)
            self.raw_params = mask_keys(self.raw_params, keys)
            self._open_record(values_at_keys(params, keys))
            return self.finish(
                "invalid_input",
                error=InvalidParamsError(self.target.workflow_id, field_errors(exc)),
            )
        except RawError as exc:
            self._open_record()
            return self.finish("invalid_input", error=exc)
        self._open_record(secrets_in(self.params))
        return None

    def _mock_params(self) -> Any:
        path = self.target.workflow_dir / "mocks" / "params.json"
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise InvalidParamsError(
                self.target.workflow_id, [FieldError("mocks/params.json", f"not valid JSON: {exc}")]
            ) from None

    def _open_record(self, secrets: list[str] | None = None) -> None:
        project = self.target.project
        recorder = self.options.recorder or default_recorder(project)
        # The runner redacts, not the recorder, so a caller's own recorder gets no secrets.
        self.handle = RedactingHandle(
            recorder.start(
                self.target.workflow_id, self.run_id, workflow_dir=self.target.workflow_dir
            ),
            [*(secrets or ()), *environment_secrets()],
        )
        self.run_id = self.handle.run_id
        self.span = tracing.start_span(
            f"raw run {self.target.workflow_id}",
            attributes={
                "raw.workflow": self.target.workflow_id,
                "raw.run_id": self.run_id,
                "raw.entry_point": self.options.entry_point,
                "raw.dry": self.options.dry,
            },
        )
        deadline = None
        if self.options.timeout_seconds is not None:
            deadline = self.t0 + self.options.timeout_seconds
        self.ctx = RunContext(
            workflow_id=self.target.workflow_id,
            run_id=self.run_id,
            handle=self.handle,
            dry=self.options.dry,
            workflow_dir=self.target.workflow_dir,
            timeout_seconds=self.options.timeout_seconds,
            deadline=deadline,
            use_cache=self.options.use_cache and not _env_flag("RAW_NO_CACHE"),
            cache_dir=project.cache_dir if project else self.target.workflow_dir / ".cache",
            idempotency_key=self.options.idempotency_key,
            cancel_event=self.options.cancel_event or threading.Event(),
            span=self.span,
        )
        self.handle.log(
            f"{self.started_at.isoformat()} INFO run {self.run_id} of "
            f"'{self.target.workflow_id}' started{' (dry run)' if self.options.dry else ''}"
        )
        if isinstance(recorder, FileRecorder):
            # Files only: the ``running`` record is written if the run lasts (its folder
            # shows it started: raw.workflow.recorder); a short run writes it once, at the end.
            self._cancel_start_record = defer(self._write_start_record)
        else:
            # A run index (a mirror) or a caller's recorder is read while runs go: at once.
            self._write_start_record()

    def _write_start_record(self) -> None:
        """The log so far and the ``running`` manifest, as they would have been at the start."""
        with self._final_lock:
            if self._final is not None or self.handle is None:
                return
            flush_log(self.handle)
            self.handle.write_manifest(self._manifest(self._result("running", as_started=True)))

    # -- running

    def _outcome_of(self, exc: BaseException) -> RunStatus:
        if isinstance(exc, RunTimedOutError | TimeoutError):
            return "timed_out"
        if isinstance(exc, RunCancelledError | KeyboardInterrupt) or _is_async_cancel(exc):
            return "cancelled"
        return "failed"

    def start_hard_timer(self) -> None:
        callback = self.options.on_hard_timeout
        if callback is None or self.options.timeout_seconds is None:
            return

        def fire() -> None:
            result = self.finish(
                "timed_out", error=RunTimedOutError(self.options.timeout_seconds or 0)
            )
            callback(result)

        self._timer = threading.Timer(self.options.timeout_seconds, fire)
        self._timer.daemon = True
        self._timer.start()

    def _instance(self) -> Any:
        """The workflow object, made inside the run (the guard up first for a dry run)."""
        assert self.loaded is not None and self.ctx is not None
        if self.options.dry:
            # Lazy: the network guard serves dry runs only.
            from raw.workflow import netguard

            netguard.install()
        instance = self.loaded.cls(self.params)
        self.ctx.check()
        return instance

    def _enter_run_folder(self) -> str | None:
        """Move into the run's folder (``chdir_to_run``); returns where to come back to."""
        run_dir = self.handle.run_dir if self.handle is not None else None
        if not self.options.chdir_to_run or run_dir is None:
            return None
        previous = os.getcwd()
        os.chdir(run_dir)
        return previous

    def call_sync(self) -> RunResult:
        assert self.loaded is not None and self.ctx is not None
        token = _current_run.set(self.ctx)
        traced = self.span.attach() if self.span is not None else None
        previous_cwd = self._enter_run_folder()
        try:
            value = self._instance().run()
        except BaseException as exc:
            if not isinstance(exc, RunTimedOutError | RunCancelledError):
                self._log_exception(exc)
            result = self.finish(self._outcome_of(exc), error=exc)
            if isinstance(exc, KeyboardInterrupt) and self.options.propagate_interrupt:
                raise
            return result
        finally:
            _current_run.reset(token)
            if traced is not None:
                tracing.OpenSpan.detach(traced)
            if previous_cwd is not None:
                os.chdir(previous_cwd)
        return self.finish_with_value(value)

    async def call_async(self) -> RunResult:
        import asyncio  # lazy: a sync run never pays for asyncio (module docstring)

        assert self.loaded is not None and self.ctx is not None
        token = _current_run.set(self.ctx)
        traced = self.span.attach() if self.span is not None else None
        previous_cwd = self._enter_run_folder()
        try:
            instance = self._instance()
            coro: Coroutine[Any, Any, Any] = (
                instance.run() if self.loaded.cls.defines_run() else instance._run_steps_async()
            )
            remaining = self.ctx.remaining_seconds()
            value = await (asyncio.wait_for(coro, remaining) if remaining is not None else coro)
        except BaseException as exc:
            if isinstance(exc, TimeoutError) and self.options.timeout_seconds is not None:
                exc = RunTimedOutError(self.options.timeout_seconds)
            if not isinstance(exc, RunTimedOutError | RunCancelledError) and not _is_async_cancel(
                exc
            ):
                self._log_exception(exc)
            # Recorded as the sync path records it, not as a bare "CancelledError".
            error = RunCancelledError() if _is_async_cancel(exc) else exc
            result = self.finish(self._outcome_of(exc), error=error)
            if isinstance(exc, KeyboardInterrupt) or _is_async_cancel(exc):
                raise
            return result
        finally:
            _current_run.reset(token)
            if traced is not None:
                tracing.OpenSpan.detach(traced)
            if previous_cwd is not None:
                os.chdir(previous_cwd)
        return self.finish_with_value(value)

    # -- after

    def finish_with_value(self, value: Any) -> RunResult:
        assert self.ctx is not None
        if self.ctx.network_violations:
            return self.finish("failed", error=self.ctx.network_violations[0])
        try:  # a last step that overran the deadline leaves no later boundary to stop it
            self.ctx.check()
        except (RunTimedOutError, RunCancelledError) as exc:
            return self.finish(self._outcome_of(exc), error=exc)
        # An int from the author's own run() keeps the original runtime's meaning (an exit
        # code); the default run's value is the last step's output, whatever its type.
        defines_run = self.loaded is not None and self.loaded.cls.defines_run()
        if defines_run and isinstance(value, int) and not isinstance(value, bool):
            if value == 0:
                return self.finish("succeeded", return_code=0)
            return self.finish(
                "failed", return_code=value, error=RawError(f"run() returned exit code {value}.")
            )
        # Lazy: only an output that is not plain JSON needs pydantic's serializer.
        from pydantic_core import PydanticSerializationError, to_jsonable_python

        try:
            output = to_jsonable_python(value)
        except PydanticSerializationError as exc:
            return self.finish(
                "failed",
                error=RawError(
                    f"The workflow's output is not JSON-serialisable: {exc}. Return dicts, lists, "
                    "strings, numbers or Pydantic models."
                ),
            )
        return self.finish("succeeded", output=output)

    def _result(
        self,
        status: RunStatus,
        *,
        output: Any = None,
        error: BaseException | None = None,
        return_code: int | None = None,
        as_started: bool = False,
    ) -> RunResult:
        """The run's result now; ``as_started``: as it was when it started (no steps yet)."""
        ended = None if status == "running" else clock.now()
        ctx = None if as_started else self.ctx
        handle = self.handle
        info = ErrorInfo.of(error) if error is not None else None
        return RunResult(
            workflow=self.target.workflow_id,
            run_id=self.run_id,
            status=status,
            output=output,
            error=info,
            return_code=return_code,
            dry=self.options.dry,
            llm=ctx.llm_source if ctx else None,
            steps=list(ctx.steps) if ctx else [],
            timings=Timings(
                started_at=self.started_at,
                ended_at=ended,
                duration_ms=None
                if ended is None
                else round((clock.monotonic() - self.t0) * 1000, 3),
            ),
            artifacts=list(ctx.artifacts) if ctx else [],
            run_dir=str(handle.run_dir) if handle and handle.run_dir else None,
            log_path=str(handle.log_path) if handle and handle.log_path else None,
        )

    def _manifest(self, result: RunResult) -> dict[str, Any]:
        doc = result.to_json_dict()
        params: Any = (
            self.params.model_dump(mode="json")
            if self.params is not None
            else (
                self.raw_params
                if isinstance(self.raw_params, dict | list | str | int | float | None)
                else None
            )
        )
        doc["params"] = params
        doc["environment"] = _environment(self.options.entry_point)
        for name in ("idempotency_key", "correlation_id"):  # the run index keeps them
            value = getattr(self.options, name)
            if value is not None:
                doc[name] = value
        if self.span is not None:
            doc["trace_id"] = self.span.trace_id
        return doc

    def finish(
        self,
        status: RunStatus,
        *,
        output: Any = None,
        error: BaseException | None = None,
        return_code: int | None = None,
    ) -> RunResult:
        """Build, record and return the final result, once; later calls get the first one."""
        with self._final_lock:
            if self._final is not None:
                return self._final
            if self._timer is not None:
                self._timer.cancel()
            if self._cancel_start_record is not None:
                self._cancel_start_record()
            if self.ctx is not None and self.handle is not None and self.handle.run_dir:
                # What the workflow wrote by relative path into its run folder.
                self.ctx.artifacts.extend(written_files(self.handle.run_dir, self.ctx.artifacts))
            result = self._result(status, output=output, error=error, return_code=return_code)
            for record in result.steps:  # a step cut short by a timeout or cancellation
                if record.status == "running":
                    record.status = "failed"
                    record.error = result.error
                    record.ended_at = result.timings.ended_at
                    if record.ended_at is not None:
                        elapsed = record.ended_at - record.started_at
                        record.duration_ms = round(elapsed.total_seconds() * 1000, 3)
            if self.handle is not None and self.handle.secrets:
                # Step errors, results and the output can quote a secret param too.
                doc = redact_json(result.to_json_dict(), self.handle.redact)
                result = RunResult.model_validate(doc)
            self._final = result
            if self.handle is not None:
                self.handle.log(
                    f"{clock.now().isoformat()} INFO run {self.run_id} {status}"
                    + (f": {result.error.message}" if result.error else "")
                )
                flush_log(self.handle)  # the log is whole before the manifest says it ended
                self.handle.write_manifest(self._manifest(result))
                self.handle.close()
            if self.span is not None:
                self.span.end(
                    error=result.error.type if result.error else None,
                    **{"raw.status": status, "raw.steps": len(result.steps)},
                )
            return result

    def _log_exception(self, exc: BaseException) -> None:
        if self.handle is not None:
            # Lazy: start-up; only a failing run formats a traceback (~2 M instructions).
            import traceback

            text = "".join(traceback.format_exception(exc))
            self.handle.log(f"{clock.now().isoformat()} ERROR {type(exc).__name__}: {exc}\n{text}")
