"""Bodies built to break a parser get a 4xx and store nothing: the attacks that held.

100,000 levels of nesting, a lone surrogate, bytes that are not UTF-8: each is signed
correctly (GitHub's scheme signs the bytes as they are, valid UTF-8 or not) and has
a delivery id, so the body's parsing is what refuses it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from coordinator.webhook_fixtures import github_headers, running_app
from raw.project import Project

from .test_webhooks import assert_nothing_stored, sqlite_url

DEPTH = 100_000

HOSTILE = {
    "100k-deep array": b'{"submission_id": "s-1", "candidate": '
    + b"[" * DEPTH
    + b"]" * DEPTH
    + b"}",
    "100k-deep object": b'{"submission_id": "s-1", "x": '
    + b'{"a":' * DEPTH
    + b"1"
    + b"}" * DEPTH
    + b"}",
    "lone surrogate": b'{"submission_id": "s-\\ud800", "candidate": {}}',
    "invalid UTF-8": b'{"submission_id": "s-\xff\xfe", "candidate": {}}',
}


@pytest.mark.parametrize("body", list(HOSTILE.values()), ids=list(HOSTILE))
def test_a_hostile_signed_json_body_is_a_4xx_that_stores_nothing(
    hook_project: Project, tmp_path: Path, body: bytes
) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=sqlite_url(tmp_path)) as app:
            headers = github_headers(body, delivery="d-hostile")
            response = await app.client.post("/webhooks/cv-github", content=body, headers=headers)
            assert 400 <= response.status_code < 500, response.text[:300]
            assert response.json()["error"]["message"]
            await assert_nothing_stored(app)

    asyncio.run(scenario())
