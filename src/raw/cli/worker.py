"""`raw worker`: serve the system's Temporal workflows and activities."""

from __future__ import annotations

import argparse
import asyncio

from raw import console as output
from raw import tracing
from raw._heap import freeze_startup_heap
from raw.cli.log_options import add_log_format, start_logs
from raw.errors import RawError, UsageError
from raw.project import find_project


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check", action="store_true", help="import everything, print the plan, and exit"
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve the Temporal SDK's metrics for Prometheus at http://HOST:PORT/metrics",
    )
    parser.add_argument(
        "--metrics-host",
        default="0.0.0.0",
        metavar="HOST",
        help="the address the metrics listen on (default 0.0.0.0, for a scraper in the cluster)",
    )
    add_log_format(parser)
    parser.set_defaults(handler=cmd_worker)


def _metrics_address(args: argparse.Namespace) -> str | None:
    port = args.metrics_port
    if port is None:
        return None
    if not 1 <= port <= 65535:
        raise UsageError(f"--metrics-port {port} is not a port: give a number from 1 to 65535.")
    host = args.metrics_host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def cmd_worker(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw worker loads Temporal.
    from raw.orchestrator import runtime
    from raw.orchestrator.connect import connect, orchestrator_config, resolve_target
    from raw.orchestrator.worker import plan_worker, serve

    metrics = _metrics_address(args)
    try:
        if metrics is not None:  # before any client: the metrics belong to the runtime
            runtime.install(metrics_bind_address=metrics)
    except RawError as exc:
        output.fail_and_leave(exc, as_json=args.json)
    project = find_project(args.project_dir)
    tracing.setup("worker")  # before any client: Temporal's interceptor joins when on
    if not args.check:
        start_logs(args, "worker", project)
    config = orchestrator_config(project)
    plan = plan_worker(project, config)
    if args.check:
        if args.json:
            output.emit_json(plan.describe())
        else:
            described = plan.describe()
            output.err(f"task queue: {described['task_queue']}")
            output.err("workflows:  " + ", ".join(described["workflows"]))
            output.err("activities: " + ", ".join(described["activities"]))
        return output.OK
    target = resolve_target(project)

    def ready() -> None:
        freeze_startup_heap()
        described = plan.describe()
        output.err(
            f"raw worker: polling '{plan.task_queue}' on {target.address} ({target.source}) "
            f"with {len(described['workflows'])} workflows, "
            f"{len(described['activities'])} activities"
            + (f"; metrics at http://{metrics}/metrics" if metrics else "")
            + ". Ctrl-C stops it."
        )

    async def main() -> None:
        client = await connect(project, target=target)
        await serve(client, plan, on_ready=ready)

    try:
        asyncio.run(main())
    except RawError as exc:
        output.fail_and_leave(exc, as_json=args.json)
    output.err("raw worker: stopped.")
    output.leave(output.OK)
