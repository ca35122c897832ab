"""`raw dispatcher`: perform the inbox's actions on its own, outside the app.

It runs until SIGTERM or SIGINT, then stops claiming, lets the actions in flight
finish within a grace period and releases the rest to be retried. Turn the
app's built-in dispatcher off (``system.coordinator.dispatcher.enabled: false``)
when this one runs beside it, or keep both: leases keep them from doubling up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from raw import console as output
from raw import tracing
from raw._heap import freeze_startup_heap
from raw.cli.log_options import add_log_format, start_logs
from raw.errors import RawError
from raw.project import find_project


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--once", action="store_true", help="perform what is due now, then exit (for cron or CI)"
    )
    parser.add_argument(
        "--grace-seconds",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="on SIGTERM, how long actions in flight may take to finish (default 20)",
    )
    add_log_format(parser)
    parser.set_defaults(handler=cmd_dispatcher)


def cmd_dispatcher(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw dispatcher loads SQLAlchemy.
    from raw.coordinator.db.database import Database, database_url, upgrade
    from raw.coordinator.dispatcher import Dispatcher

    project = find_project(args.project_dir)
    if tracing.setup("dispatcher"):  # before the engines and clients are made
        tracing.instrument_sqlalchemy()
    start_logs(args, "dispatcher", project)
    config = project.config.system.coordinator.dispatcher
    url = database_url(project)

    async def main() -> int:
        async with Database(url) as db:
            await upgrade(db)  # as the app does at start; safe beside other processes
            dispatcher = Dispatcher(db, config, project)
            if args.once:
                total = 0
                while processed := await dispatcher.run_once():
                    total += processed
                if args.json:
                    output.emit_json({"processed": total})
                else:
                    output.err(f"raw dispatcher: performed {total} action(s).")
                return output.OK
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.add_signal_handler(signum, stop.set)
            await dispatcher.start()
            freeze_startup_heap()
            woken = " (and woken by NOTIFY)" if db.dialect == "postgresql" else ""
            output.err(
                f"raw dispatcher: polling {db.safe_url} every {config.poll_interval_seconds:g} s"
                f"{woken}, {config.concurrency} at a time, as {dispatcher.owner}. "
                "Ctrl-C stops it."
            )
            await stop.wait()
            output.err("raw dispatcher: stopping (finishing the actions in flight)...")
            await dispatcher.stop(grace_seconds=args.grace_seconds)
            return output.OK

    try:
        code = asyncio.run(main())
    except RawError as exc:
        output.fail_and_leave(exc, as_json=args.json)
    if not args.once:
        output.err("raw dispatcher: stopped.")
    output.leave(code)
