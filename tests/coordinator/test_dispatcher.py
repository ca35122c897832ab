"""The dispatcher: inbox records become actions, at least once, under a lease.

Real databases (a SQLite file and PostgreSQL), real RAW workflows run in-process,
and the real Temporal dev server for the process actions.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select
from temporalio.worker import Worker

from raw import clock
from raw.config.coordinator import DispatcherConfig
from raw.coordinator.actions import ActionOutcome, ActionRunner, InboxItemLike
from raw.coordinator.db.database import Database, upgrade
from raw.coordinator.db.models import InboxRecord, RunIndex
from raw.coordinator.db.run_index import sync_engine
from raw.coordinator.dispatcher import (
    Dispatcher,
    InboxRecordNotDeadError,
    InboxRecordNotFoundError,
    backoff_seconds,
    retry_dead_letter,
)
from raw.ports import free_port

from .dispatch_fixtures import ECHO, FLAKY, SLOW, DispatchProbe

if TYPE_CHECKING:
    from temporalio.client import Client, WorkflowHandle
    from temporalio.testing import WorkflowEnvironment

    from conftest import Project

WorkerFactory = Callable[..., AbstractAsyncContextManager[Worker]]

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def fast(**overrides: Any) -> DispatcherConfig:
    values: dict[str, Any] = {
        "max_attempts": 3,
        "base_delay_seconds": 10.0,
        "max_delay_seconds": 15.0,
        "lease_seconds": 30.0,
        "poll_interval_seconds": 0.05,
        "concurrency": 4,
    }
    return DispatcherConfig(**{**values, **overrides})


def utc(value: datetime | None) -> datetime:
    """A stored timestamp, aware: SQLite hands them back naive (they are stored in UTC)."""
    assert value is not None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@asynccontextmanager
async def inbox(url: str) -> AsyncIterator[Database]:
    async with Database(url) as db:
        await upgrade(db)
        yield db


async def add(
    db: Database,
    action: dict[str, Any],
    payload: dict[str, Any] | None = None,
    **fields: Any,
) -> int:
    now = clock.now()
    record = InboxRecord(
        route="cv-submission",
        action=action,
        payload=payload or {},
        idempotency_key=f"delivery-{uuid.uuid4().hex}",
        correlation_id=f"corr-{uuid.uuid4().hex[:16]}",
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    for name, value in fields.items():
        setattr(record, name, value)
    async with db.write() as session:
        session.add(record)
        await session.flush()
        return record.id


async def get(db: Database, record_id: int) -> InboxRecord:
    async with db.read() as session:
        record = await session.get(InboxRecord, record_id)
    assert record is not None
    return record


async def count_done(db: Database) -> int:
    async with db.read() as session:
        query = select(func.count()).select_from(InboxRecord).where(InboxRecord.status == "done")
        return int((await session.execute(query)).scalar_one())


async def reopen(db: Database, record_id: int) -> None:
    """Hand a finished record out again, as a crash before 'done' was written would."""
    async with db.write() as session:
        record = await session.get(InboxRecord, record_id)
        assert record is not None
        record.status = "pending"
        record.next_attempt_at = clock.now()


class Recording(ActionRunner):
    """An action runner that notes who performed what (and can take its time)."""

    def __init__(self, log: list[tuple[str, int]], name: str, *, seconds: float = 0.0) -> None:
        super().__init__(None)
        self.log = log
        self.name = name
        self.seconds = seconds

    async def perform(self, item: InboxItemLike) -> ActionOutcome:
        self.log.append((self.name, item.id))
        await asyncio.sleep(self.seconds)
        return ActionOutcome.done({"status": "complete", "by": self.name})


# --- Pattern 1: webhook -> RAW workflow -> database -------------------------------------


def test_run_workflow_record_ends_done_with_the_output(
    project: Project, dispatch_db_url: str
) -> None:
    project.add_workflow("echo", ECHO)
    config = f"version: 1\nsystem:\n  coordinator:\n    database_url: '{dispatch_db_url}'\n"
    (project.root / ".raw" / "config.yaml").write_text(config, encoding="utf-8")
    seen: list[tuple[str, str, float]] = []

    async def scenario() -> tuple[InboxRecord, dict[str, Any], RunIndex | None]:
        async with inbox(dispatch_db_url) as db:
            rid = await add(db, {"kind": "run_workflow", "workflow": "echo"}, {"name": "Ada"})
            before = await get(db, rid)
            dispatcher = Dispatcher(
                db, fast(), project.root, on_dispatch=lambda *args: seen.append(args)
            )
            assert await dispatcher.run_once() == 1
            assert await dispatcher.run_once() == 0  # nothing left
            record = await get(db, rid)
            assert record.result is not None
            async with db.read() as session:
                indexed = await session.get(RunIndex, record.result["run_id"])
            sync_engine(dispatch_db_url).dispose()  # the index's pool, before the db is dropped
            return (
                record,
                {
                    "key": before.idempotency_key,
                    "correlation_id": before.correlation_id,
                },
                indexed,
            )

    record, ids, indexed = asyncio.run(scenario())
    assert record.status == "done"
    assert record.attempts == 1
    assert record.lease_owner is None and record.lease_expires_at is None
    assert record.done_at is not None
    assert record.result is not None
    assert record.result["status"] == "complete"
    assert record.result["output"] == {"greeting": "hello Ada", "count": 1, "key": ids["key"]}
    # The run carries the delivery's correlation id (and key) in its manifest.
    (run_dir,) = project.runs("echo")
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["run_id"] == record.result["run_id"]
    assert manifest["correlation_id"] == ids["correlation_id"]
    assert manifest["idempotency_key"] == ids["key"]
    # ... and so does its row in the run index, where the API finds it.
    assert indexed is not None and indexed.status == "succeeded"
    assert (indexed.correlation_id, indexed.idempotency_key) == (ids["correlation_id"], ids["key"])
    assert [(route, outcome) for route, outcome, _ in seen] == [("cv-submission", "done")]


def test_params_are_taken_from_the_body_fields_the_action_names(
    project: Project, dispatch_sqlite_url: str
) -> None:
    project.add_workflow("echo", ECHO)
    action = {
        "kind": "run_workflow",
        "workflow": "echo",
        "params": {"name": "candidate.first_name", "count": "copies"},
    }
    body = {"candidate": {"first_name": "Grace", "email": "g@example.com"}, "copies": 3}

    async def scenario() -> InboxRecord:
        async with inbox(dispatch_sqlite_url) as db:
            rid = await add(db, action, body)
            await Dispatcher(db, fast(), project.root).run_once()
            return await get(db, rid)

    record = asyncio.run(scenario())
    assert record.status == "done"
    assert record.result is not None
    assert record.result["output"]["greeting"] == "hello Grace"
    assert record.result["output"]["count"] == 3


def test_failing_workflow_is_retried_with_backoff_then_dead_with_the_error(
    project: Project, dispatch_sqlite_url: str, tmp_path: Any
) -> None:
    project.add_workflow("flaky", FLAKY)
    log = tmp_path / "attempts.log"
    action = {"kind": "run_workflow", "workflow": "flaky"}
    outcomes: list[str] = []

    async def scenario(manual: clock.ManualClock) -> list[InboxRecord]:
        states = []
        async with inbox(dispatch_sqlite_url) as db:
            rid = await add(db, action, {"log": str(log), "fail_times": 99})
            dispatcher = Dispatcher(
                db,
                fast(),
                project.root,
                rng=random.Random(7),
                on_dispatch=lambda _r, outcome, _s: outcomes.append(outcome),
            )
            for _ in range(3):
                assert await dispatcher.run_once() == 1
                record = await get(db, rid)
                states.append(record)
                if record.status == "pending":
                    assert await dispatcher.run_once() == 0  # not due before its backoff
                    manual.set(utc(record.next_attempt_at))
        return states

    with clock.use(clock.ManualClock(START)) as manual:
        first, second, third = asyncio.run(scenario(manual))

    assert (first.status, first.attempts) == ("pending", 1)
    assert first.last_error is not None and "flaky failure number 1" in first.last_error
    delay_1 = utc(first.next_attempt_at) - utc(first.updated_at)
    assert timedelta(0) <= delay_1 <= timedelta(seconds=10)  # base * 2**0, full jitter
    assert (second.status, second.attempts) == ("pending", 2)
    delay_2 = utc(second.next_attempt_at) - utc(second.updated_at)
    assert timedelta(0) <= delay_2 <= timedelta(seconds=15)  # min(max 15, base * 2**1)
    assert (third.status, third.attempts) == ("dead", 3)
    assert third.last_error is not None
    assert "Gave up after 3 attempts" in third.last_error
    assert "flaky failure number 3" in third.last_error
    assert third.result is not None and third.result["status"] == "failed"
    assert third.result["error"]["message"] == "flaky failure number 3"
    assert outcomes == ["retry", "retry", "dead"]
    keys = log.read_text(encoding="utf-8").split()
    assert len(keys) == 3 and len(set(keys)) == 1  # every attempt saw the same key


def test_flaky_workflow_succeeds_on_a_later_attempt(
    project: Project, dispatch_sqlite_url: str, tmp_path: Any
) -> None:
    project.add_workflow("flaky", FLAKY)
    log = tmp_path / "attempts.log"

    async def scenario() -> InboxRecord:
        async with inbox(dispatch_sqlite_url) as db:
            rid = await add(
                db,
                {"kind": "run_workflow", "workflow": "flaky"},
                {"log": str(log), "fail_times": 1},
            )
            config = fast(base_delay_seconds=0.01, max_delay_seconds=0.01)
            dispatcher = Dispatcher(db, config, project.root)
            assert await dispatcher.run_once() == 1
            assert (await get(db, rid)).status == "pending"
            await asyncio.sleep(0.02)
            assert await dispatcher.run_once() == 1
            return await get(db, rid)

    record = asyncio.run(scenario())
    assert (record.status, record.attempts) == ("done", 2)
    assert record.result is not None and record.result["output"] == {"attempts": 2}


@pytest.mark.parametrize(
    ("action", "payload", "expected"),
    [
        ({"kind": "run_workflow", "workflow": "echo"}, {"count": "many"}, "Invalid parameters"),
        ({"kind": "run_workflow", "workflow": "no-such-flow"}, {}, "No workflow 'no-such-flow'"),
        (
            {"kind": "run_workflow", "workflow": "echo", "params": {"name": "who"}},
            {"name": "Ada"},
            "has no field 'who'",
        ),
        ({"kind": "teleport"}, {}, "not valid"),
        (
            {"kind": "start_process", "process": "DispatchProbe", "business_key": "candidate"},
            {"name": "no key"},
            "has no field 'candidate'",
        ),
    ],
    ids=["invalid-params", "unknown-workflow", "missing-body-field", "unknown-kind", "no-key"],
)
def test_what_no_retry_can_fix_is_dead_at_once(
    project: Project,
    dispatch_sqlite_url: str,
    action: dict[str, Any],
    payload: dict[str, Any],
    expected: str,
) -> None:
    project.add_workflow("echo", ECHO)

    async def scenario() -> InboxRecord:
        async with inbox(dispatch_sqlite_url) as db:
            rid = await add(db, action, payload)
            await Dispatcher(db, fast(max_attempts=5), project.root).run_once()
            return await get(db, rid)

    record = asyncio.run(scenario())
    assert (record.status, record.attempts) == ("dead", 1)
    assert record.last_error is not None and expected in record.last_error


def test_invalid_params_keep_the_field_errors(project: Project, dispatch_sqlite_url: str) -> None:
    project.add_workflow("echo", ECHO)

    async def scenario() -> InboxRecord:
        async with inbox(dispatch_sqlite_url) as db:
            rid = await add(db, {"kind": "run_workflow", "workflow": "echo"}, {"count": 2})
            await Dispatcher(db, fast(), project.root).run_once()
            return await get(db, rid)

    record = asyncio.run(scenario())
    assert record.result is not None and record.result["status"] == "failed"
    assert [f["field"] for f in record.result["error"]["fields"]] == ["name"]


def test_action_none_is_done_at_once(dispatch_sqlite_url: str) -> None:
    async def scenario() -> InboxRecord:
        async with inbox(dispatch_sqlite_url) as db:
            rid = await add(db, {"kind": "none"})
            assert await Dispatcher(db, fast()).run_once() == 1
            return await get(db, rid)

    record = asyncio.run(scenario())
    assert (record.status, record.result) == ("done", {"status": "complete"})


def test_records_ending_together_share_a_commit_but_not_each_others_failures(
    dispatch_sqlite_url: str,
) -> None:
    hook = "coordinator.dispatch_fixtures:refusing_on_result"

    async def scenario() -> tuple[list[str], str]:
        async with inbox(dispatch_sqlite_url) as db:
            good = [await add(db, {"kind": "none"}) for _ in range(6)]
            bad = await add(db, {"kind": "none", "on_result": hook})
            await Dispatcher(db, fast(concurrency=8)).run_once()
            return [(await get(db, rid)).status for rid in good], (await get(db, bad)).status

    good_statuses, bad_status = asyncio.run(scenario())
    assert good_statuses == ["done"] * 6
    assert bad_status == "in_progress"  # not finished: its lease expires and it is retried


def test_an_action_that_raises_is_retried_and_a_broken_metrics_hook_changes_nothing(
    dispatch_sqlite_url: str,
) -> None:
    class Broken(ActionRunner):
        async def perform(self, item: InboxItemLike) -> ActionOutcome:
            raise ConnectionResetError("peer went away")

    def hook(route: str, outcome: str, seconds: float) -> None:
        raise RuntimeError("metrics are down")

    async def scenario() -> InboxRecord:
        async with inbox(dispatch_sqlite_url) as db:
            rid = await add(db, {"kind": "none"})
            dispatcher = Dispatcher(db, fast(), actions=Broken(), on_dispatch=hook)
            assert await dispatcher.run_once() == 1
            return await get(db, rid)

    record = asyncio.run(scenario())
    assert (record.status, record.attempts) == ("pending", 1)
    assert record.last_error == "ConnectionResetError: peer went away"


# --- leases -----------------------------------------------------------------------------


def test_a_record_whose_lease_expired_is_taken_again(dispatch_db_url: str) -> None:
    async def scenario() -> InboxRecord:
        async with inbox(dispatch_db_url) as db:
            now = clock.now()
            rid = await add(
                db,
                {"kind": "none"},
                status="in_progress",
                attempts=1,
                lease_owner="crashed-host:123:dead",
                lease_expires_at=now - timedelta(seconds=1),
            )
            assert await Dispatcher(db, fast()).run_once() == 1
            return await get(db, rid)

    record = asyncio.run(scenario())
    assert (record.status, record.attempts, record.lease_owner) == ("done", 2, None)


def test_a_record_under_a_live_lease_is_left_alone(dispatch_db_url: str) -> None:
    async def scenario() -> InboxRecord:
        async with inbox(dispatch_db_url) as db:
            rid = await add(
                db,
                {"kind": "none"},
                status="in_progress",
                attempts=1,
                lease_owner="busy-host:1:live",
                lease_expires_at=clock.now() + timedelta(seconds=30),
            )
            assert await Dispatcher(db, fast()).run_once() == 0
            return await get(db, rid)

    record = asyncio.run(scenario())
    assert (record.status, record.attempts, record.lease_owner) == (
        "in_progress",
        1,
        "busy-host:1:live",
    )


def test_a_last_attempt_that_died_with_its_dispatcher_is_a_dead_letter(
    dispatch_sqlite_url: str,
) -> None:
    async def scenario() -> InboxRecord:
        async with inbox(dispatch_sqlite_url) as db:
            rid = await add(
                db,
                {"kind": "none"},
                status="in_progress",
                attempts=3,
                lease_owner="crashed-host:1:gone",
                lease_expires_at=clock.now() - timedelta(seconds=1),
            )
            assert await Dispatcher(db, fast(max_attempts=3)).run_once() == 0
            return await get(db, rid)

    record = asyncio.run(scenario())
    assert record.status == "dead"
    assert record.last_error is not None and "lease expired" in record.last_error


def test_two_dispatchers_on_one_database_perform_each_record_exactly_once(
    dispatch_db_url: str,
) -> None:
    performed: list[tuple[str, int]] = []

    async def scenario() -> list[InboxRecord]:
        async with inbox(dispatch_db_url) as db:
            ids = [await add(db, {"kind": "none"}) for _ in range(100)]
            dispatchers = [
                Dispatcher(db, fast(), actions=Recording(performed, name, seconds=0.002))
                for name in ("a", "b")
            ]
            for dispatcher in dispatchers:
                await dispatcher.start()
            async with asyncio.timeout(30):
                while await count_done(db) < 100:
                    await asyncio.sleep(0.02)
            for dispatcher in dispatchers:
                await dispatcher.stop()
            return [await get(db, rid) for rid in ids]

    records = asyncio.run(scenario())
    assert sorted(rid for _, rid in performed) == sorted(r.id for r in records)  # once each
    assert {r.status for r in records} == {"done"}
    assert {r.attempts for r in records} == {1}
    assert {name for name, _ in performed} == {"a", "b"}  # both took a share


def test_a_long_action_keeps_its_lease_by_heartbeats(
    project: Project, dispatch_sqlite_url: str, tmp_path: Any
) -> None:
    project.add_workflow("slow", SLOW)
    marker = tmp_path / "started"

    async def scenario() -> tuple[InboxRecord, int]:
        async with inbox(dispatch_sqlite_url) as db:
            rid = await add(
                db,
                {"kind": "run_workflow", "workflow": "slow"},
                {"marker": str(marker), "seconds": 1.2},
            )
            config = fast(lease_seconds=0.45)
            first = Dispatcher(db, config, project.root, owner="first")
            second = Dispatcher(db, config, project.root, owner="second")
            running = asyncio.create_task(first.run_once())
            while not marker.exists():  # the first dispatcher holds it and runs it
                await asyncio.sleep(0.01)
            taken = 0
            while not running.done():  # the lease would have expired twice without renewal
                taken += await second.run_once()
                await asyncio.sleep(0.05)
            await running
            return await get(db, rid), taken

    record, taken_by_second = asyncio.run(scenario())
    assert taken_by_second == 0
    assert (record.status, record.attempts) == ("done", 1)


def test_stop_lets_an_action_in_flight_finish(dispatch_sqlite_url: str) -> None:
    performed: list[tuple[str, int]] = []

    async def scenario() -> InboxRecord:
        async with inbox(dispatch_sqlite_url) as db:
            rid = await add(db, {"kind": "none"})
            dispatcher = Dispatcher(db, fast(), actions=Recording(performed, "a", seconds=0.3))
            await dispatcher.start()
            while not performed:
                await asyncio.sleep(0.01)
            await dispatcher.stop(grace_seconds=5)
            assert not dispatcher.running
            return await get(db, rid)

    record = asyncio.run(scenario())
    assert (record.status, record.attempts) == ("done", 1)


def test_stop_releases_an_action_that_outlives_the_grace_period(dispatch_sqlite_url: str) -> None:
    performed: list[tuple[str, int]] = []

    async def scenario() -> InboxRecord:
        async with inbox(dispatch_sqlite_url) as db:
            rid = await add(db, {"kind": "none"})
            dispatcher = Dispatcher(db, fast(), actions=Recording(performed, "a", seconds=60))
            await dispatcher.start()
            while not performed:
                await asyncio.sleep(0.01)
            await dispatcher.stop(grace_seconds=0.05)
            return await get(db, rid)

    record = asyncio.run(scenario())
    assert (record.status, record.lease_owner, record.lease_expires_at) == ("pending", None, None)
    assert record.last_error is not None and "stopped during the action" in record.last_error


def test_stop_while_busy_leaves_no_record_held(dispatch_db_url: str) -> None:
    performed: list[tuple[str, int]] = []

    async def scenario() -> list[InboxRecord]:
        async with inbox(dispatch_db_url) as db:
            ids = [await add(db, {"kind": "none"}) for _ in range(120)]
            actions = Recording(performed, "a", seconds=0.002)
            dispatcher = Dispatcher(db, fast(concurrency=8), actions=actions)
            await dispatcher.start()
            while len(performed) < 30:  # busy: ends and the next claims share transactions
                await asyncio.sleep(0.002)
            await dispatcher.stop(grace_seconds=5)
            stopped_at = len(performed)
            await asyncio.sleep(0.05)
            assert len(performed) == stopped_at  # nothing runs after stop() returns
            return [await get(db, rid) for rid in ids]

    records = asyncio.run(scenario())
    done = [r for r in records if r.status == "done"]
    assert 30 <= len(done) < 120
    assert sorted(rid for _, rid in performed) == sorted(r.id for r in done)  # each once
    assert {r.status for r in records if r not in done} == {"pending"}
    assert {(r.attempts, r.last_error) for r in records if r not in done} == {(0, None)}
    assert {r.lease_owner for r in records} == {None}


# --- dead letters and backoff -----------------------------------------------------------


def test_retry_dead_letter_sends_it_back_with_attempts_reset(dispatch_sqlite_url: str) -> None:
    async def scenario() -> None:
        async with inbox(dispatch_sqlite_url) as db:
            rid = await add(db, {"kind": "none"}, status="dead", attempts=3, last_error="boom")
            record = await retry_dead_letter(db, rid)
            assert (record.status, record.attempts) == ("pending", 0)
            with pytest.raises(InboxRecordNotDeadError) as not_dead:
                await retry_dead_letter(db, rid)
            assert not_dead.value.status_code == 409
            assert "is pending, not dead" in str(not_dead.value)
            with pytest.raises(InboxRecordNotFoundError) as missing:
                await retry_dead_letter(db, 999_999)
            assert missing.value.status_code == 404
            assert await Dispatcher(db, fast()).run_once() == 1
            done = await get(db, rid)
            assert (done.status, done.attempts) == ("done", 1)

    asyncio.run(scenario())


def test_backoff_doubles_up_to_the_cap_with_full_jitter() -> None:
    class Top(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return b

    config = DispatcherConfig(base_delay_seconds=1.0, max_delay_seconds=10.0)
    assert [backoff_seconds(n, config, Top()) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    rng = random.Random(1)
    samples = [backoff_seconds(3, config, rng) for _ in range(200)]
    assert all(0 <= s <= 4 for s in samples)
    assert min(samples) < 1 and max(samples) > 3  # spread over the whole range


# --- Temporal processes: start, signal, signal-with-start -------------------------------


def on_task_queue(root: Path, task_queue: str) -> None:
    """Make the project at ``root`` run its processes on ``task_queue``."""
    (root / ".raw" / "config.yaml").write_text(
        f"version: 1\nsystem:\n  orchestrator:\n    task_queue: {task_queue}\n",
        encoding="utf-8",
    )


@pytest.fixture
def dispatch_temporal_project(
    project: Project,
    raw_dev_server_env: WorkflowEnvironment,
    raw_task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Project:
    """A project whose processes run on the dev server, on this test's task queue."""
    on_task_queue(project.root, raw_task_queue)
    monkeypatch.setenv(
        "TEMPORAL_ADDRESS", raw_dev_server_env.client.service_client.config.target_host
    )
    return project


PROBE = {"process": "DispatchProbe", "business_key": "candidate"}


def test_start_process_puts_the_correlation_id_on_the_memo_and_never_starts_twice(
    dispatch_temporal_project: Project,
    dispatch_sqlite_url: str,
    raw_dev_server_env: WorkflowEnvironment,
    raw_worker: WorkerFactory,
) -> None:
    client = raw_dev_server_env.client
    candidate = f"c-{uuid.uuid4().hex[:10]}"
    pid = f"dispatch-probe/{candidate}"
    body = {"candidate": candidate, "cv": "Ten years of Python"}
    action = {"kind": "start_process", **PROBE}

    async def scenario() -> dict[str, Any]:
        async with (
            raw_worker(client, workflows=[DispatchProbe], include_raw_activities=False),
            inbox(dispatch_sqlite_url) as db,
        ):
            first_id = await add(db, action, body)
            dispatcher = Dispatcher(db, fast(), dispatch_temporal_project.root)
            assert await dispatcher.run_once() == 1
            # Another delivery for the same candidate while the process runs: reported.
            second_id = await add(db, action, body)
            assert await dispatcher.run_once() == 1
            handle = client.get_workflow_handle(pid)
            memo = await (await handle.describe()).memo()
            await handle.signal("finish")
            output = await handle.result()
            # The first record handed out again after its process finished (a crash
            # before 'done'): the memo shows it was this record's start, so no new run.
            await reopen(db, first_id)
            assert await dispatcher.run_once() == 1
            latest = await handle.describe()
            return {
                "first": await get(db, first_id),
                "second": await get(db, second_id),
                "memo": memo,
                "output": output,
                "latest": (latest.run_id, latest.status.name if latest.status else None),
            }

    seen = asyncio.run(scenario())
    first, second = seen["first"], seen["second"]
    assert first.result is not None and second.result is not None
    assert first.target_process_id == second.target_process_id == pid
    assert second.result["status"] == "already_started" and second.result["started"] is False
    assert second.result["run_id"] == first.result["run_id"]
    assert seen["memo"] == {"correlation_id": first.correlation_id}
    assert seen["output"]["params"] == body
    assert (first.status, first.attempts) == ("done", 2)
    assert first.result["status"] == "already_started"
    assert seen["latest"] == (first.result["run_id"], "COMPLETED")  # still the one run


async def start_probe(client: Client, candidate: str, task_queue: str) -> WorkflowHandle[Any, Any]:
    """The probe process a signal action of ``PROBE`` reaches, for ``candidate``."""
    return await client.start_workflow(
        DispatchProbe.run,
        {"candidate": candidate},
        id=f"dispatch-probe/{candidate}",
        task_queue=task_queue,
    )


def test_a_signal_performed_twice_arrives_once(
    dispatch_temporal_project: Project,
    dispatch_sqlite_url: str,
    raw_dev_server_env: WorkflowEnvironment,
    raw_worker: WorkerFactory,
    raw_task_queue: str,
) -> None:
    client = raw_dev_server_env.client
    candidate = f"c-{uuid.uuid4().hex[:10]}"
    body = {"candidate": candidate, "slot": "2026-01-06T10:00"}
    action = {"kind": "signal", "signal": "booked", **PROBE}

    async def scenario() -> tuple[InboxRecord, dict[str, Any]]:
        async with (
            raw_worker(client, workflows=[DispatchProbe], include_raw_activities=False),
            inbox(dispatch_sqlite_url) as db,
        ):
            handle = await start_probe(client, candidate, raw_task_queue)
            rid = await add(db, action, body)
            dispatcher = Dispatcher(db, fast(), dispatch_temporal_project.root)
            assert await dispatcher.run_once() == 1
            await reopen(db, rid)
            assert await dispatcher.run_once() == 1
            await handle.signal("finish")
            output = await handle.result()
            # A signal for a process that has finished can never arrive: dead at once.
            late = await add(db, action, body)
            assert await dispatcher.run_once() == 1
            closed = await get(db, late)
            assert (closed.status, closed.attempts) == ("dead", 1)
            assert closed.last_error is not None and "already finished" in closed.last_error
            return await get(db, rid), output

    record, output = asyncio.run(scenario())
    assert (record.status, record.attempts) == ("done", 2)
    assert record.result is not None
    assert record.result["idempotency_key"] == record.idempotency_key
    assert output["received"] == [body]  # once, though sent twice


def test_a_signal_repeated_after_its_process_finished_is_done_not_dead(
    dispatch_temporal_project: Project,
    dispatch_sqlite_url: str,
    raw_dev_server_env: WorkflowEnvironment,
    raw_worker: WorkerFactory,
    raw_task_queue: str,
) -> None:
    """A dispatcher signals, then dies before writing 'done'; the process goes on to finish.
    The record's next attempt finds the process finished: the signal was delivered (its
    key is in the history), so the record is done. A signal that never reached the
    process stays a dead letter."""
    client = raw_dev_server_env.client
    candidate = f"c-{uuid.uuid4().hex[:10]}"
    body = {"candidate": candidate, "slot": "2026-01-06T10:00"}
    action = {"kind": "signal", "signal": "booked", **PROBE}

    async def scenario() -> tuple[InboxRecord, InboxRecord]:
        async with (
            raw_worker(client, workflows=[DispatchProbe], include_raw_activities=False),
            inbox(dispatch_sqlite_url) as db,
        ):
            handle = await start_probe(client, candidate, raw_task_queue)
            rid = await add(db, action, body)
            dispatcher = Dispatcher(db, fast(), dispatch_temporal_project.root)
            assert await dispatcher.run_once() == 1
            await handle.signal("finish")
            assert (await handle.result())["received"] == [body]
            await reopen(db, rid)  # as if its dispatcher died before recording the end
            # A repeat too (its first attempt failed), whose signal never reached the process.
            never = await add(db, action, {**body, "slot": "2026-01-07T10:00"}, attempts=1)
            assert await dispatcher.run_once() == 2
            return await get(db, rid), await get(db, never)

    repeated, never = asyncio.run(scenario())
    assert (repeated.status, repeated.attempts) == ("done", 2)
    assert repeated.result is not None and repeated.result["repeat"] is True
    assert repeated.result["idempotency_key"] == repeated.idempotency_key
    assert (never.status, never.attempts) == ("dead", 2)
    assert never.last_error is not None and "already finished" in never.last_error


def test_signal_with_start_starts_once_and_signals_once(
    dispatch_temporal_project: Project,
    dispatch_sqlite_url: str,
    raw_dev_server_env: WorkflowEnvironment,
    raw_worker: WorkerFactory,
) -> None:
    client = raw_dev_server_env.client
    candidate = f"c-{uuid.uuid4().hex[:10]}"
    body = {"candidate": candidate, "slot": "2026-01-06T10:00"}
    action = {"kind": "signal_with_start", "signal": "booked", **PROBE}

    async def scenario() -> tuple[list[bool], InboxRecord, dict[str, Any], Any]:
        async with (
            raw_worker(client, workflows=[DispatchProbe], include_raw_activities=False),
            inbox(dispatch_sqlite_url) as db,
        ):
            rid = await add(db, action, body)
            dispatcher = Dispatcher(db, fast(), dispatch_temporal_project.root)
            started = []
            for _ in range(2):
                assert await dispatcher.run_once() == 1
                result = (await get(db, rid)).result
                assert result is not None
                started.append(result["started"])
                await reopen(db, rid)
            handle = client.get_workflow_handle(f"dispatch-probe/{candidate}")
            memo = await (await handle.describe()).memo()
            await handle.signal("finish")
            return started, await get(db, rid), await handle.result(), memo

    started, record, output, memo = asyncio.run(scenario())
    assert started == [True, False]
    assert output["received"] == [body]
    assert output["params"] == body
    assert memo == {"correlation_id": record.correlation_id}


def test_a_signal_for_a_process_not_yet_started_is_retried(
    dispatch_temporal_project: Project, dispatch_sqlite_url: str
) -> None:
    action = {"kind": "signal", "signal": "booked", **PROBE}

    async def scenario() -> InboxRecord:
        async with inbox(dispatch_sqlite_url) as db:
            rid = await add(db, action, {"candidate": f"nobody-{uuid.uuid4().hex[:8]}"})
            await Dispatcher(db, fast(), dispatch_temporal_project.root).run_once()
            return await get(db, rid)

    record = asyncio.run(scenario())
    assert (record.status, record.attempts) == ("pending", 1)
    assert record.last_error is not None and "ProcessNotFoundError" in record.last_error
    assert record.target_process_id is not None
    assert record.target_process_id.startswith("dispatch-probe/nobody-")


def test_temporal_down_spends_no_attempt_and_waits_for_it(
    project: Project, dispatch_sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()  # nothing listens on it
    monkeypatch.setenv("TEMPORAL_ADDRESS", f"127.0.0.1:{port}")

    async def scenario() -> InboxRecord:
        async with inbox(dispatch_sqlite_url) as db:
            rid = await add(db, {"kind": "start_process", **PROBE}, {"candidate": "c-1"})
            await Dispatcher(db, fast(), project.root).run_once()
            return await get(db, rid)

    record = asyncio.run(scenario())
    assert (record.status, record.attempts) == ("pending", 0)
    assert record.last_error is not None
    assert record.last_error.startswith("Waiting for Temporal, which is away: Cannot reach")
    assert record.last_error.endswith("(no attempt spent).")
