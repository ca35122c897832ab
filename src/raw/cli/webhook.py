"""`raw webhook send`: post a correctly signed delivery to a running coordinator.

The route (by path or name) comes from ``system.coordinator.webhooks``. The
delivery goes to ``--url``, else to the coordinator of this project's running ``raw
up`` (wherever it listens: ``.raw/up/state.json``), never to a guessed port: it is
signed with this project's secrets. It is signed by the route's scheme with its
FIRST secret setting, read from the environment, over the URL the coordinator will
check (its public base URL when one is configured, as Twilio's signature needs).
Exit 0 when the coordinator answers 2xx, 1 otherwise; 2 for a bad ``--data`` or an
unset secret; 3 for an unknown route; 4 when no coordinator answers (or, without
``--url``, no ``raw up`` runs here).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from raw import console as output
from raw.cli.process import action_adder
from raw.commands.exit_codes import exit_code
from raw.errors import RawError, UsageError

if TYPE_CHECKING:
    pass

EXAMPLES = """\
examples:
  export RAW_CV_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
  raw webhook send /webhooks/cv-submission --data @cv.json
  raw webhook send call-status --query candidate_id=c-1 \\
      --data '{"CallSid": "CA1", "CallStatus": "completed"}'
  raw webhook send /webhooks/cv-submission --data @cv.json --url http://127.0.0.1:8080 --json

Without --url the delivery goes to this project's running `raw up`, wherever it listens."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    action = action_adder(parser)
    p = action("send", "Send a correctly signed delivery to a running coordinator.")
    p.add_argument(
        "route", metavar="PATH", help="the route's path (/webhooks/cv-submission) or name"
    )
    p.add_argument(
        "--data",
        required=True,
        metavar="JSON|@FILE|-",
        help="the body: JSON inline, a file (sent byte for byte), or - for stdin",
    )
    p.add_argument(
        "--url",
        metavar="BASE",
        help="the coordinator's base URL (default: this project's running raw up's)",
    )
    p.add_argument(
        "--form",
        action="store_true",
        help="send a JSON object's fields as a form post (the default for form routes)",
    )
    p.add_argument(
        "--query",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="add a query parameter to the URL (repeatable; signed with it where the scheme "
        "signs the URL, as Twilio's does)",
    )
    p.add_argument(
        "--id", dest="delivery_id", metavar="DELIVERY_ID", help="the delivery id (default: new)"
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to wait for the answer (default 30)",
    )
    p.set_defaults(handler=cmd_send)


def _query_pair(value: str) -> tuple[str, str]:
    name, sep, text = value.partition("=")
    if not sep or not name:
        raise UsageError(f"--query '{value}' is not of the form NAME=VALUE.")
    return name, text


def _read_data(value: str) -> bytes:
    if value == "-":
        return sys.stdin.buffer.read()
    if value.startswith("@"):
        path = Path(value[1:])
        try:
            return path.read_bytes()
        except OSError as exc:
            raise UsageError(f"Cannot read the --data file {path}: {exc.strerror}.") from None
    return value.encode()


def cmd_send(args: argparse.Namespace) -> int:
    try:
        return _send(args)
    except RawError as exc:
        code = exit_code(exc)
        if args.json:
            output.emit_json(output.error_document(exc, code))
        else:
            output.err(output.style("Error: ", "1;31") + str(exc))
        return code


def _send(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw webhook loads httpx and the signers.
    from raw.commands.webhook import send_webhook_document

    done = send_webhook_document(
        args.project_dir,
        args.route,
        _read_data(args.data),
        form=args.form,
        url=args.url,
        query=[_query_pair(q) for q in args.query],
        delivery_id=args.delivery_id,
        timeout_seconds=args.timeout,
    )
    if args.json:
        output.emit_json(done.body)
        return done.exit_code
    response, answer = done.detail, done.body["response"]
    print(f"POST {done.body['url']} -> {response.status_code} {response.reason_phrase}")
    print(f"delivery id: {done.body['delivery_id']}")
    if isinstance(answer, str):
        if answer:
            print(answer)
    else:
        print(json.dumps(answer, indent=2, ensure_ascii=False))
    if not response.is_success:
        output.err(
            output.style("Error: ", "1;31")
            + f"The coordinator refused the delivery with status {response.status_code}."
        )
    return done.exit_code
