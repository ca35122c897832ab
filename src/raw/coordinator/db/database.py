"""The kit's database: where it is, how to talk to it, and its migrations.

SQLite (a file under ``.raw/``) is the embedded default; PostgreSQL (psycopg 3)
is the production choice. The URL comes from ``DATABASE_URL``, else
``system.coordinator.database_url``, else ``sqlite+aiosqlite:///<project>/.raw/coordinator.db``.

SQLite takes one writer at a time, and writers that queue on its busy timeout
get slow answers (p99 ~580 ms against ~50 ms with one writer, measured). So on
SQLite every write transaction (:meth:`Database.write`) goes through one
connection, in turn, and starts with ``BEGIN IMMEDIATE`` so a writer in another
process is waited for instead of failing halfway; reads (:meth:`Database.read`)
use a small pool of their own and, in WAL mode, never block the writer. The
kit's busiest writers (webhook ingest, the dispatcher) hand a whole transaction
to :meth:`Database.run_write`, which on a SQLite file runs it on a connection of
its own whose statements run in place and whose ``COMMIT`` alone goes to a thread
(:mod:`raw.coordinator.db.sqlite_writer`), taking its turn with
:meth:`Database.write`'s. On PostgreSQL all are ordinary transactions
from one pool.

PostgreSQL over TLS takes libpq's settings (``sslmode``, ``sslrootcert``, ``sslcert``,
``sslkey``) from the URL's query, from ``system.coordinator.database_tls``
(:mod:`raw.config.database`, added to the URL by :func:`database_url`) or from libpq's
``PGSSL*`` variables; the async engine and every synchronous one (the run index,
migrations) connect through the same URL, so with the same settings.

The kit's tables are migrated by the Alembic revisions shipped in
``raw/coordinator/db/migrations`` (:func:`upgrade`), recorded in their own version
table (``raw_alembic_version``), so a system keeps its own Alembic migrations
beside them.

Errors (all :class:`raw.errors.RawError`)::

    DatabaseError
    ├── DatabaseURLError          the URL cannot be used (exit 2)
    └── DatabaseUnavailableError  the database cannot be reached (exit 4)
        └── DatabaseTLSError      a TLS setting does not fit the server: the wrong CA,
                                  a host the certificate does not name, a missing
                                  client certificate (exit 4; the message names the
                                  setting to change)
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)

# Engines are made through the module's attribute, looked up at each call: SQLAlchemy's
# OpenTelemetry instrumentation (raw.tracing, when on) wraps that function.
from sqlalchemy.ext import asyncio as sqlalchemy_asyncio
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)
from sqlalchemy.pool import StaticPool

from raw.coordinator.db.heads import at_head, kit_head
from raw.coordinator.db.sqlite_writer import inplace_engine, sqlite_busy, sqlite_pragmas
from raw.coordinator.db.tls import explain
from raw.coordinator.db.urls import DatabaseError, DatabaseURLError, database_url, normalize_url
from raw.errors import ServiceUnreachableError
from raw.redact import redact_url

if TYPE_CHECKING:
    from alembic.config import Config


__all__ = [
    "VERSION_TABLE",
    "Database",
    "DatabaseError",
    "DatabaseTLSError",
    "DatabaseURLError",
    "DatabaseUnavailableError",
    "current_revision",
    "database_away",
    "database_url",
    "head_revision",
    "normalize_url",
    "redact_url",
    "sqlite_pragmas",
    "unavailable_error",
    "upgrade",
]

VERSION_TABLE = "raw_alembic_version"
"""The kit's Alembic version table; a system's own migrations keep ``alembic_version``."""

T = TypeVar("T")

_MIGRATION_LOCK = 0x7261775F6462  # "raw_db": one migrating process at a time on PostgreSQL


class DatabaseUnavailableError(DatabaseError, ServiceUnreachableError):
    def __init__(self, url: str, reason: str) -> None:
        self.url = redact_url(url)
        self.reason = reason
        super().__init__(
            f"The database at '{self.url}' cannot be reached: {reason}. Check that it is "
            "running and that the URL, user and password are right."
        )


class DatabaseTLSError(DatabaseUnavailableError):
    """The TLS connection failed on a setting: the message says which one and how to fix it."""

    def __init__(self, url: str, reason: str, *, setting: str, fix: str) -> None:
        self.url = redact_url(url)
        self.reason = reason
        self.setting = setting
        self.fix = fix
        DatabaseError.__init__(
            self, f"The database at '{self.url}' refused the TLS connection: {reason}. {fix}"
        )


def unavailable_error(url: str, exc: BaseException) -> DatabaseUnavailableError:
    """The error for a connection that failed with ``exc``: a TLS setting to fix, or away."""
    cause: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig else exc
    problem = explain(str(cause), url) if url else None
    if problem is not None:
        return DatabaseTLSError(url, problem.reason, setting=problem.setting, fix=problem.fix)
    return DatabaseUnavailableError(url, failure_reason(exc, url))


def database_away(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached, not that a statement was
    wrong: a refused or dropped connection, a server shutting down, a busy SQLite file."""
    if isinstance(exc, DatabaseUnavailableError | OSError):
        return True
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(
            exc, OperationalError | InterfaceError
        )
    return False


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise DatabaseURLError(url, str(exc).rstrip(".")) from None


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (None for an in-memory database or another dialect)."""
    parsed = _parse(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    name = parsed.database or ""
    if name in ("", ":memory:") or name.startswith("file:"):
        return None
    return Path(name)


def failure_reason(exc: BaseException, url: str = "") -> str:
    """One line saying why a database call failed, never with the URL's password in it."""
    cause: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig else exc
    lines = str(cause).strip().splitlines()
    reason = (lines[0] if lines else "") or type(cause).__name__
    password = _parse(url).password if url else None
    if password:
        reason = reason.replace(str(password), "***")
    return reason.rstrip(".")


# -- engines


class Database:
    """The kit's async database: ``read()``/``session()`` and serialised ``write()`` transactions.

    One ``Database`` belongs to one event loop at a time; ``await dispose()`` when done
    (or use it as ``async with Database(url) as db``).
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 10,
        pool_pre_ping: bool = True,
        busy_timeout_seconds: float = 30.0,
        connect_timeout_seconds: float = 10.0,
    ) -> None:
        self.url = normalize_url(url)
        parsed = _parse(self.url)
        self.dialect: str = parsed.get_backend_name()
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._serialise_reads = False
        self._inplace: AsyncEngine | None = None
        try:
            if self.dialect == "sqlite":
                self.engine, self._write_engine = self._sqlite_engines(
                    parsed, pool_size, busy_timeout_seconds
                )
            else:
                connect_args: dict[str, Any] = {}
                if "connect_timeout" not in parsed.query:
                    connect_args["connect_timeout"] = max(1, int(connect_timeout_seconds))
                self.engine = sqlalchemy_asyncio.create_async_engine(
                    self.url,
                    pool_size=pool_size,
                    max_overflow=max_overflow,
                    pool_pre_ping=pool_pre_ping,
                    connect_args=connect_args,
                )
                self._write_engine = self.engine
        except NoSuchModuleError as exc:
            raise DatabaseURLError(self.url, str(exc).rstrip(".")) from None
        self._read_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = async_sessionmaker(self._write_engine, expire_on_commit=False)

    def _sqlite_engines(
        self, parsed: URL, pool_size: int, busy_timeout_seconds: float
    ) -> tuple[AsyncEngine, AsyncEngine]:
        def setup(engine: AsyncEngine, immediate: bool) -> AsyncEngine:
            sqlite_pragmas(
                engine.sync_engine, busy_timeout_seconds=busy_timeout_seconds, immediate=immediate
            )
            return engine

        if sqlite_file(self.url) is None:  # in memory: one connection holds the database
            self._serialise_reads = True
            engine = sqlalchemy_asyncio.create_async_engine(parsed, poolclass=StaticPool)
            return setup(engine, True), engine
        reader = sqlalchemy_asyncio.create_async_engine(
            parsed, pool_size=min(pool_size, 5), max_overflow=0
        )
        writer = sqlalchemy_asyncio.create_async_engine(parsed, pool_size=1, max_overflow=0)
        self._inplace = inplace_engine(parsed, busy_timeout_seconds=busy_timeout_seconds)
        self._inplace_sessions = async_sessionmaker(self._inplace, expire_on_commit=False)
        return setup(reader, False), setup(writer, True)

    @property
    def safe_url(self) -> str:
        """The URL with its password hidden."""
        return redact_url(self.url)

    def __repr__(self) -> str:
        return f"Database({self.safe_url!r})"

    def _write_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction for reading; committed on exit, rolled back on error."""
        if self._serialise_reads:
            async with self._write_lock(), self._read_sessions() as session, session.begin():
                yield session
            return
        async with self._read_sessions() as session, session.begin():
            yield session

    session = read

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: on SQLite one at a time through one connection, in turn."""
        if self.dialect != "sqlite":
            async with self._write_sessions() as session, session.begin():
                yield session
            return
        async with self._write_lock(), self._write_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def write_connection(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection in a write transaction (the same turn-taking as :meth:`write`)."""
        if self.dialect != "sqlite":
            async with self._write_engine.begin() as conn:
                yield conn
            return
        async with self._write_lock(), self._write_engine.begin() as conn:
            yield conn

    async def run_write(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """``await work(session)`` in a write transaction; its result once committed.

        The same turn-taking as :meth:`write`. On a SQLite file the transaction runs on
        the in-place writer (:mod:`raw.coordinator.db.sqlite_writer`): its statements on
        the event loop, without a trip to a thread each, and only its ``COMMIT`` (the
        fsync) on a thread, so ``work`` should run short statements (the kit's are
        bounded batches). Elsewhere it is ``async with write() as session``.
        """
        if self._inplace is None:
            async with self.write() as session:
                return await work(session)
        async with self._write_lock(), self._inplace_sessions() as session, session.begin():
            return await work(session)

    async def ping(self, *, timeout_seconds: float = 5.0) -> None:
        """Check the database answers; raises :class:`DatabaseUnavailableError` naming why."""
        path = sqlite_file(self.url)
        if path is not None and not path.parent.is_dir():
            raise DatabaseUnavailableError(self.url, f"the folder {path.parent} does not exist")
        try:
            async with asyncio.timeout(timeout_seconds), self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except TimeoutError:
            raise DatabaseUnavailableError(
                self.url, f"no answer within {timeout_seconds:g} seconds"
            ) from None
        except (OSError, SQLAlchemyError) as exc:
            if path is not None:
                # aiosqlite stops its thread after a failed connect and answers on this loop:
                # give it the moment, or it answers a closed loop after asyncio.run ends.
                await asyncio.sleep(0.05)
            raise unavailable_error(self.url, exc) from None

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        if self._write_engine is not self.engine:
            await self._write_engine.dispose()
        if self._inplace is not None:
            await self._inplace.dispose()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.dispose()


# -- migrations


def _alembic_config() -> Config:
    # Lazy: alembic loads only to migrate, not for every use of the database.
    from alembic.config import Config

    config = Config()
    location = resources.files("raw.coordinator.db").joinpath("migrations")
    config.set_main_option("script_location", str(location))
    return config


def head_revision() -> str | None:
    """The newest of the kit's shipped revisions."""
    # Lazy: alembic loads only to migrate, not for every use of the database.
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def _current(connection: Connection) -> str | None:
    # Lazy: alembic loads only to migrate, not for every use of the database.
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def _upgrade(connection: Connection, revision: str) -> str | None:
    """Upgrade to ``revision``; returns the revision now. At head already: no Alembic."""
    if revision == "head":
        head = kit_head()
        if at_head(connection, VERSION_TABLE, head):
            return head
    # Lazy: alembic loads only to migrate, not for every use of the database.
    from alembic import command

    config = _alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
    return _current(connection)


@asynccontextmanager
async def _using(target: Database | str) -> AsyncIterator[Database]:
    if isinstance(target, Database):
        yield target
        return
    db = Database(target, pool_size=1, max_overflow=0)
    try:
        yield db
    finally:
        await db.dispose()


async def _run(
    db: Database,
    work: Callable[[AsyncConnection], Awaitable[Any]],
    *,
    write: bool,
    busy_retries: int = 0,
) -> Any:
    """Run ``work`` on a connection; failures become the kit's database errors.

    With ``busy_retries``, a SQLite "database is locked" that the busy timeout did not
    absorb runs ``work`` again (in a new transaction), that many times at most.
    """
    for attempt in range(busy_retries + 1):
        try:
            if write:
                async with db.write_connection() as conn:
                    return await work(conn)
            async with db.engine.connect() as conn:
                return await work(conn)
        except OperationalError as exc:
            if attempt < busy_retries and _sqlite_busy(exc):
                await asyncio.sleep(0.05 * (attempt + 1))
                continue
            raise unavailable_error(db.url, exc) from None
        except (OSError, TimeoutError, InterfaceError) as exc:
            raise unavailable_error(db.url, exc) from None
        except SQLAlchemyError as exc:
            raise DatabaseError(
                f"The database at '{db.safe_url}' answered with an error: "
                f"{failure_reason(exc, db.url)}."
            ) from None
    raise AssertionError("unreachable: the last attempt returns or raises")


def _sqlite_busy(exc: OperationalError) -> bool:
    """SQLITE_BUSY: another connection held a lock past what the busy timeout waited."""
    return isinstance(exc.orig, sqlite3.OperationalError) and sqlite_busy(exc.orig)


async def upgrade(target: Database | str, *, revision: str = "head") -> str | None:
    """Migrate the kit's tables to ``revision`` (default: the newest); returns the revision now.

    Safe to run again and from several processes at once (PostgreSQL: an advisory lock;
    SQLite: the write lock). A SQLite file's folder is created if missing.
    """
    async with _using(target) as db:
        path = sqlite_file(db.url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

        async def migrate(conn: AsyncConnection) -> str | None:
            if db.dialect == "postgresql":
                await conn.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})"))
            current: str | None = await conn.run_sync(_upgrade, revision)
            return current

        # Two processes starting on a new SQLite file at once (raw serve and raw
        # dispatcher under raw up) race to create it and turn WAL on; under load one
        # could see "database is locked" despite the busy timeout. The migration is
        # one transaction and idempotent, so it simply runs again.
        retries = _UPGRADE_BUSY_RETRIES if db.dialect == "sqlite" else 0
        result: str | None = await _run(db, migrate, write=True, busy_retries=retries)
        return result


_UPGRADE_BUSY_RETRIES = 5
"""How often a SQLite migration that met another process's lock runs again."""


async def current_revision(target: Database | str) -> str | None:
    """The kit's revision the database is at (None before the first upgrade)."""
    async with _using(target) as db:
        path = sqlite_file(db.url)
        if path is not None and not path.exists():
            return None  # asking must not create the file

        async def read(conn: AsyncConnection) -> str | None:
            current: str | None = await conn.run_sync(_current)
            return current

        result: str | None = await _run(db, read, write=False)
        return result
