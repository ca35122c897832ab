"""Pattern 1 end to end over HTTP: form submission -> pending -> RAW workflow -> complete."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest

from raw.coordinator.db.database import Database
from raw.project import Project as RawProject

from .pattern1_fixtures import ANALYZE, BROKEN, CONFIG, SECRET_SETTING, Applicant, P1Base
from .webhook_fixtures import running_app

if TYPE_CHECKING:
    from conftest import Project, RunCli

SECRET = "whsec_" + base64.b64encode(b"pattern-one-form-secret-0123456").decode()


def signed_form(fields: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    from standardwebhooks import Webhook

    body = urlencode(fields)
    msg_id = f"msg_{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    return body.encode(), {
        "content-type": "application/x-www-form-urlencoded",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(SECRET).sign(msg_id, now, body),
    }


async def applicant(db: Database, email: str) -> Applicant | None:
    async with db.read() as session:
        row = await session.get(Applicant, email)
        if row is not None:
            session.expunge(row)
        return row


async def until_settled(db: Database, email: str, timeout_seconds: float = 30) -> Applicant:
    deadline = time.monotonic() + timeout_seconds
    while True:
        row = await applicant(db, email)
        if row is not None and row.status != "pending":
            return row
        assert time.monotonic() < deadline, f"{email} still {row.status if row else 'absent'}"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize(("workflow", "source"), [("analyze-cv", ANALYZE), ("broken", BROKEN)])
def test_form_submission_becomes_pending_then_complete_or_failed(
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    hook_db_url: str,
    workflow: str,
    source: str,
) -> None:
    project.add_workflow(workflow, source)
    (project.root / ".raw" / "config.yaml").write_text(
        CONFIG.replace("WORKFLOW", workflow), encoding="utf-8"
    )
    monkeypatch.setenv(SECRET_SETTING, SECRET)
    monkeypatch.setenv("RAW_API_TOKEN", "pattern-one-api-token-0123456789")
    email = f"{uuid.uuid4().hex[:8]}@example.com"

    async def scenario() -> tuple[Any, Applicant, Applicant]:
        async with Database(hook_db_url) as db, db.engine.begin() as conn:
            await conn.run_sync(P1Base.metadata.create_all)
        async with running_app(
            RawProject(project.root), db_url=hook_db_url, run_dispatcher=True
        ) as app:
            body, headers = signed_form(
                {"submission_id": f"s-{email}", "email": email, "cv_text": "Python, 10 years"}
            )
            answer = await app.client.post("/webhooks/application", content=body, headers=headers)
            first = await applicant(app.db, email)
            assert first is not None
            settled = await until_settled(app.db, email)
            return answer, first, settled

    answer, first, settled = asyncio.run(scenario())

    assert answer.status_code == 202, answer.text
    assert answer.json()["correlation_id"]
    assert first.status in ("pending", "complete", "failed")  # committed before the 2xx
    if workflow == "analyze-cv":
        assert settled.status == "complete"
        assert settled.output == {"score": 0.9, "qualified": True}
    else:
        assert settled.status == "failed"
        assert settled.error is not None and "the scoring model is unavailable" in settled.error
        assert "after 3 attempts" in settled.error


def test_erasing_an_applicant_removes_the_run_folders_their_delivery_caused(
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    hook_db_url: str,
    raw_cli: RunCli,
) -> None:
    project.add_workflow("analyze-cv", ANALYZE)
    (project.root / ".raw" / "config.yaml").write_text(
        CONFIG.replace("WORKFLOW", "analyze-cv"), encoding="utf-8"
    )
    monkeypatch.setenv(SECRET_SETTING, SECRET)
    monkeypatch.setenv("RAW_API_TOKEN", "pattern-one-api-token-0123456789")
    monkeypatch.setenv("DATABASE_URL", hook_db_url)  # every run is indexed there
    ada, grace = (f"{name}-{uuid.uuid4().hex[:6]}@example.com" for name in ("ada", "grace"))

    async def scenario() -> dict[str, Path]:
        async with Database(hook_db_url) as db, db.engine.begin() as conn:
            await conn.run_sync(P1Base.metadata.create_all)
        async with running_app(
            RawProject(project.root), db_url=hook_db_url, run_dispatcher=True
        ) as app:
            folders = {}
            for email in (ada, grace):
                body, headers = signed_form(
                    {"submission_id": f"s-{email}", "email": email, "cv_text": "Python"}
                )
                answer = await app.client.post(
                    "/webhooks/application", content=body, headers=headers
                )
                assert (await until_settled(app.db, email)).status == "complete"
                folders[email] = await indexed_run_folder(app.db, answer.json()["correlation_id"])
            return folders

    folders = asyncio.run(scenario())
    for folder in folders.values():
        assert {"manifest.json", "run.log"} <= {p.name for p in folder.iterdir()}

    erased = raw_cli("db", "erase", ada, "--json", env={"DATABASE_URL": hook_db_url})
    assert erased.code == 0, erased.stderr
    assert (erased.json()["runs"], erased.json()["run_folders"]) == (1, 1)
    assert not folders[ada].exists()
    assert folders[grace].is_dir()  # another entity's run stays
    assert any(folders[grace].iterdir())
    again = raw_cli("db", "erase", ada, "--json", env={"DATABASE_URL": hook_db_url})
    assert again.json()["erased"] == 0


async def indexed_run_folder(db: Database, correlation_id: str) -> Path:
    """The folder of the finished run the delivery caused, as the run index names it."""
    from sqlalchemy import select

    from raw.coordinator.db.models import RunIndex

    deadline = time.monotonic() + 30
    while True:  # the index is written from a background thread
        async with db.read() as session:
            run = await session.scalar(
                select(RunIndex).where(
                    RunIndex.correlation_id == correlation_id, RunIndex.status != "running"
                )
            )
        if run is not None:
            return Path(run.manifest["run_dir"])
        assert time.monotonic() < deadline, f"no finished run for {correlation_id} in the index"
        await asyncio.sleep(0.05)
