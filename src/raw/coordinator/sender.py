"""Build a correctly signed delivery for a declared route, as its real sender would.

Used by ``raw webhook send``, ``raw simulate`` and tests: the body is signed by the
route's scheme with its first secret, over the URL the coordinator checks (its
public base URL when one is configured, as Twilio's signature needs).

    delivery = signed_delivery(route, body, form, base_url="http://127.0.0.1:8000",
                               secret=secret, public_base_url=None, now=clock.now())
    httpx.post(delivery.url, content=delivery.body, headers=delivery.headers)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from raw.coordinator.verify import get_scheme, prepare_url, public_url, register_scheme, registered
from raw.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from raw.config.coordinator import CoordinatorConfig, WebhookConfig


@dataclass(frozen=True)
class SignedDelivery:
    url: str
    body: bytes
    headers: dict[str, str]
    delivery_id: str


def _form_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, str | int | float):
        return str(value)
    raise UsageError(
        f"Form field '{name}' holds a {type(value).__name__}: a form post takes text, "
        "numbers and booleans only."
    )


def encode_body(document: Any, *, as_form: bool) -> tuple[bytes, dict[str, str] | None]:
    """A JSON document as the bytes to post and, for a form post, its fields."""
    if not as_form:
        return json.dumps(document, ensure_ascii=False).encode(), None
    if not isinstance(document, Mapping):
        raise UsageError("A form post needs a JSON object of field names to values.")
    form = {str(name): _form_value(str(name), value) for name, value in document.items()}
    return urlencode(form).encode(), form


def load_schemes(config: CoordinatorConfig, root: Path | None) -> None:
    """Register the system's own schemes (``system.coordinator.schemes``) by their names."""
    # Lazy: the coordinator's modules that run without the app (dispatcher, CLI) skip FastAPI.
    from raw.coordinator.webhooks import import_object

    for reference in config.schemes:
        try:
            scheme = import_object(reference, root=root)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(
                f"system.coordinator.schemes '{reference}' cannot be imported: {exc}."
            ) from None
        if isinstance(scheme, type):
            scheme = scheme()
        missing = [m for m in ("name", "verify", "delivery_id", "sign") if not hasattr(scheme, m)]
        if missing:
            raise ConfigError(
                f"system.coordinator.schemes '{reference}' is not a webhook scheme: it has no "
                f"{', '.join(missing)} (see raw.coordinator.verify.WebhookScheme)."
            )
        if registered(scheme.name) is not scheme:
            register_scheme(scheme, replace=True)


def signed_delivery(
    route: WebhookConfig,
    body: bytes,
    form: Mapping[str, str] | None,
    *,
    base_url: str,
    secret: str,
    now: datetime,
    public_base_url: str | None = None,
    query: Sequence[tuple[str, str]] = (),
    delivery_id: str | None = None,
    user_agent: str | None = None,
) -> SignedDelivery:
    """The URL, body and headers of one delivery to ``route``, signed with ``secret``."""
    scheme = get_scheme(route.scheme)
    delivery_id = delivery_id or f"msg_{uuid.uuid4().hex}"
    url = base_url.rstrip("/") + route.path
    if query:
        url += "?" + urlencode(list(query))
    fields = dict(form) if form is not None else None
    target = prepare_url(scheme, url, body, form=fields)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded"
        if form is not None
        else "application/json",
    }
    if user_agent:
        headers["User-Agent"] = user_agent
    headers.update(
        scheme.sign(
            body,
            secret,
            url=public_url(target, public_base_url),
            form=fields,
            now=now,
            delivery_id=delivery_id,
        )
    )
    return SignedDelivery(url=target, body=body, headers=headers, delivery_id=delivery_id)
