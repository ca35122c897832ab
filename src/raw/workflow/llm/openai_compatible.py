"""The client for any OpenAI-compatible ``POST {base_url}/chat/completions`` endpoint."""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from raw import clock
from raw.errors import LLMNotConfiguredError, LLMOutputError
from raw.workflow.llm.attempts import Attempts, Reply
from raw.workflow.llm.call_log import CallLog
from raw.workflow.llm.config import ClientConfig, load_settings
from raw.workflow.llm.interface import LLM, M
from raw.workflow.llm.mode import provider_for
from raw.workflow.llm.structured import complete_body, extract_body, parse_model, with_correction

if TYPE_CHECKING:
    import httpx  # lazy: ~50 ms that a run without an LLM call never pays

    from raw.config.settings import LLMSettings, StructuredOutput

__all__ = ["DEFAULT_OPENAI_MODEL", "OPENAI_BASE_URL", "OpenAICompatibleLLM", "default_llm"]

OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
"""Used with the original runtime's ``OPENAI_API_KEY`` when ``RAW_LLM_MODEL`` is not set."""


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
        self._config = ClientConfig(
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
        call = CallLog("complete", config.model or "", clock.monotonic())
        body = complete_body(config, prompt, system, temperature, max_tokens)
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
        call = CallLog("extract", config.model or "", clock.monotonic())
        body = extract_body(config, prompt, model, system)
        try:
            with httpx.Client() as client:
                reply = self._send(client, config, body, call)
                result = parse_model(reply.content, model)
                if isinstance(result, str):
                    body = with_correction(body, reply.content, result, model)
                    reply = self._send(client, config, body, call)
                    result = parse_model(reply.content, model)
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
        call = CallLog("complete", config.model or "", clock.monotonic())
        body = complete_body(config, prompt, system, temperature, max_tokens)
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
        call = CallLog("extract", config.model or "", clock.monotonic())
        body = extract_body(config, prompt, model, system)
        try:
            async with httpx.AsyncClient() as client:
                reply = await self._asend(client, config, body, call)
                result = parse_model(reply.content, model)
                if isinstance(result, str):
                    body = with_correction(body, reply.content, result, model)
                    reply = await self._asend(client, config, body, call)
                    result = parse_model(reply.content, model)
                    if isinstance(result, str):
                        raise LLMOutputError(model.__name__, result)
        except BaseException as exc:
            call.log(exc)
            raise
        call.log()
        return result

    # --- internals --------------------------------------------------------------------

    def _resolve(self) -> ClientConfig:
        with self._lock:
            if self._load_settings_on_first_call:
                configured = OpenAICompatibleLLM.from_settings(load_settings())
                self._config = _with_openai_key(configured._config)
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
        self, client: httpx.Client, config: ClientConfig, body: dict[str, Any], call: CallLog
    ) -> Reply:
        import httpx  # lazy: ~50 ms that a run without an LLM call never pays

        attempts = Attempts(config, call)
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
                if isinstance(outcome, Reply):
                    return outcome
                delay = outcome
            clock.sleep(delay)

    async def _asend(
        self, client: httpx.AsyncClient, config: ClientConfig, body: dict[str, Any], call: CallLog
    ) -> Reply:
        import httpx  # lazy: ~50 ms that a run without an LLM call never pays

        attempts = Attempts(config, call)
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
                if isinstance(outcome, Reply):
                    return outcome
                delay = outcome
            await clock.asleep(delay)


def _with_openai_key(config: ClientConfig) -> ClientConfig:
    """``config`` completed from the original runtime's ``OPENAI_API_KEY`` when it has no URL."""
    key = os.environ.get("OPENAI_API_KEY", "").strip()
    if config.base_url or not key or provider_for() != "openai":
        return config
    return replace(
        config,
        base_url=os.environ.get("OPENAI_BASE_URL") or OPENAI_BASE_URL,
        model=config.model or DEFAULT_OPENAI_MODEL,
        api_key=config.api_key or SecretStr(key),
    )


def default_llm() -> LLM:
    """The client for the configured provider (:func:`raw.workflow.llm.mode.provider_for`).

    ``RAW_LLM_*`` settings are read on the first call; ``ANTHROPIC_API_KEY`` gets the
    Messages API client; ``OPENAI_API_KEY`` the OpenAI-compatible one at api.openai.com.
    """
    if provider_for() == "anthropic":
        # Lazy: the Anthropic client only for a run that uses it.
        from raw.workflow.llm.anthropic_messages import AnthropicLLM

        return AnthropicLLM.from_env()
    return OpenAICompatibleLLM.from_settings()
