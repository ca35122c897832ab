"""The built-in gates, each run in a process of its own by :mod:`raw.gates.runner`.

``python -m raw.gates.builtin NAME PROJECT_ROOT DETAILS_JSON``: prints what it
checks (the gate's log), writes its findings to ``DETAILS_JSON`` and exits 0
when the gate passes, 1 when it does not, 2 when the configuration is unusable.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from raw.deploy.check import check_deployment
from raw.deploy.rendering import render
from raw.errors import ConfigError, RawError
from raw.gates.system_check import check_system
from raw.project import Project
from raw.workflow.runner import run_workflow
from raw.workflow.validate import check_config, check_workflow

__all__ = ["GATES", "main"]

Outcome = tuple[bool, dict[str, Any]]


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def validate(project: Project) -> Outcome:
    """Every workflow imports and is well formed; the config is valid."""

    problem = check_config(project.root)
    if problem is not None:
        _say(f"✗ config: {problem.message}")
    ids = project.workflow_ids()
    if not ids:
        _say(f"No workflows in {project.workflows_dir}: nothing to validate.")
    reports = [check_workflow(project.root, workflow_id) for workflow_id in ids]
    for report in reports:
        _say(f"{'✓' if report.valid else '✗'} {report.workflow}")
        for kind, findings in (("error", report.errors), ("warning", report.warnings)):
            for f in findings:
                where = f"{f.file}:{f.line}: " if f.file and f.line else ""
                _say(f"    {kind}: {where}{f.message}")
    ok = problem is None and all(r.valid for r in reports)
    return ok, {"workflows": [r.to_dict() for r in reports]}


def dry(project: Project) -> Outcome:
    """Every workflow runs on its mocks (``raw run <id> --dry``)."""

    ids = project.workflow_ids()
    if not ids:
        _say(f"No workflows in {project.workflows_dir}: nothing to run.")
    runs = []
    for workflow_id in ids:
        started = time.monotonic()
        result = run_workflow(workflow_id, dry=True, project_dir=project.root)
        seconds = time.monotonic() - started
        mark = "✓" if result.status == "succeeded" else "✗"
        _say(f"{mark} {workflow_id}: {result.status} in {seconds:.2f} s (run {result.run_id})")
        if result.error is not None:
            _say(f"    {result.error.message}")
        runs.append({"workflow": workflow_id, "status": result.status, "run_id": result.run_id})
    return all(r["status"] == "succeeded" for r in runs), {"runs": runs}


def temporal_validate(project: Project) -> Outcome:
    """The processes load in Temporal's sandbox and replay their recorded histories."""
    # Lazy: asyncio costs start-up time; only the Temporal gate needs it.
    import asyncio

    # Lazy: needs the orchestrator extra, which may be missing.
    from temporalio import workflow
    from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

    from raw.orchestrator.connect import orchestrator_config
    from raw.orchestrator.replay import ReplayReport, replay
    from raw.orchestrator.worker import plan_worker

    config = orchestrator_config(project)
    if not config.workflows:
        _say("No processes (system.orchestrator.workflows is empty): nothing to validate.")
        return True, {"replayed": [], "failures": [], "missing": []}
    plan = plan_worker(project, config)
    processes = [w for w in plan.workflows if w.__name__ != "RawScheduledRun"]
    runner = SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(
            "raw", "pydantic", "pydantic_core"
        )
    )
    sandbox_errors: list[dict[str, str]] = []

    async def check() -> ReplayReport:
        for cls in processes:  # what a worker does first: import each in the sandbox
            try:
                runner.prepare_workflow(workflow._Definition.must_from_class(cls))
                _say(f"✓ {cls.__name__} loads in the workflow sandbox")
            except Exception as exc:
                sandbox_errors.append({"process": cls.__name__, "error": str(exc)})
                _say(f"✗ {cls.__name__} does not load in the workflow sandbox: {exc}")
        return await replay(project, processes)

    report = asyncio.run(check())
    for item in report.replayed:
        _say(f"✓ replayed {item['file']}")
    for failure in report.failures:
        _say(f"✗ {failure['file']}: {failure['error']}")
    for missing in report.missing:
        _say(
            f"✗ {missing}: no recorded history in .raw/histories/. Record one: run the "
            "process's test (it saves its history), or `raw temporal record` after a run."
        )
    details = {**report.to_dict(), "sandbox_errors": sandbox_errors}
    return report.ok and not sandbox_errors, details


def docker_validate(project: Project) -> Outcome:
    """The deployment files pass `raw deploy check`: the project's own, else freshly rendered."""

    folder = project.root / "deploy"
    with tempfile.TemporaryDirectory(prefix="raw-gates-deploy-") as tmp:
        if folder.is_dir():
            _say(f"Checking the project's deployment files in {folder}.")
            source = "project"
        else:
            folder = Path(tmp)
            render(project, folder)
            _say(
                "The project has no deploy/ folder: rendered its deployment with "
                f"`raw deploy render` into a temporary folder ({folder}) and checked that."
            )
            source = "rendered"
        report = check_deployment(folder, project=project)
        for finding in report.findings:
            _say(f"✗ {finding}")
    counts = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in report.checked.items())
    _say(f"{'no findings' if report.ok else f'{len(report.findings)} finding(s)'} ({counts}).")
    return report.ok, {**report.to_dict(), "source": source}


def system_check(project: Project) -> Outcome:
    """The parts agree (see raw.gates.system_check)."""
    report = check_system(project)
    for line in report.lines():
        _say(line)
    return report.ok, report.to_dict()


GATES: dict[str, Callable[[Project], Outcome]] = {
    "validate": validate,
    "dry": dry,
    "temporal-validate": temporal_validate,
    "docker-validate": docker_validate,
    "system-check": system_check,
}


def main(argv: list[str]) -> int:

    name, root, details_path = argv
    project = Project(Path(root))
    code = 0
    try:
        ok, details = GATES[name](project)
        code = 0 if ok else 1
    except RawError as exc:
        _say(f"Error: {exc}")
        details = {"error": {"type": type(exc).__name__, "message": str(exc)}}
        code = 2 if isinstance(exc, ConfigError) else 1
    Path(details_path).write_text(json.dumps(details, default=str, indent=2), encoding="utf-8")
    return code


if __name__ == "__main__":
    exit_code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)  # temporalio's runtime can abort at interpreter exit (NOTES.md)
