"""The run log's line for one LLM call: model, step, time, requests and tokens."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from raw import clock, tracing
from raw.workflow.context import current_run, current_step_name

__all__ = ["CallLog", "logger", "usage"]

logger = logging.getLogger("raw.llm")

_collectors: ContextVar[tuple[list[CallLog], ...]] = ContextVar("raw_llm_usage", default=())


@contextmanager
def usage() -> Iterator[list[CallLog]]:
    """Collect the calls made inside the block: model, requests and tokens of each.

    A caller that prices or limits its calls (the original runtime's ``@agentic``) reads
    the tokens here; calls answered from recordings make no entry.
    """
    calls: list[CallLog] = []
    token = _collectors.set((*_collectors.get(), calls))
    try:
        yield calls
    finally:
        _collectors.reset(token)


@dataclass
class CallLog:
    """One complete/extract call, for the run log."""

    kind: str
    model: str
    started: float
    requests: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    def add_usage(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        for name in ("prompt_tokens", "completion_tokens"):
            value = usage.get(name)
            if isinstance(value, int):
                setattr(self, name, (getattr(self, name) or 0) + value)

    def log(self, error: BaseException | None = None) -> None:
        for calls in _collectors.get():
            calls.append(self)
        # The request's span (tracing on): the model and the token counts, never the prompt.
        tracing.record_span(
            f"llm {self.kind}",
            started_monotonic=self.started,
            attributes={
                "gen_ai.operation.name": self.kind,
                "gen_ai.request.model": self.model,
                "gen_ai.usage.input_tokens": self.prompt_tokens,
                "gen_ai.usage.output_tokens": self.completion_tokens,
                "raw.llm.requests": self.requests,
            },
            error=error,
        )
        if current_run() is None:
            return
        duration_ms = (clock.monotonic() - self.started) * 1000
        requests = f"{self.requests} request" + ("" if self.requests == 1 else "s")
        details = requests
        if self.prompt_tokens is not None or self.completion_tokens is not None:
            details += (
                f", {self.prompt_tokens or 0} prompt + "
                f"{self.completion_tokens or 0} completion tokens"
            )
        record = {
            "kind": self.kind,
            "model": self.model,
            "step": current_step_name(),
            "duration_ms": round(duration_ms, 1),
            "requests": self.requests,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "error": type(error).__name__ if error else None,
        }
        if error is None:
            logger.info(
                "LLM %s on model '%s' took %.0f ms (%s).",
                self.kind,
                self.model,
                duration_ms,
                details,
                extra={"llm": record},
            )
        else:
            logger.warning(
                "LLM %s on model '%s' failed after %.0f ms (%s): %s.",
                self.kind,
                self.model,
                duration_ms,
                details,
                type(error).__name__,
                extra={"llm": record},
            )
