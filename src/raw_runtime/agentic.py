"""``@agentic``: a step whose body is an LLM call, with a prompt template and a cost limit.

As in the original runtime::

    @step("classify")
    @agentic(prompt="Classify: {context.ticket}. Answer critical, high, medium or low.",
             model="claude-3-5-haiku-20241022", max_tokens=10, cost_limit=0.01)
    def classify(self, ticket: str) -> Literal["critical", "high", "medium", "low"]: ...

The prompt is formatted with the call's arguments as ``{context.<name>}``; the answer
becomes the function's return type: ``str`` as written, a Pydantic model through the
LLM's structured output (``self.llm.extract``), anything else (``Literal``, ``int``,
``bool``, ``list``, ...) parsed from the text and validated, or
:class:`ResponseParsingError` naming what came back.

What differs from the original, and why (docs/migrating.md):

- The call goes through the workflow's LLM (``self.llm``), configured for the whole
  project (``RAW_LLM_*``): the same step runs on OpenAI, a local server or recorded
  answers in a dry run. ``model=`` is the original's request, kept in the run's log
  and used to price the call when the serving model has no known price.
- ``cost_limit`` is checked before the call against an estimate (the prompt at ~4
  characters a token, plus ``max_tokens`` of answer), as the original did, and the
  real cost from the provider's token counts is kept on the step (``cost_usd``) and
  in ``self.context.agentic_costs``.
- ``cache=True`` keeps answers in the project's cache for ``cache_ttl`` seconds, keyed
  by the formatted prompt, the model and the return type; ``raw run --no-cache`` skips
  it. Outside a run nothing is cached.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import math
import re
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError, create_model

from raw import clock
from raw.errors import RawError
from raw.files import write_atomic
from raw.workflow.context import RunContext, current_run, current_step
from raw.workflow.llm import LLM, default_llm
from raw.workflow.llm.call_log import usage
from raw.workflow.workflow_context import WorkflowContext, get_workflow_context
from raw_runtime._refused import refuse

__all__ = [
    "PRICES_PER_MILLION_TOKENS",
    "AgenticStepError",
    "CostLimitExceededError",
    "ResponseParsingError",
    "agentic",
    "estimate_cost",
]

F = TypeVar("F", bound=Callable[..., Any])

PRICES_PER_MILLION_TOKENS: dict[str, tuple[float, float]] = {
    "claude-3-5-sonnet-20241022": (3.0, 15.0),
    "claude-3-5-sonnet-latest": (3.0, 15.0),
    "claude-3-5-haiku-20241022": (0.8, 4.0),
    "claude-3-5-haiku-latest": (0.8, 4.0),
    "claude-3-opus-20240229": (15.0, 75.0),
    "gpt-4o": (2.5, 10.0),
    "gpt-4o-mini": (0.15, 0.6),
}
"""USD per million (input, output) tokens. Unknown models are priced as Claude 3.5
Sonnet, the original's fallback, so a cost limit errs on the side of stopping."""

_FALLBACK_PRICE = PRICES_PER_MILLION_TOKENS["claude-3-5-sonnet-20241022"]
_CHARS_PER_TOKEN = 4


class AgenticStepError(RawError):
    """An ``@agentic`` step could not produce its answer."""


class CostLimitExceededError(AgenticStepError):
    def __init__(self, estimated_cost: float, cost_limit: float, step_name: str | None) -> None:
        self.estimated_cost = estimated_cost
        self.cost_limit = cost_limit
        self.step_name = step_name
        where = f"Step '{step_name}'" if step_name else "The agentic call"
        super().__init__(
            f"{where} would cost about ${estimated_cost:.4f}, over its cost_limit of "
            f"${cost_limit:.4f}; no call was made. Shorten the prompt, lower max_tokens or "
            "raise cost_limit."
        )


class ResponseParsingError(AgenticStepError):
    def __init__(self, response: str, expected_type: Any, error: str) -> None:
        self.response = response
        self.expected_type = _type_name(expected_type)
        self.error = error
        excerpt = " ".join(response.split())[:200]
        super().__init__(
            f"The LLM's answer could not be read as {self.expected_type}: {error}. It "
            f"answered: {excerpt!r}. Say in the prompt exactly what to answer, or return "
            "str and parse it in the step."
        )


class PromptTemplateError(AgenticStepError, ValueError):
    def __init__(self, step_name: str, problem: str) -> None:
        self.step_name = step_name
        self.problem = problem
        super().__init__(
            f"The prompt of step '{step_name}' cannot be formatted: {problem}. Placeholders "
            "are {context.<argument name>} for the step's own arguments."
        )


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def price_of(model: str | None) -> tuple[float, float]:
    """USD per million (input, output) tokens for ``model``."""
    return PRICES_PER_MILLION_TOKENS.get(model or "", _FALLBACK_PRICE)


def estimate_cost(prompt: str, max_tokens: int, model: str) -> float:
    """The original's pre-call estimate: the prompt's tokens plus ``max_tokens`` of answer."""
    input_price, output_price = price_of(model)
    tokens_in = math.ceil(len(prompt) / _CHARS_PER_TOKEN)
    return (tokens_in * input_price + max_tokens * output_price) / 1_000_000


def return_type_of(func: Callable[..., Any]) -> Any:
    """The declared return type (``str`` when there is none)."""
    try:
        hints = typing.get_type_hints(func)
    except Exception:
        hints = {}
    ret = hints.get("return", str)
    return str if ret is None or ret is type(None) else ret


def bound_arguments(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """The call's arguments by name, without ``self``."""
    bound = inspect.signature(func).bind(*args, **kwargs)
    bound.apply_defaults()
    return {k: v for k, v in bound.arguments.items() if k != "self"}


# --- reading an answer --------------------------------------------------------------

_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)```", re.DOTALL)


def parse_answer(text: str, tp: Any) -> Any:
    """``text`` as a value of ``tp``; raises :class:`ResponseParsingError`."""
    stripped = text.strip()
    if tp is str or tp is Any:
        return stripped
    adapter: TypeAdapter[Any] = TypeAdapter(tp)
    fenced = _FENCE.search(stripped)
    body = fenced.group(1).strip() if fenced else stripped
    for candidate in (body, _first_json(body)):
        if candidate:
            try:
                return adapter.validate_json(candidate)
            except ValidationError:
                pass
    word = body.strip().strip("\"'`.").strip()
    if get_origin(tp) is Literal:
        for value in get_args(tp):
            if isinstance(value, str) and value.lower() == word.lower():
                return value
        allowed = ", ".join(repr(v) for v in get_args(tp))
        raise ResponseParsingError(text, tp, f"it is not one of {allowed}")
    try:
        return adapter.validate_python(word)
    except ValidationError:
        pass
    if tp in (int, float):
        number = re.search(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?", body)
        if number:
            try:
                return adapter.validate_python(number.group(0))
            except ValidationError:
                pass
    raise ResponseParsingError(text, tp, "it does not validate")


def _first_json(text: str) -> str | None:
    for opener, closer in (("{", "}"), ("[", "]")):
        start, end = text.find(opener), text.rfind(closer)
        if 0 <= start < end:
            return text[start : end + 1]
    return None


def _fake(tp: Any) -> Any:
    # Lazy: the dry-run fakes load only when a dry run needs one.
    from raw.workflow.llm_mock import fake_instance

    wrapper = create_model("DryRunAnswer", value=(tp, ...))
    return fake_instance(wrapper).value  # type: ignore[attr-defined]


# --- one call -----------------------------------------------------------------------


class _Call:
    """One call of an LLM-backed step: prompt, limit, cache, ask, price, record."""

    def __init__(
        self,
        *,
        step_name: str,
        instance: Any,
        prompt: str,
        system: str | None,
        return_type: Any,
        model: str,
        max_tokens: int | None,
        temperature: float | None,
        cost_limit: float | None,
        cache_ttl_seconds: float | None,
    ) -> None:
        self.step_name = step_name
        self.prompt = prompt
        self.system = system
        self.return_type = return_type
        self.model = model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.cost_limit = cost_limit
        self.cache_ttl_seconds = cache_ttl_seconds
        self.run: RunContext | None = current_run()
        llm = getattr(instance, "llm", None)
        self.llm: LLM = llm if isinstance(llm, LLM) else default_llm()
        self.context: WorkflowContext | None = (
            getattr(instance, "context", None) if self.run is not None else get_workflow_context()
        )
        self.structured = isinstance(return_type, type) and issubclass(return_type, BaseModel)

    # -- before

    def check_cost(self) -> None:
        if self.cost_limit is None:
            return
        text = f"{self.system}\n\n{self.prompt}" if self.system else self.prompt
        estimated = estimate_cost(text, self.max_tokens or 0, self.model)
        if estimated > self.cost_limit:
            self._log(f"agentic step '{self.step_name}' refused: about ${estimated:.4f} > limit")
            raise CostLimitExceededError(estimated, self.cost_limit, self.step_name)

    def cached(self) -> tuple[bool, Any]:
        path = self._cache_path()
        if path is None:
            return False, None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            age = (clock.now() - datetime.fromisoformat(entry["created_at"])).total_seconds()
            if self.cache_ttl_seconds is not None and age > self.cache_ttl_seconds:
                raise LookupError("expired")
            value = TypeAdapter(self.return_type).validate_python(entry["value"])
        except Exception:
            if self.context is not None:
                self.context.log_cache_miss()
            return False, None
        if self.context is not None:
            self.context.log_cache_hit()
        record = current_step()
        if record is not None:
            record.cached = True
            if record.cost_usd is None:
                record.cost_usd = 0.0
        self._log(f"agentic step '{self.step_name}' answered from cache")
        return True, value

    # -- after

    def finish(self, calls: list[Any], answer: Any) -> Any:
        value = self._value(answer)
        tokens_in = sum(c.prompt_tokens or 0 for c in calls)
        tokens_out = sum(c.completion_tokens or 0 for c in calls)
        served = calls[-1].model if calls else None
        input_price, output_price = PRICES_PER_MILLION_TOKENS.get(served or "") or price_of(
            self.model
        )
        cost = (tokens_in * input_price + tokens_out * output_price) / 1_000_000
        record = current_step()
        if record is not None:
            record.cost_usd = (record.cost_usd or 0.0) + cost
        if self.context is not None:
            self.context.log_agentic_step(
                self.step_name,
                cost,
                {"input": tokens_in, "output": tokens_out},
                served or self.model,
                self.prompt,
            )
        self._log(
            f"agentic step '{self.step_name}': model {served or 'recorded'} (asked for "
            f"{self.model}), {tokens_in}+{tokens_out} tokens, ${cost:.6f}"
        )
        self._cache_put(value)
        return value

    def _value(self, answer: Any) -> Any:
        if self.structured:
            return answer
        try:
            return parse_answer(str(answer), self.return_type)
        except ResponseParsingError:
            if self.run is not None and self.run.dry:
                self._log(
                    f"dry run: agentic step '{self.step_name}' got no usable recorded answer; "
                    "a generated one stands in (add one to mocks/llm.json)"
                )
                return _fake(self.return_type)
            raise

    # -- the cache

    def _cache_path(self) -> Any:
        run = self.run
        if self.cache_ttl_seconds is None or run is None or not run.use_cache:
            return None
        if run.cache_dir is None:
            return None
        material = json.dumps(
            {
                "prompt": self.prompt,
                "system": self.system,
                "model": self.model,
                "type": repr(self.return_type),
                "dry": run.dry,
            },
            sort_keys=True,
        )
        key = hashlib.sha256(material.encode()).hexdigest()
        return run.cache_dir / "agentic" / f"{key}.json"

    def _cache_put(self, value: Any) -> None:
        path = self._cache_path()
        if path is None:
            return
        try:
            entry = {
                "created_at": clock.now().isoformat(),
                "value": TypeAdapter(self.return_type).dump_python(value, mode="json"),
            }
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, json.dumps(entry).encode())
        except Exception as exc:  # a cache that cannot be written is a miss next time
            self._log(f"agentic step '{self.step_name}' answer not cached: {exc}")

    def _log(self, text: str) -> None:
        if self.run is not None:
            self.run.handle.log(f"{clock.now().isoformat()} INFO {text}")

    # -- asking

    def ask(self) -> Any:
        if self.structured:
            return self.llm.extract(self.prompt, self.return_type, system=self.system)
        return self.llm.complete(
            self.prompt,
            system=self.system,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
        )

    async def aask(self) -> Any:
        if self.structured:
            return await self.llm.aextract(self.prompt, self.return_type, system=self.system)
        return await self.llm.acomplete(
            self.prompt,
            system=self.system,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
        )

    def run_sync(self) -> Any:
        self.check_cost()
        hit, value = self.cached()
        if hit:
            return value
        with usage() as calls:
            answer = self.ask()
        return self.finish(calls, answer)

    async def run_async(self) -> Any:
        self.check_cost()
        hit, value = self.cached()
        if hit:
            return value
        with usage() as calls:
            answer = await self.aask()
        return self.finish(calls, answer)


def llm_step(func: F, make_call: Callable[[tuple[Any, ...], dict[str, Any]], _Call]) -> F:
    """``func`` replaced by the LLM call ``make_call`` builds from its arguments."""
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            return await make_call(args, kwargs).run_async()

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return make_call(args, kwargs).run_sync()

    return wrapper  # type: ignore[return-value]


def _format(template: str, step_name: str, arguments: Mapping[str, Any]) -> str:
    try:
        return template.format(context=SimpleNamespace(**arguments))
    except AttributeError as exc:
        missing = getattr(exc, "name", None) or str(exc)
        raise PromptTemplateError(step_name, f"the step has no argument {missing!r}") from None
    except (KeyError, IndexError, ValueError) as exc:
        raise PromptTemplateError(step_name, f"{type(exc).__name__}: {exc}") from None


def agentic(
    prompt: str,
    model: str = "claude-3-5-sonnet-20241022",
    max_tokens: int = 4096,
    temperature: float = 1.0,
    cost_limit: float | None = None,
    cache: bool = True,
    cache_ttl: int = 604800,
) -> Callable[[F], F]:
    """Replace the step's body with an LLM call (see the module's docstring)."""

    def decorate(func: F) -> F:
        return_type = return_type_of(func)
        step_name = func.__name__

        def make_call(args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Call:
            arguments = bound_arguments(func, args, kwargs)
            return _Call(
                step_name=step_name,
                instance=args[0] if args else None,
                prompt=_format(prompt, step_name, arguments),
                system=None,
                return_type=return_type,
                model=model,
                max_tokens=max_tokens,
                temperature=temperature,
                cost_limit=cost_limit,
                cache_ttl_seconds=float(cache_ttl) if cache else None,
            )

        return llm_step(func, make_call)

    return decorate


__getattr__ = refuse(__name__)
