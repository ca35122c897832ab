"""The dispatcher's statements on ``raw_inbox``: claim, renew, end and release records.

Core statements on the table, built once per dispatcher with bound parameters,
so a busy dispatcher spends no time building, hashing or running ORM machinery
per record: claiming is two statements for a whole batch, and the ends of a
batch are one look-up plus one ``executemany`` per kind of end. Every write is
conditional on the record still being held by the dispatcher (``in_progress``
under its ``lease_owner``) or, for a claim, still being due.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Integer, String, and_, bindparam, select, update

from raw.coordinator.db.models import InboxRecord, UTCDateTime
from raw.coordinator.db.wakeup import notify_due

if TYPE_CHECKING:
    from sqlalchemy import Select, Table, Update
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["CLAIMED_COLUMNS", "InboxStatements"]

TABLE = cast("Table", InboxRecord.__table__)
CLAIMED_COLUMNS = (
    "id",
    "route",
    "action",
    "payload",
    "idempotency_key",
    "correlation_id",
    "target_process_id",
    "attempts",
    "traceparent",
)
"""What a claim reads of each record (the fields of ``InboxItem``, in order)."""


def _now() -> Any:
    return bindparam("now", type_=UTCDateTime())


def _held() -> Any:
    """The record is still this dispatcher's: in progress under its lease."""
    return and_(TABLE.c.status == "in_progress", TABLE.c.lease_owner == bindparam("owner"))


def _owned(ids: str = "ids") -> Any:
    return and_(TABLE.c.id.in_(bindparam(ids, expanding=True)), _held())


class InboxStatements:
    """The statements of one dispatcher; ``dialect`` picks row locking on PostgreSQL."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.locking = dialect == "postgresql"
        t = TABLE
        pending = and_(t.c.status == "pending", t.c.next_attempt_at <= _now())
        expired = and_(t.c.status == "in_progress", t.c.lease_expires_at <= _now())
        # Pending and expired records are taken by separate statements: one of the OR
        # above cannot follow the index on (status, next_attempt_at), and then sorts the
        # whole backlog on every claim (8.7 ms a pick with 5,000 pending, measured).
        limit = bindparam("limit", type_=Integer())
        claim = {
            "status": "in_progress",
            "lease_owner": bindparam("owner"),
            "lease_expires_at": bindparam("expires", type_=UTCDateTime()),
            "attempts": t.c.attempts + 1,
            "updated_at": _now(),
        }
        claimed = [t.c[name] for name in CLAIMED_COLUMNS]
        oldest = select(t.c.id).where(pending).order_by(t.c.next_attempt_at, t.c.id).limit(limit)
        if self.locking:
            # The queue's usual statement: the CTE runs once (materialised), so its LIMIT
            # holds, and the rows it locks, skipping those locked, are the ones taken.
            picked = oldest.with_for_update(skip_locked=True).cte("picked")
            picked = picked.prefix_with("MATERIALIZED")
            where = t.c.id == picked.c.id
        else:  # SQLite: one writer at a time, the subquery's rows cannot change meanwhile
            where = t.c.id.in_(oldest.scalar_subquery())
        self.take_pending: Update = update(t).where(where).values(claim).returning(*claimed)
        """Take the ``limit`` oldest pending records that are due."""
        self.pick_expired: Select[Any] = self._locked(
            select(t.c.id, t.c.status, t.c.attempts)
            .where(expired)
            .order_by(t.c.lease_expires_at, t.c.id)
            .limit(limit)
        )
        chosen = t.c.id.in_(bindparam("ids", expanding=True))
        # The records ``ids`` were picked as expired, so the statements that take them
        # re-check that they still are (safe without row locks too), in a form no index
        # serves (``status || ''``): the primary key is the one way in. An OR with the
        # pending condition made SQLite's planner (no statistics) read every due record
        # through the (status, next_attempt_at) index on each take; given a plain
        # ``status = 'in_progress'``, PostgreSQL's planner took that index instead of the
        # key, and the take grew with the table (benchmarks/claim_growth.py).
        still_expired = and_(t.c.status.concat("") == "in_progress", t.c.lease_expires_at <= _now())
        self.take: Update = update(t).where(chosen, still_expired).values(claim).returning(*claimed)
        """Take the records ``ids`` (picked as expired before), if their leases still are."""
        self.bury: Update = (
            update(t)
            .where(chosen, still_expired)
            .values(
                status="dead",
                lease_owner=None,
                lease_expires_at=None,
                updated_at=_now(),
                last_error=bindparam("error", type_=String()),
            )
        )
        self.renew: Update = (
            update(t)
            .where(_owned())
            .values(lease_expires_at=bindparam("expires", type_=UTCDateTime()), updated_at=_now())
            .returning(t.c.id)
        )
        held = select(t.c.id).where(_owned())
        self.held: Select[Any] = held.with_for_update() if self.locking else held
        self._ends: dict[tuple[str, ...], Update] = {}

    def _locked(self, pick: Select[Any]) -> Select[Any]:
        """On PostgreSQL, lock the rows picked and skip those another dispatcher holds."""
        return pick.with_for_update(skip_locked=True) if self.locking else pick

    def end(self, columns: Sequence[str]) -> Update:
        """``UPDATE`` of a held record's ``columns`` (parameters ``b_<column>``, ``b_id``)."""
        key = tuple(sorted(columns))
        statement = self._ends.get(key)
        if statement is None:
            statement = self._ends[key] = (
                update(TABLE)
                .where(TABLE.c.id == bindparam("b_id"), _held())
                .values({name: bindparam(f"b_{name}", type_=TABLE.c[name].type) for name in key})
            )
        return statement

    async def write_ends(
        self, session: AsyncSession, owner: str, ends: Sequence[tuple[int, dict[str, Any]]]
    ) -> set[int]:
        """Write each ``(record id, column values)`` still held by ``owner``; the ids written.

        The ends of one kind (the same columns) go in one ``executemany``.
        """
        ids = [rid for rid, _ in ends]
        rows = await session.execute(self.held, {"ids": ids, "owner": owner})
        held = {int(rid) for (rid,) in rows}
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for rid, values in ends:
            if rid in held:
                params = {f"b_{name}": value for name, value in values.items()}
                params.update(b_id=rid, owner=owner)
                shapes.setdefault(tuple(sorted(values)), []).append(params)
        for columns, params_list in shapes.items():
            await session.execute(self.end(columns), params_list)
        return held

    async def release(
        self,
        session: AsyncSession,
        owner: str,
        record_id: int,
        now: datetime,
        error: str,
        *,
        attempts: int,
    ) -> None:
        """Give a held record back: ``pending``, due now, with ``attempts`` as its count."""
        values = {
            "status": "pending",
            "attempts": attempts,
            "lease_owner": None,
            "lease_expires_at": None,
            "next_attempt_at": now,
            "updated_at": now,
            "last_error": error,
        }
        if await self.write_ends(session, owner, [(record_id, values)]):
            await notify_due(session, self.dialect)  # another dispatcher may take it now

    async def wake_waiting(self, session: AsyncSession, waiting: str, now: datetime) -> int:
        """Make due now every pending record whose ``last_error`` starts with ``waiting``."""
        pattern = waiting.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        result = await session.execute(
            update(TABLE)
            .where(
                TABLE.c.status == "pending",
                TABLE.c.last_error.like(pattern, escape="\\"),
                TABLE.c.next_attempt_at > now,
            )
            .values(next_attempt_at=now, updated_at=now)
        )
        woken = int(getattr(result, "rowcount", 0) or 0)
        if woken:
            await notify_due(session, self.dialect)
        return woken
