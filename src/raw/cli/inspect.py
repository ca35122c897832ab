"""`raw list`, `raw show <id>`, `raw logs <id>`: read workflows and their run records."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import Any

from raw import console as output
from raw.errors import RawError
from raw.project import Project, find_project
from raw.workflow.arguments import flags_for
from raw.workflow.loader import load_workflow
from raw.workflow.recorder import FileRecorder, list_run_dirs, read_manifest


def _runs_root(project: Project, workflow_id: str) -> Path:
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
    for run_dir in list_run_dirs(_runs_root(project, workflow_id))[:limit]:
        manifest = read_manifest(run_dir)
        if manifest is not None:
            out.append(_run_summary(manifest))
    return out


def _describe(project: Project, workflow_id: str) -> dict[str, Any]:
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
    )
    return info


def cmd_list(args: argparse.Namespace) -> int:
    project = find_project(args.project_dir)
    rows = []
    for workflow_id in project.workflow_ids():
        info = _describe(project, workflow_id)
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
    if args.json:
        output.emit_json({"project": str(project.root), "workflows": rows})
        return output.OK
    if not rows:
        output.err(f"No workflows in {project.workflows_dir}. Create one: raw create my-workflow")
        return output.OK
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        last = r["last_run"]
        status = f"{last['status']} {last['started_at']}" if last else "never run"
        text = r["description"] if r["loads"] else "does not load: " + (r["error"] or "")
        print(f"{r['id']:<{width}}  {status:<40}  {text}")
    return output.OK


def cmd_show(args: argparse.Namespace) -> int:
    project = find_project(args.project_dir)
    args.workflow_id = project.resolve_workflow_id(args.workflow_id)
    info = _describe(project, args.workflow_id)
    info["recent_runs"] = recent_runs(project, args.workflow_id, max(args.runs, 0))
    if args.json:
        output.emit_json(info)
        return output.OK
    lines = [f"{info['id']}  ({info['path']})"]
    if not info["loads"]:
        lines.append(f"  does not load: {info['error']}")
    if info["description"]:
        lines += ["", *("  " + line for line in info["description"].splitlines())]
    lines += ["", "params:" if info["params"] else "params: none"]
    for p in info["params"]:
        req = "required" if p["required"] else f"default {p['default']!r}"
        choices = f" one of {', '.join(p['choices'])}" if p["choices"] else ""
        lines.append(f"  {p['flag']:<24} {p['type']:<14} {req}{choices}  {p['description']}")
    lines += ["", "steps:" if info["steps"] else "steps: none"]
    for s in info["steps"]:
        notes = [
            n
            for n, on in (
                ("async", s["async"]),
                (f"retry x{s['retry']}", s["retry"]),
                ("cached", s["cached"]),
                ("conditional", s["conditional"]),
            )
            if on
        ]
        lines.append(f"  {s['name']:<24} {', '.join(notes)}")
    lines += ["", "recent runs:" if info["recent_runs"] else "recent runs: none"]
    for r in info["recent_runs"]:
        dry = " (dry)" if r["dry"] else ""
        lines.append(f"  {r['run_id']}  {r['status']:<13}{dry} {r['duration_ms']} ms")
    print("\n".join(lines))
    return output.OK


def cmd_logs(args: argparse.Namespace) -> int:
    project = find_project(args.project_dir)
    args.workflow_id = project.resolve_workflow_id(args.workflow_id)
    project.workflow_dir(args.workflow_id)
    runs = list_run_dirs(_runs_root(project, args.workflow_id))
    if args.run:
        matches = [r for r in runs if r.name == args.run]
        if not matches:
            close = difflib.get_close_matches(args.run, [r.name for r in runs], n=3)
            hint = (
                (" Did you mean " + ", ".join(close) + "?")
                if close
                else (f" See 'raw show {args.workflow_id}' for its runs.")
            )
            raise output.NotFoundError(
                f"Workflow '{args.workflow_id}' has no run '{args.run}'.{hint}"
            )
        run_dir = matches[0]
    elif runs:
        run_dir = runs[0]
    else:
        raise output.NotFoundError(
            f"Workflow '{args.workflow_id}' has no runs yet. Run it: raw run {args.workflow_id}"
        )
    log_path = run_dir / "run.log"
    text = log_path.read_text(encoding="utf-8") if log_path.exists() else ""
    if args.json:
        output.emit_json(
            {
                "workflow": args.workflow_id,
                "run_id": run_dir.name,
                "log_path": str(log_path),
                "log": text,
            }
        )
    else:
        sys.stdout.write(text)
    return output.OK
