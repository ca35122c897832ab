"""What a running workflow can ask about its own run.

The runner sets one :class:`RunContext` per run in a context variable, so steps,
``self.llm`` and the dry-run network guard find their run without a global, and
two runs in one process (threads or asyncio tasks) never see each other's.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from raw import clock
from raw.errors import DryRunNetworkError, RunCancelledError, RunTimedOutError

if TYPE_CHECKING:
    from raw.workflow.recorder import RunHandle
    from raw.workflow.result import Artifact, StepResult


class RunContext:
    """One run as its steps see it: ids, record, deadline, cache and what it produced.

    ``deadline`` is on :func:`raw.clock.monotonic`. ``llm_source`` is where
    ``self.llm`` answered from, once used: "provider" or "recorded".
    ``workflow_context`` is the original runtime's view of this run (``self.context``),
    made on first use (:class:`raw.workflow.workflow_context.WorkflowContext`); typed
    Any because that module builds on this one, not the reverse. ``span`` is the run's
    span (a :class:`raw.tracing.OpenSpan`) when tracing is on, else None.

    A plain class, not a dataclass: a dataclass compiles its methods when its module is
    imported, and ``raw run`` imports this one on every start (benchmarks/README.md).
    """

    def __init__(
        self,
        workflow_id: str,
        run_id: str,
        handle: RunHandle,
        dry: bool = False,
        workflow_dir: Path | None = None,
        timeout_seconds: float | None = None,
        deadline: float | None = None,
        use_cache: bool = True,
        cache_dir: Path | None = None,
        idempotency_key: str | None = None,
        cancel_event: threading.Event | None = None,
        steps: list[StepResult] | None = None,
        artifacts: list[Artifact] | None = None,
        network_violations: list[DryRunNetworkError] | None = None,
        llm_source: Literal["provider", "recorded"] | None = None,
        span: Any = None,
        workflow_context: Any = None,
    ) -> None:
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.handle = handle
        self.dry = dry
        self.workflow_dir = workflow_dir
        self.timeout_seconds = timeout_seconds
        self.deadline = deadline
        self.use_cache = use_cache
        self.cache_dir = cache_dir
        self.idempotency_key = idempotency_key
        self.cancel_event = cancel_event if cancel_event is not None else threading.Event()
        self.steps: list[StepResult] = steps if steps is not None else []
        self.artifacts: list[Artifact] = artifacts if artifacts is not None else []
        self.network_violations: list[DryRunNetworkError] = (
            network_violations if network_violations is not None else []
        )
        self.llm_source = llm_source
        self.span = span
        self.workflow_context = workflow_context

    @property
    def mocks_dir(self) -> Path | None:
        return self.workflow_dir / "mocks" if self.workflow_dir else None

    def remaining_seconds(self) -> float | None:
        """Seconds left before the deadline, or None without one."""
        if self.deadline is None:
            return None
        return max(self.deadline - clock.monotonic(), 0.0)

    def check(self) -> None:
        """Raise if the run was cancelled or is past its deadline (cooperative stop)."""
        if self.cancel_event.is_set():
            raise RunCancelledError()
        if self.deadline is not None and clock.monotonic() >= self.deadline:
            assert self.timeout_seconds is not None
            raise RunTimedOutError(self.timeout_seconds)


_current_run: ContextVar[RunContext | None] = ContextVar("raw_run", default=None)
_current_step: ContextVar[StepResult | None] = ContextVar("raw_step", default=None)


def current_run() -> RunContext | None:
    """The run executing in this context, or None outside a run."""
    return _current_run.get()


def current_step() -> StepResult | None:
    """The step executing in this context, or None between steps."""
    return _current_step.get()


def current_step_name() -> str | None:
    step = _current_step.get()
    return step.name if step else None
