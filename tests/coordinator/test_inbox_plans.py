"""The dispatcher's claim follows the inbox's indexes, however large the inbox grows.

A claim runs on every poll and every batch's end, so a statement that reads every
pending record (or the whole table) makes each claim slower as the inbox grows. The
statements checked are those a real claim sends to the driver, with its parameters,
on an inbox of 20,000 records: SQLite's planner (no statistics: the kit never runs
``ANALYZE``) chose the (status, next_attempt_at) index for both sides of an ``OR``
there, reading every due record to take a few by id, and PostgreSQL's took that index
for the same few. benchmarks/claim_growth.py
measures the claim at 1k, 100k and 1M records.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, insert, text

from raw import clock
from raw.config.coordinator import DispatcherConfig
from raw.coordinator.db.database import Database, normalize_url, upgrade
from raw.coordinator.db.inbox import TABLE
from raw.coordinator.dispatcher import Dispatcher

RECORDS = 20_000
EXPIRED = 40  # a dead dispatcher's records: the claim takes them up by id


def _fill(engine: Engine) -> None:
    """Mostly done records, a backlog of due ones, some for later, a few expired leases."""
    now = clock.now()
    rows: list[dict[str, Any]] = []
    for n in range(1, RECORDS + 1):
        at = now - timedelta(days=1) + timedelta(seconds=n)
        row: dict[str, Any] = {
            "route": "orders",
            "action": {"kind": "none"},
            "payload": {"n": n},
            "idempotency_key": f"orders:{n}",
            "correlation_id": f"c{n}",
            "status": "done",
            "attempts": 1,
            "next_attempt_at": at,
            "lease_owner": None,
            "lease_expires_at": None,
            "created_at": at,
            "updated_at": at,
            "done_at": at,
        }
        if n <= EXPIRED:
            row.update(
                status="in_progress",
                lease_owner="gone",
                lease_expires_at=now - timedelta(minutes=5),
                done_at=None,
            )
        elif n % 10 == 0:  # due: 10% of the inbox waits for a dispatcher
            row.update(status="pending", attempts=0, done_at=None)
        elif n % 10 == 1:  # a retry after its backoff, later
            row.update(status="pending", next_attempt_at=now + timedelta(hours=1), done_at=None)
        rows.append(row)
    with engine.begin() as conn:
        conn.execute(insert(TABLE), rows)
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE raw_inbox"))


async def _claim_statements(url: str) -> list[tuple[str, Any]]:
    """Each statement (and its parameters) a claim sends, its first (it looks for expired
    leases then) and one more."""
    sent: list[tuple[str, Any]] = []
    async with Database(url) as db:
        # The claim's writes go through run_write: on SQLite its in-place writer's engine.
        writers = [db._write_engine] + ([db._inplace] if db._inplace is not None else [])

        def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if "raw_inbox" in statement:
                sent.append((statement, parameters))

        for writer in writers:
            event.listen(writer.sync_engine, "before_cursor_execute", capture)
        config = DispatcherConfig(concurrency=64, poll_interval_seconds=60)
        dispatcher = Dispatcher(db, config, owner="plans")
        first = await dispatcher._claim(64)
        second = await dispatcher._claim(64)
    assert len(first) == 64 and len(second) == 64
    assert {item.id for item in first} == set(range(1, EXPIRED + 1)) | set(range(50, 290, 10))
    return sent


def _plans(engine: Engine, sent: list[tuple[str, Any]]) -> list[str]:
    plans = []
    raw = engine.raw_connection()
    try:
        for statement, parameters in sent:
            cursor = raw.cursor()
            if engine.dialect.name == "sqlite":
                cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
                plans.append("\n".join(str(row[3]) for row in cursor.fetchall()))
            else:
                cursor.execute(f"EXPLAIN {statement}", parameters)
                plans.append("\n".join(str(row[0]) for row in cursor.fetchall()))
            cursor.close()
    finally:
        raw.rollback()
        raw.close()
    return plans


@pytest.mark.timeout(300)
def test_every_claim_statement_follows_an_index(dispatch_db_url: str) -> None:
    asyncio.run(upgrade(dispatch_db_url))
    engine = create_engine(normalize_url(dispatch_db_url, sync=True))
    try:
        _fill(engine)
        sent = asyncio.run(_claim_statements(dispatch_db_url))
        plans = _plans(engine, sent)
    finally:
        engine.dispose()
    # The look for expired leases, the take of those by id, the take of the oldest due.
    assert len(plans) == 4, sent
    for (statement, _), plan in zip(sent, plans, strict=True):
        where = f"{statement}\n-> {plan}"
        if engine.dialect.name == "sqlite":
            assert "MULTI-INDEX OR" not in plan, where
            assert not any(line.startswith("SCAN raw_inbox") for line in plan.splitlines()), where
        else:
            assert "Seq Scan on raw_inbox" not in plan, where
    expired, pending = plans[1], plans[-1]
    if engine.dialect.name == "sqlite":
        assert expired == "SEARCH raw_inbox USING INTEGER PRIMARY KEY (rowid=?)", expired
        assert "ix_raw_inbox_due (status=? AND next_attempt_at<?)" in pending, pending
    else:
        assert "pk_raw_inbox" in expired and "ix_raw_inbox_due" not in expired, expired
        assert "ix_raw_inbox_due" in pending and "pk_raw_inbox" in pending, pending
