"""The built-in webhook schemes: each verifies a request and signs one the same way.

Each follows its sender's documented rule, checked in the tests against the
reference code that signs for real (PyPI ``standardwebhooks``, ``twilio``'s
``RequestValidator``) and GitHub's published example; Twilio's signatures are
computed by that ``RequestValidator`` itself:

- ``standard-webhooks``: ``webhook-signature: v1,<base64 HMAC-SHA256 of
  "{webhook-id}.{webhook-timestamp}.{body}">``, keyed by the base64 secret after
  ``whsec_``; the timestamp must be within the route's tolerance, both ways.
- ``github``: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>``.
- ``twilio``: ``X-Twilio-Signature: <base64 HMAC-SHA1 of the public URL followed by
  the sorted form fields as name+value>``; a body that is not a form is covered by
  a ``bodySHA256`` query parameter instead (HMAC-SHA256 when
  ``X-Twilio-Webhooks-Signature-Settings`` says ``algorithm=HMAC_SHA256``).
- ``bearer``: ``Authorization: Bearer <secret>``; the body is not signed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from types import ModuleType
from urllib.parse import parse_qs, parse_qsl, urlsplit

from raw.coordinator.signatures import (
    InvalidSecretError,
    SignatureError,
    SignedRequest,
    WebhookScheme,
)
from raw.errors import RawError

__all__ = [
    "BUILTIN_SCHEMES",
    "BearerScheme",
    "GitHubScheme",
    "StandardWebhooksScheme",
    "TwilioScheme",
]

_NO_MATCH = "signature does not match any active secret"


def _matches_any(given: bytes, candidates: Iterable[bytes]) -> bool:
    """Constant-time comparison against every candidate (no early exit on a match)."""
    found = False
    for candidate in candidates:
        found |= hmac.compare_digest(candidate, given)
    return found


def _text_bytes(value: str) -> bytes:
    return value.encode("utf-8", errors="replace")


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def _required_header(request: SignedRequest, name: str, scheme: str) -> str:
    value = request.headers.get(name, "").strip()
    if not value:
        raise SignatureError(f"missing {name} header", scheme=scheme)
    return value


def _require_secrets(secrets: Sequence[str], scheme: str) -> None:
    if not secrets:
        raise SignatureError("no secret is configured for this route", scheme=scheme)


class StandardWebhooksScheme:
    """Standard Webhooks (standardwebhooks.com), as sent by Svix and many providers."""

    name = "standard-webhooks"
    prefix = "whsec_"
    _TIMESTAMP = re.compile(r"^\d{1,15}$")

    def key(self, secret: str) -> bytes:
        """The HMAC key of a ``whsec_<base64>`` secret (the prefix is optional)."""
        encoded = secret.removeprefix(self.prefix)
        try:
            # The reference library pads the same way, so both accept the same secrets.
            key = base64.b64decode(encoded + "==")
        except (binascii.Error, ValueError):
            raise InvalidSecretError(
                self.name, "is not base64 (Standard Webhooks secrets look like 'whsec_<base64>')"
            ) from None
        if not key:
            raise InvalidSecretError(self.name, "is empty once its 'whsec_' prefix is removed")
        return key

    def _signature(self, key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
        content = f"{msg_id}.{timestamp}.".encode() + body
        return hmac.new(key, content, hashlib.sha256).digest()

    def verify(
        self,
        request: SignedRequest,
        secrets: Sequence[str],
        *,
        tolerance_seconds: int,
        now: datetime,
    ) -> None:
        _require_secrets(secrets, self.name)
        msg_id = _required_header(request, "webhook-id", self.name)
        timestamp = _required_header(request, "webhook-timestamp", self.name)
        header = _required_header(request, "webhook-signature", self.name)
        if not self._TIMESTAMP.match(timestamp):
            raise SignatureError(
                "webhook-timestamp header is not a Unix time in whole seconds", scheme=self.name
            )
        age = math.floor(_aware(now).timestamp()) - int(timestamp)
        if age > tolerance_seconds:
            raise SignatureError(
                f"timestamp is {age} s old, outside the {tolerance_seconds} s tolerance",
                scheme=self.name,
            )
        if -age > tolerance_seconds:
            raise SignatureError(
                f"timestamp is {-age} s in the future, outside the {tolerance_seconds} s tolerance",
                scheme=self.name,
            )
        given: list[bytes] = []
        for entry in header.split():
            version, _, encoded = entry.partition(",")
            if version != "v1":
                continue
            try:
                given.append(base64.b64decode(encoded, validate=True))
            except (binascii.Error, ValueError):
                continue
        if not given:
            raise SignatureError("webhook-signature header has no v1 signature", scheme=self.name)
        expected = [
            self._signature(self.key(secret), msg_id, timestamp, request.body) for secret in secrets
        ]
        matched = False
        for signature in given:
            matched |= _matches_any(signature, expected)
        if not matched:
            raise SignatureError(_NO_MATCH, scheme=self.name)

    def delivery_id(self, request: SignedRequest) -> str | None:
        return request.headers.get("webhook-id") or None

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
        timestamp = str(math.floor(_aware(now).timestamp()))
        signature = self._signature(self.key(secret), delivery_id, timestamp, body)
        return {
            "webhook-id": delivery_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": "v1," + base64.b64encode(signature).decode("ascii"),
        }


class GitHubScheme:
    """GitHub's ``X-Hub-Signature-256`` (also used by many GitHub-style senders)."""

    name = "github"
    header = "X-Hub-Signature-256"

    def _signature(self, secret: str, body: bytes) -> str:
        return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()

    def verify(
        self,
        request: SignedRequest,
        secrets: Sequence[str],
        *,
        tolerance_seconds: int,
        now: datetime,
    ) -> None:
        _require_secrets(secrets, self.name)
        given = _required_header(request, self.header, self.name)
        if not given.startswith("sha256="):
            raise SignatureError(
                f"{self.header} header is not of the form sha256=<hex digest>", scheme=self.name
            )
        expected = [self._signature(secret, request.body).encode() for secret in secrets]
        if not _matches_any(_text_bytes(given), expected):
            raise SignatureError(_NO_MATCH, scheme=self.name)

    def delivery_id(self, request: SignedRequest) -> str | None:
        return request.headers.get("X-GitHub-Delivery") or None

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
        return {self.header: self._signature(secret, body), "X-GitHub-Delivery": delivery_id}


_FORM = "application/x-www-form-urlencoded"
_TWILIO_ALGORITHMS = ("HMAC_SHA1", "HMAC_SHA256")


def _twilio() -> ModuleType:
    """``twilio.request_validator``, the reference code for Twilio's signatures."""
    try:  # only a route signed by Twilio needs the package (an extra that may be missing)
        # Lazy: twilio is optional; only a route signed by Twilio needs it.
        from twilio import request_validator  # type: ignore[import-untyped]
    except ImportError:
        raise RawError(
            "The twilio webhook scheme needs the twilio package, which is not installed: "
            "pip install 'raw-systems[coordinator]'."
        ) from None
    module: ModuleType = request_validator
    return module


class TwilioScheme:
    """Twilio's ``X-Twilio-Signature``, which signs the public URL (set a public base URL).

    Checked by ``twilio``'s own ``RequestValidator``; this class adds the reasons a
    refusal gives and the ``bodySHA256`` check on bodies that are not forms.
    """

    name = "twilio"
    header = "X-Twilio-Signature"
    settings_header = "X-Twilio-Webhooks-Signature-Settings"

    def _algorithm(self, request: SignedRequest) -> str:
        settings = request.headers.get(self.settings_header)
        algorithm = str(_twilio().get_signature_algorithm(settings)).upper()
        if algorithm not in _TWILIO_ALGORITHMS:
            raise SignatureError(
                f"{self.settings_header} names an unsupported algorithm "
                f"(supported: {', '.join(_TWILIO_ALGORITHMS)})",
                scheme=self.name,
            )
        return algorithm

    @staticmethod
    def _form_fields(request: SignedRequest) -> list[tuple[str, str]] | None:
        """The form's fields (repeated names kept), or None when the body is not a form."""
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type == _FORM and request.body:
            return parse_qsl(request.body.decode("utf-8", errors="replace"), keep_blank_values=True)
        if request.form is not None:
            return list(request.form.items())
        return [] if media_type == _FORM else None

    def verify(
        self,
        request: SignedRequest,
        secrets: Sequence[str],
        *,
        tolerance_seconds: int,
        now: datetime,
    ) -> None:
        _require_secrets(secrets, self.name)
        given = _required_header(request, self.header, self.name)
        algorithm = self._algorithm(request)
        params = self._form_fields(request)
        if params is None:
            body_hash = parse_qs(urlsplit(request.url).query).get("bodySHA256")
            if body_hash:
                digest = hashlib.sha256(request.body).hexdigest()
                if not hmac.compare_digest(digest.encode(), _text_bytes(body_hash[0])):
                    raise SignatureError(
                        "body does not match the URL's bodySHA256 parameter", scheme=self.name
                    )
            elif request.body:
                raise SignatureError(
                    "a body that is not a form must be covered by a bodySHA256 URL parameter",
                    scheme=self.name,
                )
            params = []
        fields = _Fields(params)
        validators = [_twilio().RequestValidator(secret) for secret in secrets]
        # Every secret is tried (no early exit), as _matches_any does for the other schemes.
        valid = [v.validate(request.url, fields, given, algorithm) for v in validators]
        if not any(valid):
            raise SignatureError(
                _NO_MATCH + " (Twilio signs the public URL: check the public base URL)",
                scheme=self.name,
            )

    def delivery_id(self, request: SignedRequest) -> str | None:
        return None  # Twilio's keys are in the body (CallSid, CallStatus): the route's delivery_key

    def signed_url(self, url: str, body: bytes, *, form: dict[str, str] | None) -> str:
        """A body that is not a form is signed through ``bodySHA256`` in the URL."""
        if form is not None or not body or "bodySHA256" in parse_qs(urlsplit(url).query):
            return url
        separator = "&" if urlsplit(url).query else "?"
        return f"{url}{separator}bodySHA256={hashlib.sha256(body).hexdigest()}"

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
        if form is None and body and url != self.signed_url(url, body, form=None):
            raise RawError(
                "Twilio signs a body that is not a form through a bodySHA256 URL parameter: "
                "post to raw.coordinator.verify.prepare_url(scheme, url, body) and sign that URL."
            )
        signature = _twilio().RequestValidator(secret).compute_signature(url, form or {})
        return {self.header: str(signature)}


class _Fields(dict[str, list[str]]):
    """Form fields with repeated names, as ``RequestValidator`` reads them (``getlist``)."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        super().__init__()
        for name, value in pairs:
            self.setdefault(name, []).append(value)

    def getlist(self, name: str) -> list[str]:
        return self[name]


class BearerScheme:
    """A shared token in ``Authorization: Bearer <token>``; it proves the sender, not the body."""

    name = "bearer"

    def verify(
        self,
        request: SignedRequest,
        secrets: Sequence[str],
        *,
        tolerance_seconds: int,
        now: datetime,
    ) -> None:
        _require_secrets(secrets, self.name)
        value = _required_header(request, "Authorization", self.name)
        kind, _, token = value.partition(" ")
        token = token.strip()
        if kind.lower() != "bearer" or not token:
            raise SignatureError("Authorization header is not a Bearer token", scheme=self.name)
        if not _matches_any(_text_bytes(token), [secret.encode() for secret in secrets]):
            raise SignatureError("bearer token does not match any active secret", scheme=self.name)

    def delivery_id(self, request: SignedRequest) -> str | None:
        return request.headers.get("Idempotency-Key") or None

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
        return {"Authorization": f"Bearer {secret}", "Idempotency-Key": delivery_id}


BUILTIN_SCHEMES: tuple[WebhookScheme, ...] = (
    StandardWebhooksScheme(),
    GitHubScheme(),
    TwilioScheme(),
    BearerScheme(),
)
