"""Webhook bodies whose text a database cannot keep as sent are refused with 422, never a 500.

PostgreSQL's text and JSON columns cannot hold U+0000, and a form body that is
not UTF-8 could only be stored with U+FFFD in place of what was sent. Each is
refused naming the field, the same on SQLite and PostgreSQL, and stores nothing.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import unquote_to_bytes

import httpx
from sqlalchemy import select

from coordinator.webhook_fixtures import (
    ENV,
    Running,
    cv_body,
    dumps,
    github_headers,
    running_app,
    standard_headers,
    twilio_headers,
)
from raw.coordinator.db.models import InboxRecord
from raw.project import Project

CALL_URL = "http://testserver/webhooks/call-status"


async def assert_refused(response: httpx.Response, field: str, app: Running) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "ValidationError"
    assert [f["field"] for f in error["fields"]] == [field], error
    assert await app.counts() == (0, 0)
    assert await app.candidates() == []


def test_nul_in_a_json_value_a_delivery_key_or_a_key_is_422_naming_the_field(
    hook_project: Project, hook_db_url: str
) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=hook_db_url) as app:
            body = dumps(cv_body(cv_text="Ten years\x00 of Python."))  # the handler stores it
            response = await app.client.post(
                "/webhooks/cv", content=body, headers=standard_headers(body)
            )
            await assert_refused(response, "cv_text", app)
            assert "U+0000" in response.json()["error"]["message"]

            body = dumps(cv_body(submission_id="s\x00-1"))  # the route's delivery_key
            response = await app.client.post(
                "/webhooks/cv-keyed", content=body, headers=github_headers(body)
            )
            await assert_refused(response, "submission_id", app)

            bearer = {
                "content-type": "application/json",
                "authorization": "Bearer " + ENV["HOOK_BEARER_SECRET"],
            }
            body = dumps({"id": "d-1", "meta": {"tags": ["ok", {"n\x00": 1}]}})  # no model
            response = await app.client.post("/webhooks/free-form", content=body, headers=bearer)
            await assert_refused(response, "meta.tags.1.n\\x00", app)

            body = dumps({"id": "d-\x00"})  # the delivery key of a route without a model
            response = await app.client.post("/webhooks/free-form", content=body, headers=bearer)
            await assert_refused(response, "id", app)

            body = dumps(cv_body())  # and a clean delivery still goes in
            response = await app.client.post(
                "/webhooks/cv", content=body, headers=standard_headers(body)
            )
            assert response.status_code == 202, response.text

    asyncio.run(scenario())


def test_nul_in_a_form_field_or_name_is_422_naming_the_field(
    hook_project: Project, hook_db_url: str
) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=hook_db_url) as app:
            params = {"CallSid": "CA1", "CallStatus": "comp\x00leted", "candidate": "c-1"}
            form = str(httpx.QueryParams(params)).encode()
            response = await app.client.post(
                "/webhooks/call-status", content=form, headers=twilio_headers(CALL_URL, params)
            )
            await assert_refused(response, "CallStatus", app)

            params = {"CallSid": "CA2", "CallStatus": "completed", "candidate": "c-1", "X\x00": ""}
            form = str(httpx.QueryParams(params)).encode()
            response = await app.client.post(
                "/webhooks/call-status", content=form, headers=twilio_headers(CALL_URL, params)
            )
            await assert_refused(response, "X\\x00", app)

    asyncio.run(scenario())


def test_form_body_that_is_not_utf8_is_422_not_stored_with_replacements(
    hook_project: Project, hook_db_url: str
) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=hook_db_url) as app:
            for raw_status in (b"%FFcompleted", b"%ED%A0%80completed", b"\xffcompleted"):
                # Signed over what the route reads when it decodes leniently: the
                # signature holds, so only the text itself can be the refusal.
                form = b"CallSid=CA3&candidate=c-1&CallStatus=" + raw_status
                params = {
                    "CallSid": "CA3",
                    "candidate": "c-1",
                    "CallStatus": unquote_to_bytes(raw_status).decode("utf-8", "replace"),
                }
                response = await app.client.post(
                    "/webhooks/call-status",
                    content=form,
                    headers=twilio_headers(CALL_URL, params),
                )
                await assert_refused(response, "CallStatus", app)
                assert "UTF-8" in response.json()["error"]["message"]

            params = {"CallSid": "CA4", "CallStatus": "complété ✓", "candidate": "c-1"}
            form = str(httpx.QueryParams(params)).encode()
            response = await app.client.post(
                "/webhooks/call-status", content=form, headers=twilio_headers(CALL_URL, params)
            )
            assert response.status_code == 202, response.text
            async with app.db.read() as session:
                record = (await session.scalars(select(InboxRecord))).one()
            assert record.payload["CallStatus"] == "complété ✓"

    asyncio.run(scenario())


def test_nul_escape_inside_a_string_is_not_mistaken_for_a_nul(
    hook_project: Project, hook_db_url: str
) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=hook_db_url) as app:
            text = "a literal backslash then u0000: \\u0000"
            body = json.dumps(cv_body(cv_text=text)).encode()
            assert b"\\\\u0000" in body
            response = await app.client.post(
                "/webhooks/cv", content=body, headers=standard_headers(body)
            )
            assert response.status_code == 202, response.text

    asyncio.run(scenario())


def test_nul_in_an_api_or_operator_parameter_is_422_naming_it(
    hook_project: Project, hook_db_url: str
) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=hook_db_url) as app:
            cases = {
                "/api/runs?workflow=a%00b": "query.workflow",
                "/api/runs?status=%00": "query.status",
                "/api/runs/a%00b": "path.run_id",
                "/api/inbox?route=%00": "query.route",
                "/api/deliveries?route=%00": "query.route",
                "/api/timeline/hiring-process/a%00": "path.process_id",
            }
            for path, field in cases.items():
                response = await app.client.get(path, headers=app.auth())
                assert response.status_code == 422, (path, response.text)
                error = response.json()["error"]
                assert [f["field"] for f in error["fields"]] == [field], (path, error)
                assert "U+0000" in error["message"]
            for path in ("/operator/runs/a%00", "/operator/processes/hiring-process/a%00"):
                response = await app.client.get(path, headers=app.auth())
                assert response.status_code == 422, (path, response.text)
                assert "U+0000" in response.text
            # Without the token, the token is what is missing.
            response = await app.client.get("/api/runs/a%00b")
            assert response.status_code == 401

    asyncio.run(scenario())
