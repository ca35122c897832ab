"""What the local integrations captured: the SMTP catcher's email, the phone simulator's
calls and the chat outbox, for the operator page's Outbox view.

Only integrations on their ``local`` adapter capture anything; the others send for
real and show here as such. Read from the project's files (the coordinator runs in
the project's folder, as ``raw up`` runs it), newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from raw.integrations.paths import local_path

if TYPE_CHECKING:
    from raw.integrations.chat import Notification
    from raw.integrations.mail_catcher import CapturedEmail
    from raw.integrations.phone_simulator import SimulatedCall
    from raw.project import Project

__all__ = ["Outbox", "read_outbox"]


@dataclass(frozen=True)
class Outbox:
    """Each list is None when that integration is not on its local adapter."""

    emails: list[CapturedEmail] | None
    calls: list[SimulatedCall] | None
    chat: list[Notification] | None

    @property
    def local(self) -> bool:
        return any(part is not None for part in (self.emails, self.calls, self.chat))


def read_outbox(project: Project, *, limit: int) -> Outbox:
    integrations = project.config.system.integrations
    emails = calls = chat = None
    email, telephony, chat_config = integrations.email, integrations.telephony, integrations.chat
    if email is not None and email.adapter == "local":
        # Lazy: the outbox's stores load only when the page shows the outbox.
        from raw.integrations.mail_catcher import MailStore

        emails = MailStore.for_project(project.root).list()[::-1][:limit]
    if telephony is not None and telephony.adapter == "local":
        # Lazy: needs the integrations extra, which may be missing.
        from raw.integrations.phone_simulator import CallLog

        calls = CallLog.for_project(project.root).list()[::-1][:limit]
    if chat_config is not None and chat_config.adapter == "local":
        # Lazy: the outbox's stores load only when the page shows the outbox.
        from raw.integrations.outbox import OutboxChat

        sent = OutboxChat(local_path(project.root, chat_config.outbox)).list()
        chat = [n for n in sent if not n.duplicate][::-1][:limit]
    return Outbox(emails=emails, calls=calls, chat=chat)
