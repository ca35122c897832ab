"""Temporal Schedules from the system config, and `raw schedules`, on a real dev server."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import pytest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions
from tests.test_cron import ACCEPTED, REFUSED_BY_TEMPORAL

from raw.config.orchestrator import OrchestratorConfig
from raw.orchestrator.activity import RawActivities
from raw.orchestrator.scheduled import RawScheduledRun
from raw.orchestrator.schedules import (
    ScheduleConflictError,
    ScheduleInfo,
    ScheduleNotFoundError,
    list_schedules,
    schedule_info,
    sync_schedules,
    trigger,
)

T = TypeVar("T")

TEMPORAL = Path(sys.executable).with_name("temporal")

GREET = """
from pydantic import BaseModel

from raw import BaseWorkflow, step


class Params(BaseModel):
    name: str = "world"


class Greet(BaseWorkflow[Params]):
    @step("greet")
    def greet(self) -> dict:
        return {"greeting": f"hello {self.params.name}"}
"""


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def client_sched_env(anyio_backend: str) -> AsyncIterator[WorkflowEnvironment]:
    """One dev server for this module (Schedules need it: the test server has none)."""
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(TEMPORAL),
        dev_server_extra_args=[
            "--dynamic-config-value",
            "history.transferProcessorMaxPollRPS=1000",
        ],
    )
    async with env:
        yield env


@pytest.fixture
def client(client_sched_env: WorkflowEnvironment) -> Client:
    return client_sched_env.client


def owner() -> str:
    return f"proj-{uuid.uuid4().hex[:8]}"


def config(*schedules: dict[str, Any], task_queue: str = "raw") -> OrchestratorConfig:
    return OrchestratorConfig.model_validate(
        {"task_queue": task_queue, "schedules": list(schedules)}
    )


def sched(schedule_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": schedule_id, "cron": "0 8 * * *", "workflow": "greet", **fields}


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def eventually(check: Callable[[], Awaitable[T | None]], *, seconds: float = 15) -> T:
    with anyio.fail_after(seconds):
        while True:
            value = await check()
            if value:
                return value
            await anyio.sleep(0.05)


async def listed(client: Client, project: str, ids: set[str]) -> list[ScheduleInfo]:
    """The project's schedules once the (eventually consistent) list shows all of ``ids``."""

    async def check() -> list[ScheduleInfo]:
        found = await list_schedules(client, project=project)
        return found if {s.id for s in found} >= ids else []

    return await eventually(check)


# --- sync ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_sync_creates_then_a_second_sync_changes_nothing(client: Client) -> None:
    project = owner()
    daily, weekly = uid("daily"), uid("weekly")
    cfg = config(
        sched(daily, timezone="Europe/Paris", args=["--name", "Ada"], note="morning report"),
        sched(weekly, cron="30 9 * * 1", params={"name": "Bob"}, paused=True),
    )
    first = await sync_schedules(client, cfg, project=project)
    assert sorted(first.created) == sorted([daily, weekly])
    assert (first.updated, first.deleted, first.unchanged) == ([], [], [])

    second = await sync_schedules(client, cfg, project=project)
    assert (second.created, second.updated, second.deleted) == ([], [], [])
    assert sorted(second.unchanged) == sorted([daily, weekly])

    infos = {s.id: s for s in await listed(client, project, {daily, weekly})}
    assert infos[daily].model_dump(include={"cron", "timezone", "paused", "note", "args"}) == {
        "cron": "0 8 * * *",
        "timezone": "Europe/Paris",
        "paused": False,
        "note": "morning report",
        "args": ["--name", "Ada"],
    }
    assert (infos[daily].managed, infos[daily].project, infos[daily].workflow) == (
        True,
        project,
        "greet",
    )
    first_run = infos[daily].next_runs[0]
    assert first_run > datetime.now(first_run.tzinfo)
    assert first_run.astimezone(_paris()).hour == 8
    assert infos[weekly].paused is True
    assert infos[weekly].params == {"name": "Bob"}
    assert infos[weekly].last_run is None


def _paris() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Paris")


@pytest.mark.anyio
async def test_an_edited_schedule_is_updated_and_a_removed_one_deleted(client: Client) -> None:
    project = owner()
    keep, edit, drop = uid("keep"), uid("edit"), uid("drop")
    await sync_schedules(client, config(sched(keep), sched(edit), sched(drop)), project=project)
    await listed(client, project, {keep, edit, drop})

    report = await sync_schedules(
        client,
        config(sched(keep), sched(edit, cron="15 17 * * 1-5", paused=True)),
        project=project,
    )
    assert (report.created, report.updated, report.deleted, report.unchanged) == (
        [],
        [edit],
        [drop],
        [keep],
    )
    edited = await schedule_info(client, edit)
    assert (edited.cron, edited.paused) == ("15 17 * * 1-5", True)
    assert edited.next_runs[0].hour == 17
    with pytest.raises(ScheduleNotFoundError, match=drop):
        await schedule_info(client, drop)

    again = await sync_schedules(
        client, config(sched(keep), sched(edit, cron="15 17 * * 1-5", paused=True)), project=project
    )
    assert not again.changed


@pytest.mark.anyio
async def test_a_task_queue_change_updates_every_schedule(client: Client) -> None:
    project = owner()
    one = uid("one")
    await sync_schedules(client, config(sched(one), task_queue="a"), project=project)
    report = await sync_schedules(client, config(sched(one), task_queue="b"), project=project)
    assert report.updated == [one]
    description = await client.get_schedule_handle(one).describe()
    action = description.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert (action.workflow, action.task_queue) == ("RawScheduledRun", "b")
    assert description.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP


@pytest.mark.anyio
async def test_schedules_raw_does_not_own_are_never_touched(client: Client) -> None:
    project, other_project = owner(), owner()
    foreign = uid("foreign")
    await client.create_schedule(
        foreign,
        Schedule(
            action=ScheduleActionStartWorkflow("SomeoneElses", id=foreign, task_queue="theirs"),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(days=1))]),
            state=ScheduleState(paused=True),
        ),
    )
    theirs = uid("theirs")
    await sync_schedules(client, config(sched(theirs)), project=other_project)
    await listed(client, other_project, {theirs})

    mine = uid("mine")
    await sync_schedules(client, config(sched(mine)), project=project)
    await listed(client, project, {mine})
    emptied = await sync_schedules(client, config(), project=project)
    assert emptied.deleted == [mine]
    assert (await schedule_info(client, foreign)).managed is False
    assert (await schedule_info(client, theirs)).project == other_project

    with pytest.raises(ScheduleConflictError, match=f"'{foreign}' already exists") as conflict:
        await sync_schedules(client, config(sched(mine), sched(foreign)), project=project)
    assert conflict.value.owner is None
    with pytest.raises(ScheduleNotFoundError):  # refused before changing anything
        await schedule_info(client, mine)
    with pytest.raises(ScheduleConflictError, match=f"RAW project '{other_project}'"):
        await sync_schedules(client, config(sched(theirs)), project=project)
    unmanaged = await list_schedules(client, include_unmanaged=True)
    assert foreign in {s.id for s in unmanaged}
    assert foreign not in {s.id for s in await list_schedules(client)}


# --- the cron dialect ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_offline_cron_check_agrees_with_temporal(client: Client) -> None:
    """What the config accepts, Temporal accepts; what Temporal refuses, the config refuses."""

    async def temporal_accepts(cron: str) -> bool:
        schedule = Schedule(
            action=ScheduleActionStartWorkflow("X", id=uid("wf"), task_queue="none"),
            spec=ScheduleSpec(cron_expressions=[cron]),
            state=ScheduleState(paused=True),
        )
        try:
            handle = await client.create_schedule(uid("cron"), schedule)
        except RPCError as exc:
            assert "Invalid schedule spec" in str(exc), exc
            return False
        assert (await handle.describe()).info.next_action_times, f"'{cron}' never runs"
        await handle.delete()
        return True

    verdicts = {cron: await temporal_accepts(cron) for cron in [*ACCEPTED, *REFUSED_BY_TEMPORAL]}
    assert [c for c in ACCEPTED if not verdicts[c]] == []
    assert [c for c in REFUSED_BY_TEMPORAL if verdicts[c]] == []


# --- trigger ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_trigger_runs_the_raw_workflow_through_the_activity(
    client: Client, project: Any
) -> None:
    project.add_workflow("greet", GREET)
    task_queue = uid("sched")
    name = owner()
    args_id, params_id = uid("by-args"), uid("by-params")
    cfg = config(
        sched(args_id, args=["--name", "Ada"]),
        sched(params_id, params={"name": "Bob"}),
        task_queue=task_queue,
    )
    await sync_schedules(client, cfg, project=name)
    runner = SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(
            "raw", "pydantic", "pydantic_core"
        )
    )
    activities = RawActivities(project_dir=project.root).activities()
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[RawScheduledRun],
        activities=activities,
        workflow_runner=runner,
    ):
        await trigger(client, args_id)
        await trigger(client, params_id)

        async def finished(schedule_id: str) -> ScheduleInfo | None:
            info = await schedule_info(client, schedule_id)
            done = info.last_run is not None and info.last_run.status == "completed"
            return info if done else None

        by_args = await eventually(lambda: finished(args_id))
        by_params = await eventually(lambda: finished(params_id))
    assert by_args.last_run is not None and by_params.last_run is not None
    assert by_args.last_run.workflow_id.startswith(f"raw-schedule-{args_id}")
    outputs = []
    for info in (by_args, by_params):
        assert info.last_run is not None
        result = await client.get_workflow_handle(info.last_run.workflow_id).result()
        assert result["status"] == "succeeded"
        assert result["workflow"] == "greet"
        outputs.append(result["output"])
    assert outputs == [{"greeting": "hello Ada"}, {"greeting": "hello Bob"}]
    assert len(project.runs("greet")) == 2  # recorded RAW runs, one per trigger


@pytest.mark.anyio
async def test_trigger_of_an_unknown_schedule_is_not_found(client: Client) -> None:
    missing = uid("missing")
    with pytest.raises(ScheduleNotFoundError, match=missing):
        await trigger(client, missing)


# --- raw schedules ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_raw_schedules_sync_list_trigger(
    client_sched_env: WorkflowEnvironment, raw_cli: Any, project: Any
) -> None:
    name, daily = owner(), uid("daily")
    (project.root / ".raw" / "config.yaml").write_text(
        f"name: {name}\nsystem:\n  orchestrator:\n    schedules:\n"
        f"      - {{id: {daily}, cron: '0 6 * * *', timezone: Asia/Tokyo, workflow: greet}}\n",
        encoding="utf-8",
    )
    env = {"TEMPORAL_ADDRESS": client_sched_env.client.service_client.config.target_host}

    async def raw(*args: str) -> Any:
        return await anyio.to_thread.run_sync(lambda: raw_cli(*args, env=env))

    created = await raw("schedules", "sync", "--json")
    assert created.code == 0, created.stderr
    assert created.json() == {
        "project": name,
        "created": [daily],
        "updated": [],
        "deleted": [],
        "unchanged": [],
    }
    again = await raw("schedules", "sync")
    assert again.code == 0
    assert "in sync" in again.stderr and f"unchanged  {daily}" in again.stderr

    async def shown() -> Any:
        result = await raw("schedules", "list", "--json")
        return result if result.json()["schedules"] else None

    schedules = (await eventually(shown)).json()["schedules"]
    assert [(s["id"], s["cron"], s["timezone"]) for s in schedules] == [
        (daily, "0 6 * * *", "Asia/Tokyo")
    ]
    human = await raw("schedules", "list")
    assert daily in human.stdout and "Asia/Tokyo" in human.stdout

    triggered = await raw("schedules", "trigger", daily, "--json")
    assert triggered.code == 0, triggered.stderr
    assert triggered.json() == {"id": daily, "triggered": True}
    missing = await raw("schedules", "trigger", "no-such-schedule")
    assert missing.code == 3
    assert "No schedule 'no-such-schedule'" in missing.stderr
