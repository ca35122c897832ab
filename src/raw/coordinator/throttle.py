"""Wrong tokens, counted per client address and per token tried: HTTP 429 past a limit.

Every place the API token is checked counts its failures in the app's one
:class:`AuthThrottle`: the operator page's sign-in form, a bearer token on ``/api``
and on the operator page. A failure counts against the client's address and
against a hash of the token tried (the token itself is never kept); past
``limit`` failures in ``window_seconds`` on either, a try is refused with 429
until the oldest failure leaves the window, even a try with the right token (or a
guess could still tell it was right).

The address is the peer's, or the one a trusted proxy forwarded: ``raw serve``
honours ``X-Forwarded-For`` only from the proxies in ``RAW_TRUSTED_PROXIES``
(none by default), so a client cannot pick its own address by sending the header.
Kept in memory, per server process.
"""

from __future__ import annotations

import hashlib
from collections import deque

from starlette.requests import Request

from raw import clock
from raw.errors import RawError

__all__ = ["AuthThrottle", "TooManyFailuresError", "client_address"]


class TooManyFailuresError(RawError):
    """Too many wrong tokens from this address, or this token was tried too often."""

    status_code = 429

    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = retry_after_seconds
        self.headers = {"Retry-After": str(retry_after_seconds)}
        super().__init__(
            "Too many failed attempts with a wrong token from your address. "
            f"Try again in {retry_after_seconds} s with the API token."
        )


def client_address(request: Request) -> str:
    """The client's address as the server sees it (a trusted proxy's forwarded one)."""
    return request.client.host if request.client else "?"


class AuthThrottle:
    """At most ``limit`` failures per address and per token tried in ``window_seconds``."""

    def __init__(
        self, *, limit: int = 5, window_seconds: float = 300.0, max_keys: int = 10_000
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    @staticmethod
    def _keys(client: str, token: str | None) -> list[str]:
        keys = [f"address:{client}"]
        if token:
            digest = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:32]
            keys.append(f"token:{digest}")
        return keys

    def _recent(self, key: str) -> deque[float]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        cutoff = clock.monotonic() - self.window_seconds
        while failures and failures[0] <= cutoff:
            failures.popleft()
        return failures

    def retry_after(self, client: str, token: str | None = None) -> int:
        """Seconds until ``client`` (trying ``token``) may try again; 0 when it may now."""
        wait = 0
        for key in self._keys(client, token):
            failures = self._recent(key)
            if len(failures) >= self.limit:
                left = int(failures[0] + self.window_seconds - clock.monotonic()) + 1
                wait = max(wait, left, 1)
        return wait

    def check(self, client: str, token: str | None = None) -> None:
        """Raise :class:`TooManyFailuresError` when ``client`` or ``token`` is over the limit."""
        wait = self.retry_after(client, token)
        if wait:
            raise TooManyFailuresError(wait)

    def failed(self, client: str, token: str | None = None) -> None:
        now = clock.monotonic()
        for key in self._keys(client, token):
            self._recent(key)
            self._failures.setdefault(key, deque()).append(now)
        if len(self._failures) > self.max_keys:
            self._forget()

    def succeeded(self, client: str) -> None:
        self._failures.pop(f"address:{client}", None)

    def _forget(self) -> None:
        """Bound the memory: drop quiet keys, then the oldest tokens' (addresses stay)."""
        for key in list(self._failures):
            if not self._recent(key):
                del self._failures[key]
        tokens = [key for key in self._failures if key.startswith("token:")]
        for key in tokens[: max(0, len(self._failures) - self.max_keys)]:
            del self._failures[key]
