"""The workflow's LLM client: ``self.llm`` inside a RAW workflow.

One small interface, :class:`LLM`: ``complete`` returns text and ``extract`` returns
a validated Pydantic model, each with an async twin. :class:`OpenAICompatibleLLM`
speaks to any OpenAI-compatible ``POST {base_url}/chat/completions`` endpoint
(OpenAI, Ollama, vLLM, LM Studio ...) and is configured by environment variables::

    RAW_LLM_BASE_URL=https://api.openai.com/v1   # or http://localhost:11434/v1
    RAW_LLM_MODEL=gpt-4o-mini
    RAW_LLM_API_KEY=sk-...                       # optional: local servers need none
    RAW_LLM_TIMEOUT_SECONDS=60
    RAW_LLM_MAX_RETRIES=2
    RAW_LLM_STRUCTURED_OUTPUT=json_schema        # or json_object, or prompt

A client with no provider configured is fine to build; its first call raises
:class:`~raw.errors.LLMNotConfiguredError` naming the missing settings, so a
workflow that never calls the LLM never fails for lack of one.

``raw run`` must start fast, so this module imports neither httpx nor
pydantic-settings: both load on the first call that needs them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, SecretStr, ValidationError

from raw import clock
from raw.errors import (
    LLMError,
    LLMNotConfiguredError,
    LLMOutputError,
    LLMProviderError,
    RunTimedOutError,
)
from raw.redact import redact_url, redact_urls
from raw.workflow.context import RunContext, current_run, current_step_name

if TYPE_CHECKING:
    import httpx  # lazy: ~50 ms that a run without an LLM call never pays

    from raw.settings import LLMSettings, StructuredOutput

__all__ = [
    "LLM",
    "OpenAICompatibleLLM",
    "default_llm",
    "load_settings",
]

M = TypeVar("M", bound=BaseModel)

logger = logging.getLogger("raw.llm")

MAX_RETRY_AFTER_SECONDS = 30.0
"""A provider's Retry-After is honoured up to this many seconds."""

_BACKOFF_BASE_SECONDS = 0.5
_BACKOFF_MAX_SECONDS = 8.0
_PROVIDER_MESSAGE_MAX_CHARS = 300


@runtime_checkable
class LLM(Protocol):
    """What a workflow can ask of its LLM."""

    def complete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> str:
        """The model's text answer to ``prompt``."""
        ...

    def extract(self, prompt: str, model: type[M], *, system: str | None = None) -> M:
        """The model's answer to ``prompt`` as a validated instance of ``model``."""
        ...

    async def acomplete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> str:
        """Async twin of :meth:`complete`."""
        ...

    async def aextract(self, prompt: str, model: type[M], *, system: str | None = None) -> M:
        """Async twin of :meth:`extract`."""
        ...


# --- settings -------------------------------------------------------------------------


def load_settings() -> LLMSettings:
    """Read the ``RAW_LLM_*`` environment variables."""
    # Lazy: pydantic-settings costs start-up time; only a run that calls an LLM reads it.
    from raw.settings import LLMSettings

    try:
        return LLMSettings()
    except ValidationError as exc:
        problems = "; ".join(
            f"RAW_LLM_{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise LLMError(
            f"The LLM settings are invalid: {problems}. Fix these environment variables."
        ) from None


# --- the OpenAI-compatible client -----------------------------------------------------


@dataclass(frozen=True)
class _Config:
    base_url: str | None
    model: str | None
    api_key: SecretStr | None
    timeout_seconds: float
    max_retries: int
    structured_output: StructuredOutput

    @property
    def url(self) -> str:
        assert self.base_url is not None
        return self.base_url.rstrip("/") + "/chat/completions"

    def headers(self) -> dict[str, str]:
        key = self.api_key.get_secret_value() if self.api_key else ""
        return {"Authorization": f"Bearer {key}"} if key else {}

    @property
    def shown_url(self) -> str:
        """The base URL for messages and logs: a password or key in it masked."""
        return redact_url(self.base_url or "")

    def redact(self, text: str) -> str:
        """``text`` with the API key, should a provider echo it, and URL credentials masked."""
        key = self.api_key.get_secret_value() if self.api_key else ""
        return redact_urls(text.replace(key, "***") if key else text)


@dataclass
class _Reply:
    content: str


@dataclass
class _Call:
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


class _Attempts:
    """The retry policy of one request, free of I/O so sync and async share it."""

    def __init__(self, config: _Config, call: _Call) -> None:
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

    def answered(self, response: httpx.Response) -> _Reply | float:
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

    def _parse(self, response: httpx.Response) -> _Reply:
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
        return _Reply(content=content)


def _run_timeout(run: RunContext, config: _Config) -> float:
    return run.timeout_seconds if run.timeout_seconds is not None else config.timeout_seconds


class OpenAICompatibleLLM(LLM):
    """An LLM behind any OpenAI-compatible chat-completions endpoint."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | SecretStr | None = None,
        timeout_seconds: float = 60.0,
        max_retries: int = 2,
        structured_output: StructuredOutput = "json_schema",
    ) -> None:
        if isinstance(api_key, str):
            api_key = SecretStr(api_key) if api_key else None
        self._config = _Config(
            base_url=base_url or None,
            model=model or None,
            api_key=api_key,
            timeout_seconds=timeout_seconds,
            max_retries=max_retries,
            structured_output=structured_output,
        )
        self._load_settings_on_first_call = False
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: LLMSettings | None = None) -> OpenAICompatibleLLM:
        """A client configured by ``settings``, or by ``RAW_LLM_*`` read on the first call."""
        if settings is None:
            client = cls()
            client._load_settings_on_first_call = True
            return client
        return cls(
            base_url=settings.base_url,
            model=settings.model,
            api_key=settings.api_key,
            timeout_seconds=settings.timeout_seconds,
            max_retries=settings.max_retries,
            structured_output=settings.structured_output,
        )

    def __repr__(self) -> str:
        if self._load_settings_on_first_call:
            return f"{type(self).__name__}(settings from RAW_LLM_*, not read yet)"
        config = self._config
        key = "set" if config.api_key else "none"
        return (
            f"{type(self).__name__}(base_url={config.base_url and config.shown_url!r}, "
            f"model={config.model!r}, "
            f"api_key={key})"
        )

    # --- public API -------------------------------------------------------------------

    def complete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> str:
        import httpx  # lazy: ~50 ms that a run without an LLM call never pays

        config = self._resolve()
        call = _Call("complete", config.model or "", clock.monotonic())
        body = _complete_body(config, prompt, system, temperature, max_tokens)
        try:
            with httpx.Client() as client:
                reply = self._send(client, config, body, call)
        except BaseException as exc:
            call.log(exc)
            raise
        call.log()
        return reply.content

    def extract(self, prompt: str, model: type[M], *, system: str | None = None) -> M:
        import httpx  # lazy: ~50 ms that a run without an LLM call never pays

        config = self._resolve()
        call = _Call("extract", config.model or "", clock.monotonic())
        body = _extract_body(config, prompt, model, system)
        try:
            with httpx.Client() as client:
                reply = self._send(client, config, body, call)
                result = _parse_model(reply.content, model)
                if isinstance(result, str):
                    body = _with_correction(body, reply.content, result, model)
                    reply = self._send(client, config, body, call)
                    result = _parse_model(reply.content, model)
                    if isinstance(result, str):
                        raise LLMOutputError(model.__name__, result)
        except BaseException as exc:
            call.log(exc)
            raise
        call.log()
        return result

    async def acomplete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> str:
        import httpx  # lazy: ~50 ms that a run without an LLM call never pays

        config = self._resolve()
        call = _Call("complete", config.model or "", clock.monotonic())
        body = _complete_body(config, prompt, system, temperature, max_tokens)
        try:
            async with httpx.AsyncClient() as client:
                reply = await self._asend(client, config, body, call)
        except BaseException as exc:
            call.log(exc)
            raise
        call.log()
        return reply.content

    async def aextract(self, prompt: str, model: type[M], *, system: str | None = None) -> M:
        import httpx  # lazy: ~50 ms that a run without an LLM call never pays

        config = self._resolve()
        call = _Call("extract", config.model or "", clock.monotonic())
        body = _extract_body(config, prompt, model, system)
        try:
            async with httpx.AsyncClient() as client:
                reply = await self._asend(client, config, body, call)
                result = _parse_model(reply.content, model)
                if isinstance(result, str):
                    body = _with_correction(body, reply.content, result, model)
                    reply = await self._asend(client, config, body, call)
                    result = _parse_model(reply.content, model)
                    if isinstance(result, str):
                        raise LLMOutputError(model.__name__, result)
        except BaseException as exc:
            call.log(exc)
            raise
        call.log()
        return result

    # --- internals --------------------------------------------------------------------

    def _resolve(self) -> _Config:
        with self._lock:
            if self._load_settings_on_first_call:
                configured = OpenAICompatibleLLM.from_settings(load_settings())
                self._config = configured._config
                self._load_settings_on_first_call = False
            config = self._config
        missing = []
        if not config.base_url:
            missing.append("RAW_LLM_BASE_URL")
        if not config.model:
            missing.append("RAW_LLM_MODEL")
        if missing:
            raise LLMNotConfiguredError(missing)
        return config

    def _send(
        self, client: httpx.Client, config: _Config, body: dict[str, Any], call: _Call
    ) -> _Reply:
        import httpx  # lazy: ~50 ms that a run without an LLM call never pays

        attempts = _Attempts(config, call)
        while True:
            timeout = attempts.start()
            try:
                response = client.post(
                    config.url, json=body, headers=config.headers(), timeout=timeout
                )
            except httpx.TransportError as exc:
                delay = attempts.transport_failed(exc)
            else:
                outcome = attempts.answered(response)
                if isinstance(outcome, _Reply):
                    return outcome
                delay = outcome
            clock.sleep(delay)

    async def _asend(
        self, client: httpx.AsyncClient, config: _Config, body: dict[str, Any], call: _Call
    ) -> _Reply:
        import httpx  # lazy: ~50 ms that a run without an LLM call never pays

        attempts = _Attempts(config, call)
        while True:
            timeout = attempts.start()
            try:
                response = await client.post(
                    config.url, json=body, headers=config.headers(), timeout=timeout
                )
            except httpx.TransportError as exc:
                delay = attempts.transport_failed(exc)
            else:
                outcome = attempts.answered(response)
                if isinstance(outcome, _Reply):
                    return outcome
                delay = outcome
            await clock.asleep(delay)


def default_llm() -> LLM:
    """The client configured by ``RAW_LLM_*``; settings are read on its first call."""
    return OpenAICompatibleLLM.from_settings()


LLM_MODE_SETTING = "RAW_LLM_MODE"
LLMMode = Literal["provider", "recorded", "auto"]


def provider_configured(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``RAW_LLM_BASE_URL`` and ``RAW_LLM_MODEL`` name a provider."""
    env = os.environ if environ is None else environ
    return bool(env.get("RAW_LLM_BASE_URL", "").strip() and env.get("RAW_LLM_MODEL", "").strip())


def llm_source(environ: Mapping[str, str] | None = None) -> Literal["provider", "recorded"]:
    """Where a (non-dry) run's ``self.llm`` answers from, by ``RAW_LLM_MODE``.

    ``provider`` (the default): the configured provider, an error naming the settings
    if there is none. ``recorded``: the workflow's recorded responses in
    ``mocks/llm.json``. ``auto``: the provider when one is configured, else recorded
    (what ``raw up`` and ``raw simulate`` use, so a fresh machine runs a system).
    """
    env = os.environ if environ is None else environ
    mode = env.get(LLM_MODE_SETTING, "provider").strip().lower() or "provider"
    if mode not in ("provider", "recorded", "auto"):
        raise LLMError(
            f"{LLM_MODE_SETTING}='{mode}' is not a mode: use provider, recorded or auto."
        )
    if mode == "auto":
        return "provider" if provider_configured(env) else "recorded"
    return "recorded" if mode == "recorded" else "provider"


# --- request bodies and structured output ---------------------------------------------


def _messages(system: str | None, prompt: str) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    return messages


def _complete_body(
    config: _Config,
    prompt: str,
    system: str | None,
    temperature: float | None,
    max_tokens: int | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": config.model, "messages": _messages(system, prompt)}
    if temperature is not None:
        body["temperature"] = temperature
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    return body


def _schema_text(model: type[BaseModel]) -> str:
    return json.dumps(model.model_json_schema(), indent=2)


def _schema_instructions(model: type[BaseModel]) -> str:
    return (
        "Answer with a single JSON object that matches this JSON schema, and nothing "
        "else: no prose, no code fences.\n" + _schema_text(model)
    )


def _extract_body(
    config: _Config, prompt: str, model: type[BaseModel], system: str | None
) -> dict[str, Any]:
    mode = config.structured_output
    if mode != "json_schema":
        # The schema travels in the system prompt; json_object also needs the word
        # "JSON" in the messages, which the instructions carry.
        instructions = _schema_instructions(model)
        system = f"{system}\n\n{instructions}" if system else instructions
    body: dict[str, Any] = {"model": config.model, "messages": _messages(system, prompt)}
    if mode == "json_schema":
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": _schema_name(model), "schema": model.model_json_schema()},
        }
    elif mode == "json_object":
        body["response_format"] = {"type": "json_object"}
    return body


def _schema_name(model: type[BaseModel]) -> str:
    # OpenAI accepts [a-zA-Z0-9_-]{1,64}; generic models are named like "Page[Item]".
    name = re.sub(r"[^a-zA-Z0-9_-]", "_", model.__name__)[:64]
    return name or "Answer"


def _with_correction(
    body: dict[str, Any], answer: str, reason: str, model: type[BaseModel]
) -> dict[str, Any]:
    correction = (
        f"Your answer could not be used: {reason}. Reply again with only a valid JSON "
        "object that matches this JSON schema, and nothing else:\n" + _schema_text(model)
    )
    messages = [
        *body["messages"],
        {"role": "assistant", "content": answer},
        {"role": "user", "content": correction},
    ]
    return {**body, "messages": messages}


_FENCE = re.compile(r"```[a-zA-Z]*[ \t]*\n?(.*?)```", re.DOTALL)


def _parse_model(content: str, model: type[M]) -> M | str:
    """The validated model, or a sentence fragment saying why ``content`` is not one."""
    text = content.strip()
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"the answer is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        return "the answer does not match the schema: " + validation_problems(exc)


def validation_problems(exc: ValidationError) -> str:
    """``field.path: message`` for each error, without the offending input values."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()
    )
