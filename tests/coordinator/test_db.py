"""The coordinator's database: URLs, migrations, serialised SQLite writes, retention, `raw db`."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, func, inspect, make_url, select, text

from raw import clock
from raw.config.coordinator import CoordinatorConfig, WebhookConfig
from raw.coordinator.db.database import (
    VERSION_TABLE,
    Database,
    DatabaseUnavailableError,
    DatabaseURLError,
    current_revision,
    database_url,
    head_revision,
    normalize_url,
    redact_url,
    upgrade,
)
from raw.coordinator.db.models import Delivery, InboxRecord, KitBase, RunIndex
from raw.coordinator.db.retention import ERASED, erase_entity, erase_entity_report, purge
from raw.project import Project as RawProject

if TYPE_CHECKING:
    from conftest import Project, RunCli

SECRET = "TopSecret-7f3a"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _plain(url: str) -> str:
    """The URL as a user writes it: postgresql:// or sqlite:/// with no driver."""
    scheme, _, rest = url.partition("://")
    return f"{scheme.split('+')[0]}://{rest}"


# -- URLs


def test_database_url_prefers_env_then_config_then_a_sqlite_file(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    raw_project = RawProject(project.root)
    default = database_url(raw_project)
    assert default == f"sqlite+aiosqlite:///{project.root.resolve() / '.raw' / 'coordinator.db'}"

    config = project.root / ".raw" / "config.yaml"
    config.write_text(
        "version: 1\nsystem:\n  coordinator:\n    database_url: sqlite:///data/app.db\n",
        encoding="utf-8",
    )
    from_config = database_url(RawProject(project.root))
    assert from_config == f"sqlite+aiosqlite:///{project.root.resolve() / 'data' / 'app.db'}"

    monkeypatch.setenv("DATABASE_URL", "postgres://raw:pw@db:5432/raw")
    assert database_url(RawProject(project.root)) == "postgresql+psycopg://raw:pw@db:5432/raw"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@h/d", "postgresql+psycopg://u:p@h/d"),
        (
            "postgres://u@h:5433/d?sslmode=require",
            "postgresql+psycopg://u@h:5433/d?sslmode=require",
        ),
        ("postgresql+psycopg://u@/d?host=/run/pg", "postgresql+psycopg://u@/d?host=/run/pg"),
        ("sqlite:////abs/app.db", "sqlite+aiosqlite:////abs/app.db"),
        ("sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
    ],
)
def test_plain_urls_get_the_kits_async_drivers(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


def test_sync_urls_for_the_run_index() -> None:
    assert normalize_url("sqlite+aiosqlite:////a.db", sync=True) == "sqlite:////a.db"
    assert normalize_url("postgres://u@h/d", sync=True) == "postgresql+psycopg://u@h/d"


@pytest.mark.parametrize("url", ["mysql://u:pw@h/d", "not a url", "sqlite://host/x.db"])
def test_unusable_urls_are_refused_naming_the_problem(url: str) -> None:
    with pytest.raises(DatabaseURLError) as caught:
        normalize_url(url)
    assert "pw" not in str(caught.value)
    assert "cannot be used" in str(caught.value)


def test_redact_url_hides_passwords_only() -> None:
    assert redact_url(f"postgresql://raw:{SECRET}@db/raw") == "postgresql://raw:***@db/raw"
    assert redact_url(f"postgresql://db/raw?user=raw&password={SECRET}") == (
        "postgresql://db/raw?user=raw&password=***"
    )
    assert redact_url("sqlite:////tmp/a.db") == "sqlite:////tmp/a.db"
    assert redact_url("postgresql://raw@db/raw") == "postgresql://raw@db/raw"


# -- migrations


def _schema_diffs(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
    )
    return list(compare_metadata(context, KitBase.metadata))


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    async def scenario() -> tuple[list[Any], set[str], str | None, str | None]:
        before = await current_revision(db_url)
        after = await upgrade(db_url)
        async with Database(db_url) as db, db.engine.connect() as conn:
            diffs = await conn.run_sync(_schema_diffs)
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert before is None
        return diffs, tables, after, await current_revision(db_url)

    diffs, tables, after, current = asyncio.run(scenario())
    assert diffs == []
    assert tables == {"raw_webhook_deliveries", "raw_inbox", "raw_runs", VERSION_TABLE}
    assert after == current == head_revision() == "0002"


def test_upgrade_twice_and_at_once_is_harmless(db_url: str) -> None:
    async def scenario() -> list[str | None]:
        first = await asyncio.gather(upgrade(db_url), upgrade(db_url))
        return [*first, await upgrade(db_url)]

    assert asyncio.run(scenario()) == ["0002", "0002", "0002"]


def test_a_database_at_0001_upgrades_to_the_trace_ids_keeping_its_rows(db_url: str) -> None:
    now = datetime.now(UTC)

    async def scenario() -> tuple[str | None, list[Any], list[Any]]:
        assert await upgrade(db_url, revision="0001") == "0001"
        # a record and a run written before tracing
        async with Database(db_url) as db, db.write() as session:
            await session.execute(
                text(
                    "INSERT INTO raw_inbox (route, action, payload, idempotency_key, "
                    "correlation_id, status, attempts, next_attempt_at, created_at, "
                    "updated_at) VALUES ('r', '{}', '{}', 'r:1', 'c', 'pending', 0, "
                    ":at, :at, :at)"
                ),
                {"at": now},
            )
            await session.execute(
                text(
                    "INSERT INTO raw_runs (run_id, workflow, status, dry, started_at, "
                    "manifest) VALUES ('run-1', 'w', 'succeeded', false, :at, '{}')"
                ),
                {"at": now},
            )
        after = await upgrade(db_url)
        async with Database(db_url) as db, db.read() as session:
            inbox = (
                await session.execute(select(InboxRecord.idempotency_key, InboxRecord.trace_id))
            ).all()
            runs = (await session.execute(select(RunIndex.run_id, RunIndex.trace_id))).all()
        return after, list(inbox), list(runs)

    after, inbox, runs = asyncio.run(scenario())
    assert after == "0002"
    assert [tuple(r) for r in inbox] == [("r:1", None)]
    assert [tuple(r) for r in runs] == [("run-1", None)]


def test_a_systems_own_alembic_version_table_is_left_alone(db_url: str) -> None:
    async def scenario() -> list[Any]:
        async with Database(db_url) as db:
            await upgrade(db)  # creates the folder of a SQLite file first
            async with db.write_connection() as conn:
                await conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
                await conn.execute(text("INSERT INTO alembic_version VALUES ('users0042')"))
            await upgrade(db)
            async with db.read() as session:
                return list((await session.execute(text("SELECT * FROM alembic_version"))).all())

    assert asyncio.run(scenario()) == [("users0042",)]


# -- the Database


def test_sqlite_connections_use_wal_a_busy_timeout_and_foreign_keys(db_sqlite_url: str) -> None:
    async def scenario() -> list[Any]:
        await upgrade(db_sqlite_url)
        async with Database(db_sqlite_url) as db, db.read() as session:
            return [
                (await session.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys")
            ]

    assert asyncio.run(scenario()) == ["wal", 30000, 1]


def _delivery(n: int, **fields: Any) -> Delivery:
    values: dict[str, Any] = {
        "route": "cv",
        "delivery_key": f"d-{n}",
        "correlation_id": f"c-{n}",
        "received_at": NOW,
        "scheme": "bearer",
        "status_code": 202,
        "response": {"ok": True},
        "body": f'{{"n": {n}}}',
    }
    values.update(fields)
    return Delivery(**values)


def test_sqlite_writes_take_turns_so_50_concurrent_writers_all_succeed(
    db_sqlite_url: str,
) -> None:
    inside = 0
    most_inside = 0

    async def scenario(db: Database) -> int:
        async def one(n: int) -> None:
            nonlocal inside, most_inside
            async with db.write() as session:
                inside += 1
                most_inside = max(most_inside, inside)
                # Read, yield to the others, then write: a read turning into a write is
                # what fails with "database is locked" when writers run side by side.
                await session.execute(select(func.count()).select_from(Delivery))
                await asyncio.sleep(0)
                session.add(_delivery(n))
                await session.flush()
                inside -= 1

        await asyncio.gather(*(one(n) for n in range(50)))
        async with db.read() as session:
            return int((await session.execute(select(func.count(Delivery.id)))).scalar_one())

    async def main() -> int:
        await upgrade(db_sqlite_url)
        async with Database(db_sqlite_url) as db:
            return await scenario(db)

    assert asyncio.run(main()) == 50
    assert most_inside == 1


def _hold_the_write_lock(url: str) -> sqlite3.Connection:
    """Another process's writer, as SQLite sees it: a connection in BEGIN IMMEDIATE."""
    other = sqlite3.connect(url.split(":///", 1)[1], isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute(
        "INSERT INTO raw_runs (run_id, workflow, status, dry, started_at, manifest) "
        "VALUES ('other', 'wf', 'succeeded', 0, '2026-01-01 00:00:00', '{}')"
    )
    return other


async def _turns(count: int) -> None:
    for _ in range(count):  # the event loop's turns: a task blocking it would hold these up
        await asyncio.sleep(0)


def test_run_write_waits_for_another_process_without_blocking_the_event_loop(
    db_sqlite_url: str,
) -> None:
    asyncio.run(upgrade(db_sqlite_url))
    other = _hold_the_write_lock(db_sqlite_url)

    async def scenario() -> list[str]:
        async with Database(db_sqlite_url, busy_timeout_seconds=5) as db:

            async def work(session: Any) -> None:
                session.add(_delivery(1))
                conn = await session.connection()  # the Core API works there too
                await conn.execute(text("SELECT 1"))

            writing = asyncio.create_task(db.run_write(work))
            await _turns(50)  # the write waits for the lock, and the loop goes on meanwhile:
            assert not writing.done()
            other.execute("COMMIT")  # ... so this runs now, not after the busy timeout
            await writing
            async with db.read() as session:
                keys = await session.scalars(select(Delivery.delivery_key))
                return list(keys)

    try:
        assert asyncio.run(scenario()) == ["d-1"]
    finally:
        other.close()


def test_a_cancelled_run_write_leaves_no_transaction_behind(db_sqlite_url: str) -> None:
    asyncio.run(upgrade(db_sqlite_url))
    other = _hold_the_write_lock(db_sqlite_url)

    async def scenario() -> list[str]:
        async with Database(db_sqlite_url, busy_timeout_seconds=5) as db:

            async def first(session: Any) -> None:
                session.add(_delivery(1))
                await session.flush()

            async def second(session: Any) -> None:
                session.add(_delivery(2))
                await session.flush()

            writing = asyncio.create_task(db.run_write(first))
            await _turns(50)  # waiting for the lock, on the thread
            writing.cancel()
            await _turns(5)
            assert not writing.done()  # its BEGIN still waits: the connection is not free yet
            other.execute("COMMIT")
            with pytest.raises(asyncio.CancelledError):
                await writing
            await db.run_write(second)  # the connection is in no transaction
            async with db.read() as session:
                keys = await session.scalars(select(Delivery.delivery_key))
                return list(keys)

    try:
        assert asyncio.run(scenario()) == ["d-2"]
    finally:
        other.close()


def test_run_write_and_write_take_turns_on_sqlite_and_a_failed_one_rolls_back(
    db_migrated_url: str,
) -> None:
    inside = 0
    most_inside = 0
    guard = threading.Lock()  # run_write's work may run on the writer thread

    def enter() -> None:
        nonlocal inside, most_inside
        with guard:
            inside += 1
            most_inside = max(most_inside, inside)

    def leave() -> None:
        nonlocal inside
        with guard:
            inside -= 1

    async def scenario(db: Database) -> tuple[int, str]:
        async def by_run_write(n: int) -> None:
            async def work(session: Any) -> None:
                enter()
                await session.execute(select(func.count()).select_from(Delivery))
                session.add(_delivery(n))
                await session.flush()
                leave()

            await db.run_write(work)

        async def by_write(n: int) -> None:
            async with db.write() as session:
                enter()
                await session.execute(select(func.count()).select_from(Delivery))
                await asyncio.sleep(0)
                session.add(_delivery(n))
                await session.flush()
                leave()

        await asyncio.gather(
            *(by_run_write(n) for n in range(20)), *(by_write(n) for n in range(20, 40))
        )

        async def repeat(session: Any) -> None:
            session.add(_delivery(100))
            await session.flush()
            session.add(_delivery(1))  # already stored: the unique key refuses it
            await session.flush()

        with pytest.raises(Exception) as failed:
            await db.run_write(repeat)
        async with db.read() as session:
            count = int((await session.execute(select(func.count(Delivery.id)))).scalar_one())
        return count, type(failed.value).__name__

    async def main() -> tuple[int, str]:
        async with Database(db_migrated_url) as db:
            return await scenario(db)

    count, error = asyncio.run(main())
    assert count == 40  # all 40, and nothing of the failed transaction (d-100 rolled back)
    assert error == "IntegrityError"
    if db_migrated_url.startswith("sqlite"):  # one writer at a time (PostgreSQL: side by side)
        assert most_inside == 1


def test_run_write_sees_the_callers_clock(db_migrated_url: str) -> None:
    async def scenario() -> datetime:
        async with Database(db_migrated_url) as db:

            async def work(session: Any) -> datetime:
                await session.execute(text("SELECT 1"))
                return clock.now()

            with clock.use(clock.ManualClock(NOW)):
                return await db.run_write(work)

    assert asyncio.run(scenario()) == NOW


def test_a_writer_in_another_process_is_waited_for(db_sqlite_url: str) -> None:
    asyncio.run(upgrade(db_sqlite_url))
    path = db_sqlite_url.split(":///", 1)[1]
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute(
        "INSERT INTO raw_runs (run_id, workflow, status, dry, started_at, manifest) "
        "VALUES ('other', 'wf', 'succeeded', 0, '2026-01-01 00:00:00', '{}')"
    )
    release = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    release.start()

    async def scenario() -> int:
        async with Database(db_sqlite_url) as db:
            started = time.monotonic()
            async with db.write() as session:
                session.add(_delivery(1))
            assert time.monotonic() - started >= 0.3
            async with db.read() as session:
                count = await session.execute(select(func.count()).select_from(RunIndex))
                return int(count.scalar_one())

    try:
        assert asyncio.run(scenario()) == 1
    finally:
        release.join()
        other.close()


def test_ping_answers_when_the_database_is_up(db_migrated_url: str) -> None:
    async def scenario() -> None:
        async with Database(db_migrated_url) as db:
            await db.ping()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    "url",
    [f"postgresql://raw:{SECRET}@127.0.0.1:1/raw", "sqlite:////nonexistent-folder/x/y.db"],
)
def test_ping_names_why_the_database_is_down_without_the_password(url: str) -> None:
    async def scenario() -> None:
        async with Database(url) as db:
            await db.ping(timeout_seconds=5)

    with pytest.raises(DatabaseUnavailableError) as caught:
        asyncio.run(scenario())
    assert SECRET not in str(caught.value)
    assert "cannot be reached" in str(caught.value)


# -- retention


def _routes() -> CoordinatorConfig:
    def route(name: str, retention_days: int | None) -> WebhookConfig:
        return WebhookConfig(
            name=name,
            path=f"/webhooks/{name}",
            scheme="bearer",
            secrets=["RAW_HOOK_SECRET"],
            retention_days=retention_days,
        )

    return CoordinatorConfig(webhooks=[route("cv", 30), route("calendar", 7), route("audit", None)])


def _seed_for_purge(db: Database) -> Any:
    async def seed() -> None:
        async with db.write() as session:
            session.add_all(
                [
                    _delivery(1, received_at=NOW - timedelta(days=31)),  # cv: purged
                    _delivery(2, received_at=NOW - timedelta(days=29)),  # cv: kept
                    _delivery(3, route="calendar", received_at=NOW - timedelta(days=8)),  # purged
                    _delivery(4, route="audit", received_at=NOW - timedelta(days=900)),  # kept
                ]
            )

    return seed()


def test_purge_clears_bodies_past_each_routes_retention(db_migrated_url: str) -> None:
    async def scenario() -> tuple[Any, Any, dict[str, Any]]:
        async with Database(db_migrated_url) as db:
            await _seed_for_purge(db)
            first = await purge(db, _routes(), now=NOW)
            again = await purge(db, _routes(), now=NOW)
            async with db.read() as session:
                rows = (await session.execute(select(Delivery))).scalars().all()
                state = {r.delivery_key: (r.body, r.body_purged_at) for r in rows}
            return first, again, state

    first, again, state = asyncio.run(scenario())
    assert {r.route: r.purged for r in first.routes} == {"cv": 1, "calendar": 1}
    assert first.kept_forever == ["audit"]
    assert first.purged == 2
    assert again.purged == 0
    assert state["d-1"][0] is None and state["d-1"][1] is not None
    assert state["d-1"][1].replace(tzinfo=UTC) == NOW
    assert state["d-2"] == ('{"n": 2}', None)
    assert state["d-3"][0] is None
    assert state["d-4"] == ('{"n": 4}', None)


def _inbox(n: int, delivery_id: int, status: str) -> InboxRecord:
    return InboxRecord(
        delivery_id=delivery_id,
        route="cv",
        action={"kind": "run_workflow", "workflow": "analyze-cv"},
        payload={"name": f"person {n}", "email": f"p{n}@example.com"},
        idempotency_key=f"ik-{n}",
        correlation_id=f"c-{delivery_id}",
        status=status,
        attempts=1,
        next_attempt_at=NOW,
        created_at=NOW,
        updated_at=NOW,
        result={"output": f"score for person {n}"} if status == "done" else None,
    )


def test_erase_entity_clears_its_bodies_and_finished_payloads_only(db_migrated_url: str) -> None:
    async def scenario() -> tuple[Any, int, dict[str, Any], dict[str, Any], RunIndex]:
        async with Database(db_migrated_url) as db:
            async with db.write() as session:
                mine = [_delivery(n, entity_key="cand-1") for n in (1, 2, 3)]
                theirs = _delivery(9, entity_key="cand-2")
                session.add_all([*mine, theirs])
                await session.flush()
                session.add_all(
                    [
                        _inbox(1, mine[0].id, "done"),
                        _inbox(2, mine[1].id, "dead"),
                        _inbox(3, mine[2].id, "pending"),
                        _inbox(9, theirs.id, "done"),
                    ]
                )
                session.add(
                    RunIndex(
                        run_id="r-1",
                        workflow="analyze-cv",
                        status="succeeded",
                        started_at=NOW,
                        idempotency_key="ik-1",
                        manifest={"run_id": "r-1", "params": {"email": "p1@example.com"}},
                        log_tail="scored p1@example.com",
                    )
                )
            report = await erase_entity_report(db, "cand-1")
            again = await erase_entity(db, "cand-1")
            async with db.read() as session:
                bodies = {
                    d.delivery_key: d.body
                    for d in (await session.execute(select(Delivery))).scalars()
                }
                payloads = {
                    r.idempotency_key: (r.payload, r.result)
                    for r in (await session.execute(select(InboxRecord))).scalars()
                }
                run = await session.get(RunIndex, "r-1")
                assert run is not None
            return report, again, bodies, payloads, run

    report, again, bodies, payloads, run = asyncio.run(scenario())
    assert (report.deliveries, report.inbox_records, report.runs) == (3, 2, 1)
    assert again == 0
    assert bodies == {"d-1": None, "d-2": None, "d-3": None, "d-9": '{"n": 9}'}
    assert payloads["ik-1"] == (ERASED, ERASED)
    assert payloads["ik-2"][0] == ERASED
    assert payloads["ik-3"][0]["email"] == "p3@example.com"  # still to be processed
    assert payloads["ik-9"][0]["email"] == "p9@example.com"  # another entity
    assert run.manifest == {"run_id": "r-1", "erased": True}
    assert run.log_tail is None
    assert run.status == "succeeded"


# -- raw db


def test_raw_db_upgrade_twice_is_idempotent(
    raw_cli: RunCli, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    first = raw_cli("db", "upgrade", "--json")
    assert first.code == 0, first.stderr
    assert first.json()["before"] is None and first.json()["revision"] == "0002"
    assert (project.root / ".raw" / "coordinator.db").is_file()

    second = raw_cli("db", "upgrade", "--json")
    assert second.code == 0, second.stderr
    assert second.json()["changed"] is False
    human = raw_cli("db", "upgrade")
    assert "already at 0002" in human.stdout

    current = raw_cli("db", "current", "--json")
    assert current.json()["up_to_date"] is True


def test_raw_db_upgrade_on_postgresql_from_a_plain_url(
    raw_cli: RunCli, raw_postgres_url: str
) -> None:
    env = {"DATABASE_URL": _plain(raw_postgres_url)}
    before = raw_cli("db", "current", "--json", env=env)
    assert before.json()["revision"] is None
    result = raw_cli("db", "upgrade", "--json", env=env)
    assert result.code == 0, result.stderr
    assert result.json()["database"].startswith("postgresql+psycopg://")
    assert raw_cli("db", "upgrade", env=env).code == 0
    assert raw_cli("db", "current", "--json", env=env).json()["revision"] == "0002"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        (f"postgresql://raw:{SECRET}@127.0.0.1:1/raw", 4),  # could not reach a service
        (f"mysql://raw:{SECRET}@db/raw", 2),
        (f"postgresql://raw:{SECRET}@db:port/raw", 2),
    ],
)
def test_raw_db_never_prints_the_password(raw_cli: RunCli, url: str, code: int) -> None:
    for args in (("db", "upgrade"), ("db", "upgrade", "--json"), ("db", "purge")):
        result = raw_cli(*args, env={"DATABASE_URL": url})
        assert result.code == code, (args, result.stdout, result.stderr)
        assert SECRET not in result.stdout + result.stderr
        assert "raw:***@" in result.stdout + result.stderr
        assert "Traceback" not in result.stderr


def test_raw_db_purge_and_erase(
    raw_cli: RunCli, project: Project, db_sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project.root / ".raw" / "config.yaml").write_text(
        "version: 1\nsystem:\n  coordinator:\n    webhooks:\n"
        "      - {name: cv, path: /webhooks/cv, scheme: bearer, secrets: [RAW_CV],"
        " retention_days: 30}\n",
        encoding="utf-8",
    )
    env = {"DATABASE_URL": db_sqlite_url}

    async def seed() -> None:
        await upgrade(db_sqlite_url)
        async with Database(db_sqlite_url) as db, db.write() as session:
            now = datetime.now(UTC)
            session.add(_delivery(1, received_at=now - timedelta(days=40), entity_key="e-1"))
            session.add(_delivery(2, received_at=now, entity_key="e-1"))

    asyncio.run(seed())
    purged = raw_cli("db", "purge", "--json", env=env)
    assert purged.code == 0, purged.stderr
    assert purged.json()["purged"] == 1
    assert purged.json()["routes"][0]["route"] == "cv"

    erased = raw_cli("db", "erase", "e-1", env=env)
    assert erased.code == 0, erased.stderr
    assert "1 records erased" in erased.stdout
    assert raw_cli("db", "erase", "e-1", "--json", env=env).json()["erased"] == 0


def test_raw_db_on_a_database_never_migrated_says_to_upgrade(
    raw_cli: RunCli, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    sqlite3.connect(tmp_path / "empty.db").close()
    erased = raw_cli("db", "erase", "someone", env={"DATABASE_URL": url})
    assert erased.code == 1
    assert "raw db upgrade" in erased.stderr


def test_a_sqlite_upgrade_that_meets_a_held_lock_runs_again(
    db_sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds the write lock past the busy timeout: the migration, one
    idempotent transaction, runs again once the lock is gone instead of failing."""
    from raw.coordinator.db import database

    path = Path(make_url(db_sqlite_url).database or "")
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("BEGIN EXCLUSIVE")  # another process, mid-transaction
    seen: list[bool] = []
    busy = database._sqlite_busy

    def released_after_the_first_busy(exc: Any) -> bool:
        answer = busy(exc)
        seen.append(answer)
        holder.execute("ROLLBACK")  # the other process's transaction ends
        return answer

    monkeypatch.setattr(database, "_sqlite_busy", released_after_the_first_busy)

    async def scenario() -> str | None:
        async with Database(db_sqlite_url, busy_timeout_seconds=0.2) as db:
            return await upgrade(db)

    try:
        assert asyncio.run(scenario()) == "0002"
    finally:
        holder.close()
    assert seen == [True]
