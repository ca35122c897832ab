"""The SMTP email adapter, on ``aiosmtplib``: production servers and the local catcher alike.

The local adapter is this one pointed at the project's SMTP catcher (plain SMTP
on 127.0.0.1, no login), whose port it looks up at each send, so a worker
started before ``raw integrations serve`` still finds it.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage as MimeMessage
from typing import Literal

from raw import clock, tracing
from raw.integrations.config import EmailConfig
from raw.integrations.email import Email, EmailMessage, SentEmail, message_id_for
from raw.integrations.errors import EmailError, EmailUnreachableError, IntegrationError
from raw.integrations.settings import read_setting

__all__ = ["SmtpEmail", "SmtpServer", "build_mime"]


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to connect; the password never shows in its repr."""

    host: str
    port: int
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_seconds: float = 30.0

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def from_config(cls, config: EmailConfig) -> SmtpServer:
        """The configured server, its login read from the settings the config names."""
        if config.host is None:
            raise IntegrationError("system.integrations.email.host is required for adapter smtp.")
        username = password = None
        if config.username_setting and config.password_setting:
            username = read_setting(config.username_setting, key="email.username_setting")
            password = read_setting(config.password_setting, key="email.password_setting")
        return cls(
            host=config.host,
            port=config.effective_port(),
            security=config.security,
            username=username,
            password=password,
            timeout_seconds=config.timeout_seconds,
        )


def _domain(address: str | None) -> str | None:
    if not address:
        return None
    _, addr = email.utils.parseaddr(address)
    return addr.rpartition("@")[2] or None


def build_mime(
    message: EmailMessage, *, sender: str, message_id_domain: str | None = None
) -> MimeMessage:
    """The MIME message for ``message`` from ``sender`` (Bcc is left to the envelope)."""
    mime = MimeMessage()
    mime["From"] = sender
    mime["To"] = ", ".join(message.to)
    if message.cc:
        mime["Cc"] = ", ".join(message.cc)
    if message.reply_to:
        mime["Reply-To"] = message.reply_to
    mime["Subject"] = message.subject
    mime["Date"] = email.utils.format_datetime(clock.now())
    domain = message_id_domain or _domain(sender) or "raw.local"
    if message.idempotency_key:
        mime["Message-ID"] = message_id_for(message.idempotency_key, domain)
    else:
        mime["Message-ID"] = email.utils.make_msgid(domain=domain)
    for name, value in message.headers.items():
        mime[name] = value
    mime.set_content(message.text)
    if message.html is not None:
        mime.add_alternative(message.html, subtype="html")
    return mime


class SmtpEmail(Email):
    """Sends through an SMTP server; ``server`` is fixed or looked up at each send."""

    def __init__(
        self,
        server: SmtpServer | Callable[[], SmtpServer],
        *,
        from_address: str | None = None,
        message_id_domain: str | None = None,
    ) -> None:
        self._server = server
        self.from_address = from_address
        self.message_id_domain = message_id_domain

    @classmethod
    def from_config(cls, config: EmailConfig) -> SmtpEmail:
        """The production adapter; settings are read at the first send."""
        return cls(
            lambda: SmtpServer.from_config(config),
            from_address=config.from_address,
            message_id_domain=config.message_id_domain,
        )

    def server(self) -> SmtpServer:
        return self._server() if callable(self._server) else self._server

    @tracing.traced("email send", integration="email", adapter="smtp")
    async def send(self, message: EmailMessage) -> SentEmail:
        # Lazy: needs the integrations extra, which may be missing.
        import aiosmtplib

        sender = message.from_ or self.from_address
        if not sender:
            raise IntegrationError(
                "The email has no sender: give the message a 'from' or set "
                "system.integrations.email.from_address."
            )
        mime = build_mime(message, sender=sender, message_id_domain=self.message_id_domain)
        recipients = [*message.to, *message.cc, *message.bcc]
        server = self.server()
        try:
            _, response = await aiosmtplib.send(
                mime,
                sender=email.utils.parseaddr(sender)[1],
                recipients=[email.utils.parseaddr(r)[1] for r in recipients],
                hostname=server.host,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.security == "tls",
                start_tls=server.security == "starttls",
                timeout=server.timeout_seconds,
            )
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise EmailError(
                server.address, f"the server refused the login ({exc.code} {exc.message})"
            ) from None
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = ", ".join(f"{r.recipient} ({r.code} {r.message})" for r in exc.recipients)
            raise EmailError(server.address, f"every recipient was refused: {refused}") from None
        except OSError as exc:  # no connection, a dropped one, a timeout: the server is away
            raise EmailUnreachableError(server.address, str(exc) or type(exc).__name__) from None
        except aiosmtplib.SMTPResponseException as exc:
            error = EmailUnreachableError if exc.code == 421 else EmailError  # 421: unavailable
            raise error(server.address, f"the server answered {exc.code} {exc.message}") from None
        except aiosmtplib.SMTPException as exc:
            raise EmailError(server.address, str(exc) or type(exc).__name__) from None
        return SentEmail(
            message_id=str(mime["Message-ID"]),
            recipients=recipients,
            sent_at=clock.now(),
            response=response,
        )
