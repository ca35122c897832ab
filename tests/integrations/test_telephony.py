"""Telephony: the Twilio adapter through the official `twilio` client to the phone simulator,
and the simulator's signed status callbacks to a real coordinator route (scheme twilio)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from integrations.conftest import TWILIO_TOKEN, all_log_text, write_config
from raw.integrations import (
    CallRef,
    LocalServices,
    TelephonyConfig,
    TelephonyError,
    TwilioAccount,
    TwilioTelephony,
    for_project,
)
from raw.integrations.twilio_voice import LOCAL_ACCOUNT_SID

TWIML = "<Response><Say>Hello Ada, this is your screening call.</Say></Response>"
ROUTE = "/webhooks/call-status"


def call_project(root: Path, monkeypatch: pytest.MonkeyPatch, **simulator: Any) -> Path:
    """A project with the twilio-scheme route and local telephony signing with its token."""
    monkeypatch.setenv("INTEG_TWILIO_TOKEN", TWILIO_TOKEN)
    monkeypatch.setenv("RAW_API_TOKEN", "integ-api-token-0123456789abcdef")
    settings = {"callback_delay_seconds": None, **simulator}
    inline = ", ".join(f"{k}: {'null' if v is None else v}" for k, v in settings.items())
    write_config(
        root,
        f"""
        coordinator:
          database_url: sqlite+aiosqlite:///{root / "coordinator.db"}
          dispatcher: {{enabled: false}}
          webhooks:
            - name: call-status
              path: {ROUTE}
              content_type: form
              scheme: twilio
              secrets: [INTEG_TWILIO_TOKEN]
              delivery_key: CallSid
        integrations:
          telephony:
            auth_token_setting: INTEG_TWILIO_TOKEN
            from_number: "+15005550006"
            simulator: {{{inline}}}
        """,
    )
    return root


@asynccontextmanager
async def coordinator_over_http(root: Path) -> AsyncIterator[tuple[str, Any]]:
    """The project's real coordinator app under uvicorn on 127.0.0.1: (base URL, coordinator)."""
    import uvicorn

    from raw.coordinator.app import create_app
    from raw.project import Project

    app = create_app(Project(root), run_dispatcher=False)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", app.state.raw_coordinator
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def coordinator_in_process(root: Path) -> AsyncIterator[tuple[httpx.AsyncBaseTransport, Any]]:
    """The project's coordinator app through its lifespan, reached by httpx's ASGI transport."""
    from raw.coordinator.app import create_app
    from raw.project import Project

    app = create_app(Project(root), run_dispatcher=False)
    async with app.router.lifespan_context(app):
        yield httpx.ASGITransport(app=app), app.state.raw_coordinator


async def deliveries(coordinator: Any) -> list[Any]:
    from raw.coordinator.db.models import Delivery

    async with coordinator.db.read() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


def form_of(delivery: Any) -> dict[str, str]:
    """The form the coordinator stored for a delivery."""
    from urllib.parse import parse_qsl

    return dict(parse_qsl(delivery.body))


async def wait_for_final(services: LocalServices, sid: str) -> None:
    for _ in range(500):
        call = services.calls.get(sid)
        if call.status not in ("queued",) and len(call.callbacks) > 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"call {sid} never ended")


# --- placing calls --------------------------------------------------------------------------


def test_a_call_placed_through_the_twilio_client_is_recorded_by_the_simulator(
    project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = call_project(project.root, monkeypatch)

    async def scenario() -> None:
        async with LocalServices.start(root) as services:
            call = await for_project(root).telephony.place_call(
                "+33612345678", status_callback_url="https://hooks.example.com" + ROUTE, twiml=TWIML
            )

            assert isinstance(call, CallRef) and call.sid.startswith("CA") and len(call.sid) == 34
            assert (call.status, call.to, call.from_) == ("queued", "+33612345678", "+15005550006")
            [placed] = services.calls.list()
            assert (placed.sid, placed.twiml, placed.status) == (call.sid, TWIML, "queued")
            assert placed.status_callback == "https://hooks.example.com" + ROUTE
            assert placed.account_sid == LOCAL_ACCOUNT_SID

    asyncio.run(scenario())


def test_a_repeated_idempotency_key_places_one_call(
    project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = call_project(project.root, monkeypatch)

    async def scenario() -> None:
        async with LocalServices.start(root) as services:
            phone = for_project(root).telephony
            calls = [
                await phone.place_call(
                    "+33612345678",
                    status_callback_url="https://hooks.example.com" + ROUTE,
                    twiml=TWIML,
                    idempotency_key=key,
                )
                for key in ("hiring/ada:1:9", "hiring/ada:1:9", "hiring/bob:1:9")
            ]

            assert calls[0].sid == calls[1].sid != calls[2].sid
            assert len(services.calls.list()) == 2

    asyncio.run(scenario())


def test_the_production_adapter_takes_its_base_url_and_settings_from_the_config(
    project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = call_project(project.root, monkeypatch)
    monkeypatch.setenv("INTEG_TWILIO_SID", "AC" + "ab" * 16)

    async def scenario() -> None:
        async with LocalServices.start(root) as services:
            config = TelephonyConfig(
                adapter="twilio",
                base_url=services.phone_url,
                account_sid_setting="INTEG_TWILIO_SID",
                auth_token_setting="INTEG_TWILIO_TOKEN",
                from_number="+15005550006",
            )
            call = await TwilioTelephony.from_config(config).place_call(
                "+33612345678",
                status_callback_url="https://hooks.example.com" + ROUTE,
                url="https://example.com/twiml",
            )

            [placed] = services.calls.list()
            assert (placed.sid, placed.account_sid, placed.url) == (
                call.sid,
                "AC" + "ab" * 16,
                "https://example.com/twiml",
            )

    asyncio.run(scenario())


def test_a_wrong_token_is_refused_like_twilio_without_showing_the_token(
    project: Any, monkeypatch: pytest.MonkeyPatch, integ_logs: pytest.LogCaptureFixture
) -> None:
    root = call_project(project.root, monkeypatch)
    wrong = "integ-wrong-token-never-shown"

    async def scenario() -> TelephonyError:
        async with LocalServices.start(root) as services:
            phone = TwilioTelephony(
                TwilioAccount(LOCAL_ACCOUNT_SID, wrong, base_url=services.phone_url),
                from_number="+15005550006",
            )
            with pytest.raises(TelephonyError) as caught:
                await phone.place_call(
                    "+33612345678", status_callback_url="https://h.example.com/x", twiml=TWIML
                )
            assert services.calls.list() == []
            return caught.value

    error = asyncio.run(scenario())

    assert "answered 401 (Twilio error 20003)" in str(error)
    assert error.status_code == 401
    for text in (str(error), repr(error), all_log_text(integ_logs)):
        assert wrong not in text and TWILIO_TOKEN not in text


def test_a_call_without_instructions_or_caller_is_refused_before_any_request() -> None:
    phone = TwilioTelephony(TwilioAccount(LOCAL_ACCOUNT_SID, "t", base_url="http://127.0.0.1:9"))

    with pytest.raises(TelephonyError, match="twiml .* or as url, exactly one"):
        phone.place_call_sync("+33612345678", "+15005550006", status_callback_url="https://h/x")
    with pytest.raises(TelephonyError, match="no caller id"):
        phone.place_call_sync("+33612345678", status_callback_url="https://h/x", twiml=TWIML)
    with pytest.raises(TelephonyError, match="unknown status callback event hangup"):
        phone.place_call_sync(
            "+1",
            "+2",
            status_callback_url="https://h/x",
            twiml=TWIML,
            status_callback_events=["hangup"],
        )


# --- status callbacks to the coordinator ----------------------------------------------------


def test_the_signed_status_callback_reaches_a_real_coordinator_route_and_is_accepted(
    project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = call_project(project.root, monkeypatch)

    async def scenario() -> None:
        async with (
            coordinator_over_http(root) as (base_url, coordinator),
            LocalServices.start(root) as services,
        ):
            call = await for_project(root).telephony.place_call(
                "+33612345678", status_callback_url=base_url + ROUTE, twiml=TWIML
            )
            [callback] = await services.calls.end_call(
                call.sid, outcome="completed", duration_seconds=42
            )

            assert (callback.call_status, callback.http_status) == ("completed", 202)
            [delivery] = await deliveries(coordinator)
            assert delivery.delivery_key == call.sid
            body = form_of(delivery)
            assert delivery.status_code == 202
            assert (body["CallSid"], body["CallStatus"], body["CallDuration"]) == (
                call.sid,
                "completed",
                "42",
            )
            assert (body["To"], body["From"], body["AccountSid"]) == (
                "+33612345678",
                "+15005550006",
                LOCAL_ACCOUNT_SID,
            )
            assert services.calls.get(call.sid).status == "completed"
            assert services.calls.list()[0].callbacks[0].http_status == 202

    asyncio.run(scenario())


def test_a_callback_signed_with_another_token_is_refused_401(
    project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = call_project(project.root, monkeypatch)
    # The simulator below reads the default token setting: unset, it accepts any token.
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)

    async def scenario() -> None:
        async with coordinator_in_process(root) as (transport, coordinator):
            # The simulator signs with the token the call was placed with (as Twilio does).
            local = write_config(
                root, "integrations:\n  telephony: {simulator: {callback_delay_seconds: null}}"
            )
            config = local.config.system.integrations
            async with LocalServices.start(root, config, callback_transport=transport) as services:
                phone = TwilioTelephony(
                    TwilioAccount(LOCAL_ACCOUNT_SID, "another-token", base_url=services.phone_url),
                    from_number="+15005550006",
                )
                call = await phone.place_call(
                    "+33612345678", status_callback_url="http://testserver" + ROUTE, twiml=TWIML
                )
                [callback] = await services.calls.end_call(call.sid)

                assert callback.http_status == 401
                assert await deliveries(coordinator) == []

    asyncio.run(scenario())


def test_after_the_configured_delay_the_configured_outcome_is_posted(
    project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = call_project(project.root, monkeypatch, callback_delay_seconds=0.05, outcome="no-answer")

    async def scenario() -> None:
        async with (
            coordinator_in_process(root) as (transport, coordinator),
            LocalServices.start(root, callback_transport=transport) as services,
        ):
            call = await for_project(root).telephony.place_call(
                "+33612345678", status_callback_url="http://testserver" + ROUTE, twiml=TWIML
            )
            await wait_for_final(services, call.sid)

            [callback] = services.calls.get(call.sid).callbacks
            assert (callback.call_status, callback.http_status) == ("no-answer", 202)
            [delivery] = await deliveries(coordinator)
            assert (form_of(delivery)["CallStatus"], form_of(delivery)["CallDuration"]) == (
                "no-answer",
                "0",
            )

    asyncio.run(scenario())


def test_intermediate_events_are_posted_in_order_when_asked(
    project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = call_project(project.root, monkeypatch)

    async def scenario() -> None:
        async with (
            coordinator_in_process(root) as (transport, _),
            LocalServices.start(root, callback_transport=transport) as services,
        ):
            call = await for_project(root).telephony.place_call(
                "+33612345678",
                status_callback_url="http://testserver" + ROUTE,
                twiml=TWIML,
                status_callback_events=["initiated", "ringing", "answered", "completed"],
            )
            callbacks = await services.calls.end_call(call.sid)

            assert [(c.call_status, c.sequence, c.http_status) for c in callbacks] == [
                ("initiated", 0, 202),
                ("ringing", 1, 202),
                ("in-progress", 2, 202),
                ("completed", 3, 202),
            ]
            assert await services.calls.end_call(call.sid) == []  # already ended

    asyncio.run(scenario())


def test_a_call_left_waiting_gets_its_callback_after_a_restart(
    project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = call_project(project.root, monkeypatch, callback_delay_seconds=3600)

    async def scenario() -> None:
        async with (
            coordinator_in_process(root) as (transport, coordinator),
            LocalServices.start(root, callback_transport=transport),
        ):
            call = await for_project(root).telephony.place_call(
                "+33612345678", status_callback_url="http://testserver" + ROUTE, twiml=TWIML
            )
            call_project(root, monkeypatch, callback_delay_seconds=0)  # overdue once restarted
            async with LocalServices.start(root, callback_transport=transport) as services:
                await wait_for_final(services, call.sid)

                [callback] = services.calls.get(call.sid).callbacks
                assert (callback.call_status, callback.http_status) == ("completed", 202)
                assert len(await deliveries(coordinator)) == 1

    asyncio.run(scenario())


def test_callbacks_cut_short_by_a_stop_are_posted_again_after_a_restart(
    project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = call_project(project.root, monkeypatch)

    async def scenario() -> None:
        async with coordinator_in_process(root) as (transport, coordinator):
            async with LocalServices.start(root, callback_transport=transport) as services:
                call = await for_project(root).telephony.place_call(
                    "+33612345678", status_callback_url="http://testserver" + ROUTE, twiml=TWIML
                )
                # As if stopped right after deciding the outcome, before posting the callback.
                services.calls.log.append(
                    {
                        "type": "status",
                        "sid": call.sid,
                        "status": "busy",
                        "at": "2026-01-05T09:00:00+00:00",
                    }
                )
            async with LocalServices.start(root, callback_transport=transport) as services:
                await wait_for_final(services, call.sid)

                [callback] = services.calls.get(call.sid).callbacks
                assert (callback.call_status, callback.http_status) == ("busy", 202)
                assert services.calls.list()[0].callbacks_done
                [delivery] = await deliveries(coordinator)
                assert form_of(delivery)["CallStatus"] == "busy"

    asyncio.run(scenario())


def test_the_twilio_client_lists_and_fetches_the_simulator_s_calls(
    project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twilio.rest import Client

    root = call_project(project.root, monkeypatch)

    async def scenario() -> None:
        async with LocalServices.start(root) as services:
            call = await for_project(root).telephony.place_call(
                "+33612345678", status_callback_url="https://h.example.com" + ROUTE, twiml=TWIML
            )
            client = Client(LOCAL_ACCOUNT_SID, TWILIO_TOKEN)
            client.api.base_url = services.phone_url  # the client's own domain setting

            fetched = await asyncio.to_thread(client.calls(call.sid).fetch)
            listed = await asyncio.to_thread(client.calls.list)

            assert (fetched.sid, fetched.status, fetched.to) == (call.sid, "queued", "+33612345678")
            assert [c.sid for c in listed] == [call.sid]

    asyncio.run(scenario())
