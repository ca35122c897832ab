"""Recorded LLM responses for dry runs: a workflow's ``mocks/llm.json``.

A dry run never calls a provider. :class:`RecordedLLM` answers instead, from the
file when an entry matches and otherwise with a deterministic fake, and says so
in the run log (logger ``raw.llm``) and in :attr:`RecordedLLM.calls`.

The file format::

    {"responses": [
      {"step": "analyze", "prompt_contains": "CV", "response": {"score": 0.9, "qualified": true}},
      {"prompt_contains": "summarise", "response": "A short summary."}
    ]}

Each entry in ``responses`` has:

``step`` (optional)
    Matches only calls made inside the step of that name.
``prompt_contains`` (optional)
    Matches only prompts that contain this text, ignoring case.
``response`` (required)
    The answer. ``complete`` returns a string as is and any other value as its
    JSON text; ``extract`` validates an object against the requested model and
    parses a string as JSON first.

The first entry whose conditions all hold wins; an entry with neither condition
matches every call. No other keys are allowed. Without a match, ``complete``
returns ``"[dry run] no recorded response for: <start of the prompt>"`` and
``extract`` returns :func:`fake_instance` of the model.
"""

from __future__ import annotations

import enum
import json
import logging
import types
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import AnyUrl, BaseModel, ConfigDict, ValidationError

from raw.errors import LLMError, ProjectError
from raw.workflow.context import current_run, current_step_name
from raw.workflow.llm import LLM, validation_problems

__all__ = ["LLMRecordings", "RecordedLLM", "RecordedResponse", "fake_instance"]

M = TypeVar("M", bound=BaseModel)

logger = logging.getLogger("raw.llm")

FAKE_TEXT = "dry-run"
FAKE_DATE = date(2026, 1, 1)
FAKE_URL = "https://example.com/"
FAKE_DATETIME = datetime(2026, 1, 1, tzinfo=UTC)
_EXCERPT_CHARS = 60


class RecordedResponse(BaseModel):
    """One entry of ``mocks/llm.json``."""

    model_config = ConfigDict(extra="forbid")

    step: str | None = None
    prompt_contains: str | None = None
    response: str | dict[str, Any] | list[Any] | int | float | bool | None

    def matches(self, prompt: str, step: str | None) -> bool:
        if self.step is not None and self.step != step:
            return False
        return self.prompt_contains is None or self.prompt_contains.lower() in prompt.lower()


class LLMRecordings(BaseModel):
    """The whole of ``mocks/llm.json``."""

    model_config = ConfigDict(extra="forbid")

    responses: list[RecordedResponse] = []


class RecordedLLM(LLM):
    """An LLM that answers from recordings, for dry runs."""

    def __init__(
        self, responses: Sequence[RecordedResponse] = (), *, source: Path | None = None
    ) -> None:
        self.responses = list(responses)
        self.source = source
        self.calls: list[dict[str, Any]] = []
        """One ``{"step", "prompt_excerpt", "matched"}`` per call, for the run report."""

    @classmethod
    def from_file(cls, path: Path | str) -> RecordedLLM:
        """Recordings from ``path``; a file that does not exist means none."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(source=path)
        except OSError as exc:
            raise ProjectError(f"Cannot read {path}: {exc.strerror or exc}.") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProjectError(
                f"{path} is not valid JSON ({exc.msg} at line {exc.lineno} column "
                f"{exc.colno}): fix it, or delete it to use generated dry-run answers."
            ) from None
        try:
            recordings = LLMRecordings.model_validate(data)
        except ValidationError as exc:
            raise ProjectError(
                f"{path} is not a valid LLM recordings file: {validation_problems(exc)}. "
                'Write {"responses": [{"step": ..., "prompt_contains": ..., "response": ...}]} '
                "(see raw.workflow.llm_mock)."
            ) from None
        return cls(recordings.responses, source=path)

    @classmethod
    def for_mocks_dir(cls, mocks_dir: Path | None) -> RecordedLLM:
        """Recordings from ``<mocks_dir>/llm.json``, or none without a mocks folder."""
        return cls.from_file(mocks_dir / "llm.json") if mocks_dir else cls()

    def __repr__(self) -> str:
        return f"RecordedLLM({len(self.responses)} responses from {self.source})"

    # --- LLM --------------------------------------------------------------------------

    def complete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> str:
        _, entry = self._answer("complete", prompt)
        if entry is None:
            return f"[dry run] no recorded response for: {_excerpt(prompt)}"
        if isinstance(entry.response, str):
            return entry.response
        return json.dumps(entry.response)

    def extract(self, prompt: str, model: type[M], *, system: str | None = None) -> M:
        index, entry = self._answer("extract", prompt)
        if entry is None:
            return fake_instance(model)
        data = entry.response
        try:
            if isinstance(data, str):
                data = json.loads(data)
            return model.model_validate(data)
        except json.JSONDecodeError as exc:
            reason = f"it is a string that is not JSON ({exc.msg})"
        except ValidationError as exc:
            reason = validation_problems(exc)
        raise ProjectError(
            f"Recorded response #{index + 1} in {self.source} does not match "
            f'{model.__name__}: {reason}. Fix that entry\'s "response".'
        )

    async def acomplete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> str:
        return self.complete(prompt, system=system, temperature=temperature, max_tokens=max_tokens)

    async def aextract(self, prompt: str, model: type[M], *, system: str | None = None) -> M:
        return self.extract(prompt, model, system=system)

    def _answer(self, kind: str, prompt: str) -> tuple[int, RecordedResponse | None]:
        run = current_run()
        if run is not None:
            run.check()
        step = current_step_name()
        found = next(
            ((i, e) for i, e in enumerate(self.responses) if e.matches(prompt, step)),
            (-1, None),
        )
        index, entry = found
        self.calls.append(
            {"step": step, "prompt_excerpt": _excerpt(prompt), "matched": entry is not None}
        )
        where = f" in step '{step}'" if step else ""
        source = self.source.name if self.source else "mocks"
        if entry is not None:
            logger.info(
                "LLM %s%s answered from mocks: entry #%d of %s.", kind, where, index + 1, source
            )
        else:
            logger.info(
                "LLM %s%s answered by a generated dry-run fake: no entry of %s matched.",
                kind,
                where,
                source,
            )
        return index, entry


def _excerpt(prompt: str) -> str:
    text = " ".join(prompt.split())
    return text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS] + "…"


# --- fake instances -------------------------------------------------------------------


def fake_instance(model: type[M]) -> M:
    """A valid instance of ``model`` built deterministically from its fields.

    Fields with defaults keep them; others get ``"dry-run"``, ``0``, ``0.0``,
    ``False``, empty collections, ``None`` when optional, the first value of a
    ``Literal`` or ``Enum``, 2026-01-01 for dates, https://example.com/ for URLs,
    and nested models recursively.
    Simple bounds (``ge``, ``gt``, ``le``, ``lt``, ``min_length``, ``max_length``) are met.
    """
    data = _fake_fields(model, ())
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise LLMError(
            f"A dry run could not invent a valid {model.__name__} "
            f"({validation_problems(exc)}): add a recorded response for this call to "
            "the workflow's mocks/llm.json."
        ) from None


def _fake_fields(model: type[BaseModel], seen: tuple[type[BaseModel], ...]) -> dict[str, Any]:
    if model in seen:
        raise LLMError(
            f"A dry run cannot invent a {model.__name__}, which requires itself: add a "
            "recorded response for this call to the workflow's mocks/llm.json."
        )
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if not info.is_required():
            continue
        alias = info.validation_alias
        key = alias if isinstance(alias, str) else (info.alias or name)
        where = f"{model.__name__}.{name}"
        data[key] = _fake_value(info.annotation, list(info.metadata), where, (*seen, model))
    return data


def _bounds(metadata: Sequence[Any]) -> dict[str, Any]:
    """ge/gt/le/lt/min_length/max_length from annotated-types and pydantic metadata."""
    found: dict[str, Any] = {}
    for item in metadata:
        for name in ("ge", "gt", "le", "lt", "min_length", "max_length"):
            value = getattr(item, name, None)
            if value is not None:
                found[name] = value
    return found


def _fake_number(kind: type[Any], bounds: Mapping[str, Any]) -> Any:
    """0 when the bounds allow it, else the first simple value that meets them."""
    ge, gt, le, lt = (bounds.get(name) for name in ("ge", "gt", "le", "lt"))

    def fits(value: Any) -> bool:
        return (
            (ge is None or value >= ge)
            and (gt is None or value > gt)
            and (le is None or value <= le)
            and (lt is None or value < lt)
        )

    candidates: list[Any] = [0, ge, None if gt is None else gt + 1, le]
    candidates.append(None if lt is None else lt - 1)
    lower, upper = (ge if ge is not None else gt), (le if le is not None else lt)
    if kind is not int and lower is not None and upper is not None:
        candidates.append((kind(lower) + kind(upper)) / 2)
    for candidate in candidates:
        if candidate is not None and fits(kind(candidate)):
            return kind(candidate)
    return kind(0)  # bounds too subtle for a fake: validation says which


def _fake_value(tp: Any, metadata: list[Any], where: str, seen: tuple[type[BaseModel], ...]) -> Any:
    origin = get_origin(tp)
    if origin is Annotated:
        inner, *extra = get_args(tp)
        return _fake_value(inner, [*metadata, *extra], where, seen)
    if tp is None or tp is type(None) or tp is Any or tp is object:
        return None
    if origin is Union or origin is types.UnionType:
        arms = get_args(tp)
        if type(None) in arms:
            return None
        return _fake_value(arms[0], metadata, where, seen)
    if origin is Literal:
        return get_args(tp)[0]
    bounds = _bounds(metadata)
    if origin is not None:
        args = get_args(tp)
        count = int(bounds.get("min_length", 0))
        if origin is tuple:
            if args and args[-1] is not Ellipsis and args != ((),):
                return tuple(_fake_value(a, [], where, seen) for a in args)
            item = args[0] if args else Any
            return tuple(_fake_value(item, [], where, seen) for _ in range(count))
        if isinstance(origin, type) and issubclass(origin, Mapping):
            return {}
        if isinstance(origin, type) and issubclass(origin, (list, set, frozenset, Sequence)):
            item = args[0] if args else Any
            return [_fake_value(item, [], where, seen) for _ in range(count)]
        if origin is type:
            return args[0] if args else object
    if isinstance(tp, type):
        if issubclass(tp, BaseModel):
            return _fake_fields(tp, seen)
        if issubclass(tp, enum.Enum):
            return next(iter(tp))
        if tp is bool:
            return False
        if issubclass(tp, int | float | Decimal):
            return _fake_number(tp, bounds)
        if issubclass(tp, str):
            text = FAKE_TEXT
            min_length = int(bounds.get("min_length", 0))
            if len(text) < min_length:
                text = text + "-" * (min_length - len(text))
            return text[: int(bounds["max_length"])] if "max_length" in bounds else text
        if issubclass(tp, AnyUrl):
            return FAKE_URL
        if issubclass(tp, bytes):
            return FAKE_TEXT.encode()
        if issubclass(tp, datetime):
            return FAKE_DATETIME
        if issubclass(tp, date):
            return FAKE_DATE
        if issubclass(tp, time):
            return time(0, 0)
        if issubclass(tp, timedelta):
            return timedelta(0)
        if issubclass(tp, uuid.UUID):
            return uuid.UUID(int=0)
        if issubclass(tp, Path):
            return Path(FAKE_TEXT)
        if issubclass(tp, list | set | frozenset | tuple):
            return []
        if issubclass(tp, dict):
            return {}
    raise LLMError(
        f"A dry run cannot invent a value for {where} of type {tp!r}: give the field a "
        "default, or add a recorded response for this call to the workflow's mocks/llm.json."
    )
