"""One process's story: the webhooks that reached it, its RAW runs, its steps, waits and timers.

Put together from what the kit already records, for one process at a time:

- the inbox records whose target is the process (and their deliveries): each
  webhook that reached it, and whether its signal or start went through;
- the run index's runs whose idempotency key starts with the process id (every
  RAW run a process's activity makes carries ``<process id>:<run id>:<activity id>``);
- the process's description and its ``raw_state`` answer (steps, waits with their
  deadlines, signals), through the same function as ``GET /api/processes/{id}``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel, Field, ValidationError

from raw.coordinator.api import ProcessView, _process_view, redact
from raw.coordinator.db.run_index import RunRecord
from raw.coordinator.operator.records import (
    ProcessWebhook,
    entity_status,
    process_runs,
    process_webhooks,
)
from raw.errors import RawError

if TYPE_CHECKING:
    from raw.coordinator.operator.context import Operator

__all__ = ["EntityRef", "Timeline", "TimelineEntry", "build_timeline"]

EntryKind = Literal[
    "started", "webhook", "run", "step", "wait", "resumed", "timed_out", "signal", "closed"
]
_ORDER = {kind: i for i, kind in enumerate(get_args(EntryKind))}
_DETAIL_CHARS = 400


class TimelineEntry(BaseModel):
    at: datetime
    kind: EntryKind
    title: str
    detail: str | None = None
    status: str | None = None
    """done, dead, pending (webhooks); succeeded, failed... (runs); the process's at its end."""
    until: datetime | None = None
    """A wait's deadline: when its timer fires if nothing comes first."""
    run_id: str | None = None
    record_id: int | None = None
    delivery_id: int | None = None


class EntityRef(BaseModel):
    """An entity the process's webhooks concern, with its status now."""

    name: str
    key: str
    status: str | None = None


class Timeline(BaseModel):
    process_id: str
    process: ProcessView | None = None
    error: str | None = None
    """Why Temporal's part (description, raw_state) is missing."""
    temporal_url: str | None = None
    entities: list[EntityRef] = Field(default_factory=list)
    webhooks: list[ProcessWebhook] = Field(default_factory=list)
    runs: list[RunRecord] = Field(default_factory=list)
    entries: list[TimelineEntry] = Field(default_factory=list)
    """Everything above in order of time, oldest first."""


class _Event(BaseModel):
    at: datetime
    kind: str
    name: str
    until: datetime | None = None


def _short(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"


async def _temporal_part(
    operator: Operator, process_id: str
) -> tuple[ProcessView | None, str | None]:

    if not operator.has_processes:
        return None, "This system has no processes (system.orchestrator.workflows is empty)."
    try:
        return await _process_view(operator.coordinator, process_id), None
    except ImportError:
        return None, "temporalio is not installed (pip install 'raw-systems[orchestrator]')."
    except RawError as exc:  # not found, Temporal down
        return None, str(exc)


def _webhook_entry(operator: Operator, hook: ProcessWebhook) -> TimelineEntry:
    record, delivery = hook.record, hook.delivery
    action = record.action.get("kind", "none")
    signal = record.action.get("signal")
    what = f"{action} '{signal}'" if signal else action
    outcome = {
        "done": "went through",
        "dead": "is a dead letter",
        "pending": "waits in the inbox",
        "in_progress": "is being dispatched",
    }.get(record.status, record.status)
    detail = f"{what} {outcome} after {record.attempts} attempt(s)"
    if record.status == "done" and record.done_at is not None:
        detail += f", at {record.done_at.astimezone(UTC):%H:%M:%S} UTC"
    if record.last_error and record.status != "done":
        detail += f": {operator.scrub(record.last_error)}"
    return TimelineEntry(
        at=delivery.received_at if delivery is not None else record.created_at,
        kind="webhook",
        title=f"Webhook {record.route}",
        detail=detail,
        status=record.status,
        record_id=record.id,
        delivery_id=record.delivery_id,
    )


def _run_entry(operator: Operator, run: RunRecord) -> TimelineEntry:
    manifest = run.manifest or {}
    if run.status == "succeeded":
        detail = _short(redact(manifest.get("output")))
        detail = f"output: {detail}" if detail is not None else None
    else:
        detail = operator.scrub(run.error) or None
    return TimelineEntry(
        at=run.started_at,
        kind="run",
        title=f"RAW run {run.workflow}",
        detail=detail,
        status=run.status,
        run_id=run.run_id,
    )


def _state_entries(state: Any) -> list[TimelineEntry]:
    history = state.get("history") if isinstance(state, dict) else None
    entries: list[TimelineEntry] = []
    for item in history or []:
        try:
            event = _Event.model_validate(item)
        except ValidationError:
            continue
        if event.kind == "step":
            entries.append(TimelineEntry(at=event.at, kind="step", title=f"Step {event.name}"))
        elif event.kind == "wait":
            what = "a timer" if event.name == "timer" else f"'{event.name}'"
            entries.append(
                TimelineEntry(
                    at=event.at, kind="wait", title=f"Waits for {what}", until=event.until
                )
            )
        elif event.kind == "resumed":
            entries.append(
                TimelineEntry(at=event.at, kind="resumed", title=f"Resumed: {event.name}")
            )
        elif event.kind == "timed_out":
            entries.append(
                TimelineEntry(
                    at=event.at, kind="timed_out", title=f"Deadline passed waiting for {event.name}"
                )
            )
        elif event.kind == "signal":
            entries.append(
                TimelineEntry(at=event.at, kind="signal", title=f"Signal '{event.name}' received")
            )
    return entries


async def build_timeline(operator: Operator, process_id: str) -> Timeline:
    """The timeline of one process (database first; Temporal's part when it answers)."""
    db = operator.coordinator.db
    webhooks = await process_webhooks(db, process_id)
    runs = await process_runs(db, process_id)
    process, error = await _temporal_part(operator, process_id)

    entries = [_webhook_entry(operator, hook) for hook in webhooks]
    entries += [_run_entry(operator, run) for run in runs]
    if process is not None:
        entries.append(
            TimelineEntry(at=process.start_time, kind="started", title=f"Started ({process.type})")
        )
        entries += _state_entries(process.state)
        if process.close_time is not None:
            entries.append(
                TimelineEntry(
                    at=process.close_time,
                    kind="closed",
                    title=f"Ended: {process.status}",
                    status=process.status,
                )
            )
    entries.sort(key=lambda e: (e.at, _ORDER[e.kind]))

    entities: list[EntityRef] = []
    keys = [h.delivery.entity_key for h in webhooks if h.delivery and h.delivery.entity_key]
    if keys:
        for entity in operator.config.entities:
            if entity.key is not None:
                status = await entity_status(db, entity, keys[0])
                entities.append(EntityRef(name=entity.name, key=keys[0], status=status))

    for run in runs:  # the entries carry what the page shows; the API answer stays small
        run.manifest = None
        run.log_tail = None
        run.error = operator.scrub(run.error)
    return Timeline(
        process_id=process_id,
        process=process,
        error=error,
        temporal_url=(
            operator.temporal_url(process_id, process.run_id if process else None)
            if operator.has_processes
            else None
        ),
        entities=entities,
        webhooks=webhooks,
        runs=runs,
        entries=entries,
    )
