"""The dispatcher claims records as soon as they are due, and ends many in one write.

Wake-ups: each test sets a poll interval far longer than its wait, so only a
wake-up can get the record done in time: the webhook route's own process rings
the dispatcher, and on PostgreSQL a ``NOTIFY`` from another connection reaches a
dispatcher that ``LISTEN``s, also after its listening connection was cut.
Batching: the ends of many actions written together each get their own outcome,
and a record another dispatcher took over in the meantime is left alone.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from raw import clock
from raw.config.coordinator import WebhookConfig
from raw.coordinator.actions import ActionOutcome, ActionRunner, InboxItemLike
from raw.coordinator.db.database import Database
from raw.coordinator.db.models import InboxRecord
from raw.coordinator.dispatcher import Dispatcher
from raw.coordinator.ingest import Accepted, DeliveryStore
from raw.coordinator.webhooks import build_route

from .test_dispatcher import add, count_done, fast, get, inbox

POLL_SECONDS = 120.0
"""Far longer than any wait below: a record done in time was not found by a poll."""
WAIT_SECONDS = 20.0


def store(db: Database) -> Callable[[str], Awaitable[int]]:
    """Store deliveries as the webhook route does: the delivery, its inbox record, one commit."""
    route = build_route(
        WebhookConfig.model_validate(
            {
                "name": "order",
                "path": "/webhooks/order",
                "scheme": "bearer",
                "secrets": ["ORDER_TOKEN"],
                "delivery_key": "order_id",
                "action": {"kind": "none"},
            }
        ),
        default_limit_bytes=1_000_000,
    )
    deliveries = DeliveryStore(lambda: db)

    async def one(key: str) -> int:
        payload = {"order_id": key}
        status, _, _ = await deliveries.store(
            Accepted(route, key, payload, payload, f'{{"order_id": "{key}"}}', None, clock.now())
        )
        assert status == 202
        async with db.read() as session:
            found = await session.execute(
                text("SELECT id FROM raw_inbox WHERE idempotency_key = :key"),
                {"key": f"order:{key}"},
            )
            return int(found.scalar_one())

    return one


async def done_soon(db: Database, record_id: int) -> InboxRecord:
    """The record once it is done, waiting at most WAIT_SECONDS."""
    async with asyncio.timeout(WAIT_SECONDS):
        while (record := await get(db, record_id)).status != "done":
            await asyncio.sleep(0.02)
    return record


async def idle(dispatcher: Dispatcher) -> None:
    """Let the dispatcher make its first, empty claim and start waiting."""
    await asyncio.sleep(0.3)
    assert dispatcher.running


# --- wake-ups ---------------------------------------------------------------------------


def test_a_delivery_wakes_the_dispatcher_of_its_own_process(dispatch_db_url: str) -> None:
    async def scenario() -> InboxRecord:
        async with inbox(dispatch_db_url) as db:
            dispatcher = Dispatcher(db, fast(poll_interval_seconds=POLL_SECONDS))
            await dispatcher.start()
            try:
                await idle(dispatcher)
                record_id = await store(db)("o-1")
                return await done_soon(db, record_id)
            finally:
                await dispatcher.stop()

    record = asyncio.run(scenario())
    assert (record.status, record.attempts) == ("done", 1)


def test_a_notify_from_another_process_wakes_a_listening_dispatcher(
    raw_postgres_url: str,
) -> None:
    async def scenario() -> list[InboxRecord]:
        # Two database objects, as two processes have: the route's process rings no bell
        # the dispatcher hears, so only PostgreSQL's NOTIFY can reach it.
        async with inbox(raw_postgres_url) as db, Database(raw_postgres_url) as elsewhere:
            dispatcher = Dispatcher(db, fast(poll_interval_seconds=POLL_SECONDS))
            await dispatcher.start()
            try:
                async with asyncio.timeout(WAIT_SECONDS):
                    while not dispatcher.listening:
                        await asyncio.sleep(0.02)
                await idle(dispatcher)
                first = await done_soon(db, await store(elsewhere)("o-1"))
                await idle(dispatcher)
                second = await done_soon(db, await store(elsewhere)("o-2"))
                return [first, second]
            finally:
                await dispatcher.stop()

    records = asyncio.run(scenario())
    assert [(r.status, r.attempts) for r in records] == [("done", 1), ("done", 1)]


def test_a_dispatcher_listens_again_after_its_connection_is_cut(raw_postgres_url: str) -> None:
    async def scenario() -> InboxRecord:
        async with inbox(raw_postgres_url) as db, Database(raw_postgres_url) as elsewhere:
            config = fast(poll_interval_seconds=POLL_SECONDS, outage_probe_seconds=0.2)
            dispatcher = Dispatcher(db, config)
            await dispatcher.start()
            try:
                async with asyncio.timeout(WAIT_SECONDS):
                    while not dispatcher.listening:
                        await asyncio.sleep(0.02)
                async with elsewhere.write() as session:  # as a server restart or a proxy would
                    cut = await session.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE query = 'LISTEN raw_inbox' AND datname = current_database()"
                        )
                    )
                    assert cut.scalars().all() == [True]
                async with asyncio.timeout(WAIT_SECONDS):
                    while dispatcher.listening:
                        await asyncio.sleep(0.02)
                    while not dispatcher.listening:
                        await asyncio.sleep(0.02)
                await idle(dispatcher)
                return await done_soon(db, await store(elsewhere)("o-1"))
            finally:
                await dispatcher.stop()

    record = asyncio.run(scenario())
    assert (record.status, record.attempts) == ("done", 1)


def test_a_retried_dead_letter_is_taken_at_once(dispatch_db_url: str) -> None:
    from raw.coordinator.dispatcher import retry_dead_letter

    async def scenario() -> InboxRecord:
        async with inbox(dispatch_db_url) as db:
            rid = await add(db, {"kind": "none"}, status="dead", attempts=3, last_error="boom")
            dispatcher = Dispatcher(db, fast(poll_interval_seconds=POLL_SECONDS))
            await dispatcher.start()
            try:
                await idle(dispatcher)
                await retry_dead_letter(db, rid)
                return await done_soon(db, rid)
            finally:
                await dispatcher.stop()

    record = asyncio.run(scenario())
    assert (record.status, record.attempts) == ("done", 1)


# --- batched ends -----------------------------------------------------------------------


class ByPayload(ActionRunner):
    """Answers what each record's payload asks for; ``steal`` records are taken over by
    another dispatcher while their action runs (as after a lease that ran out)."""

    def __init__(self, db: Database) -> None:
        super().__init__(None)
        self.db = db
        self.performed: list[int] = []
        self.started = 0
        self.all_started = asyncio.Event()
        self.expected = 0

    async def perform(self, item: InboxItemLike) -> ActionOutcome:
        self.performed.append(item.id)
        self.started += 1
        if self.started == self.expected:
            self.all_started.set()
        await self.all_started.wait()  # every action of the batch ends at once
        wanted = item.payload["outcome"]
        if wanted == "steal":
            async with self.db.write() as session:
                await session.execute(
                    text(
                        "UPDATE raw_inbox SET lease_owner = 'other-host:1:x', attempts = 2 "
                        "WHERE id = :id"
                    ),
                    {"id": item.id},
                )
            return ActionOutcome.done({"status": "complete"})
        if wanted == "retry":
            return ActionOutcome.retry("try again")
        if wanted == "dead":
            return ActionOutcome.dead("no retry can fix this")
        return ActionOutcome.done({"status": "complete", "id": item.id})


class Longest(random.Random):
    """Backoff's full jitter at its longest, so a retried record is not due again at once."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_ends_written_together_each_keep_their_own_outcome(dispatch_db_url: str) -> None:
    kinds = ["done", "retry", "dead", "steal"] * 15

    async def scenario() -> tuple[list[Any], list[int], int]:
        async with inbox(dispatch_db_url) as db:
            ids = [await add(db, {"kind": "none"}, {"outcome": kind}) for kind in kinds]
            actions = ByPayload(db)
            actions.expected = len(ids)
            config = fast(concurrency=len(ids))
            dispatcher = Dispatcher(db, config, actions=actions, rng=Longest())
            assert await dispatcher.run_once() == len(ids)
            records = [await get(db, rid) for rid in ids]
            return records, actions.performed, await dispatcher.run_once()

    records, performed, again = asyncio.run(scenario())
    assert sorted(performed) == sorted(r.id for r in records)  # each performed once
    assert again == 0  # nothing was left due
    now = clock.now()
    for kind, record in zip(kinds, records, strict=True):
        if kind == "done":
            assert (record.status, record.attempts, record.lease_owner) == ("done", 1, None)
            assert record.result == {"status": "complete", "id": record.id}
        elif kind == "retry":
            assert (record.status, record.attempts, record.last_error) == (
                "pending",
                1,
                "try again",
            )
            due = record.next_attempt_at.replace(tzinfo=now.tzinfo)  # SQLite's are naive
            assert now < due <= now + timedelta(seconds=10)
        elif kind == "dead":
            assert (record.status, record.last_error) == ("dead", "no retry can fix this")
        else:  # taken over: the other dispatcher's attempt decides, nothing is written
            assert (record.status, record.lease_owner, record.attempts, record.result) == (
                "in_progress",
                "other-host:1:x",
                2,
                None,
            )


def test_a_busy_dispatcher_refills_every_free_slot_and_performs_each_record_once(
    dispatch_db_url: str,
) -> None:
    performed: list[int] = []

    class Quick(ActionRunner):
        async def perform(self, item: InboxItemLike) -> ActionOutcome:
            performed.append(item.id)
            await asyncio.sleep(0.001 * (item.id % 5))  # ends arrive in small groups
            return ActionOutcome.done({"status": "complete"})

    async def scenario() -> list[InboxRecord]:
        async with inbox(dispatch_db_url) as db:
            ids = [await add(db, {"kind": "none"}) for _ in range(300)]
            config = fast(concurrency=32, poll_interval_seconds=POLL_SECONDS)
            dispatcher = Dispatcher(db, config, actions=Quick(None))
            await dispatcher.start()
            try:
                async with asyncio.timeout(60):
                    while await count_done(db) < len(ids):
                        await asyncio.sleep(0.02)
            finally:
                await dispatcher.stop()
            return [await get(db, rid) for rid in ids]

    records = asyncio.run(scenario())
    assert sorted(performed) == sorted(r.id for r in records)  # each once
    assert {(r.status, r.attempts, r.lease_owner) for r in records} == {("done", 1, None)}
