"""`raw integrations`: run the local SMTP catcher and phone simulator; list what they caught.

``serve`` runs both on 127.0.0.1 until SIGTERM or Ctrl-C, writes their ports to
``.raw/integrations/services.json`` (where the local adapters of every process
find them) and prints one line with their URLs when ready (with ``--json``, one
JSON document on stdout). ``mail``, ``calls`` and ``chat`` list the captured
messages, the simulated calls and the chat outbox; ``end-call`` ends a simulated
call now and posts its status callback.

Exit codes: 0 success; 1 a failure (a callback refused, a port taken); 2 an
invalid config or a missing setting; 3 no such call; 4 the local services are not
running (and nothing was captured before) or did not answer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raw import console as output
from raw.cli.log_options import add_log_format, start_logs
from raw.cli.process import action_adder
from raw.errors import RawError
from raw.integrations.errors import (
    IntegrationError,
    IntegrationNotConfiguredError,
    LocalServiceNoAnswerError,
    LocalServicesNotRunningError,
    SettingMissingError,
)
from raw.integrations.paths import local_path
from raw.project import Project, find_project

if TYPE_CHECKING:
    from raw.integrations.services import ServicesState

EXAMPLES = """\
examples:
  raw integrations serve
  raw integrations status --json
  raw integrations mail
  raw integrations mail --json
  raw integrations calls --json
  raw integrations end-call CA0123... --status no-answer
  raw integrations chat"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    action = action_adder(parser)
    p = action("serve", "Run the SMTP catcher and the phone simulator until stopped.")
    add_log_format(p)
    p.set_defaults(handler=cmd_serve)
    p = action("status", "Say whether the local services run, and where.")
    p.set_defaults(handler=cmd_status)
    p = action("mail", "List the email the SMTP catcher kept (.raw/mail).")
    p.add_argument("--last", type=int, metavar="N", help="only the N most recent")
    p.set_defaults(handler=cmd_mail)
    p = action("calls", "List the calls the phone simulator placed, with their callbacks.")
    p.add_argument("--last", type=int, metavar="N", help="only the N most recent")
    p.set_defaults(handler=cmd_calls)
    p = action("end-call", "End a simulated call now and post its status callback.")
    p.add_argument("sid", metavar="CALL_SID", help="the call's sid, CA...")
    p.add_argument(
        "--status",
        choices=["completed", "no-answer", "busy", "failed"],
        help="the final CallStatus (default: the configured outcome)",
    )
    p.add_argument(
        "--duration", type=int, metavar="SECONDS", help="CallDuration of a completed call"
    )
    p.set_defaults(handler=cmd_end_call)
    p = action("chat", "List the notifications in the local chat outbox.")
    p.add_argument("--last", type=int, metavar="N", help="only the N most recent")
    p.set_defaults(handler=cmd_chat)


def _exit_code(exc: BaseException) -> int:
    if isinstance(exc, SettingMissingError | IntegrationNotConfiguredError):
        return output.USAGE
    return output.exit_code_for(exc)


def _guarded(args: argparse.Namespace, run: Any) -> int:
    try:
        code: int = run(args)
        return code
    except RawError as exc:
        code = _exit_code(exc)
        if args.json:
            output.emit_json(output.error_document(exc, code))
        else:
            output.err(output.style("Error: ", "1;31") + str(exc))
        return code


def _project_root(args: argparse.Namespace) -> Path:
    return find_project(args.project_dir).root


# --- serve -------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    return _guarded(args, _serve)


def _serve(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw integrations loads uvicorn.
    from raw.integrations.services import LocalServices, describe

    root = _project_root(args)
    project = Project(root)
    config = project.config.system.integrations  # an invalid config fails here
    start_logs(args, "integrations", project)
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd: a line per SMTP command
    logging.getLogger("uvicorn").setLevel(logging.WARNING)  # the phone simulator's start and stop

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, stop.set)
        async with LocalServices.start(root, config) as services:
            if args.json:
                output.emit_json(describe(services))
            output.err(
                f"raw integrations: ready: mail {services.smtp_url}  phone {services.phone_url}"
                f"  (captured in {_relative(services.mail.folder, root)} and "
                f"{_relative(services.calls.log.path, root)}; Ctrl-C stops)"
            )
            await stop.wait()
            output.err("raw integrations: stopping...")
        return output.OK

    code = asyncio.run(main())
    output.err("raw integrations: stopped.")
    return code


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


# --- status and listings -----------------------------------------------------------------


def _running(root: Path) -> ServicesState | None:
    # Lazy: raw --help imports this module; only raw integrations loads uvicorn.
    from raw.integrations.services import read_state

    return read_state(root)


def cmd_status(args: argparse.Namespace) -> int:
    def run(args: argparse.Namespace) -> int:
        root = _project_root(args)
        state = _running(root)
        if state is None:
            raise LocalServicesNotRunningError(root, "SMTP catcher and phone simulator")
        if args.json:
            output.emit_json(
                {
                    "running": True,
                    "pid": state.pid,
                    "smtp": state.smtp_url,
                    "phone": state.phone_url,
                }
            )
        else:
            print(f"running (pid {state.pid}): mail {state.smtp_url}  phone {state.phone_url}")
        return output.OK

    return _guarded(args, run)


def _last(items: list[Any], count: int | None) -> list[Any]:
    return items[-count:] if count is not None and count >= 0 else items


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _check_recorded(root: Path, running: bool, recorded: Path, service: str) -> None:
    if not running and not recorded.exists():
        raise LocalServicesNotRunningError(root, service)


def cmd_mail(args: argparse.Namespace) -> int:
    def run(args: argparse.Namespace) -> int:
        # Lazy: raw --help imports this module; only raw integrations needs it.
        from raw.integrations.mail_catcher import MailStore

        root = _project_root(args)
        running = _running(root) is not None
        store = MailStore.for_project(root)
        _check_recorded(root, running, store.index, "SMTP catcher")
        messages = _last(store.list(), args.last)
        if args.json:
            output.emit_json(
                {
                    "running": running,
                    "folder": str(store.folder),
                    "messages": [m.model_dump(mode="json", by_alias=True) for m in messages],
                }
            )
            return output.OK
        if not running:
            output.err("raw integrations: not running; showing what the SMTP catcher kept before.")
        for m in messages:
            print(f"{_when(m.received_at)}  {m.from_ or m.envelope_from} -> {', '.join(m.to)}")
            print(f"    {m.subject}")
            print(f"    {store.folder / m.file}")
        if not messages:
            output.err("No email captured yet.")
        return output.OK

    return _guarded(args, run)


def cmd_calls(args: argparse.Namespace) -> int:
    def run(args: argparse.Namespace) -> int:
        # Lazy: raw --help imports this module; only raw integrations loads uvicorn.
        from raw.integrations.phone_simulator import CallLog

        root = _project_root(args)
        running = _running(root) is not None
        log = CallLog.for_project(root)
        _check_recorded(root, running, log.path, "phone simulator")
        calls = _last(log.list(), args.last)
        if args.json:
            output.emit_json(
                {
                    "running": running,
                    "calls": [c.model_dump(mode="json", by_alias=True) for c in calls],
                }
            )
            return output.OK
        if not running:
            output.err("raw integrations: not running; showing the calls placed before.")
        for c in calls:
            answers = ", ".join(
                f"{a.call_status}->{a.http_status if a.http_status is not None else a.error}"
                for a in c.callbacks
            )
            duration = f" ({c.duration_seconds} s)" if c.duration_seconds else ""
            print(f"{_when(c.created_at)}  {c.sid}  {c.from_} -> {c.to}  {c.status}{duration}")
            print(f"    callback {c.status_callback or '(none)'}: {answers or 'not posted yet'}")
        if not calls:
            output.err("No call placed yet.")
        return output.OK

    return _guarded(args, run)


def cmd_end_call(args: argparse.Namespace) -> int:
    def run(args: argparse.Namespace) -> int:
        # Lazy: raw --help imports this module; only raw integrations loads httpx.
        import httpx

        from raw.integrations.services import running_services

        root = _project_root(args)
        state = running_services(root, "phone simulator")
        form = {}
        if args.status:
            form["CallStatus"] = args.status
        if args.duration is not None:
            form["CallDuration"] = str(args.duration)
        try:
            response = httpx.post(
                f"{state.phone_url}/_raw/calls/{args.sid}/end", data=form, timeout=60
            )
        except httpx.HTTPError as exc:
            raise LocalServiceNoAnswerError("phone simulator", state.phone_url, str(exc)) from None
        if response.status_code == 404:
            raise output.NotFoundError(f"The phone simulator placed no call {args.sid}.")
        if response.status_code != 200:
            raise IntegrationError(f"The phone simulator refused: {response.text}")
        document = response.json()
        if args.json:
            output.emit_json(document)
        else:
            call = document["call"]
            print(f"{call['sid']}: {call['status']}")
            for attempt in document["callbacks"]:
                answer = attempt["http_status"] or attempt["error"]
                print(f"    callback {attempt['call_status']} -> {answer}")
            if not document["callbacks"]:
                print("    no callback posted (the call had ended, or has no StatusCallback)")
        delivered = all(
            a["http_status"] is not None and a["http_status"] < 300 for a in document["callbacks"]
        )
        return output.OK if delivered else output.FAILED

    return _guarded(args, run)


def cmd_chat(args: argparse.Namespace) -> int:
    def run(args: argparse.Namespace) -> int:
        # Lazy: raw --help imports this module; only raw integrations needs it (config: ~6 ms).
        from raw.integrations.config import ChatConfig
        from raw.integrations.outbox import OutboxChat

        root = _project_root(args)
        chat = Project(root).config.system.integrations.chat or ChatConfig()
        outbox = OutboxChat(local_path(root, chat.outbox))
        notifications = _last(outbox.list(), args.last)
        if args.json:
            output.emit_json(
                {
                    "outbox": str(outbox.path),
                    "adapter": chat.adapter,
                    "notifications": [n.model_dump(mode="json") for n in notifications],
                }
            )
            return output.OK
        for n in notifications:
            first, _, rest = n.text.partition("\n")
            print(f"{_when(n.sent_at)}  {first}{' ...' if rest else ''}")
        if not notifications:
            output.err(f"No notification in {_relative(outbox.path, root)} yet.")
        return output.OK

    return _guarded(args, run)
