"""Signing in to the operator page: a session cookie derived from the API token, and CSRF.

A browser cannot send ``Authorization: Bearer`` when it navigates, so the page has
a sign-in form. The operator pastes the API token; the server compares it in
constant time and answers with a cookie holding a signed session::

    raw_operator = <payload>.<signature>
    payload   = base64url({"iat": <issued, unix seconds>, "sid": <random hex>})
    signature = base64url(HMAC-SHA256(key, payload))
    key       = HMAC-SHA256(<API token>, "raw-operator-session/v1")

The cookie is ``HttpOnly`` (no script reads it), ``SameSite=Strict`` (no other site's
page makes the browser send it), ``Path=/operator`` (the JSON API never accepts it:
it takes the bearer token only) and ``Secure`` when the page is served over HTTPS
(the request's scheme or ``RAW_PUBLIC_BASE_URL``). It holds no secret: the token
itself never leaves the sign-in request. A session lasts :data:`SESSION_SECONDS`;
changing the API token ends every session at once (the key changes with it).

Every form that changes something (Retry, sign-out) carries a CSRF token bound to
the session, ``HMAC(key, "csrf/" + sid)``, checked in constant time, and a POST
whose ``Origin`` names another site is refused. A request with the bearer token
instead of the cookie (curl, scripts) needs neither.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request

from raw import clock
from raw.errors import RawError

__all__ = [
    "COOKIE",
    "FormRefusedError",
    "SESSION_SECONDS",
    "Session",
    "csrf_matches",
    "issue_session",
    "read_session",
    "same_origin",
    "token_matches",
]

COOKIE = "raw_operator"
SESSION_SECONDS = 12 * 3600
"""How long a sign-in lasts."""
_KEY_CONTEXT = b"raw-operator-session/v1"


class FormRefusedError(RawError):
    """A form that changes something came without its CSRF token, or from another site."""

    status_code = 403

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"The form was refused: {reason}. Reload the page and try again.")


@dataclass(frozen=True)
class Session:
    """A signed-in browser (``sid`` set) or a bearer-token caller (``sid`` None)."""

    sid: str | None
    issued_at: int
    csrf: str
    """The CSRF token forms of this session carry ("" for a bearer caller)."""

    @property
    def bearer(self) -> bool:
        return self.sid is None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(token: str) -> bytes:
    return hmac.new(token.encode("utf-8"), _KEY_CONTEXT, hashlib.sha256).digest()


def _sign(key: bytes, message: str) -> str:
    return _b64(hmac.new(key, message.encode("ascii"), hashlib.sha256).digest())


def _csrf(key: bytes, sid: str) -> str:
    return _sign(key, f"csrf/{sid}")


def token_matches(given: str, token: str | None) -> bool:
    """Whether ``given`` is the API token (constant time; False when none is set)."""
    if token is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8"))


def issue_session(token: str, *, now: float | None = None) -> tuple[str, Session]:
    """A new session: (the cookie's value, the session)."""
    issued = int(clock.now().timestamp() if now is None else now)
    sid = secrets.token_hex(16)
    payload = _b64(json.dumps({"iat": issued, "sid": sid}, separators=(",", ":")).encode())
    key = _key(token)
    return f"{payload}.{_sign(key, payload)}", Session(sid, issued, _csrf(key, sid))


def read_session(
    value: str | None, token: str | None, *, now: float | None = None
) -> Session | None:
    """The session a cookie holds, or None if it is missing, forged, expired or stale."""
    if not value or token is None or value.count(".") != 1 or len(value) > 512:
        return None
    payload, signature = value.split(".")
    key = _key(token)
    if not hmac.compare_digest(signature.encode("ascii", "replace"), _sign(key, payload).encode()):
        return None
    try:
        data = json.loads(_unb64(payload))
        issued, sid = int(data["iat"]), str(data["sid"])
    except (ValueError, KeyError, TypeError):
        return None
    age = (clock.now().timestamp() if now is None else now) - issued
    if age > SESSION_SECONDS or age < -60:  # expired, or issued in the future
        return None
    return Session(sid, issued, _csrf(key, sid))


def csrf_matches(session: Session, given: str | None) -> bool:
    """Whether a form's CSRF token belongs to ``session`` (a bearer caller needs none)."""
    if session.bearer:
        return True
    if not given:
        return False
    return hmac.compare_digest(given.encode("ascii", "replace"), session.csrf.encode("ascii"))


def same_origin(request: Request) -> bool:
    """False when the request's ``Origin`` (or, lacking it, ``Referer``) is another site."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin != "null"
    parts = urlsplit(origin)
    host = request.headers.get("host", "")
    return parts.netloc == host
