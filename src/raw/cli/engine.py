"""`raw engine start|stop|status`: the project's embedded Temporal server.

``start`` with a Temporal address configured (``TEMPORAL_ADDRESS`` or
``system.orchestrator.address``) starts nothing: it reports the external server
and registers the kit's search attributes there if they are missing. ``stop``
with no engine running succeeds and says so. ``status`` with no engine running
(and no external server configured) exits 3.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raw import console as output
from raw.errors import RawError
from raw.project import Project, find_project

if TYPE_CHECKING:
    from raw.orchestrator.engine import Engine, EngineInfo


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument(
        "--wait-seconds",
        type=float,
        default=30,
        metavar="S",
        help="start: how long to wait for the server to answer (default 30)",
    )
    parser.add_argument(
        "--timeout-seconds",
        type=float,
        default=10,
        metavar="S",
        help="stop: how long to wait after SIGTERM before SIGKILL (default 10)",
    )
    parser.set_defaults(handler=cmd_engine)


def cmd_engine(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw engine loads Temporal.
    from raw.orchestrator.engine import Engine

    project = find_project(args.project_dir)
    engine = Engine(project)
    if args.action == "status":
        return _status(engine, project, as_json=args.json)
    if args.action == "stop":
        return _stop(engine, as_json=args.json, timeout_seconds=args.timeout_seconds)
    try:
        code = _start(engine, project, args)
    except RawError as exc:
        try:
            output.fail(exc, as_json=args.json)
        except SystemExit as done:
            output.leave(int(done.code or 0))
    except KeyboardInterrupt:  # a half-started server was already stopped by Engine.start
        output.leave(output.INTERRUPTED)
    output.leave(code)


def _relative(path: Path, project: Project) -> str:
    try:
        return str(path.relative_to(project.root))
    except ValueError:
        return str(path)


def _document(info: EngineInfo, engine: Engine) -> dict[str, Any]:
    return {
        **info.record(),
        "already_running": info.already_running,
        "external": False,
        "log_file": str(engine.log_path),
    }


def _print_info(info: EngineInfo, engine: Engine, headline: str) -> None:
    print(headline)
    print(f"  gRPC address  {info.address}  (namespace {info.namespace})")
    print(f"  web UI        {info.ui_url}")
    print(f"  pid           {info.pid}, started {info.started_at}")
    print(f"  database      {_relative(Path(info.db_filename), engine.project)}")
    print(f"  log           {_relative(engine.log_path, engine.project)}")


def _start(engine: Engine, project: Project, args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw engine loads Temporal.
    from raw.orchestrator.engine import external_address

    external = external_address(project)
    if external is not None:
        return _external(project, *external, as_json=args.json)
    info = engine.start(wait_seconds=args.wait_seconds)
    if args.json:
        output.emit_json({**_document(info, engine), "status": _word(info)})
    else:
        verb = "already running; attached" if info.already_running else "started"
        _print_info(info, engine, f"Temporal engine {verb}.")
        print("Stop it with: raw engine stop")
    return output.OK


def _word(info: EngineInfo) -> str:
    return "attached" if info.already_running else "started"


def _external(project: Project, address: str, source: str, *, as_json: bool) -> int:
    # Lazy: raw --help imports this module; only raw engine loads Temporal.
    from raw.orchestrator.connect import connect, resolve_target
    from raw.orchestrator.engine import ensure_search_attributes

    target = resolve_target(project)

    async def register() -> list[str]:
        client = await connect(project, target=target)
        return await ensure_search_attributes(client, target.namespace)

    added = asyncio.run(register())
    if as_json:
        output.emit_json(
            {
                "status": "external",
                "external": True,
                "address": address,
                "namespace": target.namespace,
                "source": source,
                "search_attributes_added": added,
            }
        )
    else:
        print(f"An external Temporal server is configured: {address} (from {source}).")
        print("Nothing was started; 'raw engine' runs the embedded server only without one.")
        if added:
            print(f"Registered search attributes in '{target.namespace}': {', '.join(added)}")
        else:
            print(f"The kit's search attributes are registered in '{target.namespace}'.")
    return output.OK


def _status(engine: Engine, project: Project, *, as_json: bool) -> int:
    # Lazy: raw --help imports this module; only raw engine loads Temporal.
    from raw.orchestrator.engine import external_address

    info = engine.status()
    if info is not None:
        if as_json:
            output.emit_json({**_document(info, engine), "running": True})
        else:
            _print_info(info, engine, "Temporal engine running.")
        return output.OK
    external = external_address(project)
    if external is not None:
        address, source = external
        if as_json:
            output.emit_json(
                {"running": False, "external": True, "address": address, "source": source}
            )
        else:
            print(f"No embedded engine; an external Temporal server is configured: {address} "
                  f"(from {source}).")  # fmt: skip
        return output.OK
    raise output.NotFoundError(
        f"No Temporal engine is running for the project in {project.root}. "
        "Start it with 'raw engine start'."
    )


def _stop(engine: Engine, *, as_json: bool, timeout_seconds: float) -> int:
    info = engine.stop(timeout_seconds=timeout_seconds)
    if as_json:
        output.emit_json(
            {
                "stopped": info is not None,
                "pid": info.pid if info else None,
                "address": info.address if info else None,
            }
        )
    elif info is None:
        print("No Temporal engine was running; nothing to stop.")
    else:
        print(f"Temporal engine stopped (pid {info.pid}). Its data and ports are kept for the "
              "next 'raw engine start'.")  # fmt: skip
    return output.OK
