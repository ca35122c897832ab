"""The result contract of a run, the same for every entry point.

``raw run --json`` prints a :class:`RunResult`, ``raw.run_workflow`` returns one,
and the run's ``manifest.json`` is one plus the params and an environment block.
Fields are only ever added, so callers written today keep working.
"""

# No ``from __future__ import annotations`` here, unlike the rest of the kit: Pydantic
# would compile every field's annotation from its string when the models are built,
# on every ``raw run`` (~2 M instructions; benchmarks/README.md, issue 20).

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from raw.errors import InvalidParamsError, ServiceUnreachableError

RunStatus = Literal[
    "running", "succeeded", "failed", "invalid_input", "not_found", "timed_out", "cancelled"
]
StepStatus = Literal["running", "succeeded", "failed", "skipped"]

SCHEMA = "raw.run/1"

EXIT_CODES: dict[str, int] = {
    "succeeded": 0,
    "failed": 1,
    "invalid_input": 2,
    "not_found": 3,
    "timed_out": 124,
    "cancelled": 130,
    "running": 1,
}
"""Process exit code for each run status (the README's table)."""


def _no_items() -> list[Any]:
    """An empty list, as a default factory. Not the builtin ``list``: Pydantic reads a
    factory's signature, and a builtin's is parsed from text with the tokenizer, whose
    patterns cost ~7 ms to compile, paid by every ``raw run`` (benchmarks/README.md)."""
    return []


class ErrorInfo(BaseModel):
    type: str
    message: str
    fields: list[dict[str, str]] | None = None
    """Per-field errors for ``invalid_input``: ``{"field": "cv_text", "message": ...}``."""
    unavailable: str | None = None
    """The service that was away when the run failed (``email``, ``Temporal``): an
    outage, not a failure of the workflow; a dispatcher waits for it to come back."""

    @classmethod
    def of(cls, exc: BaseException) -> "ErrorInfo":
        """What a run or a step records of ``exc``."""

        fields = [e.to_dict() for e in exc.errors] if isinstance(exc, InvalidParamsError) else None
        unavailable = None
        if isinstance(exc, ServiceUnreachableError):
            unavailable = str(getattr(exc, "service", None) or type(exc).__name__)
        return cls(
            type=type(exc).__name__,
            message=str(exc) or type(exc).__name__,
            fields=fields,
            unavailable=unavailable,
        )


class Attempt(BaseModel):
    number: int
    started_at: datetime
    duration_ms: float
    error: str | None = None


class StepResult(BaseModel):
    name: str
    status: StepStatus = "running"
    started_at: datetime
    ended_at: datetime | None = None
    duration_ms: float | None = None
    attempts: list[Attempt] = Field(default_factory=_no_items)
    cached: bool = False
    cost_usd: float | None = None
    """What the step's LLM calls cost, for steps that price them (``@agentic``)."""
    result: Any = None
    error: ErrorInfo | None = None
    skip_reason: str | None = None
    """Why a skipped step was skipped (``@conditional(..., skip_reason=...)``)."""


class Artifact(BaseModel):
    name: str
    path: str
    size_bytes: int


class Timings(BaseModel):
    started_at: datetime
    ended_at: datetime | None = None
    duration_ms: float | None = None


class RunResult(BaseModel):
    schema_: str = Field(default=SCHEMA, alias="schema")
    workflow: str
    run_id: str
    status: RunStatus
    output: Any = None
    error: ErrorInfo | None = None
    return_code: int | None = None
    """The int an original-style ``run() -> int`` returned, kept as it was."""
    dry: bool = False
    llm: Literal["provider", "recorded"] | None = None
    """Where the run's LLM calls were answered from (None: it made none)."""
    steps: list[StepResult] = Field(default_factory=_no_items)
    timings: Timings
    artifacts: list[Artifact] = Field(default_factory=_no_items)
    run_dir: str | None = None
    log_path: str | None = None

    model_config = {"populate_by_name": True}

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)
