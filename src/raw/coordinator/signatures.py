"""What a webhook signature check works with: the request as signed, the scheme protocol, errors.

:mod:`raw.coordinator.verify` checks requests with the registered schemes;
:mod:`raw.coordinator.signing` holds the built-in schemes. Both build on this module.

Errors:

    RawError
    ├── SignatureError        the signature is missing, wrong or expired (HTTP 401)
    ├── UnknownSchemeError    a route names a scheme nobody registered
    ├── MissingSecretError    a secret setting is not set, or empty
    └── InvalidSecretError    a secret the scheme cannot use (e.g. not base64)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from raw.errors import RawError

__all__ = [
    "PUBLIC_BASE_URL_SETTING",
    "Headers",
    "InvalidSecretError",
    "MissingSecretError",
    "SignatureError",
    "SignedRequest",
    "SignsUrl",
    "UnknownSchemeError",
    "WebhookScheme",
    "public_base_url",
    "public_url",
]

PUBLIC_BASE_URL_SETTING = "RAW_PUBLIC_BASE_URL"


class SignatureError(RawError):
    """The request's signature is missing, does not match, or is out of date."""

    status_code = 401

    def __init__(self, reason: str, *, scheme: str | None = None) -> None:
        self.reason = reason
        self.scheme = scheme
        which = f"{scheme} signature" if scheme else "signature"
        super().__init__(f"The webhook request's {which} is not valid: {reason}.")


class UnknownSchemeError(RawError):
    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        self.known = list(known)
        super().__init__(
            f"No webhook verification scheme '{name}'. Known schemes: {', '.join(self.known)}; "
            "register another with raw.coordinator.verify.register_scheme()."
        )


class MissingSecretError(RawError):
    def __init__(self, setting: str) -> None:
        self.setting = setting
        super().__init__(
            f"The setting {setting}, which holds a webhook secret, is not set or is empty. "
            f"Set the environment variable {setting} to the secret the sender signs with "
            f"(for example: export {setting}=...)."
        )


class InvalidSecretError(RawError):
    def __init__(self, scheme: str, problem: str) -> None:
        self.scheme = scheme
        self.problem = problem
        super().__init__(f"A secret configured for the {scheme} scheme {problem}.")


class Headers(Mapping[str, str]):
    """HTTP headers looked up case-insensitively. Its repr shows names only, never values."""

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items = {key.lower(): value for key, value in pairs}

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers(names={sorted(self._items)!r})"


@dataclass(frozen=True)
class SignedRequest:
    """A received webhook request, as the sender signed it.

    ``url`` is the URL the *sender* used (Twilio signs it): the public base URL
    plus the request's path and query when one is configured, else the URL the
    app received. ``form`` holds the fields of a form post, if the caller parsed them.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    form: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.headers, Headers):
            object.__setattr__(self, "headers", Headers(self.headers))

    @classmethod
    def from_http(
        cls,
        method: str,
        request_url: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        body: bytes,
        *,
        form: dict[str, str] | None = None,
        public_base_url: str | None = None,
    ) -> SignedRequest:
        """The request as the app received it, with its URL made public (see :func:`public_url`)."""
        return cls(
            method=method.upper(),
            url=public_url(request_url, public_base_url),
            headers=Headers(headers),
            body=body,
            form=form,
        )


def public_url(request_url: str, public_base_url: str | None) -> str:
    """The URL a sender used: ``public_base_url`` + the request's path and query.

    Behind a proxy the app sees ``http://127.0.0.1:8000/hooks?x=1`` while the sender
    signed ``https://example.com/hooks?x=1``. A base with a path
    (``https://example.com/hiring``) is a prefix the proxy strips.
    """
    if not public_base_url:
        return request_url
    parts = urlsplit(request_url)
    url = public_base_url.rstrip("/") + (parts.path or "/")
    return f"{url}?{parts.query}" if parts.query else url


def public_base_url(configured: str | None) -> str | None:
    """The public base URL in force: ``RAW_PUBLIC_BASE_URL`` wins over the config's value."""
    return os.environ.get(PUBLIC_BASE_URL_SETTING) or configured or None


class WebhookScheme(Protocol):
    """A way of proving who sent a webhook. Register new ones with :func:`register_scheme`."""

    name: str

    def verify(
        self,
        request: SignedRequest,
        secrets: Sequence[str],
        *,
        tolerance_seconds: int,
        now: datetime,
    ) -> None:
        """Return if any of ``secrets`` signed ``request``; raise :class:`SignatureError` if not."""
        ...

    def delivery_id(self, request: SignedRequest) -> str | None:
        """The sender's id of this delivery (the same on retries), if the scheme carries one."""
        ...

    def sign(
        self,
        body: bytes,
        secret: str,
        *,
        url: str,
        form: dict[str, str] | None,
        now: datetime,
        delivery_id: str,
    ) -> dict[str, str]:
        """The headers a sender adds to post ``body`` to ``url`` signed with ``secret``."""
        ...


@runtime_checkable
class SignsUrl(Protocol):
    """Optional: a scheme that puts part of the signature in the URL (Twilio's ``bodySHA256``)."""

    def signed_url(self, url: str, body: bytes, *, form: dict[str, str] | None) -> str:
        """The URL to post ``body`` to, before signing."""
        ...
