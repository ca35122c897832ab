"""Email: the SMTP adapter through aiosmtplib to a real SMTP server (the aiosmtpd catcher)."""

from __future__ import annotations

import asyncio
import email.policy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.parser import BytesParser
from pathlib import Path

import pytest

from integrations.conftest import SMTP_PASSWORD, all_log_text
from raw.integrations import (
    EmailConfig,
    EmailError,
    EmailMessage,
    LocalServices,
    LocalServicesNotRunningError,
    MailStore,
    SettingMissingError,
    SmtpEmail,
    for_project,
)
from raw.integrations.mail_catcher import start_mail_catcher
from raw.ports import free_port

from .tls import Certificate, localhost_certificate


def message(**changes: object) -> EmailMessage:
    fields: dict[str, object] = {
        "to": "Ada Lovelace <ada@example.com>",
        "subject": "Book your call",
        "text": "Pick a time: https://cal.example.com/ada",
    }
    fields.update(changes)
    return EmailMessage.model_validate(fields)


def test_email_goes_through_smtp_to_the_catcher_and_is_listed(integ_project: Path) -> None:
    async def scenario() -> None:
        async with LocalServices.start(integ_project) as services:
            sent = await for_project(integ_project).email.send(
                message(
                    html="<p>Pick a <a href='https://cal.example.com/ada'>time</a></p>",
                    cc=["hr@example.com"],
                    bcc=["audit@example.com"],
                    reply_to="recruiter@example.com",
                )
            )
            [kept] = services.mail.list()

            assert kept.message_id == sent.message_id
            assert (kept.subject, kept.from_) == ("Book your call", "Hiring <hiring@example.com>")
            assert kept.to == ["Ada Lovelace <ada@example.com>"]
            assert kept.cc == ["hr@example.com"]
            assert sorted(kept.envelope_to) == [
                "ada@example.com",
                "audit@example.com",
                "hr@example.com",
            ]
            assert kept.text is not None and "https://cal.example.com/ada" in kept.text
            assert kept.html is not None and "<a href=" in kept.html
            assert kept.reply_to == "recruiter@example.com"
            eml = BytesParser(policy=email.policy.default).parsebytes(services.mail.read(kept))
            assert eml["Bcc"] is None  # Bcc travels in the envelope only
            assert sent.recipients == [
                "Ada Lovelace <ada@example.com>",
                "hr@example.com",
                "audit@example.com",
            ]

    asyncio.run(scenario())


def test_a_repeated_idempotency_key_is_one_message_id_and_shows_once(integ_project: Path) -> None:
    async def scenario() -> None:
        async with LocalServices.start(integ_project) as services:
            mail = for_project(integ_project).email
            first = await mail.send(message(idempotency_key="hiring-process/ada:1:3"))
            again = await mail.send(message(idempotency_key="hiring-process/ada:1:3"))
            other = await mail.send(message(idempotency_key="hiring-process/ada:1:7"))

            assert first.message_id == again.message_id != other.message_id
            assert first.message_id.endswith("@example.com>")
            assert [m.message_id for m in services.mail.list()] == [
                first.message_id,
                other.message_id,
            ]

        async with LocalServices.start(integ_project) as services:  # a restarted catcher
            await for_project(integ_project).email.send(
                message(idempotency_key="hiring-process/ada:1:3")
            )
            assert len(services.mail.list()) == 2

    asyncio.run(scenario())


def test_send_sync_works_from_a_sync_step_s_thread(integ_project: Path) -> None:
    async def scenario() -> None:
        async with LocalServices.start(integ_project) as services:
            mail = for_project(integ_project).email
            sent = await asyncio.to_thread(mail.send_sync, message(subject="From a thread"))

            assert [m.message_id for m in services.mail.list()] == [sent.message_id]

    asyncio.run(scenario())


def test_without_the_local_services_the_error_says_how_to_start_them(integ_project: Path) -> None:
    with pytest.raises(LocalServicesNotRunningError) as caught:
        for_project(integ_project).email.send_sync(message())

    assert "SMTP catcher is not running" in str(caught.value)
    assert "raw integrations serve" in str(caught.value)


def test_a_message_without_a_sender_names_the_setting(tmp_path: Path) -> None:
    config = EmailConfig(adapter="smtp", host="127.0.0.1", port=1, security="none")

    with pytest.raises(Exception, match="system.integrations.email.from_address"):
        SmtpEmail.from_config(config).send_sync(message())


# --- a production server with a login -------------------------------------------------------


@asynccontextmanager
async def smtp_server_with_login(
    folder: Path, *, security: str = "none", certificate: Certificate | None = None
) -> AsyncIterator[tuple[MailStore, int]]:
    """A real SMTP server (aiosmtpd) that wants a login, keeping what it accepts in ``folder``.

    ``security``: "starttls" (the login and the mail only after STARTTLS), "tls" (TLS
    from the first byte), or "none".
    """
    from aiosmtpd.smtp import AuthResult, LoginPassword

    store = MailStore(folder)

    def authenticator(
        server: object, session: object, envelope: object, mechanism: str, data: object
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"hiring",
            SMTP_PASSWORD.encode(),
        )
        return AuthResult(success=ok, handled=False)

    context = certificate.server_context() if certificate else None
    server = await start_mail_catcher(
        store,
        host="127.0.0.1",
        port=0,
        hostname="smtp.test",
        authenticator=authenticator,
        auth_require_tls=security == "starttls",
        require_starttls=security == "starttls",
        tls_context=context if security == "starttls" else None,
        ssl=context if security == "tls" else None,
    )
    try:
        yield store, server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def smtp_config(port: int, security: str = "none") -> EmailConfig:
    return EmailConfig(
        adapter="smtp",
        host="127.0.0.1",
        port=port,
        security=security,
        username_setting="INTEG_SMTP_USER",
        password_setting="INTEG_SMTP_PASSWORD",
        from_address="hiring@example.com",
        timeout_seconds=5,
    )


def test_smtp_adapter_logs_in_with_the_settings_it_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTEG_SMTP_USER", "hiring")
    monkeypatch.setenv("INTEG_SMTP_PASSWORD", SMTP_PASSWORD)

    async def scenario() -> None:
        async with smtp_server_with_login(tmp_path / "mail") as (store, port):
            sent = await SmtpEmail.from_config(smtp_config(port)).send(message())
            assert [m.message_id for m in store.list()] == [sent.message_id]

    asyncio.run(scenario())


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return localhost_certificate(tmp_path_factory.mktemp("tls"))


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_smtp_adapter_logs_in_and_sends_over_tls(
    security: str, certificate: Certificate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server refuses the login and the mail before TLS; the client checks its certificate
    against the trust store (here the test's own certificate, through SSL_CERT_FILE)."""
    monkeypatch.setenv("INTEG_SMTP_USER", "hiring")
    monkeypatch.setenv("INTEG_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))

    async def scenario() -> None:
        async with smtp_server_with_login(
            tmp_path / "mail", security=security, certificate=certificate
        ) as (store, port):
            sent = await SmtpEmail.from_config(smtp_config(port, security)).send(message())
            assert [m.message_id for m in store.list()] == [sent.message_id]

    asyncio.run(scenario())


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_certificate_the_client_does_not_trust_is_refused_before_the_login(
    security: str, certificate: Certificate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTEG_SMTP_USER", "hiring")
    monkeypatch.setenv("INTEG_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)  # the system's CAs: not ours

    async def scenario() -> EmailError:
        async with smtp_server_with_login(
            tmp_path / "mail", security=security, certificate=certificate
        ) as (store, port):
            with pytest.raises(EmailError) as caught:
                await SmtpEmail.from_config(smtp_config(port, security)).send(message())
            assert store.list() == []
            return caught.value

    error = asyncio.run(scenario())
    assert "CERTIFICATE_VERIFY_FAILED" in str(error) or "certificate verify failed" in str(error)
    assert SMTP_PASSWORD not in str(error)


def test_a_refused_login_names_the_server_never_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, integ_logs: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("INTEG_SMTP_USER", "hiring")
    monkeypatch.setenv("INTEG_SMTP_PASSWORD", SMTP_PASSWORD + "-wrong")

    async def scenario() -> EmailError:
        async with smtp_server_with_login(tmp_path / "mail") as (store, port):
            with pytest.raises(EmailError) as caught:
                await SmtpEmail.from_config(smtp_config(port)).send(message())
            assert store.list() == []
            return caught.value

    error = asyncio.run(scenario())

    assert "refused the login (535" in str(error)
    assert "SMTP server 127.0.0.1:" in str(error)
    for text in (str(error), repr(error), all_log_text(integ_logs)):
        assert SMTP_PASSWORD not in text


def test_an_unset_password_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTEG_SMTP_USER", "hiring")
    monkeypatch.delenv("INTEG_SMTP_PASSWORD", raising=False)

    with pytest.raises(SettingMissingError) as caught:
        SmtpEmail.from_config(smtp_config(25)).send_sync(message())

    assert "INTEG_SMTP_PASSWORD is not set" in str(caught.value)
    assert "system.integrations.email.password_setting" in str(caught.value)


def test_an_unreachable_server_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()  # nobody listens on it
    config = EmailConfig(
        adapter="smtp", host="127.0.0.1", port=port, security="none", timeout_seconds=2
    )

    with pytest.raises(EmailError, match=f"SMTP server 127.0.0.1:{port} failed"):
        SmtpEmail.from_config(config).send_sync(message(**{"from": "hiring@example.com"}))
