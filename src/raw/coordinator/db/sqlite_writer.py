"""The SQLite writer of the kit's busiest transactions: statements in place, COMMIT off the loop.

Through aiosqlite every statement, fetch and commit of a transaction is a trip from
the event loop to aiosqlite's thread and back: a group-commit transaction of the
webhook routes made ~23 such trips (measured: benchmarks/README.md, webhook_ingest).
On a busy machine each trip waits for a time slice, and the single SQLite writer
waits with it. Running the whole transaction on a thread of its own instead (tried:
two trips a transaction) moved its Python work (SQLAlchemy, the handlers) onto a
second thread that then queued for the GIL and for a core against the event loop,
and was slower than aiosqlite on the busy machine (benchmarks/README.md).

So this writer keeps the transaction's Python work on the event loop, where it was,
and runs SQLite's calls in place: they work on pages in memory and take
microseconds. Only the two calls that can wait go to a thread of their own, as
one trip each: ``COMMIT`` (the fsync of SQLite's write-ahead log; ``synchronous`` is
left at SQLite's default, FULL, so a transaction is on disk when ``COMMIT`` returns)
and, when another process holds the write lock, ``BEGIN IMMEDIATE`` (which then
waits on the busy timeout). ``BEGIN IMMEDIATE`` is tried in place first without
waiting; it gets the lock at once unless another process holds it. Meanwhile the
event loop serves other requests.

It is the ``sqlite+raw_inplace`` dialect: pysqlite, declared async so that
SQLAlchemy's asyncio API (``AsyncSession``) drives it, its calls completing at once
but for those two. One connection (a ``StaticPool``), used by one transaction at a
time: :meth:`raw.coordinator.db.database.Database.run_write` takes the database's
write turn around each.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, Connection, Engine

# Made through the module's attribute, looked up at each call, as the kit's other engines:
# SQLAlchemy's OpenTelemetry instrumentation (raw.tracing, when on) wraps that function.
from sqlalchemy.ext import asyncio as sqlalchemy_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import StaticPool
from sqlalchemy.util import await_
from sqlalchemy.util.concurrency import in_greenlet

__all__ = ["inplace_engine", "sqlite_pragmas"]

T = TypeVar("T")

_WAITS = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="raw-sqlite")
"""The thread the in-place writers' commits (and waiting BEGINs) run on."""


def sqlite_pragmas(engine: Engine, *, busy_timeout_seconds: float, immediate: bool) -> None:
    """WAL, a busy timeout and foreign keys on every connection; our own BEGIN.

    The driver's implicit BEGIN is turned off so a write transaction can start with
    ``BEGIN IMMEDIATE`` (it takes the write lock at once, waiting on the busy timeout,
    rather than failing when a read turns into a write) and DDL is transactional.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        _setup(dbapi_connection, busy_timeout_seconds)

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _setup(dbapi_connection: Any, busy_timeout_seconds: float) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_seconds * 1000)}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


# -- the driver: sqlite3 in place, under SQLAlchemy's asyncio API


async def _at_once() -> None:
    return None


def _yield_once() -> None:
    # SQLAlchemy's AsyncConnection.execute insists that the driver awaited something;
    # an awaitable that is already done satisfies it at the cost of a greenlet switch.
    if in_greenlet():
        await_(_at_once())


class _Cursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        _yield_once()
        super().execute(sql, parameters)
        return self

    def executemany(self, sql: str, parameters: Any, /) -> _Cursor:
        _yield_once()
        super().executemany(sql, parameters)
        return self

    async def _async_soft_close(self) -> None:
        """What SQLAlchemy's asyncio results call on an async driver's cursor: rows stay."""


class _Connection(sqlite3.Connection):
    busy_timeout_ms = 0
    """The busy timeout a waiting ``BEGIN IMMEDIATE`` gets, on the thread; in place: none."""

    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)


async def _through(future: concurrent.futures.Future[T]) -> T:
    """The thread's call's result. If cancelled meanwhile, the call still ends first (the
    connection is never used by two threads at once); then the cancellation goes on."""
    waiting = asyncio.wrap_future(future)
    cancelled = False
    while not waiting.done():
        try:
            await asyncio.shield(waiting)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return waiting.result()


def _on_thread(call: Callable[[], T]) -> T:
    """``call()`` on the writers' thread; the event loop runs meanwhile."""
    return await_(_through(_WAITS.submit(call)))


def _begin_waiting(connection: _Connection) -> None:
    connection.execute(f"PRAGMA busy_timeout = {connection.busy_timeout_ms}")
    try:
        connection.execute("BEGIN IMMEDIATE")
    finally:
        connection.execute("PRAGMA busy_timeout = 0")


def sqlite_busy(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY (any of its extended codes): another connection holds the lock."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return "locked" in str(exc)
    return bool(code & 0xFF == sqlite3.SQLITE_BUSY)


class InPlaceDialect(SQLiteDialect_pysqlite):
    """pysqlite under the asyncio API: statements in place, COMMIT (and a BEGIN that
    must wait for another process) on a thread."""

    driver = "raw_inplace"
    is_async = True
    supports_statement_cache = True

    def do_begin(self, dbapi_connection: Any) -> None:
        try:
            dbapi_connection.execute("BEGIN IMMEDIATE")  # busy timeout 0: never waits here
        except sqlite3.OperationalError as exc:
            if not sqlite_busy(exc):
                raise
            _on_thread(lambda: _begin_waiting(dbapi_connection))

    def do_commit(self, dbapi_connection: Any) -> None:
        if dbapi_connection.in_transaction:
            _on_thread(dbapi_connection.commit)


registry.register("sqlite.raw_inplace", __name__, "InPlaceDialect")


def inplace_engine(url: URL, *, busy_timeout_seconds: float) -> AsyncEngine:
    """The in-place writer's engine for the SQLite file of ``url``."""
    engine = sqlalchemy_asyncio.create_async_engine(
        url.set(drivername="sqlite+raw_inplace"),
        poolclass=StaticPool,  # one connection, one transaction at a time
        connect_args={"check_same_thread": False, "factory": _Connection},
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        _setup(dbapi_connection, busy_timeout_seconds)
        dbapi_connection.busy_timeout_ms = int(busy_timeout_seconds * 1000)
        dbapi_connection.execute("PRAGMA busy_timeout = 0")

    return engine
