"""The Slack chat adapter: an incoming webhook, through ``slack_sdk.webhook``.

The webhook URL is a secret (anyone holding it can post): it is read from the
setting the config names, and never appears in an error or a log line. The SDK
logs the URL at DEBUG, so it gets a logger of ours that stays at INFO and
scrubs the URL from anything it logs. The blocking client runs in a thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from raw import clock, tracing
from raw.ids import new_run_id
from raw.integrations.chat import Chat, Notification
from raw.integrations.config import ChatConfig
from raw.integrations.errors import UNAVAILABLE_HTTP_STATUSES, ChatError, ChatUnreachableError
from raw.integrations.settings import read_setting

__all__ = ["SlackChat"]

REDACTED = "<slack webhook url>"


class _Scrub(logging.Filter):
    """Replaces every registered webhook URL in a record with a placeholder."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for secret in self.secrets:
            message = message.replace(secret, REDACTED)
        record.msg, record.args = message, None
        return True


_scrub = _Scrub()
_logger = logging.getLogger("raw.integrations.slack")
_logger.setLevel(logging.INFO)  # slack_sdk logs the URL when its logger's level is DEBUG
_logger.addFilter(_scrub)


class SlackChat(Chat):
    def __init__(self, webhook_url: Callable[[], str], *, timeout_seconds: float = 10.0) -> None:
        self._webhook_url = webhook_url
        self.timeout_seconds = timeout_seconds

    @classmethod
    def from_config(cls, config: ChatConfig) -> SlackChat:
        """The adapter the config describes; the URL setting is read at the first post."""
        return cls(
            lambda: read_setting(config.webhook_url_setting, key="chat.webhook_url_setting"),
            timeout_seconds=config.timeout_seconds,
        )

    def _post(self, text: str) -> tuple[int, str]:
        # Lazy: needs the integrations extra, which may be missing.
        from slack_sdk.webhook import WebhookClient

        url = self._webhook_url()
        _scrub.secrets.add(url)
        client = WebhookClient(url, timeout=int(max(self.timeout_seconds, 1)), logger=_logger)
        try:
            response = client.send(text=text)
        except Exception as exc:  # urllib's errors, whatever the transport raised
            reason = f"{type(exc).__name__}: {exc}".replace(url, REDACTED)
            raise ChatUnreachableError(f"no answer from the Slack webhook ({reason})") from None
        return response.status_code, str(response.body or "").replace(url, REDACTED)

    @tracing.traced("chat notify", integration="chat", adapter="slack")
    async def notify(self, text: str, *, idempotency_key: str | None = None) -> Notification:
        status, body = await asyncio.to_thread(self._post, text)
        if status != 200 or body != "ok":
            error = ChatUnreachableError if status in UNAVAILABLE_HTTP_STATUSES else ChatError
            raise error(
                f"the Slack webhook answered {status}: {body[:200] or '(no body)'}",
                status_code=status,
            )
        sent_at = clock.now()
        return Notification(
            id=new_run_id(sent_at),
            text=text,
            idempotency_key=idempotency_key,
            sent_at=sent_at,
        )
