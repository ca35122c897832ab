"""The Twilio telephony adapter, on the official ``twilio`` client: Twilio and the simulator alike.

The client's requests go through an ``HttpClient`` of ours (the client's own
extension point) that rewrites Twilio's base URL when another is configured (the
local phone simulator, a test server, a proxy) and sends the call's idempotency
key as an ``Idempotency-Key`` header. Twilio's 2010 Calls API does not document
that header; the simulator honours it. The blocking client runs in a thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from raw import tracing
from raw.integrations.config import TelephonyConfig
from raw.integrations.errors import (
    UNAVAILABLE_HTTP_STATUSES,
    TelephonyError,
    TelephonyUnreachableError,
)
from raw.integrations.settings import read_setting
from raw.integrations.telephony import CALL_EVENTS, CallRef, PlaceCallRequest, Telephony

__all__ = ["LOCAL_ACCOUNT_SID", "TWILIO_API", "TwilioAccount", "TwilioTelephony"]

TWILIO_API = "https://api.twilio.com"
LOCAL_ACCOUNT_SID = "AC" + "0" * 31 + "1"
"""The account SID the local adapter uses with the phone simulator."""

_idempotency_key: ContextVar[str | None] = ContextVar("raw_twilio_idempotency", default=None)


@dataclass(frozen=True)
class TwilioAccount:
    """Credentials and endpoint; the token never shows in its repr."""

    account_sid: str
    auth_token: str = field(repr=False)
    base_url: str | None = None
    timeout_seconds: float = 30.0

    @classmethod
    def from_config(cls, config: TelephonyConfig) -> TwilioAccount:
        return cls(
            account_sid=read_setting(
                config.account_sid_setting, key="telephony.account_sid_setting"
            ),
            auth_token=read_setting(config.auth_token_setting, key="telephony.auth_token_setting"),
            base_url=config.base_url,
            timeout_seconds=config.timeout_seconds,
        )


def _client(account: TwilioAccount) -> Any:
    # Lazy: needs the integrations extra, which may be missing.
    from twilio.http.http_client import TwilioHttpClient  # type: ignore[import-untyped]
    from twilio.rest import Client  # type: ignore[import-untyped]

    base_url = account.base_url.rstrip("/") if account.base_url else None

    class _HttpClient(TwilioHttpClient):  # type: ignore[misc]
        def request(
            self,
            method: str,
            url: str,
            params: Any = None,
            data: Any = None,
            headers: dict[str, str] | None = None,
            auth: Any = None,
            timeout: float | None = None,
            allow_redirects: bool = False,
        ) -> Any:
            if base_url is not None:  # whatever host (region, edge) the client chose
                parts = urlsplit(url)
                url = base_url + parts.path + (f"?{parts.query}" if parts.query else "")
            key = _idempotency_key.get()
            if key is not None and method.upper() == "POST":
                headers = {**(headers or {}), "Idempotency-Key": key}
            return super().request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                auth=auth,
                timeout=timeout,
                allow_redirects=allow_redirects,
            )

    return Client(
        account.account_sid,
        account.auth_token,
        http_client=_HttpClient(timeout=account.timeout_seconds),
    )


class TwilioTelephony(Telephony):
    """Places calls through Twilio's REST API; ``account`` is fixed or looked up per call."""

    def __init__(
        self,
        account: TwilioAccount | Callable[[], TwilioAccount],
        *,
        from_number: str | None = None,
    ) -> None:
        self._account = account
        self.from_number = from_number
        self._clients: dict[TwilioAccount, Any] = {}

    @classmethod
    def from_config(cls, config: TelephonyConfig) -> TwilioTelephony:
        """The production adapter; settings are read at the first call."""
        return cls(lambda: TwilioAccount.from_config(config), from_number=config.from_number)

    def account(self) -> TwilioAccount:
        return self._account() if callable(self._account) else self._account

    @tracing.traced("telephony place_call", integration="telephony", adapter="twilio")
    async def place(self, call: PlaceCallRequest) -> CallRef:
        caller = call.from_ or self.from_number
        if not caller:
            raise TelephonyError(
                "the call has no caller id: pass from_ or set system.integrations.telephony."
                "from_number"
            )
        if (call.twiml is None) == (call.url is None):
            raise TelephonyError(
                "give the call's instructions as twiml (TwiML such as "
                "'<Response><Say>Hello</Say></Response>') or as url, exactly one"
            )
        unknown = [e for e in call.status_callback_events if e not in CALL_EVENTS]
        if unknown:
            raise TelephonyError(
                f"unknown status callback event {', '.join(unknown)} "
                f"(known: {', '.join(CALL_EVENTS)})"
            )
        account = self.account()
        client = self._clients.get(account)
        if client is None:
            client = self._clients[account] = _client(account)
        arguments: dict[str, Any] = {
            "to": call.to,
            "from_": caller,
            "status_callback": call.status_callback_url,
        }
        if call.twiml is not None:
            arguments["twiml"] = call.twiml
        if call.url is not None:
            arguments["url"] = call.url
        if call.status_callback_events:
            arguments["status_callback_event"] = list(call.status_callback_events)
        if call.timeout_seconds is not None:
            arguments["timeout"] = call.timeout_seconds
        token = _idempotency_key.set(call.idempotency_key)
        try:
            placed = await asyncio.to_thread(client.calls.create, **arguments)
        except Exception as exc:
            raise _telephony_error(exc, account) from None
        finally:
            _idempotency_key.reset(token)
        return CallRef(sid=placed.sid, status=placed.status, to=placed.to, from_=placed._from)


def _telephony_error(exc: Exception, account: TwilioAccount) -> TelephonyError:
    # Lazy: needs the integrations extra, which may be missing.
    from twilio.base.exceptions import (  # type: ignore[import-untyped]
        TwilioRestException,
        TwilioServiceException,
    )

    where = account.base_url or TWILIO_API
    if isinstance(exc, TwilioRestException):
        error = (
            TelephonyUnreachableError if exc.status in UNAVAILABLE_HTTP_STATUSES else TelephonyError
        )
        return error(
            f"{where} answered {exc.status} (Twilio error {exc.code}): {exc.msg}",
            status_code=exc.status,
        )
    if isinstance(exc, TwilioServiceException):
        error = (
            TelephonyUnreachableError if exc.status in UNAVAILABLE_HTTP_STATUSES else TelephonyError
        )
        return error(
            f"{where} answered {exc.status} (Twilio error {exc.code}): {exc.title}",
            status_code=exc.status,
        )
    return TelephonyUnreachableError(f"no answer from {where} ({type(exc).__name__}: {exc})")
