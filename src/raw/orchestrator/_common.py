"""The contract a process, the kit's clients and its activity share: data, no I/O.

Sandbox-safe (pydantic and the standard library only). Import these names from
where they are used: :mod:`raw.orchestrator.workflow` in process code,
:mod:`raw.orchestrator.activity` beside the activity, :mod:`raw.orchestrator.client`
for :class:`SignalEnvelope` when sending.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from raw.workflow.result import RunStatus

__all__ = [
    "RUN_RAW_WORKFLOW",
    "RUN_RAW_WORKFLOW_CALL",
    "SERVICE_UNAVAILABLE",
    "SIGNAL_IDEMPOTENCY_FIELD",
    "RawWorkflowCall",
    "RawWorkflowResult",
    "SignalEnvelope",
]

RUN_RAW_WORKFLOW = "run_raw_workflow"
"""The kit's activity: CLI-style args in, the workflow's output out."""
RUN_RAW_WORKFLOW_CALL = "run_raw_workflow_call"
"""Its typed twin: a RawWorkflowCall in, a RawWorkflowResult out."""
SERVICE_UNAVAILABLE = "RawServiceUnavailable"
"""``ApplicationError.type`` of a run that failed because a service it needs was away
(its ``error.unavailable``): not retried by Temporal, which would spend attempts, but
waited out by :func:`raw.orchestrator.workflow.execute_raw`."""
SIGNAL_IDEMPOTENCY_FIELD = "idempotency_key"
"""The payload key that makes repeated deliveries of one signal count once."""


class RawWorkflowCall(BaseModel):
    """Which RAW workflow to run, and how."""

    workflow: str = Field(description="The workflow id, e.g. 'analyze-cv'.")
    params: dict[str, Any] = Field(default_factory=dict, description="Params, as JSON values.")
    args: list[str] | None = Field(
        default=None, description="CLI-style flags, e.g. ['--id=123']; they win over params."
    )
    dry: bool = False
    timeout_seconds: float | None = Field(
        default=None, description="The run's own timeout; it ends as timed_out past it."
    )
    use_cache: bool = True
    project_dir: str | None = Field(
        default=None, description="The project folder; default: the activity's own."
    )
    idempotency_key: str | None = Field(
        default=None, description="Overrides the key derived from the activity invocation."
    )


class RawWorkflowResult(BaseModel):
    """What a RAW run came to, as the typed call returns it."""

    workflow: str
    run_id: str
    status: RunStatus
    output: Any = None
    error: str | None = None
    return_code: int | None = None
    idempotency_key: str | None = None
    llm: Literal["provider", "recorded"] | None = None
    """Where the run's LLM calls were answered from (None: it made none)."""


class SignalEnvelope(BaseModel):
    """What every signal sent by the kit carries: ``{"idempotency_key": ..., "payload": ...}``.

    The receiving process remembers the keys it has handled and drops a repeat.
    """

    model_config = ConfigDict(frozen=True)

    idempotency_key: str
    payload: Any = None
