"""The local phone simulator: a small HTTP server that speaks Twilio's Calls REST API.

``POST /2010-04-01/Accounts/{AccountSid}/Calls.json`` (HTTP Basic with the
account SID and auth token, form fields ``To``, ``From``, ``Url``/``Twiml``,
``StatusCallback``, ``StatusCallbackEvent``...) "places" a call: it is recorded
in ``.raw/calls/calls.jsonl`` and answered 201 with Twilio's call resource. After
``callback_delay_seconds`` (``None``: never, a test or scenario ends the call
with :meth:`PhoneSimulator.end_call`) the simulator posts Twilio's status-callback
form (``CallSid``, ``CallStatus``, ``CallDuration``, ...) to the call's
``StatusCallback`` URL, signed with ``X-Twilio-Signature`` by Twilio's own
``RequestValidator`` under the auth token the call was placed with, so the
coordinator's ``twilio`` route verifies it like a real one. Also:

- ``GET .../Calls.json`` and ``GET .../Calls/{CallSid}.json`` (Twilio's shapes);
- ``POST /_raw/calls/{CallSid}/end`` (form ``CallStatus``, ``CallDuration``): end a
  call now, from another process;
- an ``Idempotency-Key`` header seen before answers the call it placed (no second call);
- calls still waiting for their callback when the simulator stopped get it after a
  restart (signed with the token setting, read from the environment).
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import contextlib
import email.utils
import hashlib
import json
import logging
import re
import secrets
from collections.abc import Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from raw import clock, local_state
from raw.integrations.config import PhoneSimulatorConfig
from raw.integrations.http_server import HttpRequest, HttpResponse, HttpServer
from raw.integrations.paths import local_path
from raw.integrations.settings import optional_setting

__all__ = ["CallLog", "CallbackAttempt", "PhoneSimulator", "SimulatedCall"]

logger = logging.getLogger("raw.integrations.phone")

CALLS_FILE = Path(local_state.CALLS_FILE)
API = "/2010-04-01/Accounts/"
_CALLS = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})/Calls\.json$")
_CALL = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})/Calls/(?P<sid>CA[0-9a-f]{32})\.json$"
)
_END = re.compile(r"^/_raw/calls/(?P<sid>CA[0-9a-f]{32})/end$")
FINAL = ("completed", "no-answer", "busy", "failed", "canceled")
Outcome = Literal["completed", "no-answer", "busy", "failed"]
_CALLBACK_ATTEMPTS = 4


class CallbackAttempt(BaseModel):
    """One status callback posted (after its retries), with the answer it got."""

    call_status: str
    sequence: int
    at: datetime
    http_status: int | None = Field(description="The receiver's answer; None: unreachable.")
    error: str | None = None


class SimulatedCall(BaseModel):
    """A call the simulator placed, with its callbacks so far."""

    model_config = ConfigDict(populate_by_name=True)

    sid: str
    account_sid: str
    to: str
    from_: str = Field(alias="from")
    status: str
    status_callback: str | None
    status_callback_events: list[str]
    url: str | None = None
    twiml: str | None = None
    idempotency_key: str | None = None
    created_at: datetime
    ended_at: datetime | None = None
    duration_seconds: int | None = None
    callbacks: list[CallbackAttempt] = Field(default_factory=list)
    callbacks_done: bool = Field(
        default=False, description="Every callback of the call's end was posted (or gave up)."
    )

    def resource(self) -> dict[str, Any]:
        """Twilio's JSON for this call (what ``client.calls.create`` parses)."""
        uri = f"{API}{self.account_sid}/Calls/{self.sid}.json"
        rfc2822 = email.utils.format_datetime(self.created_at)
        return {
            "sid": self.sid,
            "account_sid": self.account_sid,
            "to": self.to,
            "to_formatted": self.to,
            "from": self.from_,
            "from_formatted": self.from_,
            "status": self.status,
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": rfc2822,
            "date_updated": rfc2822,
            "start_time": None,
            "end_time": email.utils.format_datetime(self.ended_at) if self.ended_at else None,
            "duration": str(self.duration_seconds) if self.duration_seconds is not None else None,
            "price": None,
            "price_unit": "USD",
            "answered_by": None,
            "caller_name": None,
            "forwarded_from": None,
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "queue_time": "0",
            "trunk_sid": None,
            "uri": uri,
            "subresource_uris": {
                "notifications": uri.replace(".json", "/Notifications.json"),
                "recordings": uri.replace(".json", "/Recordings.json"),
            },
        }


class CallLog:
    """The calls placed, as an append-only JSON-lines log any process can list."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_project(cls, project_dir: Path) -> CallLog:

        return cls(local_path(project_dir, CALLS_FILE))

    def append(self, event: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(event, default=str) + "\n")

    def list(self) -> builtins.list[SimulatedCall]:
        """Every call placed, oldest first, with its latest status and callbacks."""
        calls: dict[str, SimulatedCall] = {}
        if not self.path.exists():
            return []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            event = json.loads(line)
            if event["type"] == "placed":
                call = SimulatedCall.model_validate(event["call"])
                calls[call.sid] = call
            elif event["sid"] in calls:
                call = calls[event["sid"]]
                if event["type"] == "status":
                    call.status = event["status"]
                    if event["status"] in FINAL:
                        call.ended_at = datetime.fromisoformat(event["at"])
                        call.duration_seconds = event.get("duration_seconds")
                elif event["type"] == "callback":
                    call.callbacks.append(CallbackAttempt.model_validate(event["attempt"]))
                elif event["type"] == "delivered":
                    call.callbacks_done = True
        return list(calls.values())


def _twilio_error(status: int, code: int, message: str) -> HttpResponse:
    return HttpResponse.json(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


def _basic_auth(request: HttpRequest) -> tuple[str, str] | None:
    kind, _, encoded = request.headers.get("authorization", "").partition(" ")
    if kind.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def _events(form: list[tuple[str, str]]) -> list[str]:
    events: list[str] = []
    for name, value in form:
        if name == "StatusCallbackEvent":
            events.extend(value.split())
    return events


class PhoneSimulator:
    """The simulator; ``await PhoneSimulator(...).start(host, port)``, then ``.url``."""

    def __init__(
        self,
        log: CallLog,
        config: PhoneSimulatorConfig | None = None,
        *,
        auth_token_setting: str | None = None,
        callback_transport: Any = None,
    ) -> None:
        """``callback_transport``: an ``httpx.AsyncBaseTransport`` for the callbacks (e.g. an
        ``httpx.ASGITransport`` on an in-process coordinator); default: real HTTP."""
        self.log = log
        self.config = config or PhoneSimulatorConfig()
        self.auth_token_setting = auth_token_setting
        self.callback_transport = callback_transport
        self._server = HttpServer(self._handle)
        self._tokens: dict[str, str] = {}
        self._pending: dict[str, asyncio.Task[Any]] = {}
        self._calls: dict[str, SimulatedCall] = {}
        self._by_key: dict[str, str] = {}
        self._host = "127.0.0.1"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> PhoneSimulator:
        self._host = host
        for call in self.log.list():
            self._calls[call.sid] = call
            if call.idempotency_key:
                self._by_key[call.idempotency_key] = call.sid
        await self._server.start(host, port)
        self._resume()
        return self

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    async def close(self) -> None:
        for task in list(self._pending.values()):
            task.cancel()
        for task in list(self._pending.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._pending.clear()
        await self._server.close()

    # --- what tests and scenarios use ------------------------------------------------------

    def list(self) -> builtins.list[SimulatedCall]:
        return self.log.list()

    def get(self, sid: str) -> SimulatedCall:
        call = self._calls.get(sid)
        if call is None:
            raise KeyError(f"The phone simulator placed no call {sid}.")
        return call

    async def end_call(
        self,
        sid: str,
        *,
        outcome: Outcome | None = None,
        duration_seconds: int | None = None,
    ) -> builtins.list[CallbackAttempt]:
        """End a call now with ``outcome`` (default: the configured one) and post its callbacks.

        Returns the callbacks posted, each with the receiver's answer.
        """
        call = self.get(sid)
        if call.status in FINAL:
            return []
        task = self._pending.pop(sid, None)
        if task is not None:  # still sleeping: _finish marks the call final before any await
            task.cancel()
        return await self._finish(call, outcome or self.config.outcome, duration_seconds)

    # --- HTTP ------------------------------------------------------------------------------

    async def _handle(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/_raw/health":
            return HttpResponse.json(200, {"status": "ok"})
        if match := _END.match(request.path):
            if request.method != "POST":
                return HttpResponse.json(405, {"message": "POST to end a call"})
            return await self._end_request(match["sid"], request)
        match = _CALLS.match(request.path) or _CALL.match(request.path)
        if match is None:
            return _twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        credentials = _basic_auth(request)
        expected_token = optional_setting(self.auth_token_setting)
        if (
            credentials is None
            or credentials[0] != match["account"]
            or (expected_token is not None and credentials[1] != expected_token)
        ):
            return _twilio_error(401, 20003, "Authenticate")
        if "sid" in match.groupdict():
            call = self._calls.get(match["sid"])
            if call is None or call.account_sid != match["account"]:
                return _twilio_error(
                    404, 20404, f"The requested resource {request.path} was not found"
                )
            return HttpResponse.json(200, call.resource())
        if request.method == "GET":
            return HttpResponse.json(200, self._page(match["account"]))
        if request.method != "POST":
            return _twilio_error(405, 20004, "Method not allowed")
        return self._create(match["account"], credentials[1], request)

    def _page(self, account: str) -> dict[str, Any]:
        calls = [c.resource() for c in reversed(self._calls.values()) if c.account_sid == account]
        uri = f"{API}{account}/Calls.json?PageSize=50&Page=0"
        return {
            "calls": calls,
            "page": 0,
            "page_size": 50,
            "start": 0,
            "end": max(len(calls) - 1, 0),
            "uri": uri,
            "first_page_uri": uri,
            "next_page_uri": None,
            "previous_page_uri": None,
        }

    def _create(self, account: str, token: str, request: HttpRequest) -> HttpResponse:
        key = request.headers.get("idempotency-key") or None
        if key is not None and key in self._by_key:
            return HttpResponse.json(201, self._calls[self._by_key[key]].resource())
        form = request.form()
        fields = dict(form)
        if not fields.get("To"):
            return _twilio_error(400, 21201, "No 'To' number is specified")
        if not fields.get("From"):
            return _twilio_error(400, 21213, "No 'From' number is specified")
        if not (fields.get("Url") or fields.get("Twiml") or fields.get("ApplicationSid")):
            return _twilio_error(400, 21205, "Url parameter is required")
        call = SimulatedCall(
            sid="CA" + secrets.token_hex(16),
            account_sid=account,
            to=fields["To"],
            from_=fields["From"],
            status="queued",
            status_callback=fields.get("StatusCallback") or None,
            status_callback_events=_events(form),
            url=fields.get("Url"),
            twiml=fields.get("Twiml"),
            idempotency_key=key,
            created_at=clock.now(),
        )
        self._calls[call.sid] = call
        self._tokens[call.sid] = token
        if key is not None:
            self._by_key[key] = call.sid
        self.log.append({"type": "placed", "call": call.model_dump(mode="json", by_alias=True)})
        logger.info("placed call %s to %s", call.sid, call.to)
        self._schedule(call, self.config.callback_delay_seconds)
        return HttpResponse.json(201, call.resource())

    async def _end_request(self, sid: str, request: HttpRequest) -> HttpResponse:
        if sid not in self._calls:
            return HttpResponse.json(404, {"message": f"No call {sid}"})
        fields = dict(request.form())
        outcome = fields.get("CallStatus") or None
        if outcome is not None and outcome not in ("completed", "no-answer", "busy", "failed"):
            return HttpResponse.json(
                400, {"message": "CallStatus must be completed, no-answer, busy or failed"}
            )
        duration = fields.get("CallDuration")
        if duration is not None and not duration.isdigit():
            return HttpResponse.json(400, {"message": "CallDuration must be whole seconds"})
        attempts = await self.end_call(
            sid,
            outcome=outcome,  # type: ignore[arg-type]  # checked above
            duration_seconds=int(duration) if duration is not None else None,
        )
        return HttpResponse.json(
            200,
            {
                "call": self._calls[sid].model_dump(mode="json", by_alias=True),
                "callbacks": [a.model_dump(mode="json") for a in attempts],
            },
        )

    # --- callbacks -------------------------------------------------------------------------

    def _schedule(self, call: SimulatedCall, delay_seconds: float | None) -> None:
        if delay_seconds is not None and call.status not in FINAL:
            self._track(call.sid, self._later(call.sid, delay_seconds))

    def _track(self, sid: str, work: Coroutine[Any, Any, Any]) -> None:
        """Run ``work`` as the call's pending task: end_call and close cancel it."""
        task = asyncio.get_running_loop().create_task(self._logged(sid, work), name=f"raw-{sid}")
        self._pending[sid] = task
        task.add_done_callback(lambda done: self._forget(sid, done))

    @staticmethod
    async def _logged(sid: str, work: Coroutine[Any, Any, Any]) -> None:
        try:
            await work
        except Exception:  # a task's error would otherwise go unseen
            logger.exception("ending call %s failed", sid)

    def _forget(self, sid: str, task: asyncio.Task[Any]) -> None:
        if self._pending.get(sid) is task:
            del self._pending[sid]

    def _resume(self) -> None:
        """What a stopped simulator left undone: callbacks due (at once if overdue), and
        callbacks it was posting when it stopped (posted again: receivers dedupe)."""
        delay = self.config.callback_delay_seconds
        for call in self._calls.values():
            if call.status not in FINAL and delay is not None:
                due = call.created_at + timedelta(seconds=delay)
                self._schedule(call, max((due - clock.now()).total_seconds(), 0.0))
            elif call.status in FINAL and not call.callbacks_done:
                self._track(call.sid, self._deliver(call))

    async def _later(self, sid: str, delay_seconds: float) -> None:
        await clock.asleep(delay_seconds)
        call = self._calls[sid]
        if call.status not in FINAL:
            await self._finish(call, self.config.outcome, None)

    async def _finish(
        self, call: SimulatedCall, outcome: Outcome, duration_seconds: int | None
    ) -> builtins.list[CallbackAttempt]:
        duration = 0
        if outcome == "completed":
            duration = (
                self.config.call_duration_seconds if duration_seconds is None else duration_seconds
            )
        call.status = outcome  # before any await: a concurrent end_call sees the call ended
        call.ended_at = clock.now()
        call.duration_seconds = duration
        self.log.append(
            {
                "type": "status",
                "sid": call.sid,
                "status": outcome,
                "duration_seconds": duration,
                "at": call.ended_at.isoformat(),
            }
        )
        logger.info("call %s ended: %s (%d s)", call.sid, outcome, duration)
        return await self._deliver(call)

    async def _deliver(self, call: SimulatedCall) -> builtins.list[CallbackAttempt]:
        """Post the callbacks of the call's end; logged as done once all were posted."""
        progress = {
            "completed": [
                ("initiated", "initiated"),
                ("ringing", "ringing"),
                ("answered", "in-progress"),
            ],
            "no-answer": [("initiated", "initiated"), ("ringing", "ringing")],
            "busy": [("initiated", "initiated")],
        }.get(call.status, [])
        wanted = call.status_callback_events
        statuses = [status for event, status in progress if event in wanted]
        if not wanted or "completed" in wanted:
            statuses.append(call.status)
        attempts = []
        if call.status_callback:
            for sequence, status in enumerate(statuses):
                attempt = await self._post_callback(
                    call, status, sequence, call.duration_seconds or 0
                )
                call.callbacks.append(attempt)
                self.log.append(
                    {
                        "type": "callback",
                        "sid": call.sid,
                        "attempt": attempt.model_dump(mode="json"),
                    }
                )
                attempts.append(attempt)
        call.callbacks_done = True
        self.log.append({"type": "delivered", "sid": call.sid})
        return attempts

    def _callback_form(
        self, call: SimulatedCall, status: str, sequence: int, duration: int
    ) -> dict[str, str]:
        form = {
            "AccountSid": call.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": call.sid,
            "CallStatus": status,
            "Called": call.to,
            "Caller": call.from_,
            "CallbackSource": "call-progress-events",
            "Direction": "outbound-api",
            "From": call.from_,
            "SequenceNumber": str(sequence),
            "Timestamp": email.utils.format_datetime(clock.now()),
            "To": call.to,
        }
        if status in FINAL:
            form["CallDuration"] = str(duration)
            form["Duration"] = str((duration + 59) // 60)
        return form

    async def _post_callback(
        self, call: SimulatedCall, status: str, sequence: int, duration: int
    ) -> CallbackAttempt:
        # Lazy: needs the integrations extra, which may be missing.
        import httpx
        from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

        assert call.status_callback is not None
        token = self._tokens.get(call.sid) or optional_setting(self.auth_token_setting)
        if token is None:
            return CallbackAttempt(
                call_status=status,
                sequence=sequence,
                at=clock.now(),
                http_status=None,
                error=f"no auth token to sign with: set {self.auth_token_setting}",
            )
        form = self._callback_form(call, status, sequence, duration)
        headers = {
            "X-Twilio-Signature": RequestValidator(token).compute_signature(
                call.status_callback, form
            ),
            "I-Twilio-Idempotency-Token": hashlib.sha256(
                f"{call.sid}:{sequence}".encode()
            ).hexdigest()[:32],
            "User-Agent": "TwilioProxy/1.1 (RAW phone simulator)",
        }
        error = None
        async with httpx.AsyncClient(transport=self.callback_transport, timeout=10.0) as client:
            for attempt in range(_CALLBACK_ATTEMPTS):
                try:
                    response = await client.post(call.status_callback, data=form, headers=headers)
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"
                else:
                    if response.status_code < 500 or attempt == _CALLBACK_ATTEMPTS - 1:
                        logger.info(
                            "status callback %s %s -> %d",
                            call.sid,
                            status,
                            response.status_code,
                        )
                        return CallbackAttempt(
                            call_status=status,
                            sequence=sequence,
                            at=clock.now(),
                            http_status=response.status_code,
                        )
                    error = f"answered {response.status_code}"
                if attempt < _CALLBACK_ATTEMPTS - 1:
                    await clock.asleep(0.5 * 2**attempt)  # the coordinator may be starting
        logger.warning("status callback %s %s was not delivered: %s", call.sid, status, error)
        return CallbackAttempt(
            call_status=status, sequence=sequence, at=clock.now(), http_status=None, error=error
        )
