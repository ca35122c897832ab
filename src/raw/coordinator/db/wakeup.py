"""Waking dispatchers when inbox records become due, instead of leaving them to the next poll.

Wake-ups are hints: a dispatcher still polls, so a lost one costs at most a poll
interval, never a record.

- **In one process** (``raw serve`` with its built-in dispatcher): :func:`inbox_bell`
  gives the :class:`InboxBell` of a database object. The webhook routes ring it once
  the transaction holding new inbox records has committed, and every dispatcher
  started on that object wakes.
- **Across processes, on PostgreSQL** (``raw dispatcher``, other replicas): a
  transaction that makes records due also runs ``NOTIFY raw_inbox``
  (:func:`notify_due`), which PostgreSQL delivers at its commit and drops with a
  rollback; :func:`listen` holds a connection of its own that ``LISTEN``s on the
  channel and wakes the dispatcher it serves. While that connection is down the
  dispatcher polls, and it is opened again.

SQLite has no notification across processes: a dispatcher in another process finds
new records by polling, and polls sooner while records keep coming.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["INBOX_CHANNEL", "InboxBell", "inbox_bell", "listen", "notify_due"]

log = logging.getLogger("raw.coordinator.dispatcher")

INBOX_CHANNEL = "raw_inbox"
"""The PostgreSQL notification channel on which inbox records are announced."""

_NOTIFY = text(f"NOTIFY {INBOX_CHANNEL}")


class InboxBell:
    """Wakes the dispatchers of one process that work on one database object."""

    def __init__(self) -> None:
        self._events: set[asyncio.Event] = set()

    def subscribe(self) -> asyncio.Event:
        """An event set at every :meth:`ring` until :meth:`unsubscribe`."""
        event = asyncio.Event()
        self._events.add(event)
        return event

    def unsubscribe(self, event: asyncio.Event) -> None:
        self._events.discard(event)

    def ring(self) -> None:
        """Records are due: wake every subscriber (on the event loop of the database)."""
        for event in self._events:
            event.set()


_bells: weakref.WeakKeyDictionary[Any, InboxBell] = weakref.WeakKeyDictionary()


def inbox_bell(db: object) -> InboxBell:
    """The bell of ``db`` (a :class:`~raw.coordinator.db.database.Database`), made on first use."""
    bell = _bells.get(db)
    if bell is None:
        bell = _bells[db] = InboxBell()
    return bell


async def notify_due(session: AsyncSession, dialect: str) -> None:
    """In ``session``'s transaction: tell other processes' dispatchers, at its commit, that
    records are due (PostgreSQL; nothing on SQLite). Notifications of one transaction are
    delivered once."""
    if dialect == "postgresql":
        await session.execute(_NOTIFY)


def _connect_args(url: str) -> dict[str, Any] | None:
    """psycopg's keyword arguments for the SQLAlchemy ``url``; None if it is not psycopg's."""
    # Lazy: the dialect is only loaded where there is a PostgreSQL to listen to.
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or parsed.get_driver_name() != "psycopg":
        return None
    _, params = parsed.get_dialect()().create_connect_args(parsed)
    params.setdefault("connect_timeout", 10)
    return dict(params)


async def listen(
    url: str,
    wake: Callable[[], None],
    *,
    retry_seconds: float,
    listening: Callable[[bool], None] | None = None,
) -> None:
    """``LISTEN`` on :data:`INBOX_CHANNEL` with a connection of its own and call ``wake()``
    for each notification, until cancelled. ``listening(True)`` is called each time the
    connection is ready (and ``wake()`` too: records may have come while it was down),
    ``listening(False)`` when it is lost.
    A lost connection is opened again after ``retry_seconds``; a URL that is not
    PostgreSQL through psycopg returns at once (polling only).
    """
    params = _connect_args(url)
    if params is None:
        return
    # Lazy: psycopg is the PostgreSQL driver, loaded only for a PostgreSQL database.
    import psycopg

    failures = 0
    while True:
        try:
            conn = await psycopg.AsyncConnection.connect(autocommit=True, **params)
        except (OSError, psycopg.Error) as exc:
            failures += 1
            if failures == 1:
                log.warning(
                    "dispatcher: cannot LISTEN for new inbox records (%s); polling until it can",
                    str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__,
                )
            await asyncio.sleep(retry_seconds)
            continue
        try:
            async with conn:
                await conn.execute(f"LISTEN {INBOX_CHANNEL}")
                if failures:
                    log.warning("dispatcher: listening for new inbox records again")
                failures = 0
                if listening is not None:
                    listening(True)
                wake()
                async for _ in conn.notifies():
                    wake()
        except (OSError, psycopg.Error) as exc:
            failures += 1
            if failures == 1:
                log.warning(
                    "dispatcher: the connection listening for new inbox records was lost (%s); "
                    "polling until it is back",
                    str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__,
                )
        if listening is not None:
            listening(False)
        await asyncio.sleep(retry_seconds)
