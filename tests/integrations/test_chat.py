"""Chat: the local outbox, and the Slack adapter against a server speaking incoming webhooks."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from integrations.conftest import SLACK_PATH, FakeSlack, all_log_text
from raw.integrations import (
    ChatConfig,
    ChatError,
    OutboxChat,
    SettingMissingError,
    SlackChat,
    for_project,
)
from raw.ports import free_port


def test_notifications_land_in_the_outbox_once_per_key(integ_project: Path) -> None:
    chat = for_project(integ_project).chat

    first = chat.notify_sync("Report for 2026-01-05 is ready", idempotency_key="report:2026-01-05")
    again = chat.notify_sync("Report for 2026-01-05 is ready", idempotency_key="report:2026-01-05")
    other = chat.notify_sync("Ada booked a call")

    assert again.duplicate and (again.id, again.sent_at) == (first.id, first.sent_at)
    assert not first.duplicate and not other.duplicate
    outbox = OutboxChat(integ_project / ".raw" / "chat" / "outbox.jsonl")
    assert [n.text for n in outbox.list()] == [
        "Report for 2026-01-05 is ready",
        "Ada booked a call",
    ]


def test_concurrent_posts_with_one_key_are_kept_once(tmp_path: Path) -> None:
    chat = OutboxChat(tmp_path / "outbox.jsonl")

    async def scenario() -> None:
        await asyncio.gather(*(chat.notify("same", idempotency_key="k") for _ in range(8)))

    asyncio.run(scenario())

    assert len(chat.list()) == 1


def slack(
    integ_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, path: str = SLACK_PATH
) -> SlackChat:
    monkeypatch.setenv("INTEG_SLACK_URL", integ_slack.url + path)
    return SlackChat.from_config(
        ChatConfig(adapter="slack", webhook_url_setting="INTEG_SLACK_URL", timeout_seconds=5)
    )


def test_slack_adapter_posts_the_text_to_the_incoming_webhook(
    integ_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = slack(integ_slack, monkeypatch).notify_sync(
        "*Daily report* is ready", idempotency_key="r1"
    )

    assert integ_slack.received[-1] == {"text": "*Daily report* is ready"}
    assert (sent.text, sent.idempotency_key, sent.duplicate) == (
        "*Daily report* is ready",
        "r1",
        False,
    )


@pytest.mark.parametrize(
    ("path", "status", "answer"),
    [
        ("/services/T0/B0/revoked", 404, "no_service"),
        (SLACK_PATH + "/archived", 410, "channel_is_archived"),
    ],
)
def test_a_refusal_names_the_status_and_slack_s_answer_never_the_url(
    integ_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    integ_logs: pytest.LogCaptureFixture,
    path: str,
    status: int,
    answer: str,
) -> None:
    with pytest.raises(ChatError) as caught:
        slack(integ_slack, monkeypatch, path).notify_sync("hello")

    assert f"answered {status}: {answer}" in str(caught.value)
    assert caught.value.status_code == status
    for text in (str(caught.value), repr(caught.value), all_log_text(integ_logs)):
        assert path not in text


def test_an_unreachable_webhook_is_an_error_without_the_url(
    monkeypatch: pytest.MonkeyPatch, integ_logs: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    secret_path = "/services/T0/B0/unreachable-secret"
    monkeypatch.setenv("INTEG_SLACK_URL", f"http://127.0.0.1:{port}{secret_path}")
    chat = SlackChat.from_config(ChatConfig(adapter="slack", webhook_url_setting="INTEG_SLACK_URL"))

    with pytest.raises(ChatError, match="no answer from the Slack webhook") as caught:
        chat.notify_sync("hello")

    for text in (str(caught.value), all_log_text(integ_logs)):
        assert secret_path not in text


def test_an_unset_webhook_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INTEG_SLACK_URL", raising=False)
    chat = SlackChat.from_config(ChatConfig(adapter="slack", webhook_url_setting="INTEG_SLACK_URL"))

    with pytest.raises(SettingMissingError, match="INTEG_SLACK_URL is not set"):
        chat.notify_sync("hello")
