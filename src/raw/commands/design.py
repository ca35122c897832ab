"""Designing a system: ``raw plan``, ``raw new system``, ``raw create``."""

from __future__ import annotations

from pathlib import Path

from raw.commands.document import Document
from raw.project import check_workflow_id, find_project
from raw.scaffold.decision import Pattern, decide
from raw.scaffold.system import write_system
from raw.scaffold.system_plan import (
    SystemOptions,
    check_system_name,
    parse_schedule,
    plan_system,
)
from raw.scaffold.workflow import create_workflow

__all__ = ["create_workflow_document", "new_system_document", "plan_document"]


def _schedule(text: str) -> str:
    spec = text if ":" in text else f"{text}:daily-report"
    return parse_schedule(spec).text


def plan_document(
    *,
    state_across_days: bool,
    webhooks: bool,
    webhook_names: list[str] | None = None,
    schedules: list[str] | None = None,
    name: str = "my-system",
) -> Document:
    """The decision tree's recommendation for these answers, with its reasons.

    ``schedules`` are ``CRON`` or ``CRON:WORKFLOW``; ``webhook_names`` imply webhooks.
    """
    check_system_name(name)
    webhook_names = list(webhook_names or [])
    recommendation = decide(
        state_across_days=state_across_days,
        webhooks=webhooks or bool(webhook_names),
        schedules=[_schedule(s) for s in schedules or []],
        webhook_names=webhook_names,
        name=name,
    )
    return Document(recommendation.to_dict(), detail=recommendation)


def new_system_document(
    name: str,
    *,
    pattern: Pattern,
    directory: Path,
    webhooks: list[str] | None = None,
    schedules: list[str] | None = None,
    force: bool = False,
) -> Document:
    """Write a working system for a pattern of the decision tree; every check comes first."""
    options = SystemOptions(
        name=name,
        pattern=pattern,
        directory=directory.resolve(),
        webhooks=list(webhooks or []),
        schedules=[parse_schedule(s) for s in schedules or []],
        force=force,
    )
    plan = plan_system(options)  # every check, before any file is touched
    written = write_system(plan)
    files = sorted({str(f.relative_to(written.root)) for f in written.files})
    return Document(
        {
            "system": plan.name,
            "pattern": plan.pattern,
            "directory": str(written.root),
            "package": plan.package if plan.pattern != "single" else None,
            "webhooks": plan.webhooks,
            "schemes": plan.schemes,
            "schedules": [s.text for s in options.schedules],
            "files": files,
            "notes": written.notes,
        }
    )


def create_workflow_document(
    workflow_id: str,
    *,
    project_dir: str | Path | None,
    intent: str | None = None,
    force: bool = False,
) -> Document:
    """Create a runnable workflow (Params, steps, mocks, a test) in the project."""
    check_workflow_id(workflow_id)  # before any file is touched
    project = find_project(project_dir)
    created = create_workflow(project.workflows_dir, workflow_id, intent=intent, force=force)
    return Document(
        {
            "workflow": workflow_id,
            "folder": str(created.root),
            "files": [str(f) for f in created.files],
        },
        detail=project,
    )
