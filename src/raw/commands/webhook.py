"""``raw webhook send``: a correctly signed delivery to a running coordinator, as a document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from raw import __version__, clock
from raw.commands.document import Document
from raw.config.coordinator import WebhookConfig
from raw.console import NotFoundError
from raw.coordinator.sender import encode_body, load_schemes, signed_delivery
from raw.coordinator.verify import public_base_url
from raw.coordinator.verify import secrets_for as read_secrets
from raw.errors import RawError, ServiceUnreachableError, UsageError
from raw.project import Project, find_project
from raw.up.local_env import load_local_env
from raw.up_state import running_or_fail

__all__ = [
    "CoordinatorUnreachableError",
    "UnknownRouteError",
    "find_route",
    "payload",
    "send_webhook_document",
]

FAILED = 1


class UnknownRouteError(NotFoundError):
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


def payload(data: bytes, *, as_form: bool) -> tuple[bytes, dict[str, str] | None]:
    """The body to post and, for a form post, its fields."""
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
    instead = (
        "pass --url with the coordinator's base URL (e.g. http://127.0.0.1:8000 for raw serve)"
    )
    return running_or_fail(project, instead).api_url


def send_webhook_document(
    project_dir: str | Path | None,
    route_name: str,
    data: bytes,
    *,
    form: bool = False,
    url: str | None = None,
    query: list[tuple[str, str]] | None = None,
    delivery_id: str | None = None,
    timeout_seconds: float = 30.0,
    user_agent: str = "raw webhook send",
) -> Document:
    """Sign ``data`` as the route's sender would (its first secret) and post it."""
    project = find_project(project_dir)
    load_local_env(project)  # the development secrets `raw up` gave the running system
    coordinator = project.config.system.coordinator
    route = find_route(coordinator.webhooks, route_name, project.config_path)
    as_form = form or route.content_type == "form"
    body, fields = payload(data, as_form=as_form)
    load_schemes(coordinator, project.root)
    secret = read_secrets(route.secrets[:1])[0]  # an unset secret is named first (exit 2)
    base = (url or _running_coordinator(project)).rstrip("/")
    delivery = signed_delivery(
        route,
        body,
        fields,
        base_url=base,
        secret=secret,
        now=clock.now(),
        public_base_url=public_base_url(coordinator.public_base_url),
        query=list(query or []),
        delivery_id=delivery_id,
        user_agent=f"raw/{__version__} ({user_agent})",
    )
    target = delivery.url
    try:
        response = httpx.post(
            target, content=delivery.body, headers=delivery.headers, timeout=timeout_seconds
        )
    except httpx.ConnectError as exc:
        raise CoordinatorUnreachableError(base, str(exc) or "connection refused") from None
    except httpx.TimeoutException:
        raise CoordinatorUnreachableError(
            base, f"no answer within {timeout_seconds:g} seconds"
        ) from None
    except httpx.HTTPError as exc:
        raise RawError(f"Sending the delivery to {target} failed: {exc}.") from None
    try:
        answer: Any = response.json()
    except ValueError:
        answer = response.text
    document = {
        "status_code": response.status_code,
        "response": answer,
        "delivery_id": delivery.delivery_id,
        "url": target,
    }
    return Document(document, 0 if response.is_success else FAILED, detail=response)
