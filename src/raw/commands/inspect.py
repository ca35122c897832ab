"""Reading workflows and their run records: ``raw list``, ``raw show``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from raw import console as output
from raw.commands.document import Document
from raw.errors import RawError
from raw.project import Project, find_project
from raw.workflow.arguments import flags_for
from raw.workflow.loader import load_workflow
from raw.workflow.recorder import FileRecorder, list_run_dirs, run_summary

__all__ = ["describe", "list_document", "recent_runs", "runs_root", "show_document"]


def runs_root(project: Project, workflow_id: str) -> Path:
    return FileRecorder(project.runs_dir).runs_root(
        workflow_id, project.workflows_dir / workflow_id
    )


def _run_summary(manifest: dict[str, Any]) -> dict[str, Any]:
    timings = manifest.get("timings") or {}
    return {
        "run_id": manifest.get("run_id"),
        "status": manifest.get("status"),
        "dry": manifest.get("dry", False),
        "started_at": timings.get("started_at"),
        "duration_ms": timings.get("duration_ms"),
        "error": (manifest.get("error") or {}).get("message"),
    }


def recent_runs(project: Project, workflow_id: str, limit: int) -> list[dict[str, Any]]:
    out = []
    for run_dir in list_run_dirs(runs_root(project, workflow_id))[:limit]:
        manifest = run_summary(run_dir)  # a run whose record is not written yet: running
        if manifest is not None:
            out.append(_run_summary(manifest))
    return out


def describe(project: Project, workflow_id: str) -> dict[str, Any]:
    folder = project.workflow_dir(workflow_id)
    info: dict[str, Any] = {"id": workflow_id, "path": str(folder / "run.py")}
    try:
        with output.stdout_to_stderr():  # a workflow that prints on import cannot corrupt stdout
            loaded = load_workflow(folder / "run.py", workflow_id, project_root=project.root)
    except RawError as exc:
        info.update(loads=False, error=str(exc), description="", params=[], steps=[])
        return info
    cls = loaded.cls
    info.update(
        loads=True,
        class_name=cls.__name__,
        description=cls.description(),
        params=[
            {
                "name": f.field,
                "flag": f.flag,
                "type": f.type_label,
                "required": f.required,
                "default": f.default,
                "choices": list(f.choices) or None,
                "description": f.help,
            }
            for f in flags_for(cls.params_model)
        ],
        steps=[
            {
                "name": spec.name,
                "method": attr,
                "async": spec.is_async,
                "retry": spec.retry.max_attempts if spec.retry else None,
                "cached": spec.cache is not None,
                "conditional": spec.condition is not None,
            }
            for attr, spec in cls.step_specs()
        ],
        defines_run=cls.defines_run(),
        params_schema=cls.params_model.model_json_schema(),
        mocks=sorted(
            str(p.relative_to(folder)) for p in (folder / "mocks").glob("*") if p.is_file()
        ),
    )
    return info


def list_document(project_dir: str | Path | None) -> Document:
    """The project's workflows, whether each loads, and its last run."""
    project = find_project(project_dir)
    rows = []
    for workflow_id in project.workflow_ids():
        info = describe(project, workflow_id)
        last = recent_runs(project, workflow_id, 1)
        rows.append(
            {
                "id": workflow_id,
                "description": info["description"].split("\n", 1)[0],
                "loads": info["loads"],
                "error": info.get("error"),
                "last_run": last[0] if last else None,
            }
        )
    return Document({"project": str(project.root), "workflows": rows}, detail=project)


def show_document(project_dir: str | Path | None, workflow_id: str, *, runs: int = 5) -> Document:
    """One workflow: its params (and their JSON Schema), steps, mocks and recent runs."""
    project = find_project(project_dir)
    workflow_id = project.resolve_workflow_id(workflow_id)  # the original's folder names too
    info = describe(project, workflow_id)
    info["recent_runs"] = recent_runs(project, workflow_id, max(runs, 0))
    return Document(info, detail=project)
