"""`raw init` and `raw create`."""

from __future__ import annotations

import argparse
from pathlib import Path

from raw import console as output
from raw.project import check_workflow_id, find_project
from raw.scaffold.workflow import create_workflow, init_project


def cmd_init(args: argparse.Namespace) -> int:
    root = Path(args.project_dir or Path.cwd())
    created = init_project(root, name=args.name)
    if args.json:
        output.emit_json(
            {
                "project": str(created.root.resolve()),
                "created": not created.existed,
                "files": [str(f) for f in created.files],
            }
        )
    elif created.existed:
        output.err(f"{root.resolve()} is already a RAW project; nothing changed.")
    else:
        output.err(f"Initialised a RAW project in {root.resolve()}")
        output.err("Next: raw create my-workflow --intent 'what it should do'")
    return output.OK


def cmd_create(args: argparse.Namespace) -> int:
    check_workflow_id(args.workflow_id)  # before any file is touched
    project = find_project(args.project_dir)
    created = create_workflow(
        project.workflows_dir, args.workflow_id, intent=args.intent, force=args.force
    )
    if args.json:
        output.emit_json(
            {
                "workflow": args.workflow_id,
                "folder": str(created.root),
                "files": [str(f) for f in created.files],
            }
        )
    else:
        output.err(f"Created workflow '{args.workflow_id}' in {created.root}")
        for f in created.files:
            output.err(f"  {f.relative_to(project.root)}")
        output.err(f"Try it: raw run {args.workflow_id} --dry")
    return output.OK
