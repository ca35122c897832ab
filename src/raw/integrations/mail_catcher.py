"""The local SMTP catcher: a real SMTP server (``aiosmtpd``) that keeps every message it gets.

Messages land in ``.raw/mail/`` as ``.eml`` files plus ``index.jsonl``, one JSON
line per message, which :class:`MailStore` lists (``raw integrations mail``). A
message whose Message-ID was already stored is acknowledged and dropped, so an
at-least-once send (a retried activity with its idempotency key) shows once.
"""

from __future__ import annotations

import asyncio
import builtins
import email.policy
import email.utils
import json
import ssl as ssl_module
import threading
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage as MimeMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from raw import clock, local_state
from raw.files import write_atomic
from raw.ids import new_run_id
from raw.integrations.paths import local_path

__all__ = ["CapturedEmail", "MailStore", "start_mail_catcher"]

MAIL_DIR = Path(local_state.MAIL_DIR)


class CapturedEmail(BaseModel):
    """One message the catcher kept."""

    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(description="Sorts by arrival, e.g. '20260105T090000123456Z-a1b2c3'.")
    message_id: str | None
    envelope_from: str
    envelope_to: list[str] = Field(description="Every recipient, Bcc included.")
    from_: str | None = Field(default=None, alias="from")
    to: list[str] = Field(default_factory=list)
    cc: list[str] = Field(default_factory=list)
    reply_to: str | None = None
    subject: str = ""
    text: str | None = Field(default=None, description="The text/plain body.")
    html: str | None = Field(default=None, description="The text/html body.")
    received_at: datetime
    file: str = Field(description="The .eml file, relative to the mail folder.")
    size: int


def _body(message: MimeMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    content = part.get_content()
    return content if isinstance(content, str) else None


def _addresses(value: Any) -> list[str]:
    return [str(a) for a in value.addresses] if value is not None else []


class MailStore:
    """The messages kept under ``folder`` (default ``<project>/.raw/mail``).

    The catcher is the only writer; any process may list.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.index = folder / "index.jsonl"
        self._seen: set[str] | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_project(cls, project_dir: Path) -> MailStore:

        return cls(local_path(project_dir, MAIL_DIR))

    def list(self) -> builtins.list[CapturedEmail]:
        """Every message kept, oldest first."""
        if not self.index.exists():
            return []
        entries = []
        for line in self.index.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entries.append(CapturedEmail.model_validate_json(line))
        return entries

    def read(self, entry: CapturedEmail) -> bytes:
        """The message as received (the .eml file)."""
        return (self.folder / entry.file).read_bytes()

    def add(
        self, content: bytes, *, envelope_from: str, envelope_to: Sequence[str]
    ) -> CapturedEmail | None:
        """Keep a message; None when its Message-ID was kept before (the repeat is dropped)."""
        message = BytesParser(policy=email.policy.default).parsebytes(content)
        assert isinstance(message, MimeMessage)
        message_id = str(message["Message-ID"]).strip() if message["Message-ID"] else None
        with self._lock:
            if self._seen is None:
                self._seen = {e.message_id for e in self.list() if e.message_id}
            if message_id is not None and message_id in self._seen:
                return None
            received_at = clock.now()
            entry_id = new_run_id(received_at)
            file = f"messages/{entry_id}.eml"
            (self.folder / "messages").mkdir(parents=True, exist_ok=True)
            write_atomic(self.folder / file, content)
            entry = CapturedEmail(
                id=entry_id,
                message_id=message_id,
                envelope_from=envelope_from,
                envelope_to=list(envelope_to),
                from_=str(message["From"]) if message["From"] else None,
                to=_addresses(message["To"]),
                cc=_addresses(message["Cc"]),
                reply_to=str(message["Reply-To"]) if message["Reply-To"] else None,
                subject=str(message["Subject"] or ""),
                text=_body(message, "plain"),
                html=_body(message, "html"),
                received_at=received_at,
                file=file,
                size=len(content),
            )
            with self.index.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry.model_dump(mode="json", by_alias=True)) + "\n")
            if message_id is not None:
                self._seen.add(message_id)
            return entry


class _Handler:
    """aiosmtpd's handler: every DATA goes to the store."""

    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content
        kept = self.store.add(
            bytes(content), envelope_from=envelope.mail_from, envelope_to=list(envelope.rcpt_tos)
        )
        return "250 Message accepted for delivery" if kept else "250 Duplicate Message-ID dropped"


async def start_mail_catcher(
    store: MailStore,
    *,
    host: str,
    port: int,
    ssl: ssl_module.SSLContext | None = None,
    **smtp_options: Any,
) -> asyncio.Server:
    """Serve SMTP on ``host:port`` (0: a free port) on the running loop, into ``store``.

    ``smtp_options`` go to ``aiosmtpd.smtp.SMTP`` (``authenticator``,
    ``auth_require_tls``, ``tls_context`` for STARTTLS...), and ``ssl`` makes the
    whole connection TLS (SMTPS): a catcher that plays a production server, with a
    login and encryption, in tests.
    """
    # Lazy: needs the integrations extra, which may be missing.
    from aiosmtpd.smtp import SMTP

    loop = asyncio.get_running_loop()
    handler = _Handler(store)
    options = {"hostname": "raw-mail-catcher", "ident": "RAW mail catcher", **smtp_options}
    return await loop.create_server(
        lambda: SMTP(handler, loop=loop, **options), host=host, port=port, ssl=ssl
    )
