"""The system's way out: email, calls, storage and chat through ``raw.integrations``.

Which adapters run (local catcher and phone simulator, or SMTP, Twilio, S3 and Slack)
is ``system.integrations`` in ``.raw/config.yaml``; this module only says what to send.
"""

from __future__ import annotations

import json
import os
from typing import Any

from hiring.state import project
from raw.integrations import EmailMessage, Integrations, for_project

CALLER_ID_SETTING = "HIRING_CALLER_ID"
DEFAULT_CALLER_ID = "+15005550006"


def _integrations() -> Integrations:
    return for_project(project().root)


async def email(to: str, subject: str, text: str, *, idempotency_key: str) -> str:
    sent = await _integrations().email.send(
        EmailMessage(to=[to], subject=subject, text=text, idempotency_key=idempotency_key)
    )
    return str(sent.message_id)


RECRUITER_SETTING = "HIRING_RECRUITER_NUMBER"
DEFAULT_RECRUITER = "+15005550007"


def call_twiml() -> str:
    """What the call does when answered: a greeting, then the recruiter is dialled in."""
    recruiter = os.environ.get(RECRUITER_SETTING) or DEFAULT_RECRUITER
    return (
        "<Response><Say>Hello, this is the hiring team calling for your screening call. "
        f'Connecting you now.</Say><Dial record="record-from-answer">{recruiter}</Dial>'
        "</Response>"
    )


async def call(to: str, status_callback_url: str, *, idempotency_key: str) -> tuple[str, str]:
    caller = os.environ.get(CALLER_ID_SETTING) or DEFAULT_CALLER_ID
    placed = await _integrations().telephony.place_call(
        to=to,
        from_=caller,
        status_callback_url=status_callback_url,
        twiml=call_twiml(),
        idempotency_key=idempotency_key,
    )
    return str(placed.sid), str(placed.status)


async def store_json(key: str, data: Any) -> str:
    body = json.dumps(data, indent=2, ensure_ascii=False).encode()
    stored = await _integrations().storage.put(key, body, content_type="application/json")
    return str(stored.key)


async def notify(text: str, *, idempotency_key: str) -> None:
    await _integrations().chat.notify(text, idempotency_key=idempotency_key)
