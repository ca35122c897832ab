"""`raw serve`: run the project's coordinator (webhooks, the inbox dispatcher, the REST API)."""

from __future__ import annotations

import argparse
import asyncio
import signal

from raw import console as output
from raw import tracing
from raw._heap import freeze_startup_heap
from raw.cli.log_options import add_log_format, start_logs
from raw.errors import UsageError
from raw.project import find_project

EPILOG = """\
examples:
  raw serve
  raw serve --host 0.0.0.0 --port 8080

The app is system.coordinator.app when the config names one (the coordinator is
mounted on it), else an app holding only the coordinator. Settings: RAW_ENV,
RAW_API_TOKEN (or the setting api_token_setting names), DATABASE_URL,
RAW_PUBLIC_BASE_URL, RAW_DISPATCHER=off, RAW_TRUSTED_PROXIES (the reverse proxies
whose X-Forwarded-For is believed; none by default), RAW_LOG_FORMAT (text or json;
uvicorn's access and error lines use it too), RAW_TRACE_URL (the trace viewer's link).
"""


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0-65535)")
    return port


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=_port, default=8000, help="port to listen on")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn's log level",
    )
    add_log_format(parser)
    parser.set_defaults(handler=cmd_serve)


async def _preflight(url: str) -> None:
    """Reach and migrate the database now, so a problem is one clear line, not a traceback."""
    # Lazy: raw --help imports this module; only raw serve loads SQLAlchemy.
    from raw.coordinator.db.database import Database, upgrade

    async with Database(url, pool_size=1, max_overflow=0) as db:
        await upgrade(db)


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        # Lazy: raw --help imports this module; only raw serve loads uvicorn.
        import uvicorn

        from raw.coordinator.app import load_app
        from raw.coordinator.db.database import database_url, redact_url
    except ImportError as exc:
        raise UsageError(
            f"'raw serve' needs the coordinator extra ({exc.name} is missing): "
            "pip install 'raw-systems[coordinator]'."
        ) from None

    project = find_project(args.project_dir)
    if tracing.setup("coordinator"):  # before the app's engines and clients are made
        tracing.instrument_sqlalchemy()
    start_logs(args, "coordinator", project)
    app = load_app(project)
    url = database_url(project)
    asyncio.run(_preflight(url))
    proxies = app.state.raw_coordinator.settings.trusted_proxy_list
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            lifespan="on",
            log_level=args.log_level,
            log_config=None,  # its access and error lines go through raw.logs' handler
            # X-Forwarded-* only from the proxies configured (uvicorn's default trusts
            # 127.0.0.1, where any local client could then pick its own address).
            proxy_headers=bool(proxies),
            forwarded_allow_ips=proxies or "",
        )
    )
    output.err(
        f"raw serve: {project.root} on http://{args.host}:{args.port} "
        f"(database {redact_url(url)}). Ctrl-C stops it."
    )
    # uvicorn stops gracefully on SIGINT/SIGTERM, then raises the signal again for the
    # handler it found: make that one a no-op, so a requested stop exits 0, like `raw worker`.
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in stop_signals}
    freeze_startup_heap()  # the app is built: its modules and objects are for life
    try:
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if server.started:
        output.err("raw serve: stopped.")
        code = output.OK
    else:
        output.err("raw serve: the coordinator did not start (see the log above).")
        code = output.FAILED
    output.leave(code)
