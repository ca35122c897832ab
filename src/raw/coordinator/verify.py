"""Webhook signatures: who may post to a route, checked before anything is stored.

A route declares its scheme and the *names* of the settings holding its secrets
(``system.coordinator.webhooks``); this module turns a received request into a
:class:`SignedRequest` and asks the scheme to verify it. Several secrets may be
active at once, so a secret can be rotated without dropping deliveries: a
delivery passes when any of them matches. Every comparison is constant-time,
and no message ever contains a secret.

    from raw.coordinator.verify import SignedRequest, verify_request

    request = SignedRequest.from_http(
        "POST", str(req.url), req.headers, body, public_base_url=public_base_url(config)
    )
    delivery_id = verify_request(route, request)      # raises SignatureError (401)

Built-in schemes (the signers live in :mod:`raw.coordinator.signing`):
``standard-webhooks``, ``github``, ``twilio`` and ``bearer``. Add one with
:func:`register_scheme`; any object with the :class:`WebhookScheme` methods will do.

The request, the scheme protocol and the errors (their tree is in its docstring)
live in :mod:`raw.coordinator.signatures`, which the signers build on too; they are
importable from here as before.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from raw import clock
from raw.coordinator.signatures import (
    Headers,
    InvalidSecretError,
    MissingSecretError,
    SignatureError,
    SignedRequest,
    SignsUrl,
    UnknownSchemeError,
    WebhookScheme,
    public_base_url,
    public_url,
)
from raw.coordinator.signing import BUILTIN_SCHEMES
from raw.errors import RawError

if TYPE_CHECKING:
    from raw.config.coordinator import WebhookConfig

__all__ = [
    "Headers",
    "InvalidSecretError",
    "MissingSecretError",
    "SignatureError",
    "SignedRequest",
    "UnknownSchemeError",
    "WebhookScheme",
    "get_scheme",
    "known_schemes",
    "prepare_url",
    "public_base_url",
    "public_url",
    "register_scheme",
    "registered",
    "secrets_for",
    "verify_request",
]


def prepare_url(
    scheme: WebhookScheme, url: str, body: bytes, *, form: dict[str, str] | None = None
) -> str:
    """The URL a sender posts to with ``scheme``: ``url`` unless the scheme adds to it."""
    if isinstance(scheme, SignsUrl):
        return scheme.signed_url(url, body, form=form)
    return url


_SCHEMES: dict[str, WebhookScheme] = {}


def _registry() -> dict[str, WebhookScheme]:
    if not _SCHEMES:
        for scheme in BUILTIN_SCHEMES:
            _SCHEMES.setdefault(scheme.name, scheme)
    return _SCHEMES


def register_scheme(scheme: WebhookScheme, *, replace: bool = False) -> WebhookScheme:
    """Make ``scheme`` available to routes by its ``name``; returns it."""
    registry = _registry()
    current = registry.get(scheme.name)
    if current is not None and current is not scheme and not replace:
        raise RawError(
            f"A webhook scheme named '{scheme.name}' is already registered. "
            "Choose another name, or pass replace=True to replace it."
        )
    registry[scheme.name] = scheme
    return scheme


def get_scheme(name: str) -> WebhookScheme:
    """The registered scheme called ``name``."""
    registry = _registry()
    try:
        return registry[name]
    except KeyError:
        raise UnknownSchemeError(name, sorted(registry)) from None


def registered(name: str) -> WebhookScheme | None:
    """The scheme registered as ``name``, or None."""
    return _registry().get(name)


def known_schemes() -> list[str]:
    return sorted(_registry())


def secrets_for(names: Sequence[str], *, environ: Mapping[str, str] | None = None) -> list[str]:
    """The values of the settings called ``names`` (environment variables), in order.

    The first is the one to sign with; all of them are accepted when verifying.
    """
    env = os.environ if environ is None else environ
    values: list[str] = []
    for name in names:
        value = env.get(name, "")
        if not value.strip():
            raise MissingSecretError(name)
        values.append(value)
    return values


def verify_request(
    route: WebhookConfig,
    request: SignedRequest,
    *,
    now: datetime | None = None,
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """Verify ``request`` for a declared route; return the scheme's delivery id, if any."""

    scheme = get_scheme(route.scheme)
    scheme.verify(
        request,
        secrets_for(route.secrets, environ=environ),
        tolerance_seconds=route.tolerance_seconds,
        now=now or clock.now(),
    )
    return scheme.delivery_id(request)
