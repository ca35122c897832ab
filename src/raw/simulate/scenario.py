"""The scenario file of ``raw simulate``: webhooks to deliver, time to skip, what to expect.

A scenario is YAML (or JSON) for any system, checked strictly: an unknown key or a
bad value is an error naming the step and the field. Its JSON Schema is published
in ``docs/scenario.schema.json`` (``raw simulate --schema`` prints it)::

    name: qualified candidate, happy path
    settings: {HIRING_BOOKING_URL: "https://cal.example/book"}   # environment for the run
    steps:
      - deliver: cv-submission              # a route, by name or path; signed for real
        body: {submission_id: s-1, name: Ada Lovelace, email: ada@example.com, ...}
        save_as: cv                         # {{ cv.target }}, {{ cv.entity_key }}, ...
      - expect:
          process: {id: "{{ cv.target }}", status: running, waiting_for: calendar-booking}
          emails: {to: ada@example.com, subject_contains: "Book your", count: 1}
      - advance: 2d                         # simulated time: timers fire, nothing waits
      - deliver: calendar-booking
        body: {payload: {startTime: "{{ today + 3d }}T10:00:00Z", ...}}

Values may hold ``{{ ... }}`` expressions, read when the step runs: ``now`` and
``today`` (simulated), ``now + 2d``, ``today - 1d`` (durations such as ``45s``,
``30m``, ``2h``, ``7d``, ``1d12h``), ``uuid`` (a new one each time), a saved
step's fields (``cv.target``, ``cv.entity_key``, ``cv.correlation_id``), and what the
local integrations recorded last (``last_call.sid``, ``last_email.subject``). A value
that is one expression keeps its type.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from raw.errors import RawError, UsageError

__all__ = [
    "DELIVER_SAVED_FIELDS",
    "LATEST_NAMES",
    "SCENARIO_KINDS",
    "AdvanceStep",
    "DeliverStep",
    "ExpectStep",
    "RunStep",
    "Scenario",
    "ScenarioError",
    "ScheduleStep",
    "SignalStep",
    "Step",
    "TemplateError",
    "advance_target",
    "expressions",
    "load_scenario",
    "parse_duration",
    "render",
    "scenario_json_schema",
]

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_EXPRESSION = re.compile(r"\{\{\s*(.*?)\s*\}\}")


DELIVER_SAVED_FIELDS = (
    "status",
    "response",
    "delivery_id",
    "correlation_id",
    "target",
    "delivery",
    "entity_key",
)
"""What a ``deliver`` step's ``save_as`` name holds: ``{{ cv.target }}``, ..."""

LATEST_NAMES = ("last_call", "last_email")
"""What the local integrations recorded last, readable in any step."""


def expressions(text: str) -> list[str]:
    """The ``{{ ... }}`` expressions in ``text``, stripped."""
    return [m.group(1).strip() for m in _EXPRESSION.finditer(text)]


class ScenarioError(UsageError):
    """A scenario file that cannot be read or does not fit the format (exit code 2)."""

    def __init__(self, path: Path | str, problem: str, *, step: int | None = None) -> None:
        self.path = str(path)
        self.step = step
        self.problem = problem
        where = f"{path}" + (f", step {step}" if step is not None else "")
        super().__init__(f"{where}: {problem}")


class TemplateError(RawError):
    """A ``{{ ... }}`` expression that cannot be read."""


def parse_duration(text: str) -> timedelta:
    """``45s``, ``30m``, ``2h``, ``7d``, ``1d12h`` as a timedelta."""
    match = _DURATION.match(str(text).strip())
    if not match or not any(match.groups()):
        raise ValueError(
            f"'{text}' is not a duration: use days, hours, minutes and seconds such as "
            "'7d', '2h', '30m', '45s' or '1d12h'"
        )
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- expectations ---------------------------------------------------------------------


class ProcessExpect(_Strict):
    """A Temporal process: by ``id``, or by ``type`` and business ``key``."""

    id: str | None = Field(default=None, description="The process (workflow) id.")
    type: str | None = Field(default=None, description="The process type, with `key`.")
    key: str | None = Field(default=None, description="The business key, with `type`.")
    status: (
        Literal["running", "completed", "failed", "canceled", "terminated", "timed_out"] | None
    ) = None
    step: str | None = Field(default=None, description="The RawStep it is in.")
    waiting_for: str | None = Field(default=None, description="What it waits for ('' for nothing).")
    result: Any = Field(default=None, description="Its result, or the fields of it to match.")


class DatabaseExpect(_Strict):
    """Rows of a table: how many match ``where``, and the values they hold."""

    table: str
    where: dict[str, Any] = Field(default_factory=dict)
    count: int | None = Field(default=None, ge=0, description="Rows matching; default ≥ 1.")
    values: dict[str, Any] = Field(
        default_factory=dict, description="Column values every matching row holds."
    )


class EmailsExpect(_Strict):
    """Emails sent (captured by the local catcher)."""

    to: str | None = None
    subject_contains: str | None = None
    text_contains: str | None = None
    count: int | None = Field(default=None, ge=0, description="How many match; default ≥ 1.")


class CallsExpect(_Strict):
    """Calls placed (recorded by the phone simulator)."""

    to: str | None = None
    count: int | None = Field(default=None, ge=0, description="How many match; default ≥ 1.")


class ChatExpect(_Strict):
    """Chat notifications sent (the local outbox)."""

    text_contains: str | None = None
    count: int | None = Field(default=None, ge=0, description="How many match; default ≥ 1.")


class StorageExpect(_Strict):
    """An object in storage."""

    key: str
    exists: bool = True
    contains: str | None = Field(default=None, description="Text the object holds.")


class RunsExpect(_Strict):
    """RAW workflow runs (from the run index)."""

    workflow: str
    status: Literal["succeeded", "failed", "invalid_input", "timed_out", "cancelled"] | None = None
    count: int | None = Field(default=None, ge=0, description="How many match; default ≥ 1.")
    output: Any = Field(default=None, description="The latest run's output, or fields of it.")


class Expectations(_Strict):
    process: ProcessExpect | list[ProcessExpect] | None = None
    database: DatabaseExpect | list[DatabaseExpect] | None = None
    emails: EmailsExpect | list[EmailsExpect] | None = None
    calls: CallsExpect | list[CallsExpect] | None = None
    chat: ChatExpect | list[ChatExpect] | None = None
    storage: StorageExpect | list[StorageExpect] | None = None
    runs: RunsExpect | list[RunsExpect] | None = None


# --- steps ----------------------------------------------------------------------------


class DeliverStep(_Strict):
    """Deliver a webhook to a route, signed with the route's scheme and first secret."""

    deliver: str = Field(description="The route's name or path.")
    body: dict[str, Any] = Field(default_factory=dict, description="The body (or form fields).")
    query: dict[str, str] = Field(default_factory=dict, description="URL query parameters.")
    delivery_id: str | None = Field(default=None, description="The scheme's delivery id.")
    repeat: int = Field(default=1, ge=1, le=100, description="Send the same delivery N times.")
    expect_status: int = Field(default=202, ge=100, le=599)
    save_as: str | None = Field(
        default=None, description="Name the answer: {{ name.target }}, {{ name.entity_key }}."
    )
    note: str | None = None

    _name = field_validator("save_as")(classmethod(lambda cls, v: _saved_name(v)))


class AdvanceStep(_Strict):
    """Move simulated time on: timers fire, processes wake, nothing really waits."""

    advance: str = Field(
        description=(
            "How far ('7d', '2h', '30m', '1d12h'), or until when (a time such as "
            "'{{ today + 1d }}T10:05:00Z')."
        )
    )
    note: str | None = None

    _check = field_validator("advance")(classmethod(lambda cls, v: _duration_or_time(v)))


def _duration_or_time(value: str) -> str:
    if "{{" in value:
        return value
    try:
        advance_target(value, now=None)
    except ValueError:
        raise ValueError(
            f"'{value}' is neither a duration ('7d', '2h', '30m', '1d12h') nor a time with a "
            "zone such as '2026-03-04T10:05:00Z'"
        ) from None
    return value


def advance_target(value: str, *, now: datetime | None) -> timedelta | datetime:
    """Where an ``advance`` goes: a duration, or a time (never back from ``now``)."""
    try:
        return parse_duration(value)
    except ValueError:
        pass
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f"'{value}' has no time zone")
    if now is not None and when < now:
        raise ValueError(f"{value} is in the simulated past (it is now {now.isoformat()})")
    return when


class RunStep(_Strict):
    """Run a RAW workflow in-process, as the coordinator's dispatcher would."""

    run: str = Field(description="The workflow id.")
    params: dict[str, Any] = Field(default_factory=dict)
    expect_status: Literal["succeeded", "failed", "invalid_input", "timed_out"] = "succeeded"
    save_as: str | None = None
    note: str | None = None

    _name = field_validator("save_as")(classmethod(lambda cls, v: _saved_name(v)))


class ScheduleStep(_Strict):
    """Fire a schedule of ``system.orchestrator.schedules`` once, through Temporal."""

    schedule: str = Field(description="The schedule id.")
    expect_status: Literal["succeeded", "failed"] = "succeeded"
    save_as: str | None = None
    note: str | None = None

    _name = field_validator("save_as")(classmethod(lambda cls, v: _saved_name(v)))


class SignalStep(_Strict):
    """Send a signal to a running process, as an operator's `raw process signal` would.

    For signals that no webhook route sends (``system.gates.external_signals``): an
    operator's decision, another process. The process is named by ``process`` (its id,
    e.g. ``{{ cv.target }}``), or by ``type`` and business ``key``.
    """

    signal: str = Field(min_length=1, description="The signal's name, e.g. 'withdrawn'.")
    process: str | None = Field(default=None, description="The process (workflow) id.")
    type: str | None = Field(default=None, description="The process type, with `key`.")
    key: str | None = Field(default=None, description="The business key, with `type`.")
    payload: Any = Field(default=None, description="The signal's payload (any JSON value).")
    idempotency_key: str | None = Field(
        default=None, description="The envelope's key: the same key twice is one signal."
    )
    expect_status: Literal["sent", "not_found", "closed"] = Field(
        default="sent",
        description="'sent'; or 'not_found' / 'closed' to check that a signal is refused.",
    )
    note: str | None = None

    @model_validator(mode="after")
    def _one_process(self) -> SignalStep:
        if (self.process is None) == (self.type is None or self.key is None):
            raise ValueError("name the process by 'process' (its id), or by 'type' and 'key'")
        return self


class ExpectStep(_Strict):
    """Check the system; polled until it holds or ``settle_seconds`` (real time) pass."""

    expect: Expectations
    settle_seconds: float | None = Field(default=None, gt=0, le=600)
    note: str | None = None


Step = DeliverStep | AdvanceStep | RunStep | ScheduleStep | SignalStep | ExpectStep
SCENARIO_KINDS: dict[str, type[BaseModel]] = {
    "deliver": DeliverStep,
    "advance": AdvanceStep,
    "run": RunStep,
    "schedule": ScheduleStep,
    "signal": SignalStep,
    "expect": ExpectStep,
}


def _saved_name(value: str | None) -> str | None:
    if value is not None and not _NAME.match(value):
        raise ValueError(f"'{value}' is not a name such as 'cv' or 'booking_2'")
    return value


class Scenario(_Strict):
    """A scenario: settings for the run, then its steps in order."""

    name: str = Field(min_length=1)
    description: str = ""
    settings: dict[str, str] = Field(
        default_factory=dict, description="Environment variables for the run."
    )
    settle_seconds: float = Field(
        default=15.0, gt=0, le=600, description="Default wait for an expectation to hold."
    )
    steps: list[Step] = Field(min_length=1)


def scenario_json_schema() -> dict[str, Any]:
    """The scenario format as a JSON Schema (draft 2020-12)."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "raw simulate scenario"
    return schema


# --- reading --------------------------------------------------------------------------


def _problems(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(p) for p in err["loc"]) or "(step)"
        parts.append(f"'{field}': {err['msg']}")
    return "; ".join(parts)


def _step(raw: Any, index: int, path: Path) -> Step:
    if not isinstance(raw, Mapping):
        raise ScenarioError(path, "a step is a mapping such as {advance: 2d}", step=index)
    kinds = [k for k in SCENARIO_KINDS if k in raw]
    if len(kinds) != 1:
        found = ", ".join(kinds) or "none of them"
        raise ScenarioError(
            path,
            f"a step has exactly one of {', '.join(SCENARIO_KINDS)} (found {found})",
            step=index,
        )
    model = SCENARIO_KINDS[kinds[0]]
    try:
        step: Step = model.model_validate(dict(raw))  # type: ignore[assignment]
    except ValidationError as exc:
        allowed = ", ".join(model.model_fields)
        raise ScenarioError(
            path,
            f"{kinds[0]}: {_problems(exc)} (a step of kind {kinds[0]} takes: {allowed})",
            step=index,
        ) from None
    return step


def load_scenario(path: Path | str) -> Scenario:
    """Read and check a scenario file; errors name the step (1-based) and the field."""
    # Lazy: PyYAML costs start-up time; only reading YAML needs it.
    import yaml

    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(path, f"cannot be read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(path, f"is not valid YAML: {exc}") from None
    if not isinstance(document, Mapping):
        raise ScenarioError(path, "a scenario is a mapping with 'name' and 'steps'")
    raw_steps = document.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ScenarioError(path, "'steps' must be a non-empty list")
    steps = [_step(raw, i, path) for i, raw in enumerate(raw_steps, start=1)]
    header = {k: v for k, v in document.items() if k != "steps"}
    try:
        return Scenario.model_validate({**header, "steps": [s.model_dump() for s in steps]})
    except ValidationError as exc:
        raise ScenarioError(path, _problems(exc)) from None


# --- templates ------------------------------------------------------------------------


def _evaluate(expression: str, *, now: datetime, saved: Mapping[str, Any]) -> Any:
    text = expression.strip()
    if text == "uuid":
        return uuid.uuid4().hex
    match = re.match(r"^(now|today)\s*(?:([+-])\s*(\S+))?$", text)
    if match:
        base: datetime | date = now if match.group(1) == "now" else now.date()
        if match.group(2):
            try:
                delta = parse_duration(match.group(3))
            except ValueError as exc:
                raise TemplateError(f"In '{{{{ {text} }}}}': {exc}.") from None
            base = base + delta if match.group(2) == "+" else base - delta
        return base.isoformat()
    name, _, rest = text.partition(".")
    if name in saved:
        value: Any = saved[name]
        for part in rest.split(".") if rest else []:
            if isinstance(value, Mapping) and part in value:
                value = value[part]
            else:
                raise TemplateError(
                    f"'{{{{ {text} }}}}': '{name}' has no field '{part}' "
                    f"(it has: {', '.join(value) if isinstance(value, Mapping) else 'none'})."
                )
        return value
    known = ", ".join(["now", "today", "uuid", *saved]) or "now, today, uuid"
    raise TemplateError(f"'{{{{ {text} }}}}' is not an expression here. Known: {known}.")


def render(value: Any, *, now: datetime, saved: Mapping[str, Any]) -> Any:
    """``value`` with every ``{{ ... }}`` read; a string that is one expression keeps its type."""
    if isinstance(value, str):
        whole = _EXPRESSION.fullmatch(value.strip())
        if whole:
            return _evaluate(whole.group(1), now=now, saved=saved)
        return _EXPRESSION.sub(lambda m: str(_evaluate(m.group(1), now=now, saved=saved)), value)
    if isinstance(value, Mapping):
        return {k: render(v, now=now, saved=saved) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, now=now, saved=saved) for v in value]
    return value
