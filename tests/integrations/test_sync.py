"""Sync code (a RAW workflow's `def` steps) calling the async integrations, and for_project()."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from raw import run_workflow
from raw.integrations import IntegrationNotConfiguredError, OutboxChat, for_project, run_sync

if TYPE_CHECKING:
    from conftest import Project

REPORT_WORKFLOW = """
from pydantic import BaseModel

from raw import BaseWorkflow, step
from raw.integrations import for_project


class Params(BaseModel):
    date: str


class GenerateReport(BaseWorkflow[Params]):
    @step("publish")
    def publish(self) -> dict:
        integrations = for_project()  # the run's own project, wherever the caller stands
        stored = integrations.storage.put_sync(
            f"reports/{self.params.date}.md", "# Report\\n", "text/markdown"
        )
        sent = integrations.chat.notify_sync(
            f"Report {self.params.date}: {stored.url}", idempotency_key=self.idempotency_key
        )
        return {"key": stored.key, "duplicate": sent.duplicate}
"""

ASYNC_WORKFLOW = """
from pydantic import BaseModel

from raw import BaseWorkflow, step
from raw.integrations import for_project


class Params(BaseModel):
    date: str


class Archive(BaseWorkflow[Params]):
    @step("archive")
    async def archive(self) -> str:
        stored = await for_project().storage.put(f"archive/{self.params.date}.txt", b"kept")
        return stored.key
"""


def test_a_sync_step_publishes_through_the_project_s_integrations_once_per_key(
    integ_project: Path, project: Project
) -> None:
    project.add_workflow("generate-report", REPORT_WORKFLOW)

    first = run_workflow(
        "generate-report", {"date": "2026-01-05"}, project_dir=integ_project, idempotency_key="k-1"
    )
    retry = run_workflow(
        "generate-report", {"date": "2026-01-05"}, project_dir=integ_project, idempotency_key="k-1"
    )

    assert first.status == "succeeded", first.error
    assert first.output == {"key": "reports/2026-01-05.md", "duplicate": False}
    assert retry.output == {"key": "reports/2026-01-05.md", "duplicate": True}
    assert (
        integ_project / ".raw" / "storage" / "reports" / "2026-01-05.md"
    ).read_text() == "# Report\n"
    outbox = OutboxChat(integ_project / ".raw" / "chat" / "outbox.jsonl")
    assert len(outbox.list()) == 1


def test_an_async_step_awaits_the_integrations(integ_project: Path, project: Project) -> None:
    project.add_workflow("archive", ASYNC_WORKFLOW)

    result = run_workflow("archive", {"date": "2026-01-05"}, project_dir=integ_project)

    assert (result.status, result.output) == ("succeeded", "archive/2026-01-05.txt")


def test_run_sync_from_a_thread_running_an_event_loop_uses_a_thread_of_its_own() -> None:
    async def where() -> str:
        return threading.current_thread().name

    async def main() -> str:
        return run_sync(where())

    assert asyncio.run(main()) == "raw-run-sync"
    assert run_sync(where()) == threading.current_thread().name


def test_run_sync_raises_the_coroutine_s_own_error() -> None:
    async def fails() -> None:
        raise LookupError("no such candidate")

    async def main() -> None:
        run_sync(fails())

    with pytest.raises(LookupError, match="no such candidate"):
        run_sync(fails())
    with pytest.raises(LookupError, match="no such candidate"):
        asyncio.run(main())


def test_an_integration_left_out_of_the_config_says_where_to_add_it(project: Project) -> None:
    integrations = for_project(project.root)

    with pytest.raises(IntegrationNotConfiguredError, match="add a 'system.integrations.email'"):
        integrations.email  # noqa: B018
    assert integrations.adapters() == {
        "email": None,
        "telephony": None,
        "storage": None,
        "chat": None,
    }


def test_for_project_is_one_object_per_version_of_the_config(integ_project: Path) -> None:
    first = for_project(integ_project)

    assert for_project(integ_project) is first
    config = integ_project / ".raw" / "config.yaml"
    config.write_text(config.read_text() + "# changed\n", encoding="utf-8")
    assert for_project(integ_project) is not first
