"""Storing accepted deliveries: delivery row, entity change and inbox record, committed together.

A delivery that passed its route's checks (:mod:`raw.coordinator.webhooks`) is
handed to the app's :class:`DeliveryStore`, which answers only once the delivery
is committed. Deliveries arriving together share one write transaction (group
commit, :mod:`raw.coordinator.db.group_commit`), written in a fixed number of
statements whatever their count:

1. the delivery rows, one ``INSERT ... ON CONFLICT (route, delivery_key) DO
   NOTHING RETURNING``: the unique key, not a look-up beforehand, decides which
   copy of a delivery is the first, also against other processes;
2. only for keys that were already stored (repeats): their first answers;
3. each new delivery's ``handler`` (its entity change), in arrival order, with
   the transaction's session and the stored delivery row;
4. the entity keys the handlers returned, and the inbox records (none for a
   delivery its handler answered with :class:`Ignored`: it is stored with a 200
   ``ignored`` answer instead, and nothing acts on it).

Dispatchers learn of the new records at once (:mod:`raw.coordinator.db.wakeup`): on
PostgreSQL the transaction ends with ``NOTIFY raw_inbox``, and once it has committed
the dispatchers of this process are woken.

The transaction is one call to :meth:`Database.run_write`: on SQLite its
statements run in place and only its ``COMMIT`` goes to a thread
(:mod:`raw.coordinator.db.sqlite_writer`), instead of a trip to aiosqlite's thread
for each statement.

Copies of one delivery inside a batch are answered with the first one's answer
once it is committed. If the shared transaction fails (a handler raises), each
delivery is written again in a transaction of its own, so only the failing one
is refused and nothing of it remains.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from raw import clock
from raw.coordinator.db.group_commit import GroupCommit
from raw.coordinator.db.models import Delivery, InboxRecord, KitBase
from raw.coordinator.db.wakeup import inbox_bell, notify_due
from raw.coordinator.errors import database_available
from raw.tracing import trace_id_of

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncSession

    from raw.config.coordinator import WebhookConfig
    from raw.coordinator.db.database import Database

__all__ = ["KEY_COLUMN", "Accepted", "Answer", "DeliveryStore", "Ignored"]

KEY_COLUMN = 300  # raw_inbox.idempotency_key and raw_webhook_deliveries.delivery_key

Answer = tuple[int, dict[str, Any], bool]
"""(status, JSON body, whether the delivery was a repeat)."""

_Ids = dict[tuple[str, str], int]
_Answers = dict[tuple[str, str], tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class Ignored:
    """What a handler returns to take a delivery in without acting on it.

    The delivery is stored and answered ``200 {"status": "ignored", "reason": ...}``
    (a sender stops retrying on a 2xx), its repeats get that answer, and no inbox
    record is written: no workflow runs, no process is started or signalled. The
    operator page lists it with its reason, and the ``ignored`` metric counts it.
    """

    reason: str
    """A sentence for the operator (and the sender): why nothing was done."""
    entity_key: str | None = None
    """The entity it concerned, kept on the delivery like a handler's returned key."""


Handler = Callable[["AsyncSession", Any, "Delivery"], Awaitable[str | None] | str | None]
"""``await handler(session, body, delivery)``: the user's entity change; returns an entity key."""


class Route(Protocol):
    """What storing a delivery needs of its route: a ``webhooks.WebhookRoute`` fits."""

    @property
    def name(self) -> str: ...

    @property
    def config(self) -> WebhookConfig: ...

    @property
    def handler(self) -> Handler | None: ...

    @property
    def process_type(self) -> str | None: ...

    @property
    def action_json(self) -> dict[str, Any]: ...

    def answer(
        self, key: str, correlation_id: str, target: str | None, *, ignored: str | None = None
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Accepted:
    """A delivery that passed every check of its route, to be stored."""

    route: Route
    key: str
    validated: Any
    """The body as the handler gets it: the route's model instance, or the plain data."""
    payload: dict[str, Any]
    """The body's JSON form, the inbox record's payload."""
    body: str
    """The raw body, as kept on the delivery."""
    target: str | None
    received_at: datetime
    traceparent: str | None = None
    """The W3C traceparent of the route's span (tracing on): the dispatcher's parent."""


class DeliveryStore:
    """Stores the deliveries of one app's routes; one per app, used on one event loop."""

    def __init__(self, db: Callable[[], Database]) -> None:
        self._db = db
        self._group: GroupCommit[Accepted, Answer] = GroupCommit(
            self._write, max_batch=100, name="store deliveries"
        )

    async def store(self, delivery: Accepted) -> Answer:
        """Store ``delivery`` (or find its first answer); its answer once committed."""
        async with database_available(self._db()):
            return await self._group.submit(delivery)

    async def _write(self, batch: Sequence[Accepted]) -> list[Answer]:
        db = self._db()
        firsts: dict[tuple[str, str], Accepted] = {}
        for delivery in batch:
            firsts.setdefault((delivery.route.name, delivery.key), delivery)
        # The same order in every transaction: two processes inserting the same keys
        # wait for each other instead of deadlocking.
        keys = sorted(firsts)
        rows = {key: _delivery_row(firsts[key]) for key in keys}

        async def transaction(session: AsyncSession) -> tuple[_Ids, _Answers, bool]:
            answers: _Answers = {}
            ids = await _insert_deliveries(session, db.dialect, [rows[key] for key in keys])
            answers.update(await _first_answers(session, [key for key in keys if key not in ids]))
            now = clock.now()
            inbox: list[dict[str, Any]] = []
            entities: list[dict[str, Any]] = []
            ignored: list[dict[str, Any]] = []
            for delivery in batch:
                key = (delivery.route.name, delivery.key)
                if key not in ids or key in answers:
                    continue
                row = rows[key]
                outcome = await _run_handler(session, delivery, ids[key], row)
                if isinstance(outcome, Ignored):
                    answer = delivery.route.answer(
                        delivery.key, row["correlation_id"], None, ignored=outcome.reason
                    )
                    answers[key] = (200, answer)
                    ignored.append({"b_id": ids[key], "b_response": answer})
                    entity = _entity(outcome.entity_key)
                else:
                    answers[key] = (202, row["response"])
                    inbox.append(_inbox_row(delivery, ids[key], row, now))
                    entity = _entity(outcome)
                if entity is not None:
                    entities.append({"b_id": ids[key], "b_entity": entity})
            await _finish(session, entities, inbox, ignored)
            if inbox:
                await notify_due(session, db.dialect)
            return ids, answers, bool(inbox)

        # One call for the whole transaction (on SQLite: one trip to a thread, the COMMIT).
        ids, answers, queued = await db.run_write(transaction)
        if queued:  # committed: wake this process's dispatchers now, not at their next poll
            inbox_bell(db).ring()
        results: list[Answer] = []
        answered: set[tuple[str, str]] = set()
        for delivery in batch:
            key = (delivery.route.name, delivery.key)
            status, body = answers[key]
            results.append((status, body, key not in ids or key in answered))
            answered.add(key)
        return results


def _table(model: type[KitBase]) -> Table:
    """The model's table, for Core statements (no ORM work per row)."""
    return cast("Table", model.__table__)


def _delivery_row(delivery: Accepted) -> dict[str, Any]:
    route = delivery.route
    correlation_id = uuid.uuid4().hex
    answer = route.answer(delivery.key, correlation_id, delivery.target)
    return {
        "route": route.name,
        "delivery_key": delivery.key,
        "correlation_id": correlation_id,
        "received_at": delivery.received_at,
        "scheme": route.config.scheme,
        "status_code": 202,
        "response": answer,
        "body": delivery.body,
    }


def _inbox_row(
    delivery: Accepted, delivery_id: int, row: dict[str, Any], now: datetime
) -> dict[str, Any]:
    route = delivery.route
    return {
        "delivery_id": delivery_id,
        "route": route.name,
        "action": route.action_json,
        "payload": delivery.payload,
        "idempotency_key": f"{route.name}:{delivery.key}",
        "correlation_id": row["correlation_id"],
        "target_process_id": delivery.target if route.process_type is not None else None,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
        "traceparent": delivery.traceparent,
        "trace_id": trace_id_of(delivery.traceparent),
    }


async def _insert_deliveries(
    session: AsyncSession, dialect: str, rows: list[dict[str, Any]]
) -> _Ids:
    """Insert the rows whose key is new; the ids of those inserted, by key."""
    table = _table(Delivery)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .on_conflict_do_nothing(index_elements=["route", "delivery_key"])
        .returning(table.c.id, table.c.route, table.c.delivery_key)
    )
    result = await session.execute(statement, rows)
    return {(route, key): int(rid) for rid, route, key in result.all()}


async def _first_answers(session: AsyncSession, keys: list[tuple[str, str]]) -> _Answers:
    """The stored answers of deliveries already committed (repeats)."""
    if not keys:
        return {}
    found: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    for route in sorted({route for route, _ in keys}):
        rows = await session.execute(
            select(Delivery.delivery_key, Delivery.status_code, Delivery.response).where(
                Delivery.route == route,
                Delivery.delivery_key.in_([key for name, key in keys if name == route]),
            )
        )
        for key, status, response in rows:
            found[(route, key)] = (int(status), dict(response))
    missing = [key for key in keys if key not in found]
    if missing:  # it conflicted, so it was there: only an erasure at that instant explains it
        raise RuntimeError(f"deliveries {missing} were stored, then vanished; send them again")
    return found


async def _run_handler(
    session: AsyncSession, delivery: Accepted, delivery_id: int, row: dict[str, Any]
) -> Any:
    """The route's entity change; what it returns (an entity key, None or :class:`Ignored`)."""
    handler = delivery.route.handler
    if handler is None:
        return None
    outcome = handler(session, delivery.validated, Delivery(id=delivery_id, **row))
    if inspect.isawaitable(outcome):
        outcome = await outcome
    return outcome


def _entity(key: Any) -> str | None:
    """An entity key as stored: text, cut to fit its column."""
    return None if key is None else str(key)[:KEY_COLUMN]


async def _finish(
    session: AsyncSession,
    entities: list[dict[str, Any]],
    inbox: list[dict[str, Any]],
    ignored: list[dict[str, Any]],
) -> None:
    table = _table(Delivery)
    if ignored:  # their first answer, the one their repeats get
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(status_code=200, response=bindparam("b_response")),
            ignored,
        )
    if entities:
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(entity_key=bindparam("b_entity")),
            entities,
        )
    if inbox:
        await session.execute(insert(_table(InboxRecord)), inbox)
