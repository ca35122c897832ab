"""The one clock every part of the kit reads.

Nothing in the kit calls ``datetime.now()`` or ``time.sleep()`` directly: it asks
this module, so tests and simulations can replace time as a whole::

    from raw import clock

    with clock.use(clock.ManualClock(datetime(2026, 1, 5, 9, tzinfo=UTC))) as c:
        run_workflow("generate-report", {"date": "today"})   # sees 2026-01-05
        c.advance(timedelta(days=1))

``use()`` overrides the clock for the current context (thread or task) only;
``set_clock()`` replaces the process-wide default.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, TypeVar

__all__ = [
    "Clock",
    "ManualClock",
    "OffsetClock",
    "SystemClock",
    "asleep",
    "get_clock",
    "monotonic",
    "now",
    "set_clock",
    "sleep",
    "today",
    "use",
    "wall_sleep",
]


class Clock(Protocol):
    """What the kit needs from time."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never goes backwards."""
        ...

    def sleep(self, seconds: float) -> None: ...

    async def asleep(self, seconds: float) -> None: ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        # Lazy: asyncio costs start-up time; a synchronous raw run never needs it.
        import asyncio

        await asyncio.sleep(max(seconds, 0.0))


class ManualClock:
    """A clock that moves only when told to; sleeping advances it instantly."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime.now(UTC)
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time, e.g. tzinfo=UTC.")
        self._start = start.astimezone(UTC)
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._offset)

    def monotonic(self) -> float:
        return self._offset

    def advance(self, delta: timedelta | float) -> None:
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
        if seconds < 0:
            raise ValueError("A clock cannot move backwards.")
        with self._lock:
            self._offset += seconds

    def set(self, when: datetime) -> None:
        """Move to ``when``, which must not be earlier than now."""
        self.advance(when.astimezone(UTC) - self.now())

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)

    async def asleep(self, seconds: float) -> None:
        # Lazy: asyncio costs start-up time; a synchronous raw run never needs it.
        import asyncio

        self.sleep(seconds)
        await asyncio.sleep(0)


class OffsetClock(SystemClock):
    """Wall-clock time moved by an offset: another clock's time (a simulation's server),
    while sleeping and measuring stay real, so pollers and timeouts still work."""

    def __init__(self, now: datetime | None = None) -> None:
        self._offset = timedelta(0)
        if now is not None:
            self.set(now)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def set(self, now: datetime) -> None:
        """Make ``now()`` read ``now`` from this moment on (forwards or backwards)."""
        if now.tzinfo is None:
            raise ValueError("OffsetClock needs a timezone-aware time, e.g. tzinfo=UTC.")
        self._offset = now.astimezone(UTC) - datetime.now(UTC)


_default: Clock = SystemClock()
_override: ContextVar[Clock | None] = ContextVar("raw_clock", default=None)

ClockT = TypeVar("ClockT", bound=Clock)


def get_clock() -> Clock:
    return _override.get() or _default


def set_clock(new: Clock) -> Clock:
    """Replace the process-wide clock; returns the previous one."""
    global _default
    previous, _default = _default, new
    return previous


@contextmanager
def use(new: ClockT) -> Iterator[ClockT]:
    """Use ``new`` as the clock in this context (thread or asyncio task) only."""
    token = _override.set(new)
    try:
        yield new
    finally:
        _override.reset(token)


def now() -> datetime:
    return get_clock().now()


def wall_sleep(seconds: float) -> None:
    """Sleep in real time whatever the clock: for waiting on other OS processes (a server
    starting, a pid exiting), which no test clock can move."""
    if seconds > 0:
        time.sleep(seconds)


def today() -> date:
    return get_clock().now().date()


def monotonic() -> float:
    return get_clock().monotonic()


def sleep(seconds: float) -> None:
    get_clock().sleep(seconds)


async def asleep(seconds: float) -> None:
    await get_clock().asleep(seconds)
