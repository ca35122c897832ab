"""`raw process start|signal|status|list|cancel`: the process client helpers from a terminal.

Nothing here imports temporalio until a handler runs. Commands that used a
Temporal client flush their output and leave with ``os._exit`` (the SDK's
runtime can abort at interpreter exit, see NOTES.md), so their errors are
printed here rather than by ``raw.cli.main``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from raw import console as output
from raw.commands.exit_codes import exit_code as kit_exit_code
from raw.errors import ProjectError, RawError, UsageError
from raw.project import find_project

if TYPE_CHECKING:
    from temporalio.client import Client

    from raw.config.orchestrator import OrchestratorConfig
    from raw.project import Project

EXAMPLES = """\
examples:
  raw process start HiringProcess --key candidate-123 --input '{"name": "Ada"}'
  raw process signal hiring-process/candidate-123 interview_booked --data @booking.json
  raw process status hiring-process/candidate-123 --json
  raw process list --query "ExecutionStatus = 'Running'"
  raw process cancel hiring-process/candidate-123"""


class UnknownProcessTypeError(RawError):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(
            f"No process type '{name}' in the modules of system.orchestrator.workflows. "
            f"Known: {', '.join(known) or 'none'}."
        )


# --- shared by every command that talks to Temporal ---------------------------------------


def exit_code(exc: BaseException) -> int:
    """The exit code of an error from a Temporal command (the README's table)."""
    if isinstance(exc, UnknownProcessTypeError):
        return output.NOT_FOUND
    return kit_exit_code(exc)


def _report(exc: BaseException, *, as_json: bool) -> int:
    code = exit_code(exc)
    if as_json:
        output.emit_json(output.error_document(exc, code))
    else:
        output.err(output.style("Error: ", "1;31") + str(exc))
    return code


def project_or_none(args: argparse.Namespace) -> Project | None:
    """The project, or None when there is none but TEMPORAL_ADDRESS says where to go."""
    try:
        return find_project(args.project_dir)
    except ProjectError:
        if args.project_dir is None and os.environ.get("TEMPORAL_ADDRESS"):
            return None
        raise


Work = Callable[["Client", "Project | None", "OrchestratorConfig"], Awaitable[int]]


def run_with_client(args: argparse.Namespace, work: Work) -> NoReturn:
    """Connect (project config, env overrides), run ``work``, print errors, leave."""
    # Lazy: raw --help imports this module; only raw process loads Temporal.
    from temporalio.service import RPCError

    from raw.orchestrator.connect import connect, orchestrator_config, resolve_target

    async def main() -> int:
        project = project_or_none(args)
        client = await connect(project, target=resolve_target(project))
        return await work(client, project, orchestrator_config(project))

    try:
        code = asyncio.run(main())
    except RawError as exc:
        code = _report(exc, as_json=args.json)
    except RPCError as exc:
        code = _report(
            RawError(f"The Temporal server refused the request: {exc}"), as_json=args.json
        )
    except KeyboardInterrupt:
        code = output.INTERRUPTED
    output.leave(code)


def read_json_arg(value: str | None, flag: str) -> Any:
    """A JSON value given inline, as @file, or as - for stdin."""
    if value is None:
        return None
    where = flag
    if value == "-":
        text = sys.stdin.read()
        where = f"{flag} (stdin)"
    elif value.startswith("@"):
        path = Path(value[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"Cannot read {flag} file {path}: {exc.strerror}.") from None
        where = f"{flag} file {path}"
    else:
        text = value
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where} is not valid JSON: {exc}.") from None


def _when(value: Any) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"


# --- the commands -------------------------------------------------------------------------


def action_adder(parser: argparse.ArgumentParser) -> Callable[[str, str], argparse.ArgumentParser]:
    """Sub-actions of a command group (``raw process start``), each taking --json too."""
    actions = parser.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=type(parser)
    )

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = actions.add_parser(
            name, help=help_text, description=help_text, allow_abbrev=False
        )
        # SUPPRESS keeps the group's value: `raw process --json list` works as well.
        sub.add_argument(
            "--json", action="store_true", default=argparse.SUPPRESS, help="one JSON document"
        )
        return sub

    return action


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    action = action_adder(parser)
    p = action("start", "Start the process of TYPE for a business key (reported if running).")
    p.add_argument("process_type", metavar="TYPE", help="workflow type, e.g. HiringProcess")
    p.add_argument("--key", required=True, help="the business key, e.g. candidate-123")
    p.add_argument("--input", metavar="JSON|@FILE|-", help="the process's input")
    p.set_defaults(handler=cmd_start)

    p = action("signal", "Send a signal (with an idempotency key) to a running process.")
    p.add_argument("process_id", metavar="PROCESS_ID")
    p.add_argument("signal", metavar="SIGNAL")
    p.add_argument("--data", metavar="JSON|@FILE|-", help="the signal's payload")
    p.add_argument("--key", metavar="IDEMPOTENCY_KEY", help="default: a new random key")
    p.set_defaults(handler=cmd_signal)

    p = action("status", "Describe a process and show its raw_state when it answers.")
    p.add_argument("process_id", metavar="PROCESS_ID")
    p.set_defaults(handler=cmd_status)

    p = action("list", "List processes (newest first).")
    p.add_argument("--query", metavar="FILTER", help="a Temporal visibility filter")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="at most N (default 50)")
    p.set_defaults(handler=cmd_list)

    p = action("cancel", "Ask a running process to cancel.")
    p.add_argument("process_id", metavar="PROCESS_ID")
    p.set_defaults(handler=cmd_cancel)


def _resolve_type(project: Project | None, config: OrchestratorConfig, name: str) -> str:
    """The workflow type TYPE names, checked against the configured modules when there are any."""
    if project is None or not config.workflows:
        return name

    # Lazy: raw --help imports this module; only raw process loads Temporal.
    from raw.orchestrator.client import process_type, workflow_type_name
    from raw.orchestrator.worker import workflows_in

    root = str(project.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    known: list[str] = []
    for module_name in config.workflows:
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise RawError(
                f"Cannot import '{module_name}' (system.orchestrator.workflows): "
                f"{type(exc).__name__}: {exc}"
            ) from None
        known += [workflow_type_name(cls) for cls in workflows_in(module)]
    for candidate in known:
        if name in (candidate, process_type(candidate)):
            return candidate
    raise UnknownProcessTypeError(name, sorted(known))


def cmd_start(args: argparse.Namespace) -> int:
    arg = read_json_arg(args.input, "--input")

    async def work(client: Client, project: Project | None, config: OrchestratorConfig) -> int:
        # Lazy: raw --help imports this module; only raw process loads Temporal.
        from raw.orchestrator.client import start_process

        with output.stdout_to_stderr():  # user modules that print on import
            workflow_type = _resolve_type(project, config, args.process_type)
        result = await start_process(
            client, workflow_type, arg, business_key=args.key, task_queue=config.task_queue
        )
        doc = {**result.model_dump(mode="json"), "type": workflow_type}
        if args.json:
            output.emit_json(doc)
        else:
            verb = "Started" if result.started else "Already running, not started again:"
            output.err(f"{verb} {result.id} (run {result.run_id})")
        return output.OK

    run_with_client(args, work)


def cmd_signal(args: argparse.Namespace) -> int:
    data = read_json_arg(args.data, "--data")

    async def work(client: Client, project: Project | None, config: OrchestratorConfig) -> int:
        # Lazy: raw --help imports this module; only raw process loads Temporal.
        from raw.commands.process import process_signal_document

        done = await process_signal_document(
            client, args.process_id, args.signal, data, idempotency_key=args.key
        )
        key = done.body["idempotency_key"]
        if args.json:
            output.emit_json(done.body)
        else:
            output.err(f"Sent '{args.signal}' to {args.process_id} (idempotency key {key})")
        return output.OK

    run_with_client(args, work)


def cmd_status(args: argparse.Namespace) -> int:
    async def work(client: Client, project: Project | None, config: OrchestratorConfig) -> int:
        # Lazy: raw --help imports this module; only raw process loads Temporal.
        from raw.commands.process import process_status_document

        done = await process_status_document(client, args.process_id)
        info, state, state_error = done.detail, done.body["state"], done.body["state_error"]
        if args.json:
            output.emit_json(done.body)
            return output.OK
        lines = [
            f"{info.id}  {info.type}  {info.status}",
            f"  run:        {info.run_id}",
            f"  started:    {_when(info.start_time)}",
            f"  closed:     {_when(info.close_time)}",
        ]
        if info.step or info.waiting_for or info.wait_until:
            lines.append(f"  step:       {info.step or '-'}")
            lines.append(f"  waiting:    {info.waiting_for or '-'} until {_when(info.wait_until)}")
        if state is not None:
            lines.append("  state:      " + json.dumps(state, default=str, ensure_ascii=False))
        elif state_error:
            lines.append(f"  state:      not available ({state_error})")
        print("\n".join(lines))
        return output.OK

    run_with_client(args, work)


def cmd_list(args: argparse.Namespace) -> int:
    async def work(client: Client, project: Project | None, config: OrchestratorConfig) -> int:
        # Lazy: raw --help imports this module; only raw process loads Temporal.
        from raw.commands.process import process_list_document

        done = await process_list_document(client, query=args.query, limit=args.limit)
        found = done.detail
        if args.json:
            output.emit_json(done.body)
            return output.OK
        if not found:
            output.err("No processes.")
            return output.OK
        width = max(len(p.id) for p in found)
        for p in found:
            waiting = f"  waiting for {p.waiting_for}" if p.waiting_for else ""
            step = f"  at {p.step}" if p.step else ""
            print(f"{p.id:<{width}}  {p.status:<10} {p.type}  {_when(p.start_time)}{step}{waiting}")
        return output.OK

    run_with_client(args, work)


def cmd_cancel(args: argparse.Namespace) -> int:
    async def work(client: Client, project: Project | None, config: OrchestratorConfig) -> int:
        # Lazy: raw --help imports this module; only raw process loads Temporal.
        from raw.orchestrator.client import cancel

        await cancel(client, args.process_id)
        if args.json:
            output.emit_json({"id": args.process_id, "cancel_requested": True})
        else:
            output.err(f"Asked {args.process_id} to cancel.")
        return output.OK

    run_with_client(args, work)
