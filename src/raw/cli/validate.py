"""`raw validate [<id>|--all]`."""

from __future__ import annotations

import argparse

from raw import console as output
from raw.errors import UsageError
from raw.project import find_project
from raw.workflow.validate import check_config, validate_in_subprocess


def cmd_validate(args: argparse.Namespace) -> int:
    project = find_project(args.project_dir)
    if args.workflow_id and args.all:
        raise UsageError("Pass a workflow id or --all, not both.")
    ids = [project.resolve_workflow_id(args.workflow_id)] if args.workflow_id else []
    if args.workflow_id:
        project.workflow_dir(ids[0])  # not found: exit 3 with the closest names
    else:
        ids = project.workflow_ids()
    config_problem = check_config(project.root)
    reports = validate_in_subprocess(project.root, ids) if ids else []
    valid = config_problem is None and all(r.valid for r in reports)
    if args.json:
        output.emit_json(
            {
                "valid": valid,
                "config": {
                    "path": str(project.config_path),
                    "valid": config_problem is None,
                    "error": config_problem.message if config_problem else None,
                },
                "workflows": [r.to_dict() for r in reports],
            }
        )
        return output.OK if valid else output.FAILED
    if config_problem is not None:
        output.err(output.style("✗ ", "31") + config_problem.message)
    if not ids:
        output.err(f"No workflows in {project.workflows_dir}.")
    for report in reports:
        mark = output.style("✓", "32") if report.valid else output.style("✗", "31")
        output.err(f"{mark} {report.workflow}")
        for kind, findings in (("error", report.errors), ("warning", report.warnings)):
            for f in findings:
                where = (
                    f"{f.file}:{f.line}: "
                    if f.file and f.line
                    else (f"{f.file}: " if f.file else "")
                )
                output.err(f"    {kind}: {where}{f.message}")
    return output.OK if valid else output.FAILED
