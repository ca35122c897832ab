"""`raw validate [<id>|--all]`."""

from __future__ import annotations

import argparse

from raw import console as output
from raw.commands.checks import validate_document
from raw.errors import UsageError


def cmd_validate(args: argparse.Namespace) -> int:
    if args.workflow_id and args.all:
        raise UsageError("Pass a workflow id or --all, not both.")
    done = validate_document(args.project_dir, args.workflow_id)
    if args.json:
        output.emit_json(done.body)
        return done.exit_code
    body, project = done.body, done.detail
    if body["config"]["error"] is not None:
        output.err(output.style("✗ ", "31") + body["config"]["error"])
    if not body["workflows"]:
        output.err(f"No workflows in {project.workflows_dir}.")
    for report in body["workflows"]:
        mark = output.style("✓", "32") if report["valid"] else output.style("✗", "31")
        output.err(f"{mark} {report['workflow']}")
        for kind in ("error", "warning"):
            for f in report[f"{kind}s"]:
                where = (
                    f"{f['file']}:{f['line']}: "
                    if f["file"] and f["line"]
                    else (f"{f['file']}: " if f["file"] else "")
                )
                output.err(f"    {kind}: {where}{f['message']}")
    return done.exit_code
