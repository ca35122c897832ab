"""The Outbox view: what the local integrations captured (email through the real SMTP
catcher, calls, chat), and a plain statement when the system uses none."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from raw.integrations import EmailMessage, for_project
from raw.integrations.services import LocalServices
from raw.project import Project

from .ops_system import serve

LOCAL = """\
  integrations:
    email: {adapter: local, from_address: "Ops <ops@example.com>"}
    chat: {adapter: local}
"""


def with_local_integrations(project: Project) -> Project:
    config = project.config_path
    config.write_text(config.read_text().replace("system:\n", "system:\n" + LOCAL, 1))
    return Project(project.root)


def test_the_outbox_shows_captured_email_and_chat(
    ops_project: Callable[..., Project],
    ops_db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAW_LOCAL_STATE_DIR", str(tmp_path / "local"))
    project = with_local_integrations(ops_project())

    async def scenario() -> None:
        async with LocalServices.start(project.root):
            integrations = for_project(project.root)
            await integrations.email.send(
                EmailMessage(
                    to=["ada@example.com"],
                    subject="Book your screening call",
                    text="Please book a call: https://cal.example/book",
                    idempotency_key="outbox-test-1",
                )
            )
            await integrations.chat.notify("Daily report: 2 applications", idempotency_key="d1")
        async with serve(project, ops_db_url) as ops:
            page = await ops.client.get("/operator/outbox", headers=ops.bearer())
            assert page.status_code == 200
            assert "Email (1)" in page.text and "Book your screening call" in page.text
            assert "ada@example.com" in page.text
            assert "Please book a call" in page.text
            assert "Chat (1)" in page.text and "Daily report: 2 applications" in page.text
            assert "Calls" not in page.text  # telephony is not configured: no section
            nav = await ops.client.get("/operator", headers=ops.bearer())
            assert 'href="/operator/outbox"' in nav.text

    asyncio.run(scenario())


def test_without_local_integrations_the_outbox_says_so(
    ops_project: Callable[..., Project], ops_db_url: str
) -> None:
    async def scenario() -> None:
        async with serve(ops_project(), ops_db_url) as ops:
            page = await ops.client.get("/operator/outbox", headers=ops.bearer())
            assert page.status_code == 200
            assert "uses no local integration" in page.text

    asyncio.run(scenario())
