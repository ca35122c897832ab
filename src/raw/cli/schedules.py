"""`raw schedules sync|list|trigger`: Temporal Schedules from system.orchestrator.schedules."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from raw import console as output
from raw.cli.process import action_adder, run_with_client
from raw.errors import ProjectError

if TYPE_CHECKING:
    from temporalio.client import Client

    from raw.config.orchestrator import OrchestratorConfig
    from raw.orchestrator.schedules import ScheduleInfo, SyncReport
    from raw.project import Project

EXAMPLES = """\
examples:
  raw schedules sync
  raw schedules list --json
  raw schedules trigger daily-report"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    action = action_adder(parser)

    p = action("sync", "Create, update and delete the project's schedules to match its config.")
    p.set_defaults(handler=cmd_sync)

    p = action("list", "List the project's schedules: cron, time zone, next and last runs.")
    p.add_argument(
        "--all", action="store_true", help="also schedules raw does not manage, of any project"
    )
    p.set_defaults(handler=cmd_list)

    p = action("trigger", "Run a schedule's workflow now.")
    p.add_argument("schedule_id", metavar="ID")
    p.set_defaults(handler=cmd_trigger)


def _need_project(project: Project | None) -> Project:
    if project is None:
        raise ProjectError(
            "Schedules come from a project's .raw/config.yaml: run this in a RAW project "
            "or pass --project-dir."
        )
    return project


def cmd_sync(args: argparse.Namespace) -> int:
    async def work(client: Client, project: Project | None, config: OrchestratorConfig) -> int:
        # Lazy: raw --help imports this module; only raw schedules loads Temporal.
        from raw.orchestrator.schedules import owner_name, sync_schedules

        owner = _need_project(project)
        report = await sync_schedules(client, config, project=owner)
        if args.json:
            output.emit_json({"project": owner_name(owner), **report.model_dump(mode="json")})
            return output.OK
        for line in sync_lines(report, config, owner_name(owner)):
            output.err(line)
        return output.OK

    run_with_client(args, work)


def sync_lines(report: SyncReport, config: OrchestratorConfig, owner: str) -> list[str]:
    """What ``raw schedules sync`` says about a sync (``raw up`` says the same)."""
    lines = [
        f"  {verb:<9}  {schedule_id}"
        for verb, ids in (
            ("created", report.created),
            ("updated", report.updated),
            ("deleted", report.deleted),
            ("unchanged", report.unchanged),
        )
        for schedule_id in ids
    ]
    summary = "in sync" if not report.changed else "synced"
    lines.append(f"Schedules {summary}: {len(config.schedules)} configured for '{owner}'.")
    return lines


def _line(info: ScheduleInfo) -> str:
    nxt = info.next_runs[0].isoformat(timespec="minutes") if info.next_runs else "-"
    last = info.last_run
    last_text = (
        f"{last.status or '?'} {last.started_at.isoformat(timespec='minutes')}" if last else "never"
    )
    state = "paused" if info.paused else "active"
    where = f"{info.cron or '?'} {info.timezone or 'UTC'}"
    marker = "" if info.managed else "  (not managed by raw)"
    return (
        f"{info.id}  {state:<6}  {where:<28}  {info.workflow or '-'}  next {nxt}  "
        f"last {last_text}{marker}"
    )


def cmd_list(args: argparse.Namespace) -> int:
    async def work(client: Client, project: Project | None, config: OrchestratorConfig) -> int:
        # Lazy: raw --help imports this module; only raw schedules loads Temporal.
        from raw.orchestrator.schedules import list_schedules

        found = await list_schedules(
            client,
            project=None if args.all or project is None else project,
            include_unmanaged=args.all,
        )
        if args.json:
            output.emit_json({"schedules": [s.model_dump(mode="json") for s in found]})
            return output.OK
        if not found:
            output.err("No schedules. Add them under system.orchestrator.schedules, then sync.")
            return output.OK
        print("\n".join(_line(info) for info in found))
        return output.OK

    run_with_client(args, work)


def cmd_trigger(args: argparse.Namespace) -> int:
    async def work(client: Client, project: Project | None, config: OrchestratorConfig) -> int:
        # Lazy: raw --help imports this module; only raw schedules loads Temporal.
        from raw.orchestrator.schedules import trigger

        await trigger(client, args.schedule_id)
        if args.json:
            output.emit_json({"id": args.schedule_id, "triggered": True})
        else:
            output.err(
                f"Triggered '{args.schedule_id}': its workflow starts now "
                "(skipped if its previous run is still running)."
            )
        return output.OK

    run_with_client(args, work)
