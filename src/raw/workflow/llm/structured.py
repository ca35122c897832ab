"""Request bodies and structured output: what is sent, and how an answer becomes a model."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from raw.workflow.llm.config import ClientConfig
from raw.workflow.llm.interface import M

__all__ = [
    "complete_body",
    "extract_body",
    "parse_model",
    "validation_problems",
    "with_correction",
]


def _messages(system: str | None, prompt: str) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    return messages


def complete_body(
    config: ClientConfig,
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


def extract_body(
    config: ClientConfig, prompt: str, model: type[BaseModel], system: str | None
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


def with_correction(
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


def parse_model(content: str, model: type[M]) -> M | str:
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
