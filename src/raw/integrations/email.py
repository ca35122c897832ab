"""Outgoing email: the message, the receipt, and the interface every adapter implements."""

from __future__ import annotations

import abc
import hashlib
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from raw.integrations.sync import run_sync

__all__ = ["Email", "EmailMessage", "SentEmail", "message_id_for"]


class EmailMessage(BaseModel):
    """One email to send. ``from`` may be given by that name or as ``from_``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    to: list[str] = Field(min_length=1, description="Recipients; one address or a list.")
    subject: str
    text: str = Field(description="The plain-text body.")
    html: str | None = Field(default=None, description="An HTML alternative to the text.")
    from_: str | None = Field(
        default=None, alias="from", description="The sender; default: email.from_address."
    )
    reply_to: str | None = None
    cc: list[str] = Field(default_factory=list)
    bcc: list[str] = Field(default_factory=list, description="Sent to, never shown.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra headers.")
    idempotency_key: str | None = Field(
        default=None,
        description=(
            "The same on every retry of one logical send: it becomes a stable Message-ID, "
            "so a receiver (and the local catcher) can drop a repeat."
        ),
    )

    @field_validator("to", "cc", "bcc", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class SentEmail(BaseModel):
    """What the SMTP server accepted."""

    message_id: str = Field(description="The Message-ID header, '<...@domain>'.")
    recipients: list[str] = Field(description="Every envelope recipient (to, cc, bcc).")
    sent_at: datetime
    response: str = Field(default="", description="The server's last answer.")


def message_id_for(idempotency_key: str, domain: str) -> str:
    """The Message-ID of a send keyed by ``idempotency_key``: the same for every retry."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:40]
    return f"<{digest}@{domain}>"


class Email(abc.ABC):
    """Sends email. ``await email.send(message)``, or ``email.send_sync(message)`` in sync code."""

    @abc.abstractmethod
    async def send(self, message: EmailMessage) -> SentEmail:
        """Send ``message``; raises :class:`~raw.integrations.errors.EmailError` if refused."""

    def send_sync(self, message: EmailMessage) -> SentEmail:
        return run_sync(self.send(message))
