"""The client for Anthropic's own Messages API, for ``ANTHROPIC_API_KEY`` (the original's key).

It uses the ``anthropic`` package (``pip install 'raw-systems[original]'``), imported
on the first call. ``complete`` sends one user message and joins the text blocks of
the answer. ``extract`` asks for a single forced tool call whose ``input_schema`` is
the model's JSON schema and validates the tool's input; an input that does not
validate is sent back once as the tool's error for a corrected answer, as the
OpenAI-compatible client corrects itself.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ValidationError

from raw import clock
from raw.errors import LLMError, LLMOutputError, LLMProviderError
from raw.workflow.llm.call_log import CallLog
from raw.workflow.llm.interface import LLM, M

__all__ = ["DEFAULT_ANTHROPIC_MODEL", "AnthropicLLM"]

DEFAULT_ANTHROPIC_MODEL = "claude-3-5-haiku-latest"
_TOOL = "record_answer"


def _anthropic() -> Any:
    try:
        # Lazy: the anthropic client costs start-up time; only a run that calls it pays.
        import anthropic
    except ImportError:
        raise LLMError(
            "ANTHROPIC_API_KEY is set, but the anthropic package is not installed: "
            "pip install 'raw-systems[original]' (or set RAW_LLM_BASE_URL and RAW_LLM_MODEL "
            "for an OpenAI-compatible endpoint)."
        ) from None
    return anthropic


def _text(message: Any) -> str:
    return "".join(getattr(b, "text", "") for b in message.content if b.type == "text")


def _tool_input(message: Any) -> tuple[Any, str | None]:
    for block in message.content:
        if block.type == "tool_use":
            return block.input, block.id
    return None, None


def _problem(data: Any, model: type[BaseModel]) -> tuple[BaseModel | None, str]:
    if data is None:
        return None, "the answer held no tool call with the structured result"
    try:
        return model.model_validate(data), ""
    except ValidationError as exc:
        return None, "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()
        )


class AnthropicLLM(LLM):
    """An LLM behind Anthropic's Messages API (``POST {base_url}/v1/messages``)."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str = DEFAULT_ANTHROPIC_MODEL,
        base_url: str | None = None,
        timeout_seconds: float = 60.0,
        max_retries: int = 2,
        max_tokens: int = 4096,
    ) -> None:
        self.model = model
        self.max_tokens = max_tokens
        self._options: dict[str, Any] = {
            "api_key": api_key,
            "base_url": base_url,
            "timeout": timeout_seconds,
            "max_retries": max_retries,
        }

    @classmethod
    def from_env(cls) -> AnthropicLLM:
        """``ANTHROPIC_API_KEY``, ``ANTHROPIC_BASE_URL``; the model from ``RAW_LLM_MODEL``."""
        return cls(
            api_key=os.environ.get("ANTHROPIC_API_KEY", ""),
            model=os.environ.get("RAW_LLM_MODEL") or DEFAULT_ANTHROPIC_MODEL,
            base_url=os.environ.get("ANTHROPIC_BASE_URL") or None,
            timeout_seconds=float(os.environ.get("RAW_LLM_TIMEOUT_SECONDS") or 60),
            max_retries=int(os.environ.get("RAW_LLM_MAX_RETRIES") or 2),
        )

    def __repr__(self) -> str:
        return f"AnthropicLLM(model={self.model!r}, api_key=set)"

    # --- requests -----------------------------------------------------------------

    def _body(
        self,
        prompt: str,
        system: str | None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max_tokens or self.max_tokens,
            "messages": [{"role": "user", "content": prompt}],
        }
        if system:
            body["system"] = system
        if temperature is not None:
            body["temperature"] = temperature
        return body

    def _extract_body(self, prompt: str, model: type[BaseModel], system: str | None) -> Any:
        body = self._body(prompt, system)
        body["tools"] = [
            {
                "name": _TOOL,
                "description": f"Record the answer as a {model.__name__}.",
                "input_schema": model.model_json_schema(),
            }
        ]
        body["tool_choice"] = {"type": "tool", "name": _TOOL}
        return body

    @staticmethod
    def _corrected(body: dict[str, Any], message: Any, tool_id: str | None, problem: str) -> Any:
        retry = dict(body)
        content = [b.model_dump(exclude_none=True) for b in message.content]
        answer: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": tool_id or "",
            "is_error": True,
            "content": f"That input does not validate: {problem}. Call the tool again, fixed.",
        }
        feedback = [answer] if tool_id else problem
        retry["messages"] = [
            *body["messages"],
            {"role": "assistant", "content": content},
            {"role": "user", "content": feedback},
        ]
        return retry

    def _error(self, exc: BaseException) -> BaseException:
        anthropic = _anthropic()
        if isinstance(exc, anthropic.APIStatusError):
            return LLMProviderError(
                f"Anthropic's Messages API answered HTTP {exc.status_code}: {exc.message}",
                status_code=exc.status_code,
            )
        if isinstance(exc, anthropic.APIConnectionError):
            return LLMProviderError(f"Anthropic's Messages API could not be reached: {exc}")
        return exc

    # --- the interface --------------------------------------------------------------

    def complete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> str:
        anthropic = _anthropic()
        call = CallLog("complete", self.model, clock.monotonic())
        try:
            with anthropic.Anthropic(**self._options) as client:
                message = client.messages.create(
                    **self._body(prompt, system, temperature, max_tokens)
                )
        except anthropic.AnthropicError as exc:
            error = self._error(exc)
            call.log(error)
            raise error from None
        call.log()
        return _text(message)

    def extract(self, prompt: str, model: type[M], *, system: str | None = None) -> M:
        anthropic = _anthropic()
        call = CallLog("extract", self.model, clock.monotonic())
        body = self._extract_body(prompt, model, system)
        try:
            with anthropic.Anthropic(**self._options) as client:
                message = client.messages.create(**body)
                data, tool_id = _tool_input(message)
                result, problem = _problem(data, model)
                if result is None:
                    body = self._corrected(body, message, tool_id, problem)
                    message = client.messages.create(**body)
                    result, problem = _problem(_tool_input(message)[0], model)
                    if result is None:
                        raise LLMOutputError(model.__name__, problem)
        except anthropic.AnthropicError as exc:
            error = self._error(exc)
            call.log(error)
            raise error from None
        except LLMOutputError as exc:
            call.log(exc)
            raise
        call.log()
        return result  # type: ignore[return-value]

    async def acomplete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> str:
        anthropic = _anthropic()
        call = CallLog("complete", self.model, clock.monotonic())
        try:
            async with anthropic.AsyncAnthropic(**self._options) as client:
                message = await client.messages.create(
                    **self._body(prompt, system, temperature, max_tokens)
                )
        except anthropic.AnthropicError as exc:
            error = self._error(exc)
            call.log(error)
            raise error from None
        call.log()
        return _text(message)

    async def aextract(self, prompt: str, model: type[M], *, system: str | None = None) -> M:
        anthropic = _anthropic()
        call = CallLog("extract", self.model, clock.monotonic())
        body = self._extract_body(prompt, model, system)
        try:
            async with anthropic.AsyncAnthropic(**self._options) as client:
                message = await client.messages.create(**body)
                data, tool_id = _tool_input(message)
                result, problem = _problem(data, model)
                if result is None:
                    body = self._corrected(body, message, tool_id, problem)
                    message = await client.messages.create(**body)
                    result, problem = _problem(_tool_input(message)[0], model)
                    if result is None:
                        raise LLMOutputError(model.__name__, problem)
        except anthropic.AnthropicError as exc:
            error = self._error(exc)
            call.log(error)
            raise error from None
        except LLMOutputError as exc:
            call.log(exc)
            raise
        call.log()
        return result  # type: ignore[return-value]
