"""SQLite's write transactions, each run whole on one writer thread in one hand-off.

Through aiosqlite every statement, fetch and commit of a transaction is a trip from
the event loop to aiosqlite's thread and back: a group-commit transaction of the
webhook routes made ~23 such trips (measured: benchmarks/README.md, webhook_ingest).
On a busy machine each trip waits for a time slice, and the single SQLite writer
waits with it. :class:`SQLiteWriter` instead runs the whole transaction, from
``BEGIN IMMEDIATE`` to ``COMMIT``, on one thread of its own, as the hand-written
route does in its thread pool: two thread switches per transaction, whatever it
holds.

The transaction's code keeps the asyncio API it has everywhere else: it runs as a
coroutine on the writer thread's own event loop with an
:class:`~sqlalchemy.ext.asyncio.AsyncSession` whose driver is the standard
``sqlite3`` module called in place (the ``sqlite+raw_writer`` dialect below: pysqlite
declared async, whose calls complete without waiting for anything). So a webhook
handler or an ``on_result`` hook gets the same session on SQLite as on PostgreSQL;
it runs on the writer thread, in the caller's context (``contextvars``: the clock,
tracing), and should await nothing but its session, as in any write transaction.

The connection is set up as the kit's other SQLite writers (:func:`sqlite_pragmas`:
WAL, the busy timeout, foreign keys, ``BEGIN IMMEDIATE``), with SQLite's default
``synchronous`` (FULL): a transaction is on disk when its result comes back.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import queue
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool
from sqlalchemy.util import await_
from sqlalchemy.util.concurrency import in_greenlet

__all__ = ["SQLiteWriter", "sqlite_pragmas"]

T = TypeVar("T")

Work = Callable[[AsyncSession], Awaitable[T]]
"""``await work(session)``: the statements of one write transaction; its result."""


def sqlite_pragmas(engine: Engine, *, busy_timeout_seconds: float, immediate: bool) -> None:
    """WAL, a busy timeout and foreign keys on every connection; our own BEGIN.

    The driver's implicit BEGIN is turned off so a write transaction can start with
    ``BEGIN IMMEDIATE`` (it takes the write lock at once, waiting on the busy timeout,
    rather than failing when a read turns into a write) and DDL is transactional.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_seconds * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# -- the driver: sqlite3, called in place under SQLAlchemy's asyncio API


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
    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)


class WriterDialect(SQLiteDialect_pysqlite):
    """pysqlite, declared async so that SQLAlchemy's asyncio API drives it in place."""

    driver = "raw_writer"
    is_async = True
    supports_statement_cache = True


registry.register("sqlite.raw_writer", __name__, "WriterDialect")


# -- the thread


class SQLiteWriter:
    """One SQLite file's write transactions, run one at a time on a thread of their own.

    The thread and its connection start with the first :meth:`run` and end with
    :meth:`close`. Callers serialise with the database's other writers themselves
    (:meth:`raw.coordinator.db.database.Database.run_write`); the thread runs what it is
    given in order.
    """

    def __init__(self, url: URL, *, busy_timeout_seconds: float) -> None:
        self._url = url.set(drivername="sqlite+raw_writer")
        self._busy_timeout_seconds = busy_timeout_seconds
        self._jobs: queue.SimpleQueue[tuple[Work[Any], contextvars.Context, Any] | None] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._stopped: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._start = threading.Lock()

    def submit(self, work: Work[T]) -> concurrent.futures.Future[T]:
        """Queue ``work`` to run in a transaction of its own, in the caller's context."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._start:
            if self._thread is None:
                self._stopped = concurrent.futures.Future()
                self._thread = threading.Thread(
                    target=self._serve, args=(self._stopped,), name="raw-sqlite-writer", daemon=True
                )
                self._thread.start()
        self._jobs.put((work, contextvars.copy_context(), future))
        return future

    async def close(self) -> None:
        """Finish what is queued, close the connection and end the thread."""
        with self._start:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._jobs.put(None)
            stopped = self._stopped
        await asyncio.wrap_future(stopped)

    def _serve(self, stopped: concurrent.futures.Future[None]) -> None:
        loop = asyncio.new_event_loop()
        engine = create_async_engine(
            self._url,
            poolclass=StaticPool,  # one connection: this thread's
            connect_args={"check_same_thread": False, "factory": _Connection},
        )
        sqlite_pragmas(
            engine.sync_engine, busy_timeout_seconds=self._busy_timeout_seconds, immediate=True
        )
        sessions = async_sessionmaker(engine, expire_on_commit=False)

        async def transaction(work: Work[Any]) -> Any:
            async with sessions() as session, session.begin():
                return await work(session)

        try:
            while (job := self._jobs.get()) is not None:
                work, context, future = job
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    task = loop.create_task(transaction(work), context=context)
                    result = loop.run_until_complete(task)
                except BaseException as exc:  # the caller's to handle, on its own loop
                    future.set_exception(exc)
                else:
                    future.set_result(result)
        finally:
            try:
                loop.run_until_complete(engine.dispose())
            finally:
                loop.close()
                stopped.set_result(None)
