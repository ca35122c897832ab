"""Checking a project: ``raw validate``, ``raw gates``, ``raw config check``."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from raw.commands.document import Document
from raw.config.project import load_config
from raw.console import error_document
from raw.errors import ConfigError
from raw.gates.runner import GateResult, run_gates
from raw.gates.spec import GateSpec, select_gates
from raw.project import find_project
from raw.workflow.validate import check_config, validate_in_subprocess

__all__ = [
    "config_check_document",
    "effective_orchestrator",
    "gates_document",
    "log_tail",
    "validate_document",
]

FAILED = 1
USAGE = 2
TAIL_LINES = 40
"""How much of a failed gate's log its document carries (the whole log stays on disk)."""


def validate_document(project_dir: str | Path | None, workflow_id: str | None = None) -> Document:
    """Import the workflows (one, or all) in a subprocess and check them for real."""
    project = find_project(project_dir)
    # A name of the original runtime's date-prefixed folders resolves to the folder.
    ids = [project.resolve_workflow_id(workflow_id)] if workflow_id else project.workflow_ids()
    if workflow_id:
        project.workflow_dir(ids[0])  # not found: exit 3 with the closest names
    config_problem = check_config(project.root)
    reports = validate_in_subprocess(project.root, ids) if ids else []
    valid = config_problem is None and all(r.valid for r in reports)
    body = {
        "valid": valid,
        "config": {
            "path": str(project.config_path),
            "valid": config_problem is None,
            "error": config_problem.message if config_problem else None,
        },
        "workflows": [r.to_dict() for r in reports],
    }
    return Document(body, 0 if valid else FAILED, detail=project)


def log_tail(path: str, lines: int = TAIL_LINES) -> list[str]:
    """The last lines of a gate's log, without its ``# `` header lines."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if not line.startswith("# ")][-lines:]


def gates_document(
    project_dir: str | Path | None,
    only: list[str] | None = None,
    *,
    on_start: Callable[[int, GateSpec], None] | None = None,
    on_finish: Callable[[int, GateResult], None] | None = None,
) -> Document:
    """Run the project's gates (``builder.gates``), or only those named; each gets a log.

    ``failures`` gives each gate that did not pass with the end of its log, so a reader
    (a person, an agent) sees why without opening the file.
    """
    project = find_project(project_dir)
    project.config.system  # noqa: B018 - an invalid config stops here, with exit 2
    specs = select_gates(project, only)
    run = run_gates(project, specs, on_start=on_start, on_finish=on_finish)
    code = 0 if run.ok else FAILED
    failures = [
        {"name": r.name, "status": r.status, "log": r.log, "output": log_tail(r.log)}
        for r in run.results
        if r.status != "passed"
    ]
    body = {**run.to_dict(), "failures": failures, "exit_code": code}
    return Document(body, code, detail=specs)


ENV_OVERRIDES = {
    "address": "TEMPORAL_ADDRESS",
    "namespace": "RAW_TEMPORAL_NAMESPACE",
    "task_queue": "RAW_TASK_QUEUE",
}
"""Orchestrator settings the environment overrides, and the variable that does."""
TEMPORAL_CLIENT_SETTINGS = (
    "TEMPORAL_NAMESPACE",
    "TEMPORAL_PROFILE",
    "TEMPORAL_CONFIG_FILE",
    "TEMPORAL_TLS",
    "TEMPORAL_TLS_SERVER_NAME",
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
    "TEMPORAL_TLS_CLIENT_CERT_PATH",
    "TEMPORAL_TLS_CLIENT_KEY_PATH",
)
"""Temporal's own client settings whose values may be shown (names, paths, switches)."""
TEMPORAL_CLIENT_SECRETS = (
    "TEMPORAL_API_KEY",
    "TEMPORAL_TLS_SERVER_CA_CERT_DATA",
    "TEMPORAL_TLS_CLIENT_CERT_DATA",
    "TEMPORAL_TLS_CLIENT_KEY_DATA",
)
"""...and those shown only as set: a key, or a file's content."""


def effective_orchestrator(project_config: Any) -> dict[str, Any]:
    """The orchestrator settings in force, each overridable one with where it came from."""
    configured = project_config.system.orchestrator
    effective = configured.effective()
    fields_set = configured.model_fields_set
    settings: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, env in ENV_OVERRIDES.items():
        settings[key] = getattr(effective, key)
        if os.environ.get(env):
            sources[key] = f"env {env}"
        elif key in fields_set:
            sources[key] = "config"
        else:
            sources[key] = "default"
    if settings["address"] is None:
        sources["address"] = "embedded engine ('raw engine start')"
    settings.update(
        workflows=list(effective.workflows),
        activities=list(effective.activities),
        activity_mode=effective.activity_mode,
        schedules=[s.model_dump(mode="json", exclude_none=True) for s in effective.schedules],
        connection=effective.connection.model_dump(mode="json", exclude_none=True),
        temporal_env={
            **{n: os.environ[n] for n in TEMPORAL_CLIENT_SETTINGS if os.environ.get(n)},
            **{n: "(set)" for n in TEMPORAL_CLIENT_SECRETS if os.environ.get(n)},
        },
        sources=sources,
    )
    return settings


def config_check_document(project_dir: str | Path | None) -> Document:
    """Validate .raw/config.yaml strictly; the effective orchestrator settings when valid.

    An invalid file is a document too (``valid: false``, the error, exit 2).
    """
    project = find_project(project_dir)
    path = project.config_path
    try:
        config = load_config(path)
        config.system  # noqa: B018 - validated on first use; check it here
    except ConfigError as exc:
        return Document(
            {"config": str(path), "valid": False, **error_document(exc, USAGE)}, USAGE, detail=exc
        )
    original = config.original  # a file of the original RAW runtime, read as ours
    body = {
        "config": str(path),
        "exists": path.exists(),
        "valid": True,
        "original_format": None
        if original is None
        else {"version": original.version, "set_aside": list(original.set_aside)},
        "system": config.system.name,
        "orchestrator": effective_orchestrator(config),
    }
    return Document(body, detail=(path, original))
