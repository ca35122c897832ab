"""`raw temporal record|replay`: recorded histories, the temporal-validate gate."""

from __future__ import annotations

import argparse
import asyncio

from raw import console as output
from raw.errors import RawError
from raw.project import find_project


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["record", "replay"])
    parser.add_argument(
        "--query", help="record: a visibility query (default: every closed process)"
    )
    parser.add_argument("--limit", type=int, default=20, help="record: at most this many")
    parser.set_defaults(handler=cmd_temporal)


def cmd_temporal(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw temporal loads Temporal.
    from raw.orchestrator.connect import connect, orchestrator_config
    from raw.orchestrator.replay import record, replay
    from raw.orchestrator.worker import plan_worker

    project = find_project(args.project_dir)
    if args.action == "record":

        async def do_record() -> list[str]:
            client = await connect(project)
            return [
                str(p) for p in await record(client, project, query=args.query, limit=args.limit)
            ]

        try:
            paths = asyncio.run(do_record())
        except RawError as exc:
            output.fail_and_leave(exc, as_json=args.json)
        if args.json:
            output.emit_json({"recorded": paths})
        else:
            output.err(f"Recorded {len(paths)} histories" + (":" if paths else "."))
            for p in paths:
                output.err(f"  {p}")
        code = output.OK
    else:
        plan = plan_worker(project, orchestrator_config(project))
        workflows = [w for w in plan.workflows if w.__name__ != "RawScheduledRun"]
        report = asyncio.run(replay(project, workflows))
        if args.json:
            output.emit_json(report.to_dict())
        else:
            for item in report.replayed:
                output.err(output.style("✓ ", "32") + item["file"])
            for failure in report.failures:
                output.err(output.style("✗ ", "31") + f"{failure['file']}: {failure['error']}")
            for missing in report.missing:
                output.err(
                    output.style("✗ ", "31") + f"{missing}: no recorded history. Record "
                    "one: run it (or its test) and 'raw temporal record'."
                )
            if not report.replayed and not report.failures and not report.missing:
                output.err("Nothing to replay: no process types and no recorded histories.")
        code = output.OK if report.ok else output.FAILED
    output.leave(code)
