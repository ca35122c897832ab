"""`raw list`, `raw show <id>`, `raw logs <id>`: read workflows and their run records."""

from __future__ import annotations

import argparse
import difflib
import sys

from raw import console as output
from raw.commands.inspect import list_document, runs_root, show_document
from raw.project import find_project
from raw.workflow.recorder import list_run_dirs, read_manifest


def cmd_list(args: argparse.Namespace) -> int:
    done = list_document(args.project_dir)
    project, rows = done.detail, done.body["workflows"]
    if args.json:
        output.emit_json(done.body)
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
    info = show_document(args.project_dir, args.workflow_id, runs=args.runs).body
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
    runs = list_run_dirs(runs_root(project, args.workflow_id))
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
    trace_id = (read_manifest(run_dir) or {}).get("trace_id")  # a traced run's
    if args.json:
        output.emit_json(
            {
                "workflow": args.workflow_id,
                "run_id": run_dir.name,
                "log_path": str(log_path),
                "log": text,
                "trace_id": trace_id,
            }
        )
    else:
        if trace_id:
            sys.stdout.write(f"trace id: {trace_id}\n")
        sys.stdout.write(text)
    return output.OK
