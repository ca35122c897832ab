"""The original RAW runtime's ``WorkflowContext``: ``self.context`` inside a run.

Workflows written for the original read ``self.context`` (or
``get_workflow_context()``): None outside a run, inside one an object to record
events and artifacts on. Here that object is a view of the run the runner
records (:class:`~raw.workflow.context.RunContext`): what it is told lands in the
run's log and manifest, so ``emit`` and ``add_artifact`` are never lost the way a
context no one reads would lose them.

A ``WorkflowContext`` built by hand (the original's tests did) is not bound to a run
and keeps what it is told in memory (``events``, ``get_artifacts()``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from raw import clock
from raw.errors import RawError
from raw.workflow.context import RunContext, current_run
from raw.workflow.result import Artifact, StepResult

__all__ = [
    "ArtifactNotFoundError",
    "WorkflowContext",
    "get_workflow_context",
    "set_workflow_context",
]


class ArtifactNotFoundError(RawError):
    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"Cannot record artifact {path}: no such file. Write the file first, or save "
            "data with self.save(name, data), which writes and records it."
        )


@dataclass
class AgenticCost:
    """One priced LLM step, as the original's ``context.agentic_costs`` listed it."""

    step_name: str
    cost: float
    tokens: dict[str, int]
    model: str
    prompt_preview: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "step_name": self.step_name,
            "cost": self.cost,
            "tokens": dict(self.tokens),
            "model": self.model,
        }
        if self.prompt_preview is not None:
            data["prompt_preview"] = self.prompt_preview
        return data


class _StepsView(Mapping[str, dict[str, Any]]):
    """``context._steps``: step name -> what the original's examples read of a step.

    Each value has ``status``, ``cached``, ``duration_ms``, and ``cost`` (USD) for
    steps that priced LLM calls. (The original kept a list here, so its own examples,
    which call ``.values()`` on it, failed at their last line.)
    """

    def __init__(self, steps: list[StepResult]) -> None:
        self._steps = steps

    def _latest(self) -> dict[str, StepResult]:
        latest: dict[str, StepResult] = {}
        for record in self._steps:
            latest[record.name] = record
        return latest

    def __getitem__(self, name: str) -> dict[str, Any]:
        record = self._latest()[name]
        data: dict[str, Any] = {
            "status": record.status,
            "cached": record.cached,
            "duration_ms": record.duration_ms,
        }
        if record.cost_usd is not None:
            data["cost"] = record.cost_usd
        return data

    def __iter__(self) -> Iterator[str]:
        return iter(self._latest())

    def __len__(self) -> int:
        return len(self._latest())


@dataclass
class _Detached:
    """What a context that belongs to no run keeps."""

    started_at: datetime = field(default_factory=clock.now)
    steps: list[StepResult] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)


class WorkflowContext:
    """A running workflow's context, as the original runtime offered it."""

    def __init__(
        self,
        workflow_id: str,
        short_name: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        workflow_dir: Path | None = None,
        *,
        run: RunContext | None = None,
    ) -> None:
        self.workflow_id = workflow_id
        self.short_name = short_name or workflow_id
        self.parameters: dict[str, Any] = dict(parameters or {})
        self._run = run
        self._detached = _Detached()
        self.workflow_dir = workflow_dir
        self.run_id: str = run.run_id if run is not None else f"run_{clock.now():%Y%m%d_%H%M%S}"
        self.events: list[Any] = []
        """Everything given to :meth:`emit`, in order."""
        self.agentic_costs: list[dict[str, Any]] = []
        self.total_agentic_cost = 0.0
        self.agentic_cache_hits = 0
        self.agentic_cache_misses = 0

    @classmethod
    def of_run(
        cls, run: RunContext, parameters: Mapping[str, Any] | None = None
    ) -> WorkflowContext:
        """The context of ``run``: one per run, made on first use."""
        if run.workflow_context is None:
            run.workflow_context = cls(
                run.workflow_id,
                parameters=parameters,
                workflow_dir=run.handle.run_dir,
                run=run,
            )
        context: WorkflowContext = run.workflow_context
        return context

    def __repr__(self) -> str:
        where = f"run {self.run_id}" if self._run is not None else "no run"
        return f"WorkflowContext({self.workflow_id!r}, {where})"

    @property
    def started_at(self) -> datetime:
        if self._run is not None and self._run.steps:
            return self._run.steps[0].started_at
        return self._detached.started_at

    @property
    def _steps(self) -> _StepsView:
        return _StepsView(self._run.steps if self._run is not None else self._detached.steps)

    @property
    def _artifacts(self) -> list[Artifact]:
        return self._run.artifacts if self._run is not None else self._detached.artifacts

    def get_steps(self) -> list[StepResult]:
        """The steps recorded so far."""
        return list(self._run.steps if self._run is not None else self._detached.steps)

    def get_artifacts(self) -> list[Artifact]:
        """The artifacts recorded so far (``self.save`` and :meth:`add_artifact`)."""
        return list(self._artifacts)

    def emit(self, event: Any) -> None:
        """Record ``event`` (any object; a Pydantic model is kept as JSON) in the run's log."""
        self.events.append(event)
        if self._run is None:
            return
        name = (
            (event.get("event_type") if isinstance(event, Mapping) else None)
            or getattr(event, "event_type", None)
            or type(event).__name__
        )
        if isinstance(event, BaseModel):
            body: Any = event.model_dump(mode="json")
        else:
            try:
                body = to_jsonable_python(event)
            except Exception:
                body = repr(event)
        line = json.dumps(body, default=repr, sort_keys=True)
        self._run.handle.log(f"{clock.now().isoformat()} EVENT {name} {line}")

    def add_artifact(self, artifact_type: str, path: Path | str) -> None:
        """Record a file the workflow wrote as one of the run's artifacts.

        A relative path is read from the working directory. ``artifact_type`` is kept in
        the run's log (the manifest lists artifacts by name, path and size).
        """
        file = Path(path)
        if not file.is_file():
            raise ArtifactNotFoundError(str(path))
        resolved = file.resolve()
        name = resolved.name
        run = self._run
        if run is not None and run.handle.run_dir is not None:
            run_dir = run.handle.run_dir.resolve()
            results = (run.handle.results_dir or run_dir).resolve()
            for base in (results, run_dir):
                if resolved.is_relative_to(base):
                    name = str(resolved.relative_to(base))
                    break
        artifact = Artifact(name=name, path=str(resolved), size_bytes=resolved.stat().st_size)
        if any(a.path == artifact.path for a in self._artifacts):
            return  # self.save already recorded it
        self._artifacts.append(artifact)
        if run is not None:
            run.handle.log(
                f"{clock.now().isoformat()} INFO artifact {name} ({artifact_type}, "
                f"{artifact.size_bytes} bytes)"
            )

    def log_cache_hit(self) -> None:
        self.agentic_cache_hits += 1

    def log_cache_miss(self) -> None:
        self.agentic_cache_misses += 1

    def log_agentic_step(
        self,
        step_name: str,
        cost: float,
        tokens: Mapping[str, int],
        model: str,
        prompt: str | None = None,
    ) -> None:
        """Add a priced LLM step to ``agentic_costs`` and ``total_agentic_cost``."""
        entry = AgenticCost(step_name, cost, dict(tokens), model, prompt[:100] if prompt else None)
        self.agentic_costs.append(entry.as_dict())
        self.total_agentic_cost += cost


_explicit: ContextVar[WorkflowContext | None] = ContextVar("raw_workflow_context", default=None)


def get_workflow_context() -> WorkflowContext | None:
    """The running workflow's context; None outside a run.

    A context given to :func:`set_workflow_context` wins over the run's own.
    """
    explicit = _explicit.get()
    if explicit is not None:
        return explicit
    run = current_run()
    return WorkflowContext.of_run(run) if run is not None else None


def set_workflow_context(context: WorkflowContext | None) -> None:
    """Make ``context`` the one :func:`get_workflow_context` returns here (None: the run's)."""
    _explicit.set(context)
