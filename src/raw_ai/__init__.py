"""``raw_ai.agent``: the original RAW runtime's LLM step with a structured result.

As in the original::

    class Sentiment(BaseModel):
        score: float
        label: str

    class Analyze(BaseWorkflow[Params]):
        @agent(result_type=Sentiment, model="gpt-4o-mini")
        def analyze(self, text: str) -> Sentiment:
            '''You are a sentiment analyst. ...'''  # the system prompt
            ...

The docstring is the system prompt, the arguments are the user message (a string
as it is, anything else as ``name: value``), and the answer is a validated
``result_type`` from the workflow's LLM (``self.llm.extract``: structured output,
one correction round when the answer does not validate). The call is recorded as a
step named after the method, with its tokens and cost.

The original ran it on PydanticAI with the model named here; this runs on the
project's configured LLM (``RAW_LLM_*``; recorded answers in a dry run), and
``model=`` prices the call when the serving model's price is unknown. Tool calling
(``tools=[...]``) is not provided: the decorator refuses it rather than ignore it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from raw.workflow.steps import step
from raw_runtime._refused import install_finder, refuse
from raw_runtime.agentic import _Call, bound_arguments, llm_step, return_type_of

__all__ = ["agent", "agent_step"]

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_MODEL = "gpt-4o-mini"
"""The original's default model."""


class AgentToolsNotSupportedError(TypeError):
    """``@agent(tools=[...])``: function calling is not provided."""


def _user_message(arguments: dict[str, Any]) -> str:
    parts = [
        value if isinstance(value, str) else f"{name}: {value}"
        for name, value in arguments.items()
        if value is not None
    ]
    return "\n\n".join(parts) if parts else "Please proceed."


def agent(
    result_type: type[BaseModel] | None = None,
    model: str | None = None,
    tools: list[Callable[..., Any]] | None = None,
    retries: int = 3,
    temperature: float | None = None,
) -> Callable[[F], F]:
    """Make the method an LLM step whose answer is a ``result_type`` (see the module)."""
    if tools:
        raise AgentToolsNotSupportedError(
            "@agent(tools=[...]) is not supported here: tool calling needs PydanticAI, which "
            "this kit does not run. Call the functions in a step of their own and pass their "
            "results to the agent's arguments, or use self.llm directly."
        )
    del retries  # the LLM layer retries transport errors and corrects one invalid answer

    def decorate(func: F) -> F:
        wanted = result_type if result_type is not None else return_type_of(func)
        system = inspect.getdoc(func) or "You are a helpful assistant."
        name = func.__name__

        def make_call(args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Call:
            return _Call(
                step_name=name,
                instance=args[0] if args else None,
                prompt=_user_message(bound_arguments(func, args, kwargs)),
                system=system,
                return_type=wanted,
                model=model or DEFAULT_MODEL,
                max_tokens=None,
                temperature=temperature,
                cost_limit=None,
                cache_ttl_seconds=None,
            )

        wrapped = llm_step(func, make_call)
        recorded: F = step(name)(wrapped)
        return recorded

    return decorate


def agent_step(
    name: str | None = None,
    result_type: type[BaseModel] | None = None,
    model: str | None = None,
    tools: list[Callable[..., Any]] | None = None,
) -> Callable[[F], F]:
    """``@agent`` recorded as the step ``name`` (default: the method's name)."""

    def decorate(func: F) -> F:
        made = agent(result_type=result_type, model=model, tools=tools)(func)
        return step(name or func.__name__)(made) if name else made

    return decorate


install_finder("raw_ai")
__getattr__ = refuse(__name__)
