"""Fixtures for the integrations tests; each carries the prefix ``integ_``.

Third parties we cannot reach are local servers that speak their protocol:
moto's S3 server, a Slack incoming-webhook server, aiosmtpd. Servers that
outlive one test's event loop run on a loop of their own in a thread.
"""

from __future__ import annotations

import asyncio
import logging
import textwrap
import threading
from collections.abc import Awaitable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from raw.integrations.http_server import HttpRequest, HttpResponse, HttpServer
from raw.project import Project as RawProject

if TYPE_CHECKING:
    from conftest import Project

T = TypeVar("T")

TWILIO_TOKEN = "integ-twilio-auth-token-0123456789"
SMTP_PASSWORD = "integ-smtp-password-s3cret"
SLACK_PATH = "/services/T0INTEG/B0INTEG/integ-slack-secret-path"
S3_SECRET = "integ-s3-secret-access-key-value"

CALL_STATUS_ROUTE = """\
  coordinator:
    webhooks:
      - name: call-status
        path: /webhooks/call-status
        content_type: form
        scheme: twilio
        secrets: [INTEG_TWILIO_TOKEN]
        delivery_key: CallSid
"""


def write_config(root: Path, system_yaml: str) -> RawProject:
    """Write ``.raw/config.yaml`` with ``system_yaml`` (indented under ``system:``)."""
    text = "version: 1\nname: integ\nsystem:\n" + textwrap.indent(
        textwrap.dedent(system_yaml).strip("\n"), "  "
    )
    (root / ".raw" / "config.yaml").write_text(text + "\n", encoding="utf-8")
    return RawProject(root)


@pytest.fixture
def integ_project(project: Project, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with every integration local and the Twilio token set."""
    monkeypatch.setenv("INTEG_TWILIO_TOKEN", TWILIO_TOKEN)
    write_config(
        project.root,
        """
        integrations:
          email: {from_address: "Hiring <hiring@example.com>"}
          telephony:
            auth_token_setting: INTEG_TWILIO_TOKEN
            from_number: "+15005550006"
            simulator: {callback_delay_seconds: null}
          storage: {}
          chat: {}
        """,
    )
    return project.root


class BackgroundLoop:
    """An event loop in a thread, for servers shared by tests that each run their own loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Awaitable[T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)  # type: ignore[arg-type]
        return future.result(timeout=30)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@dataclass
class FakeSlack:
    """A Slack incoming-webhook server: 200 "ok" on its path, Slack's 4xx answers elsewhere."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def webhook_url(self) -> str:
        return self.url + SLACK_PATH


@pytest.fixture(scope="session")
def integ_slack() -> Iterator[FakeSlack]:
    import json

    background = BackgroundLoop()
    fake = FakeSlack(url="")

    async def handle(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(405, b"invalid_method")
        if request.path == SLACK_PATH + "/archived":
            return HttpResponse(410, b"channel_is_archived")
        if request.path != SLACK_PATH:
            return HttpResponse(404, b"no_service")
        try:
            payload = json.loads(request.body)
        except ValueError:
            return HttpResponse(400, b"invalid_payload")
        if not isinstance(payload, dict) or not payload.get("text"):
            return HttpResponse(400, b"no_text")
        fake.received.append(payload)
        return HttpResponse(200, b"ok", "text/html")

    server = background.run(HttpServer(handle).start("127.0.0.1", 0))
    fake.url = f"http://127.0.0.1:{server.port}"
    yield fake
    background.run(server.close())
    background.close()


@pytest.fixture(scope="session")
def integ_s3() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 (a free port); yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def integ_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log record at DEBUG, from every library, to check no secret is written."""
    caplog.set_level(logging.DEBUG)
    return caplog


def all_log_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{r.name}: {r.getMessage()}" for r in caplog.records)
