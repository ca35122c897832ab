"""Group commit: writes that arrive while one is in flight share the next transaction.

Each caller awaits its own write (``await group.submit(item)``), and gets its
answer only once the transaction holding it has committed. While a transaction
is in flight the items that arrive queue up, and the next transaction takes
them all: under load, one commit (one ``BEGIN``/``COMMIT``, one fsync on SQLite)
serves many callers instead of one each; alone, a caller waits for nobody.

If a shared transaction fails, no caller is answered from it: its items are
written again one per transaction, so one bad item (a handler that raises, a
constraint it breaks) fails alone and the others still commit. The ``write``
function must therefore be safe to run again on items whose first transaction
rolled back, which any function that only writes through that transaction is.

Traced (tracing on): each transaction is a span ``<name>`` (``raw.batch.size`` items)
around the write, so the SQL statements in it are its children. Alone, it is a child
of its caller's span (a webhook route's request, a dispatcher's action); shared, it
serves callers of many traces, so it is a trace of its own with an OTel span link to
each caller's span.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from raw import tracing

__all__ = ["GroupCommit"]

log = logging.getLogger("raw.coordinator.db")

Item = TypeVar("Item")
Result = TypeVar("Result")

_Entry = tuple[Item, asyncio.Future[Result], str | None]
"""A queued item, its caller's future, and its caller's traceparent (tracing on)."""


class GroupCommit(Generic[Item, Result]):
    """Runs ``write(items) -> results`` (one result per item, in order) for queued items.

    One ``GroupCommit`` belongs to one event loop at a time.
    """

    def __init__(
        self,
        write: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]],
        *,
        max_batch: int = 500,
        name: str = "group commit",
    ) -> None:
        self._write = write
        self.max_batch = max_batch
        self.name = name
        """The span name of each transaction (tracing on)."""
        self._queue: list[_Entry[Item, Result]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item, *, traceparent: str | None = None) -> Result:
        """Write ``item`` with whatever else is queued; its result once committed.

        ``traceparent``: the span the write belongs to (tracing on); the current one if
        not given.
        """
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future, traceparent or tracing.current_traceparent()))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="raw-group-commit")
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                await self._commit(batch)
        except asyncio.CancelledError:  # shutting down: nobody may wait forever
            for _, future, _ in self._queue:
                future.cancel()
            self._queue.clear()
            raise

    async def _traced_write(self, batch: list[_Entry[Item, Result]]) -> Sequence[Result]:
        callers = [traceparent for _, _, traceparent in batch]
        alone = len(batch) == 1
        with tracing.span(
            self.name,
            attributes={"raw.batch.size": len(batch)},
            parent=callers[0] if alone else None,
            root=True,  # not the span of the caller that happened to start the writer
            links=() if alone else callers,
        ):
            return await self._write([item for item, _, _ in batch])

    async def _commit(self, batch: list[_Entry[Item, Result]]) -> None:
        try:
            results = await self._traced_write(batch)
        except asyncio.CancelledError:
            for _, future, _ in batch:
                future.cancel()
            raise
        except Exception as exc:
            if len(batch) == 1:
                if not batch[0][1].done():
                    batch[0][1].set_exception(exc)
                return
            log.debug("a transaction shared by %d items failed; writing each alone", len(batch))
            for entry in batch:
                await self._commit([entry])
            return
        for (_, future, _), result in zip(batch, results, strict=True):
            if not future.done():  # its caller was cancelled; the write stands regardless
                future.set_result(result)
