"""The local chat adapter: notifications are appended to an outbox file, one JSON line each.

Any process may post (the worker, the coordinator): the check for a repeated
idempotency key and the append happen under an exclusive lock on the file.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from raw import clock, tracing
from raw.ids import new_run_id
from raw.integrations.chat import Chat, Notification

__all__ = ["OutboxChat"]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[IO[str]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as fh:
        try:
            # Lazy: fcntl is POSIX-only; elsewhere the import fails and is handled.
            import fcntl
        except ImportError:  # not POSIX: one writer at a time is the user's to ensure
            yield fh
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield fh
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class OutboxChat(Chat):
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def list(self) -> builtins.list[Notification]:
        """Every notification posted, oldest first."""
        if not self.path.exists():
            return []
        return [
            Notification.model_validate_json(line)
            for line in self.path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]

    def _notify(self, text: str, idempotency_key: str | None) -> Notification:
        with _locked(self.path) as fh:
            if idempotency_key is not None:
                fh.seek(0)
                for line in fh:
                    if line.strip():
                        earlier = Notification.model_validate_json(line)
                        if earlier.idempotency_key == idempotency_key:
                            return earlier.model_copy(update={"duplicate": True})
            sent_at = clock.now()
            notification = Notification(
                id=new_run_id(sent_at),
                text=text,
                idempotency_key=idempotency_key,
                sent_at=sent_at,
            )
            fh.seek(0, 2)
            fh.write(json.dumps(notification.model_dump(mode="json", exclude={"duplicate"})) + "\n")
            fh.flush()
            return notification

    @tracing.traced("chat notify", integration="chat", adapter="outbox")
    async def notify(self, text: str, *, idempotency_key: str | None = None) -> Notification:
        return await asyncio.to_thread(self._notify, text, idempotency_key)
