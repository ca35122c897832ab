"""`raw init` and `raw create`."""

from __future__ import annotations

import argparse
from pathlib import Path

from raw import console as output
from raw.commands.design import create_workflow_document
from raw.scaffold.workflow import init_project


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
    done = create_workflow_document(
        args.workflow_id, project_dir=args.project_dir, intent=args.intent, force=args.force
    )
    if args.json:
        output.emit_json(done.body)
        return output.OK
    project = done.detail
    output.err(f"Created workflow '{args.workflow_id}' in {done.body['folder']}")
    for f in done.body["files"]:
        output.err(f"  {Path(f).relative_to(project.root)}")
    output.err(f"Try it: raw run {args.workflow_id} --dry")
    return output.OK
