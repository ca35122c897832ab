"""The retry policy of one request to the provider, and what its answers mean."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from raw.errors import LLMProviderError, RunTimedOutError
from raw.workflow.context import RunContext, current_run
from raw.workflow.llm.call_log import CallLog
from raw.workflow.llm.config import ClientConfig

if TYPE_CHECKING:
    import httpx  # lazy: ~50 ms that a run without an LLM call never pays

__all__ = ["MAX_RETRY_AFTER_SECONDS", "Attempts", "Reply"]

MAX_RETRY_AFTER_SECONDS = 30.0
"""A provider's Retry-After is honoured up to this many seconds."""

_BACKOFF_BASE_SECONDS = 0.5
_BACKOFF_MAX_SECONDS = 8.0
_PROVIDER_MESSAGE_MAX_CHARS = 300


@dataclass
class Reply:
    """The text of one chat completion."""

    content: str


class Attempts:
    """The retry policy of one request, free of I/O so sync and async share it."""

    def __init__(self, config: ClientConfig, call: CallLog) -> None:
        self.config = config
        self.call = call
        self.number = 0
        self.deadline_bound = False

    def start(self) -> float:
        """Check the run and return the timeout for the next request."""
        run = current_run()
        timeout = self.config.timeout_seconds
        self.deadline_bound = False
        if run is not None:
            run.check()
            remaining = run.remaining_seconds()
            if remaining is not None and remaining < timeout:
                timeout, self.deadline_bound = remaining, True
        self.number += 1
        self.call.requests += 1
        return timeout

    def transport_failed(self, exc: httpx.TransportError) -> float:
        """Seconds to wait before retrying after ``exc``, or raise."""
        import httpx  # lazy: ~50 ms that a run without an LLM call never pays

        if isinstance(exc, httpx.TimeoutException):
            run = current_run()
            if self.deadline_bound and run is not None:
                raise RunTimedOutError(_run_timeout(run, self.config)) from None
            what = f"did not answer within {self.config.timeout_seconds:g} seconds"
            advice = "raise RAW_LLM_TIMEOUT_SECONDS or try again later"
        else:
            what = f"could not be reached ({type(exc).__name__}: {self.config.redact(str(exc))})"
            advice = "check RAW_LLM_BASE_URL and that the server is running"
        if self.number > self.config.max_retries:
            raise LLMProviderError(
                f"The LLM provider at {self.config.shown_url} {what} "
                f"after {self._attempts_text()}: {advice}."
            ) from None
        return self._backoff(None)

    def answered(self, response: httpx.Response) -> Reply | float:
        """The reply, or seconds to wait before retrying; raises on a final error."""
        status = response.status_code
        if status < 400:
            return self._parse(response)
        message = self._provider_message(response)
        retryable = status == 429 or status >= 500
        if retryable and self.number <= self.config.max_retries:
            return self._backoff(response.headers.get("retry-after"))
        base = f"The LLM provider at {self.config.shown_url} answered HTTP {status}"
        if message:
            base += f" ({message})"
        if retryable:
            advice = f"after {self._attempts_text()}: try again later"
            if status == 429:
                advice += " or check the account's rate limits and quota"
        elif status in (401, 403):
            advice = ": check RAW_LLM_API_KEY"
        elif status == 404:
            advice = ": check RAW_LLM_BASE_URL and RAW_LLM_MODEL"
        elif status in (400, 422):
            advice = (
                f": check that model '{self.config.model}' accepts this request; if the "
                "provider does not support JSON-schema output, set "
                "RAW_LLM_STRUCTURED_OUTPUT=json_object or prompt"
            )
        else:
            advice = ": check RAW_LLM_BASE_URL, RAW_LLM_MODEL and RAW_LLM_API_KEY"
        raise LLMProviderError(base + advice + ".", status_code=status)

    def _attempts_text(self) -> str:
        return f"{self.number} attempt" + ("" if self.number == 1 else "s")

    def _backoff(self, retry_after: str | None) -> float:
        delay = min(_BACKOFF_BASE_SECONDS * 2.0 ** (self.number - 1), _BACKOFF_MAX_SECONDS)
        if retry_after is not None:
            # Only the numeric form; an HTTP date keeps our own backoff.
            with contextlib.suppress(ValueError):
                seconds = float(retry_after)
                if math.isfinite(seconds):
                    delay = min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)
        run = current_run()
        remaining = run.remaining_seconds() if run is not None else None
        if remaining is not None:
            # Sleep no further than the deadline; the next start() then raises.
            delay = min(delay, remaining)
        return delay

    def _provider_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            text = response.text.strip()
        else:
            error = body.get("error") if isinstance(body, dict) else None
            if isinstance(error, dict):
                text = str(error.get("message") or "")
            elif isinstance(error, str):
                text = error
            elif isinstance(body, dict) and isinstance(body.get("message"), str):
                text = body["message"]
            else:
                text = ""
        text = " ".join(self.config.redact(text).split())
        if len(text) > _PROVIDER_MESSAGE_MAX_CHARS:
            text = text[: _PROVIDER_MESSAGE_MAX_CHARS - 1] + "…"
        return text

    def _parse(self, response: httpx.Response) -> Reply:
        try:
            body = response.json()
            self.call.add_usage(body.get("usage"))
            message = body["choices"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise LLMProviderError(
                f"The LLM provider at {self.config.shown_url} answered HTTP "
                f"{response.status_code} with a body that is not a chat completion: check "
                "that RAW_LLM_BASE_URL points at an OpenAI-compatible API (it usually "
                "ends in /v1).",
                status_code=response.status_code,
            ) from None
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str):
            refusal = message.get("refusal") if isinstance(message, dict) else None
            reason = f"it refused: {refusal}" if refusal else "the answer had no text content"
            raise LLMProviderError(
                f"The model '{self.config.model}' gave no usable answer ({reason}): "
                "rephrase the prompt or try another model.",
                status_code=response.status_code,
            )
        return Reply(content=content)


def _run_timeout(run: RunContext, config: ClientConfig) -> float:
    return run.timeout_seconds if run.timeout_seconds is not None else config.timeout_seconds
