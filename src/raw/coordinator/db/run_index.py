"""The RAW run index: every run, from any entry point, as a row of ``raw_runs``.

When a database is configured (``DATABASE_URL`` or ``system.coordinator.database_url``)
the runner's default recorder mirrors each manifest it writes to a
:class:`RunIndexSink` (see :func:`raw.workflow.recorder.default_mirrors`): once when
the run starts (``running``) and once when it ends, with the end of its log. So the
coordinator's API sees runs made by ``raw run``, by a Temporal worker or on another
machine.

The recorder interface is synchronous, so the sink writes through a synchronous
engine (one per URL, kept for the process). Indexing never fails or stops a run: a
database error is logged as a warning (once per problem) and the run goes on. Called
from a thread running an event loop, the sink hands the write to a background thread
(in order, joined at interpreter exit) so the loop is never blocked on the database.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, field_validator
from sqlalchemy import Engine, create_engine, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InterfaceError, OperationalError

from raw import clock
from raw.coordinator.db.database import (
    Database,
    DatabaseTLSError,
    failure_reason,
    normalize_url,
    redact_url,
    sqlite_file,
    sqlite_pragmas,
    unavailable_error,
)
from raw.coordinator.db.models import RunIndex

__all__ = ["LOG_TAIL_BYTES", "RunIndexSink", "RunRecord", "get_run", "list_runs", "sink_for"]

LOG_TAIL_BYTES = 4096
"""How much of the end of a run's log the index keeps."""

RETRY_AFTER_SECONDS = 30.0
"""After failing to reach the database, the sink skips writes for this long."""

_log = logging.getLogger(__name__)


# -- the sink (synchronous, never raises)

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
_warned: set[str] = set()


def sync_engine(url: str) -> Engine:
    """The process's synchronous engine for ``url`` (created once, then reused)."""
    url = normalize_url(url, sync=True)
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                engine = create_engine(url, pool_size=1, max_overflow=2)
                sqlite_pragmas(engine, busy_timeout_seconds=10.0, immediate=True)
            else:
                engine = create_engine(
                    url,
                    pool_size=2,
                    max_overflow=2,
                    pool_pre_ping=True,
                    connect_args={"connect_timeout": 5},
                )
            _engines[url] = engine
        return engine


def _warn_once(url: str, reason: str) -> None:
    key = f"{url}\n{reason}"
    if key in _warned:
        return
    _warned.add(key)
    _log.warning(
        "The run index at %s could not record a run (the run is not affected): %s",
        redact_url(url),
        reason,
    )


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def log_tail(path: str | Path | None, limit_bytes: int = LOG_TAIL_BYTES) -> str | None:
    """The last ``limit_bytes`` of a log, from a line start when one is near."""
    if not path:
        return None
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(max(0, size - limit_bytes))
            data = fh.read(limit_bytes)
    except OSError:
        return None
    if size > limit_bytes:
        newline = data.find(b"\n")
        if 0 <= newline < len(data) - 1:
            data = data[newline + 1 :]
    return data.decode("utf-8", errors="replace").replace("\x00", "")  # PostgreSQL text refuses NUL


def _clip(value: Any, length: int) -> str | None:
    return None if value is None else str(value)[:length]


def row_from_manifest(
    manifest: dict[str, Any], *, tail_bytes: int = LOG_TAIL_BYTES
) -> dict[str, Any]:
    """The ``raw_runs`` row for a run's manifest (the recorder's result document)."""
    timings = manifest.get("timings") or {}
    environment = manifest.get("environment") or {}
    error = manifest.get("error") or None
    status = str(manifest["status"])
    doc = json.loads(json.dumps(manifest, default=str))  # exactly what a JSON column holds
    return {
        "run_id": str(manifest["run_id"])[:64],
        "workflow": str(manifest["workflow"])[:100],
        "status": status[:20],
        "dry": bool(manifest.get("dry", False)),
        "started_at": _time(timings.get("started_at")) or clock.now(),
        "ended_at": _time(timings.get("ended_at")),
        "duration_ms": timings.get("duration_ms"),
        "entry_point": _clip(environment.get("entry_point"), 50),
        "host": _clip(environment.get("host"), 200),
        "correlation_id": _clip(manifest.get("correlation_id"), 64),
        "idempotency_key": _clip(manifest.get("idempotency_key"), 300),
        "error": (error.get("message") or error.get("type")) if isinstance(error, dict) else None,
        "manifest": doc,
        "log_tail": log_tail(manifest.get("log_path"), tail_bytes) if status != "running" else None,
        "trace_id": _clip(manifest.get("trace_id"), 32),
    }


def upsert_run(engine: Engine, row: dict[str, Any]) -> None:
    """Insert or update one run; a finished run is never set back to ``running``."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(RunIndex).values(**row)
    changes = {name: stmt.excluded[name] for name in row if name != "run_id"}
    stmt = stmt.on_conflict_do_update(
        index_elements=[RunIndex.run_id],
        set_=changes,
        where=or_(RunIndex.status == "running", stmt.excluded.status != "running"),
    )
    with engine.begin() as conn:
        conn.execute(stmt)


class _InOrder:
    """Runs submitted calls one after another on a non-daemon thread (joined at exit)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Callable[[], None]] = deque()
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()

    def submit(self, call: Callable[[], None]) -> None:
        with self._lock:
            self._queue.append(call)
            self._idle.clear()
            if self._thread is None:
                self._thread = threading.Thread(target=self._drain, name="raw-run-index")
                self._thread.start()

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._thread = None
                    self._idle.set()
                    return
                call = self._queue.popleft()
            call()

    @property
    def busy(self) -> bool:
        return not self._idle.is_set()

    def wait(self, timeout_seconds: float | None = None) -> bool:
        return self._idle.wait(timeout_seconds)


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class RunIndexSink:
    """A :class:`~raw.workflow.recorder.ManifestSink` upserting each manifest into ``raw_runs``."""

    def __init__(self, url: str, *, tail_bytes: int = LOG_TAIL_BYTES) -> None:
        self.url = normalize_url(url, sync=True)
        self.tail_bytes = tail_bytes
        self._writer = _InOrder()
        self._down_until = 0.0

    def __repr__(self) -> str:
        return f"RunIndexSink({redact_url(self.url)!r})"

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        try:
            row = row_from_manifest(manifest, tail_bytes=self.tail_bytes)
        except Exception as exc:  # a manifest we cannot read must not fail the run
            _warn_once(self.url, f"unreadable manifest: {exc!r}")
            return
        if self._writer.busy or _in_event_loop():
            self._writer.submit(lambda: self._write(row))
        else:
            self._write(row)

    def flush(self, timeout_seconds: float | None = 30.0) -> bool:
        """Wait for writes handed to the background thread; False if still busy."""
        return self._writer.wait(timeout_seconds)

    def _write(self, row: dict[str, Any]) -> None:
        if time.monotonic() < self._down_until:
            return  # unreachable a moment ago: do not make every run wait on a timeout
        try:
            path = sqlite_file(self.url)
            if path is not None and not path.exists():
                _warn_once(self.url, "the database file does not exist (run 'raw db upgrade')")
                return
            upsert_run(sync_engine(self.url), row)
        except Exception as exc:  # indexing is best effort: the run's files are the record
            if isinstance(exc, OSError | OperationalError | InterfaceError):
                self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
            reason = failure_reason(exc, self.url)
            tls = unavailable_error(self.url, exc)
            if isinstance(tls, DatabaseTLSError):
                reason = f"{tls.reason}. {tls.fix}"
            if "no such table" in reason or "does not exist" in reason:
                reason += " (run 'raw db upgrade')"
            _warn_once(self.url, reason)


_sinks: dict[str, RunIndexSink] = {}


def sink_for(url: str, base_dir: Path | None = None) -> RunIndexSink:
    """The process's sink for a configured URL (relative SQLite paths from ``base_dir``)."""
    key = normalize_url(url, sync=True, base_dir=base_dir)
    with _engines_lock:
        sink = _sinks.get(key)
        if sink is None:
            sink = _sinks[key] = RunIndexSink(key)
        return sink


# -- reading, for the API


class RunRecord(BaseModel):
    """One run as the index holds it (``manifest`` and ``log_tail`` only from :func:`get_run`)."""

    run_id: str
    workflow: str
    status: str
    dry: bool
    started_at: datetime
    ended_at: datetime | None = None
    duration_ms: float | None = None
    entry_point: str | None = None
    host: str | None = None
    correlation_id: str | None = None
    idempotency_key: str | None = None
    error: str | None = None
    manifest: dict[str, Any] | None = None
    log_tail: str | None = None
    trace_id: str | None = None
    """The run's trace id (32 hex) when it was traced."""

    @field_validator("started_at", "ended_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return _time(value)


_SUMMARY = [c for c in RunIndex.__table__.columns if c.name not in ("manifest", "log_tail")]


async def list_runs(
    db: Database,
    *,
    workflow: str | None = None,
    status: str | None = None,
    correlation_id: str | None = None,
    limit: int = 50,
) -> list[RunRecord]:
    """The newest runs first, without manifests and logs."""
    query = select(*_SUMMARY).order_by(RunIndex.started_at.desc(), RunIndex.run_id.desc())
    if workflow is not None:
        query = query.where(RunIndex.workflow == workflow)
    if status is not None:
        query = query.where(RunIndex.status == status)
    if correlation_id is not None:
        query = query.where(RunIndex.correlation_id == correlation_id)
    async with db.read() as session:
        rows = (await session.execute(query.limit(max(0, limit)))).mappings().all()
    return [RunRecord.model_validate(dict(row)) for row in rows]


async def get_run(db: Database, run_id: str) -> RunRecord | None:
    """One run with its manifest and the end of its log, or None."""
    async with db.read() as session:
        row = await session.get(RunIndex, run_id)
        if row is None:
            return None
        data = {c.name: getattr(row, c.name) for c in RunIndex.__table__.columns}
    return RunRecord.model_validate(data)
