"""`raw up`: start a whole system from its folder, on embedded defaults, and stop it on Ctrl-C.

In order: development secrets (``.raw/local.env``), the embedded Temporal engine
(unless an address is configured), the database's migrations, then the parts in
processes of their own, started together: the local integrations (SMTP catcher,
phone simulator), the worker, the coordinator (with its dispatcher); while they
start, the schedules are synced in this process. It prints the URLs and streams
every part's log with a prefix. Ctrl-C or SIGTERM stops every part (and the engine if
it started it); processes waiting in Temporal wait on, and the next ``raw up`` resumes
them.

While it runs, ``.raw/up/state.json`` says where (:mod:`raw.up_state`): the other
commands find the system there, and a second ``raw up`` in the project refuses to
start. ``raw up --print-url`` prints the coordinator's URL from it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raw import console as output
from raw.cli.log_options import add_log_format, start_logs
from raw.cli.serve import _port
from raw.errors import RawError, UsageError
from raw.ports import free_port
from raw.project import find_project
from raw.redact import redact_url
from raw.up.local_env import ensure_local_env

if TYPE_CHECKING:
    import asyncio

    import httpx

    from raw.config.system import SystemConfig
    from raw.orchestrator.engine import EngineInfo
    from raw.project import Project
    from raw.up.supervisor import Supervisor
    from raw.up_state import UpState

EXAMPLES = """\
examples:
  raw up
  raw up --port 8080
  raw up --port 0                    (any free port; the other commands find it)
  curl "$(raw up --print-url)/ready"  (from another terminal)
  RAW_LLM_BASE_URL=http://localhost:11434/v1 RAW_LLM_MODEL=llama3.1 raw up"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    parser.add_argument("--host", default="127.0.0.1", help="the coordinator's address")
    parser.add_argument(
        "--port", type=_port, default=8000, help="the coordinator's port (0: any free port)"
    )
    parser.add_argument(
        "--print-url",
        action="store_true",
        help="print the coordinator's URL of the raw up running in this project and exit "
        "(with --json: where each part listens); exit 4 when none runs",
    )
    parser.add_argument(
        "--keep-engine",
        action="store_true",
        help="leave the embedded Temporal engine running when stopping",
    )
    add_log_format(parser)
    parser.set_defaults(handler=cmd_up)


def _raw_command() -> list[str]:
    beside = Path(sys.executable).with_name("raw")
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    return [sys.executable, "-m", "raw.cli.main"]


def _check_port(host: str, port: int) -> None:
    """Refuse at once, before anything starts, when the coordinator's port is taken."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UsageError(
                f"Port {port} on {host} is not free ({exc.strerror}): another raw up or server "
                "holds it. Stop it, or pass --port with a free one, or --port 0 for any free "
                "one (with make: make up PORT=0); the other commands find it."
            ) from None


def _llm_line() -> str:
    # Lazy: raw --help imports this module; only raw up loads the LLM clients.
    from raw.workflow.llm import llm_source

    if llm_source() == "recorded":
        return (
            "LLM: no provider configured (RAW_LLM_BASE_URL, RAW_LLM_MODEL): workflows answer "
            "from their recorded responses in mocks/llm.json, and results say llm=recorded."
        )

    url = redact_url(os.environ.get("RAW_LLM_BASE_URL", ""))
    return f"LLM: {os.environ.get('RAW_LLM_MODEL')} at {url}."


def cmd_up(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw up needs it.
    from raw.up_state import (
        UpAlreadyRunningError,
        UpState,
        read_running,
        remove_state,
        write_state,
    )

    if args.print_url:
        return _print_url(args)
    t0 = time.monotonic()
    try:
        project = find_project(args.project_dir)
        system = project.config.system  # an invalid config is refused here
        args.log_format = start_logs(args, "up", project)  # the parts log the same way
        running = read_running(project)
        if running is not None:  # before anything starts: its engine, its ports
            raise UpAlreadyRunningError(running, project.root)
        if args.port == 0:
            args.port = free_port(args.host)
        _check_port(args.host, args.port)
        state = UpState.here(args.host, args.port)
        write_state(project, state)
    except RawError as exc:
        output.fail(exc, as_json=args.json)
    try:
        code = _up(args, project, system, state, t0)
    finally:  # a killed raw up leaves it behind; its dead pid marks it stale
        remove_state(project, state.pid)
    output.leave(code)


def _print_url(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw up needs it.
    from raw.up_state import running_or_fail

    state = running_or_fail(find_project(args.project_dir))
    if args.json:
        output.emit_json(state.model_dump(mode="json"))
    else:
        print(state.api_url)
    return output.OK


def _up(
    args: argparse.Namespace, project: Project, system: SystemConfig, state: UpState, t0: float
) -> int:
    """Secrets, engine and migrations here; then the parts; the exit code once stopped."""
    # Lazy: raw --help imports this module; only raw up needs it.
    from raw.up_state import write_state

    try:
        written = ensure_local_env(project)
        os.environ.setdefault("RAW_LLM_MODE", "auto")
        os.environ.setdefault("RAW_ENV", "development")
        os.environ.setdefault("RAW_PUBLIC_BASE_URL", state.api_url)
        # Every part on the one database (the default SQLite file unless set), so the worker's
        # RAW runs land in the run index the API and the operator page read.
        # Lazy: raw --help imports this module; only raw up reads the database's URL.
        from raw.coordinator.db.urls import database_url

        os.environ.setdefault("DATABASE_URL", database_url(project))
        notes = [_llm_line()]
        if written:
            notes.append(
                f"Development secrets for {', '.join(written)} written to "
                f"{project.raw_dir / 'local.env'} (raw webhook send reads them too)."
            )
        engine_info, started_engine = _engine(project)
        write_state(project, _with_temporal(state, project, engine_info))
        _migrate_if_due(project)
    except RawError as exc:
        output.fail(exc, as_json=args.json)

    code = asyncio.run(_run(args, project, system, notes, engine_info, t0))
    if started_engine and not args.keep_engine:
        # Lazy: raw --help imports this module; only raw up loads Temporal.
        from raw.orchestrator.engine import Engine

        Engine(project).stop()
        output.err(
            "raw up: the embedded Temporal engine stopped (its data stays in .raw/temporal)."
        )
    return code


def _with_temporal(state: UpState, project: Project, engine_info: EngineInfo | None) -> UpState:
    """The record with the Temporal server the parts use (none when the system has no processes)."""
    # Lazy: raw --help imports this module; only raw up loads Temporal.
    from raw.orchestrator.engine import external_address

    if engine_info is not None:
        return state.model_copy(
            update={"temporal_address": engine_info.address, "temporal_ui_url": engine_info.ui_url}
        )
    external = external_address(project) if project.config.system.orchestrator.workflows else None
    return state.model_copy(update={"temporal_address": external[0] if external else None})


def _engine(project: Any) -> tuple[Any, bool]:
    """(engine info or None, whether raw up started it): the embedded engine unless configured."""
    # Lazy: raw --help imports this module; only raw up loads Temporal.
    from raw.orchestrator.engine import Engine, external_address

    if not project.config.system.orchestrator.workflows:
        return None, False
    if external_address(project) is not None:
        return None, False
    info = Engine(project).start()
    os.environ["TEMPORAL_ADDRESS"] = info.address
    return info, not info.already_running


def _migrate_if_due(project: Project) -> None:
    """The migrations, unless a SQLite database is already at head (read without Alembic)."""
    # Lazy: raw --help imports this module; only raw up checks the migrations.
    from raw.coordinator.db.heads import sqlite_at_head

    if not sqlite_at_head(os.environ["DATABASE_URL"], project):
        asyncio.run(_migrate(project))


async def _migrate(project: Any) -> None:
    # Lazy: raw --help imports this module; only raw up loads SQLAlchemy.
    from raw.coordinator.db.database import Database, database_url, upgrade
    from raw.coordinator.db.system_migrations import upgrade_system

    async with Database(database_url(project), pool_size=1, max_overflow=0) as db:
        await upgrade(db)
        await upgrade_system(db, project)


def _watch_engine(supervisor: Supervisor, project: Project) -> asyncio.Task[None]:
    """Restart the embedded engine if it dies while the system runs (same ports and data)."""
    # Lazy: raw --help imports this module; only raw up loads Temporal.
    from raw.orchestrator.engine import Engine

    engine = Engine(project)

    async def alive() -> bool:
        return await asyncio.to_thread(engine.status) is not None

    async def restart() -> str:
        info = await asyncio.to_thread(engine.start)
        return f"back at {info.address} (pid {info.pid}); the parts reconnect by themselves"

    return asyncio.create_task(supervisor.keep_alive("engine", alive, restart))


async def _sync_schedules(supervisor: Supervisor, project: Project) -> None:
    """``raw schedules sync`` in this process, its lines prefixed ``schedules``."""
    # Lazy: raw --help imports this module; only raw up loads Temporal.
    from temporalio.service import RPCError

    from raw.cli.schedules import sync_lines
    from raw.orchestrator.connect import connect, orchestrator_config, resolve_target
    from raw.orchestrator.schedules import owner_name, sync_schedules
    from raw.up.supervisor import PartFailedError

    try:
        client = await connect(project, target=resolve_target(project))
        config = orchestrator_config(project)
        report = await sync_schedules(client, config, project=project)
    except Exception as exc:  # as the separate process did: said, then raw up stops
        said = str(exc) if isinstance(exc, RawError | RPCError) else f"{type(exc).__name__}: {exc}"
        supervisor.say(f"Error: {said}", name="schedules")
        raise PartFailedError("schedules sync", "it failed (its log is above)") from None
    for line in sync_lines(report, config, owner_name(project)):
        supervisor.say(line, name="schedules")


class _ApiProbe:
    """Whether the coordinator answers ``GET /ready`` with 200, asked on one HTTP client.

    The supervisor asks every 50 ms until it does; a new client for each question built
    an SSL context each time, half of this process's CPU until ready (py-spy).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: httpx.AsyncClient | None = None

    async def __call__(self) -> bool:
        if self._client is None:
            # Lazy: raw --help imports this module; only raw up loads httpx.
            import httpx

            self._client = httpx.AsyncClient(timeout=1)
        return (await self._client.get(self.url)).status_code == 200

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()


async def _run(
    args: argparse.Namespace,
    project: Any,
    system: Any,
    notes: list[str],
    engine_info: Any,
    t0: float,
) -> int:
    # Lazy: raw --help imports this module; only raw up needs it.
    from raw.up.supervisor import Part, PartFailedError, Supervisor

    raw = _raw_command()
    base = f"http://{args.host}:{args.port}"
    supervisor = Supervisor(
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=str(project.root),
        color=sys.stderr.isatty() and not os.environ.get("NO_COLOR"),
        log_format=args.log_format,
    )
    logged = ["--log-format", args.log_format]
    for note in notes:
        supervisor.say(note)
    if engine_info is not None:
        state = "attached to the running" if engine_info.already_running else "started the"
        supervisor.say(f"Temporal: {state} embedded engine at {engine_info.address}.")

    api_ready = _ApiProbe(f"{base}/ready")
    integrations = system.integrations
    parts = []
    if integrations.configured():
        parts.append(
            Part(
                "integrations",
                [*raw, "integrations", "serve", *logged],
                ready_line="raw integrations: ready",
            )
        )
    metrics: str | None = None
    if system.orchestrator.workflows:
        metrics_port = free_port()  # the SDK's metrics, on this machine only
        metrics = f"http://127.0.0.1:{metrics_port}/metrics"
        worker = [*raw, "worker", "--metrics-port", str(metrics_port)]
        parts.append(
            Part(
                "worker",
                [*worker, "--metrics-host", "127.0.0.1", *logged],
                ready_line="raw worker: polling",
            )
        )
    parts.append(
        Part(
            "api",
            [*raw, "serve", "--host", args.host, "--port", str(args.port), *logged],
            probe=api_ready,
        )
    )
    if not system.coordinator.dispatcher.enabled:  # not inside the app: a process of its own
        parts.append(Part("dispatcher", [*raw, "dispatcher"], ready_line="raw dispatcher: polling"))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    code = output.OK
    try:
        # The schedules need only the engine: synced here while the parts start, not after
        # them in a process of its own (another Python start and import of temporalio).
        starting = [supervisor.start(part) for part in parts]
        if system.orchestrator.schedules:
            starting.append(_sync_schedules(supervisor, project))
        await asyncio.gather(*starting)
        await api_ready.aclose()  # ready: not asked again
        supervisor.say(f"Ready in {time.monotonic() - t0:.1f} s.")
        supervisor.say(f"  API docs:       {base}/docs")
        supervisor.say(f"  Operator page:  {base}/operator  (sign in with RAW_API_TOKEN)")
        supervisor.say(f"  Status:         {base}/ready  ·  {base}/api/runs (bearer token)")
        if engine_info is not None:
            supervisor.say(f"  Temporal UI:    {engine_info.ui_url}")
        if metrics is not None:
            supervisor.say(f"  Worker metrics: {metrics}  (coordinator's: {base}/metrics)")
        if integrations.email is not None:
            supervisor.say(f"  Captured email: {base}/operator/outbox  (or: raw integrations mail)")
        supervisor.say("Ctrl-C stops everything; waiting processes resume on the next raw up.")
        waiter = asyncio.create_task(stop.wait())
        exited = asyncio.create_task(supervisor.exited.wait())
        watch = _watch_engine(supervisor, project) if engine_info is not None else None
        await asyncio.wait([waiter, exited], return_when=asyncio.FIRST_COMPLETED)
        if watch is not None:
            watch.cancel()
        if supervisor.failed is not None:
            supervisor.say(f"The {supervisor.failed.name} stopped on its own: stopping the rest.")
            code = output.FAILED
    except PartFailedError as exc:
        supervisor.say(f"Error: {exc}")
        code = output.FAILED
    await api_ready.aclose()
    supervisor.say("Stopping...")
    await supervisor.stop()
    supervisor.say("Stopped.")
    return code
