"""Chat notifications: what a sent notification is, and the interface every adapter implements."""

from __future__ import annotations

import abc
from datetime import datetime

from pydantic import BaseModel, Field

from raw.integrations.sync import run_sync

__all__ = ["Chat", "Notification"]


class Notification(BaseModel):
    """A notification sent (or, with ``duplicate``, one sent before under the same key)."""

    id: str
    text: str
    idempotency_key: str | None = None
    sent_at: datetime
    duplicate: bool = Field(
        default=False, description="True when the key was seen before and nothing was sent."
    )


class Chat(abc.ABC):
    """Posts notifications. ``await chat.notify(text)``, or ``notify_sync`` in sync code."""

    @abc.abstractmethod
    async def notify(self, text: str, *, idempotency_key: str | None = None) -> Notification:
        """Post ``text`` (Slack mrkdwn). ``idempotency_key`` is the same on every retry of one
        logical notification: an adapter that can (the local outbox) posts it once."""

    def notify_sync(self, text: str, *, idempotency_key: str | None = None) -> Notification:
        return run_sync(self.notify(text, idempotency_key=idempotency_key))
