"""What a workflow is, for the runtime: :class:`WorkflowDefinition`, the body of ``BaseWorkflow``.

Authors subclass :class:`raw.workflow.base.BaseWorkflow`, which adds only the
``python run.py`` entry point (``main()``). The runtime (loader, runner, checks)
works with this class, so it never depends on the terminal code that ``main()`` uses.
"""

from __future__ import annotations

import inspect
import typing
import weakref
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from raw import clock
from raw._loggers import logging_module
from raw.workflow.context import RunContext, current_run
from raw.workflow.recorder import OUTPUT_LOG, save_into
from raw.workflow.steps import StepSpec, get_spec

if typing.TYPE_CHECKING:
    from raw.workflow.llm import LLM
    from raw.workflow.tools import Tool
    from raw.workflow.workflow_context import WorkflowContext

P = TypeVar("P", bound=BaseModel)

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
"""logging's DEBUG, INFO, WARNING and ERROR: :mod:`logging` loads when a line is written."""


def _append_output_log(run_dir: Path, now: datetime, message: str) -> None:
    """The original runtime's ``output.log``: ``[YYYY-MM-DD HH:MM:SS] message`` (UTC) lines."""
    stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    try:
        with open(run_dir / OUTPUT_LOG, "a", encoding="utf-8") as fh:
            fh.write(f"[{stamp}] {message}\n")
    except OSError:  # the record's run.log has the line; this copy is a convenience
        pass


class NoParams(BaseModel):
    """Params of a workflow that takes none."""

    model_config = ConfigDict(extra="forbid")


def _resolve_params_model(cls: type) -> type[BaseModel]:
    for klass in cls.__mro__:
        for base in getattr(klass, "__orig_bases__", ()):
            origin = typing.get_origin(base)
            if isinstance(origin, type) and issubclass(origin, WorkflowDefinition):
                args = typing.get_args(base)
                if args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
                    return args[0]
    explicit = getattr(cls, "Params", None)
    if isinstance(explicit, type) and issubclass(explicit, BaseModel):
        return explicit
    return NoParams


_step_specs: weakref.WeakKeyDictionary[type, tuple[tuple[str, StepSpec], ...]] = (
    weakref.WeakKeyDictionary()
)
"""Each workflow class's steps (:meth:`WorkflowDefinition.step_specs`)."""


class WorkflowDefinition(Generic[P]):
    """Params, steps and what a step can use; see :class:`raw.workflow.base.BaseWorkflow`."""

    params_model: ClassVar[type[BaseModel]] = NoParams
    workflow_id: ClassVar[str | None] = None
    """Set by the loader from the workflow's folder name."""

    params: P

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.params_model = _resolve_params_model(cls)

    def __init__(
        self,
        params: P | Mapping[str, Any] | None = None,
        context: WorkflowContext | None = None,
        /,
        **kwargs: Any,
    ) -> None:
        """``Workflow(params)``, ``Workflow(field=value, ...)``, or the original runtime's
        ``Workflow(params, context)``, so an ``__init__`` override written for it
        (``super().__init__(params, context)``) works unchanged.
        """
        model = type(self).params_model
        if params is None:
            params = kwargs
        elif kwargs:  # with params given, only the original's keywords remain
            context = kwargs.pop("context", context)
            kwargs.pop("logger", None)  # the original's output hook: self.log is ours
            if kwargs:
                names = ", ".join(sorted(kwargs))
                raise TypeError(
                    f"{type(self).__name__}() got params and also {names}: pass the params "
                    "as one model or mapping, or as keyword arguments, not both."
                )
        self.params = params if isinstance(params, model) else model.model_validate(params)  # type: ignore[assignment]
        self._llm: LLM | None = None
        self._context = context

    # --- introspection used by the runner, `raw show` and `raw validate`

    @classmethod
    def step_specs(cls) -> list[tuple[str, StepSpec]]:
        """The class's steps in definition order (base classes first).

        Found once per class (every attribute of every base is looked at: a run asks
        twice); an edited run.py is imported again as a new class.
        """
        found = _step_specs.get(cls)
        if found is None:
            seen: dict[str, StepSpec] = {}
            for klass in reversed(cls.__mro__):
                for attr, value in vars(klass).items():
                    spec = get_spec(value)
                    if spec is not None and spec.is_step:
                        seen.pop(attr, None)
                        seen[attr] = spec
            found = _step_specs[cls] = tuple(seen.items())
        return list(found)

    @classmethod
    def defines_run(cls) -> bool:
        return cls.run is not WorkflowDefinition.run

    @classmethod
    def is_async(cls) -> bool:
        if cls.defines_run():
            return inspect.iscoroutinefunction(cls.run)
        return any(spec.is_async for _, spec in cls.step_specs())

    @classmethod
    def description(cls) -> str:
        return inspect.cleandoc(cls.__doc__) if cls.__doc__ else ""

    # --- what a step can use

    @property
    def run_context(self) -> RunContext | None:
        return current_run()

    @property
    def context(self) -> WorkflowContext | None:
        """The original runtime's run context: None outside a run.

        Inside one it records what ``emit`` and ``add_artifact`` are given in the run's
        log and manifest (:mod:`raw.workflow.workflow_context`).
        """
        if self._context is not None:
            return self._context
        # Its module and dataclasses would cost every `raw run` start-up time.
        # Lazy: the original runtime's context serves only workflows that read it.
        from raw.workflow.workflow_context import WorkflowContext, get_workflow_context

        run = current_run()
        if run is not None and run.workflow_context is None:
            return WorkflowContext.of_run(run, self.params.model_dump(mode="json"))
        return get_workflow_context()

    @context.setter
    def context(self, value: WorkflowContext | None) -> None:
        self._context = value

    @property
    def trigger_event(self) -> None:
        """The original's event that started the workflow: None, runs are started by a
        caller (``raw run``, a webhook route, a process) that passes params."""
        return None

    def tool(self, name: str) -> Tool:
        """The tool named ``name`` (``@tool``, or the project's ``tools/<name>/``)."""
        # Lazy: the tool registry serves original-runtime workflows only.
        from raw.workflow.tools import get_tool

        return get_tool(name)

    @property
    def console(self) -> Any:
        """A console on stderr for ``self.console.print(...)``.

        The original's sentiment example prints through it, though the original's
        ``BaseWorkflow`` never had one; ``self.log`` is what records into the run.
        """
        # Lazy: only workflows that print through a console load it.
        from raw.workflow.console import stderr_console

        return stderr_console()

    @property
    def run_id(self) -> str | None:
        run = current_run()
        return run.run_id if run else None

    @property
    def run_dir(self) -> Path:
        """The original runtime's name for :attr:`results_dir` (it defined it so), created.

        The run's own folder (its manifest, logs and ``results/``) is
        ``self.run_context.handle.run_dir``, also the working directory under ``raw run``.
        """
        path = self.results_dir
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def results_dir(self) -> Path:
        run = current_run()
        if run is not None and run.handle.results_dir is not None:
            return run.handle.results_dir
        return Path.cwd() / "results"

    @property
    def idempotency_key(self) -> str | None:
        """A key that is the same on every retry of the same logical call.

        Set by callers that may run the workflow more than once for one effect
        (a Temporal activity, the coordinator's dispatcher); None otherwise.
        """
        run = current_run()
        return run.idempotency_key if run else None

    @property
    def llm(self) -> LLM:
        """The LLM client: the provider, or recorded responses (dry runs, ``RAW_LLM_MODE``)."""
        if self._llm is None:
            # Lazy: the LLM clients cost ~10 ms to import; only workflows using self.llm pay.
            from raw.workflow.llm import llm_source

            run = current_run()
            source: Literal["provider", "recorded"] = (
                "recorded" if run is not None and run.dry else llm_source()
            )
            if source == "recorded":
                # Lazy: as above, the recorded responses only when a run asks for them.
                from raw.workflow.llm_mock import RecordedLLM

                self._llm = RecordedLLM.for_mocks_dir(run.mocks_dir if run else None)
            else:
                # Lazy: as above.
                from raw.workflow.llm import default_llm

                self._llm = default_llm()
            if run is not None:
                run.llm_source = source
        return self._llm

    @llm.setter
    def llm(self, client: LLM) -> None:
        self._llm = client

    def log(self, message: str, *, level: str = "info") -> None:
        """Write a line to the run's log (and to stderr when run from the CLI)."""
        run = current_run()
        redact = getattr(run.handle, "redact", None) if run else None
        if callable(redact):  # stderr too, not only run.log, must not show a secret param
            message = redact(message)
        name = f"raw.run.{run.workflow_id}" if run else "raw.run"
        logging_module().getLogger(name).log(_LEVELS.get(level, _LEVELS["info"]), message)
        if run is not None:
            now = clock.now()
            run.handle.log(f"{now.isoformat()} {level.upper()} {message}")
            if run.handle.run_dir is not None:
                _append_output_log(run.handle.run_dir, now, message)

    def save(self, filename: str, data: Any) -> Path:
        """Save ``data`` into the run's results folder and list it as an artifact.

        dicts, lists and Pydantic models become JSON, bytes are written as they
        are, anything else as text.
        """
        run = current_run()
        if run is None:  # called outside a run (a unit test): write to ./results
            return Path(save_into(self.results_dir, filename, data).path)
        artifact = run.handle.save(filename, data)
        run.artifacts.append(artifact)
        self.log(f"saved {artifact.name} ({artifact.size_bytes} bytes)")
        return Path(artifact.path)

    # --- the default run

    def run(self) -> Any:
        """Run the steps in definition order; the last step's value is the output."""
        value: Any = None
        for attr, _spec in self.step_specs():
            value = getattr(self, attr)()
        return value

    async def _run_steps_async(self) -> Any:
        value: Any = None
        for attr, spec in self.step_specs():
            value = getattr(self, attr)()
            if spec.is_async:
                value = await value
        return value
