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
from typing import TYPE_CHECKING, Any

from raw import __version__, clock
from raw import console as output
from raw.cli.process import action_adder
from raw.errors import RawError, ServiceUnreachableError, UsageError
from raw.project import find_project
from raw.up.local_env import load_local_env

if TYPE_CHECKING:
    from raw.config.coordinator import WebhookConfig
    from raw.project import Project

EXAMPLES = """\
examples:
  export RAW_CV_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
  raw webhook send /webhooks/cv-submission --data @cv.json
  raw webhook send call-status --query candidate_id=c-1 \\
      --data '{"CallSid": "CA1", "CallStatus": "completed"}'
  raw webhook send /webhooks/cv-submission --data @cv.json --url http://127.0.0.1:8080 --json

Without --url the delivery goes to this project's running `raw up`, wherever it listens."""


class UnknownRouteError(output.NotFoundError):
    def __init__(self, route: str, known: list[WebhookConfig], where: Path) -> None:
        self.route = route
        self.known = [w.path for w in known]
        listing = ", ".join(f"{w.path} ({w.name})" for w in known)
        hint = f"Known routes: {listing}." if known else "None is declared there yet."
        super().__init__(
            f"No webhook route '{route}' in system.coordinator.webhooks of {where}. {hint}"
        )


class CoordinatorUnreachableError(ServiceUnreachableError):
    def __init__(self, url: str, problem: str) -> None:
        self.url = url
        self.problem = problem
        super().__init__(
            f"No coordinator answers at {url} ({problem}). Start the coordinator, "
            "or pass --url with the address it listens on."
        )


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


def payload(data: bytes, *, as_form: bool) -> tuple[bytes, dict[str, str] | None]:
    """The body to post and, for a form post, its fields."""
    # Lazy: raw --help imports this module; the signing modules cost it ~4 ms.
    from raw.coordinator.sender import encode_body

    try:
        document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"--data is not valid JSON: {exc}.") from None
    if not as_form:
        return data, None
    return encode_body(document, as_form=True)


def find_route(webhooks: list[WebhookConfig], route: str, where: Path) -> WebhookConfig:
    for webhook in webhooks:
        if route in (webhook.path, webhook.name):
            return webhook
    raise UnknownRouteError(route, webhooks, where)


def _running_coordinator(project: Project) -> str:
    """The URL of this project's running ``raw up``: a delivery signed with this project's
    secrets never goes to whatever else listens on a default port."""
    # Lazy: raw --help imports this module; only raw webhook needs it.
    from raw.up_state import running_or_fail

    instead = (
        "pass --url with the coordinator's base URL (e.g. http://127.0.0.1:8000 for raw serve)"
    )
    return running_or_fail(project, instead).api_url


def _exit_code(exc: BaseException) -> int:
    # Lazy: raw --help imports this module; the signing modules cost it ~4 ms.
    from raw.coordinator.verify import InvalidSecretError, MissingSecretError, UnknownSchemeError

    if isinstance(exc, MissingSecretError | InvalidSecretError | UnknownSchemeError):
        return output.USAGE
    return output.exit_code_for(exc)


def cmd_send(args: argparse.Namespace) -> int:
    try:
        return _send(args)
    except RawError as exc:
        code = _exit_code(exc)
        if args.json:
            output.emit_json(output.error_document(exc, code))
        else:
            output.err(output.style("Error: ", "1;31") + str(exc))
        return code


def _send(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw webhook loads httpx.
    import httpx

    from raw.coordinator.sender import load_schemes, signed_delivery
    from raw.coordinator.verify import public_base_url
    from raw.coordinator.verify import secrets_for as read_secrets

    project = find_project(args.project_dir)
    load_local_env(project)  # the development secrets `raw up` gave the running system
    coordinator = project.config.system.coordinator
    route = find_route(coordinator.webhooks, args.route, project.config_path)
    as_form = args.form or route.content_type == "form"
    body, form = payload(_read_data(args.data), as_form=as_form)
    load_schemes(coordinator, project.root)
    secret = read_secrets(route.secrets[:1])[0]  # an unset secret is named first (exit 2)
    base = (args.url or _running_coordinator(project)).rstrip("/")
    delivery = signed_delivery(
        route,
        body,
        form,
        base_url=base,
        secret=secret,
        now=clock.now(),
        public_base_url=public_base_url(coordinator.public_base_url),
        query=[_query_pair(q) for q in args.query],
        delivery_id=args.delivery_id,
        user_agent=f"raw/{__version__} (raw webhook send)",
    )
    target, delivery_id = delivery.url, delivery.delivery_id
    try:
        response = httpx.post(
            target, content=delivery.body, headers=delivery.headers, timeout=args.timeout
        )
    except httpx.ConnectError as exc:
        raise CoordinatorUnreachableError(base, str(exc) or "connection refused") from None
    except httpx.TimeoutException:
        raise CoordinatorUnreachableError(
            base, f"no answer within {args.timeout:g} seconds"
        ) from None
    except httpx.HTTPError as exc:
        raise RawError(f"Sending the delivery to {target} failed: {exc}.") from None

    try:
        answer: Any = response.json()
    except ValueError:
        answer = response.text
    if args.json:
        output.emit_json(
            {
                "status_code": response.status_code,
                "response": answer,
                "delivery_id": delivery_id,
                "url": target,
            }
        )
    else:
        print(f"POST {target} -> {response.status_code} {response.reason_phrase}")
        print(f"delivery id: {delivery_id}")
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
    return output.OK if response.is_success else output.FAILED
