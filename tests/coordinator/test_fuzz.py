"""Property-based fuzzing of the webhook routes, with every generated delivery correctly signed.

The signature is right, so each case goes past the 401 and exercises the body
handling: parsing, the model, the idempotency key, the business key, storage. For
every case: never a 5xx, and the database holds exactly one delivery and one inbox
record per 202, nothing for a refusal. Both outcomes must occur in a run.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coordinator.webhook_fixtures import Running, running_app, standard_headers, twilio_headers
from raw.project import Project

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
emails = st.from_regex(r"[a-z0-9._+-]{1,10}@[a-z0-9-]{1,10}\.[a-z]{2,4}", fullmatch=True)
candidates = st.fixed_dictionaries(
    {"name": st.text(max_size=30), "email": emails | st.text(max_size=16)}
)
near_valid = st.fixed_dictionaries(
    {
        "submission_id": st.text(max_size=16),
        "candidate": candidates | json_values,
        "cv_text": st.text(max_size=120),
    },
    optional={"years": st.integers(-5, 100) | json_values, "extra": json_values},
)
json_bodies = st.one_of(
    near_valid.map(json.dumps),
    near_valid.map(lambda body: json.dumps(body, ensure_ascii=False)),
    json_values.map(json.dumps),
    st.text(max_size=80),
)
form_fields = st.fixed_dictionaries(
    {},
    optional={
        "CallSid": st.text(max_size=12),
        "CallStatus": st.sampled_from(["completed", "busy", "no-answer"]) | st.text(max_size=8),
        "candidate": st.from_regex(r"c-[0-9]{1,4}", fullmatch=True) | st.text(max_size=8),
        "Extra": st.text(max_size=8),
    },
)


def fuzz_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )


def fuzz(
    project: Project,
    db_url: str,
    max_examples: int,
    strategy: st.SearchStrategy[Any],
    deliver: Callable[[Running, Any], Any],
) -> Counter[int]:
    """Run ``deliver`` on each generated value against one app; returns the statuses seen."""
    statuses: Counter[int] = Counter()
    accepted = 0

    with asyncio.Runner() as runner:
        context = running_app(project, db_url=db_url)
        app = runner.run(context.__aenter__())
        try:

            @fuzz_settings(max_examples)
            @given(strategy)
            def check(value: Any) -> None:
                nonlocal accepted
                status, text = runner.run(deliver(app, value))
                assert status < 500, text
                statuses[status] += 1
                if status == 202:
                    accepted += 1
                else:
                    assert status in (400, 413, 422), text
                assert runner.run(app.counts()) == (accepted, accepted)

            check()
        finally:
            runner.run(context.__aexit__(None, None, None))
    return statuses


async def deliver_json(app: Running, text: str) -> tuple[int, str]:
    headers = standard_headers(text, msg_id=f"msg_{uuid.uuid4().hex}")
    response = await app.client.post("/webhooks/cv-plain", content=text.encode(), headers=headers)
    return response.status_code, response.text


async def deliver_handled_json(app: Running, text: str) -> tuple[int, str]:
    headers = standard_headers(text, msg_id=f"msg_{uuid.uuid4().hex}")
    response = await app.client.post("/webhooks/cv", content=text.encode(), headers=headers)
    return response.status_code, response.text


async def deliver_form(app: Running, fields: dict[str, str]) -> tuple[int, str]:
    # The idempotency key is the body's CallSid: make each one new, when there is one.
    if fields.get("CallSid"):
        fields = {**fields, "CallSid": f"{fields['CallSid']}-{uuid.uuid4().hex}"}
    headers = twilio_headers("http://testserver/webhooks/call-status", fields)
    response = await app.client.post(
        "/webhooks/call-status", content=urlencode(fields).encode(), headers=headers
    )
    return response.status_code, response.text


def test_signed_json_bodies_never_5xx_and_refusals_store_nothing(
    hook_project: Project, hook_db_url: str
) -> None:
    examples = 300 if hook_db_url.startswith("sqlite") else 120
    statuses = fuzz(hook_project, hook_db_url, examples, json_bodies, deliver_json)
    assert statuses[202] >= examples // 20, statuses
    assert statuses[422] >= examples // 20, statuses


def test_signed_json_bodies_through_a_handler_never_5xx(
    hook_project: Project, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}"
    statuses = fuzz(hook_project, url, 150, json_bodies, deliver_handled_json)
    assert statuses[202] > 0 and statuses[422] > 0, statuses


def test_signed_forms_never_5xx_and_refusals_store_nothing(
    hook_project: Project, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}"
    statuses = fuzz(hook_project, url, 150, form_fields, deliver_form)
    assert statuses[202] > 0, statuses
    assert statuses[422] + statuses[400] > 0, statuses
