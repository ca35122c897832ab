"""Temporal Schedules from ``system.orchestrator.schedules``: sync, list, trigger.

Each configured schedule becomes a Temporal Schedule with the same id whose
action starts :class:`~raw.orchestrator.scheduled.RawScheduledRun`, which runs
the RAW workflow through the ``run_raw_workflow`` activity. The cron
expression is read in the schedule's IANA time zone; runs never overlap (a
run due while the previous one still runs is skipped); a run missed while the
server was down is caught up only within :data:`CATCHUP_WINDOW`.

The kit owns the schedules it created and only those: they carry the memo
``{"raw": true, "raw_project": <project>}``. :func:`sync_schedules` creates,
updates and deletes owned schedules of this project and never touches any
other. It is idempotent: each owned schedule also carries (in its action's
memo) a fingerprint of the config it was made from, and a schedule whose
fingerprint matches is left alone, so a second sync changes nothing. (So an
operator's pause or trigger from the Temporal UI stands until the schedule's
config changes.) Deletion finds the owned schedules through the server's list,
which is eventually consistent: a schedule created a moment ago and already
removed from the config may survive one sync, never two.

Errors: :class:`ScheduleNotFoundError` (no schedule with that id) and
:class:`ScheduleConflictError` (a schedule the kit does not own already has a
configured id), both :class:`~raw.errors.RawError`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from temporalio.api.common.v1 import Payload
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleDescription,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from raw.config.orchestrator import OrchestratorConfig, ScheduleConfig
from raw.errors import RawError
from raw.orchestrator.scheduled import SCHEDULED_RUN, ScheduledRunInput
from raw.project import Project

__all__ = [
    "CATCHUP_WINDOW",
    "LastRun",
    "ScheduleConflictError",
    "ScheduleInfo",
    "ScheduleNotFoundError",
    "SyncReport",
    "list_schedules",
    "owner_name",
    "schedule_info",
    "sync_schedules",
    "trigger",
]

OWNED = "raw"
"""Schedule memo key marking a schedule the kit created."""
OWNER = "raw_project"
"""Schedule memo key naming the project whose config holds it."""
CONFIG = "raw_schedule"
"""Action memo key: the config a schedule was made from and its fingerprint."""
FORMAT_VERSION = 1
"""Bump when the schedules the kit builds change shape, so the next sync updates them all."""

CATCHUP_WINDOW = timedelta(hours=1)
"""A run missed while Temporal was down still happens if the server is back within this."""

DEFAULT_NOTE = "Managed by raw: edit system.orchestrator.schedules, then 'raw schedules sync'."


class ScheduleNotFoundError(RawError):
    def __init__(self, schedule_id: str) -> None:
        self.schedule_id = schedule_id
        super().__init__(
            f"No schedule '{schedule_id}' on the Temporal server. 'raw schedules list' shows "
            "them; 'raw schedules sync' creates those in .raw/config.yaml."
        )


class ScheduleConflictError(RawError):
    def __init__(self, schedule_id: str, owner: str | None) -> None:
        self.schedule_id = schedule_id
        self.owner = owner
        held = f"RAW project '{owner}'" if owner else "something other than raw"
        super().__init__(
            f"Schedule '{schedule_id}' already exists on the Temporal server and belongs to "
            f"{held}, so raw will not change it. Rename the schedule in "
            "system.orchestrator.schedules, or delete the other one first."
        )


class SyncReport(BaseModel):
    """Schedule ids by what a sync did to them."""

    created: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    deleted: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


class LastRun(BaseModel):
    """The most recent run a schedule started."""

    scheduled_at: datetime
    started_at: datetime
    workflow_id: str
    run_id: str
    status: str | None = None
    """The run's status (running, completed, failed, ...) when the server still knows it."""


class ScheduleInfo(BaseModel):
    id: str
    managed: bool
    """True for schedules the kit created from a project's config."""
    project: str | None = None
    workflow: str | None = None
    """The RAW workflow it runs (for a managed schedule), else the Temporal workflow type."""
    args: list[str] = Field(default_factory=list)
    params: dict[str, Any] | None = None
    cron: str | None = None
    timezone: str | None = None
    paused: bool = False
    note: str | None = None
    next_runs: list[datetime] = Field(default_factory=list)
    last_run: LastRun | None = None


def owner_name(project: Project | str) -> str:
    """The name a project's schedules are marked with: the system's, else the project's."""
    if isinstance(project, str):
        return project
    config = project.config
    return config.system.name or config.name or project.root.name


def fingerprint(schedule: ScheduleConfig, task_queue: str) -> str:
    document = {
        "format": FORMAT_VERSION,
        "config": schedule.model_dump(mode="json"),
        "task_queue": task_queue,
        "catchup_seconds": CATCHUP_WINDOW.total_seconds(),
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:24]


def build_schedule(schedule: ScheduleConfig, task_queue: str) -> Schedule:
    """The Temporal Schedule for one configured schedule."""
    run = ScheduledRunInput(
        schedule_id=schedule.id,
        workflow=schedule.workflow,
        args=list(schedule.args),
        params=schedule.params,
    )
    return Schedule(
        action=ScheduleActionStartWorkflow(
            SCHEDULED_RUN,
            run,
            id=f"raw-schedule-{schedule.id}",
            task_queue=task_queue,
            memo={
                CONFIG: {
                    "fingerprint": fingerprint(schedule, task_queue),
                    "config": schedule.model_dump(mode="json"),
                }
            },
        ),
        spec=ScheduleSpec(cron_expressions=[schedule.cron], time_zone_name=schedule.timezone),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=CATCHUP_WINDOW),
        state=ScheduleState(paused=schedule.paused, note=schedule.note or DEFAULT_NOTE),
    )


def _is_not_found(exc: RPCError) -> bool:
    return exc.status == RPCStatusCode.NOT_FOUND


async def _describe(client: Client, schedule_id: str) -> ScheduleDescription | None:
    try:
        return await client.get_schedule_handle(schedule_id).describe()
    except RPCError as exc:
        if _is_not_found(exc):
            return None
        raise


def _owner_of(memo: Mapping[str, Any]) -> str | None:
    """The project owning a schedule with this memo; None when the kit does not own it."""
    if memo.get(OWNED) is not True:
        return None
    return str(memo.get(OWNER) or "")


def _action_config(client: Client, description: ScheduleDescription) -> dict[str, Any]:
    """The ``raw_schedule`` action memo of a schedule the kit made, decoded ({} if none)."""
    action = description.schedule.action
    if not isinstance(action, ScheduleActionStartWorkflow) or not action.memo:
        return {}
    raw = action.memo.get(CONFIG)
    if raw is None:
        return {}
    if isinstance(raw, Payload):
        raw = client.data_converter.payload_converter.from_payload(raw)
    return raw if isinstance(raw, dict) else {}


async def sync_schedules(
    client: Client, config: OrchestratorConfig, *, project: Project | str
) -> SyncReport:
    """Make the server's schedules for ``project`` match ``config.schedules``.

    Creates the missing ones, updates those whose config changed, deletes the
    kit's schedules of this project that the config no longer names, and
    leaves every other schedule alone. Raises ScheduleConflictError, before
    changing anything, when a configured id is held by a schedule the project
    does not own.
    """
    owner = owner_name(project)
    desired = {s.id: s for s in config.schedules}
    existing: dict[str, ScheduleDescription] = {}
    for schedule_id in desired:
        description = await _describe(client, schedule_id)
        if description is None:
            continue
        held_by = _owner_of(await description.memo())
        if held_by != owner:
            raise ScheduleConflictError(schedule_id, held_by or None)
        existing[schedule_id] = description

    stale: list[str] = []
    async for listed in await client.list_schedules():
        if listed.id not in desired and _owner_of(await listed.memo()) == owner:
            stale.append(listed.id)

    report = SyncReport()
    for schedule_id, schedule in desired.items():
        wanted = build_schedule(schedule, config.task_queue)
        current = existing.get(schedule_id)
        if current is None:
            await client.create_schedule(schedule_id, wanted, memo={OWNED: True, OWNER: owner})
            report.created.append(schedule_id)
        elif _action_config(client, current).get("fingerprint") != fingerprint(
            schedule, config.task_queue
        ):

            def replace(_: ScheduleUpdateInput, new: Schedule = wanted) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=new)

            await client.get_schedule_handle(schedule_id).update(replace)
            report.updated.append(schedule_id)
        else:
            report.unchanged.append(schedule_id)
    for schedule_id in sorted(stale):
        try:
            await client.get_schedule_handle(schedule_id).delete()
        except RPCError as exc:
            if not _is_not_found(exc):  # deleted meanwhile: the goal is reached either way
                raise
        report.deleted.append(schedule_id)
    return report


async def _last_run(client: Client, description: ScheduleDescription) -> LastRun | None:
    recent = description.info.recent_actions
    if not recent:
        return None
    latest = recent[-1]
    action = latest.action
    if not isinstance(action, ScheduleActionExecutionStartWorkflow):
        return None
    status = None
    try:
        run = await client.get_workflow_handle(
            action.workflow_id, run_id=action.first_execution_run_id
        ).describe()
        status = run.status.name.lower() if run.status is not None else None
    except RPCError as exc:
        if not _is_not_found(exc):  # a run past retention is simply no longer known
            raise
    return LastRun(
        scheduled_at=latest.scheduled_at,
        started_at=latest.started_at,
        workflow_id=action.workflow_id,
        run_id=action.first_execution_run_id,
        status=status,
    )


async def schedule_info(client: Client, schedule_id: str) -> ScheduleInfo:
    """One schedule as the server has it; raises ScheduleNotFoundError."""
    description = await _describe(client, schedule_id)
    if description is None:
        raise ScheduleNotFoundError(schedule_id)
    owner = _owner_of(await description.memo())
    schedule = description.schedule
    action = schedule.action
    info = ScheduleInfo(
        id=schedule_id,
        managed=owner is not None,
        project=owner or None,
        workflow=action.workflow if isinstance(action, ScheduleActionStartWorkflow) else None,
        timezone=schedule.spec.time_zone_name,
        paused=schedule.state.paused,
        note=schedule.state.note,
        next_runs=list(description.info.next_action_times),
        last_run=await _last_run(client, description),
    )
    config = _action_config(client, description).get("config")
    if owner is not None and isinstance(config, dict):
        info.workflow = config.get("workflow")
        info.args = list(config.get("args") or [])
        info.params = config.get("params")
        info.cron = config.get("cron")
    elif schedule.spec.cron_expressions:
        info.cron = schedule.spec.cron_expressions[0]
    return info


async def list_schedules(
    client: Client, *, project: Project | str | None = None, include_unmanaged: bool = False
) -> list[ScheduleInfo]:
    """The kit's schedules (of ``project`` if given; every schedule with include_unmanaged)."""
    wanted_owner = owner_name(project) if project is not None else None
    ids: list[str] = []
    async for listed in await client.list_schedules():
        owner = _owner_of(await listed.memo())
        if owner is None and not include_unmanaged:
            continue
        if owner is not None and wanted_owner is not None and owner != wanted_owner:
            continue
        ids.append(listed.id)
    found = []
    for schedule_id in sorted(ids):
        try:
            found.append(await schedule_info(client, schedule_id))
        except ScheduleNotFoundError:  # deleted between the list and the describe
            continue
    return found


async def trigger(client: Client, schedule_id: str) -> None:
    """Run a schedule's action now (skipped, like any run, if its previous run still runs)."""
    try:
        await client.get_schedule_handle(schedule_id).trigger()
    except RPCError as exc:
        if _is_not_found(exc):
            raise ScheduleNotFoundError(schedule_id) from None
        raise
