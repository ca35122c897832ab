"""Webhook routes over HTTP: every refusal stores nothing, an acceptance stores it all at once.

The app runs through its lifespan (migrations included) with httpx's ASGI
transport, on a SQLite file and on a real PostgreSQL; one test runs `raw serve`
(uvicorn) on 127.0.0.1 and talks to it over sockets.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from coordinator.webhook_fixtures import (
    API_TOKEN,
    ENV,
    SW_SECRET_OLD,
    CVSubmission,
    Running,
    cv_body,
    dumps,
    github_headers,
    raw_serve,
    running_app,
    standard_headers,
    twilio_headers,
)
from raw.coordinator.db.models import Delivery, InboxRecord
from raw.project import Project


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'hooks.db'}"


async def assert_nothing_stored(app: Running) -> None:
    assert await app.counts() == (0, 0)
    assert await app.candidates() == []


# --- acceptance -----------------------------------------------------------------------------


def test_accepted_delivery_stores_delivery_entity_and_inbox_record_together(
    hook_project: Project, hook_db_url: str
) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=hook_db_url) as app:
            body = dumps(cv_body())
            headers = standard_headers(body, msg_id="msg_first")
            response = await app.client.post("/webhooks/cv", content=body, headers=headers)
            assert response.status_code == 202, response.text
            answer = response.json()
            assert answer["status"] == "accepted"
            assert answer["delivery"] == "msg_first"
            assert answer["action"] == "run_workflow"
            assert answer["target"] == "analyze-cv"
            correlation_id = answer["correlation_id"]
            assert len(correlation_id) == 32

            async with app.db.read() as session:
                delivery = (await session.scalars(select(Delivery))).one()
                record = (await session.scalars(select(InboxRecord))).one()
            assert delivery.route == "cv-submission"
            assert delivery.delivery_key == "msg_first"
            assert delivery.status_code == 202 and delivery.response == answer
            assert delivery.correlation_id == correlation_id
            assert delivery.entity_key == "ada@example.com"
            assert json.loads(delivery.body or "") == cv_body()
            assert record.delivery_id == delivery.id
            assert record.status == "pending" and record.attempts == 0
            assert record.action == {"kind": "run_workflow", "workflow": "analyze-cv"}
            assert record.payload == cv_body()
            assert record.idempotency_key == "cv-submission:msg_first"
            assert record.correlation_id == correlation_id
            assert record.target_process_id is None
            assert await app.candidates() == ["ada@example.com"]

    asyncio.run(scenario())


def test_process_action_names_its_target_process_from_the_business_key(
    hook_project: Project, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=sqlite_url(tmp_path)) as app:
            body = dumps(cv_body(submission_id="s-42", email="grace@example.com"))
            response = await app.client.post(
                "/webhooks/cv-keyed", content=body, headers=github_headers(body)
            )
            assert response.status_code == 202, response.text
            assert response.json()["delivery"] == "s-42"
            assert response.json()["target"] == "hiring-process/grace@example.com"
            async with app.db.read() as session:
                record = (await session.scalars(select(InboxRecord))).one()
            assert record.target_process_id == "hiring-process/grace@example.com"
            assert record.idempotency_key == "cv-keyed:s-42"
            assert record.action["kind"] == "start_process"

    asyncio.run(scenario())


def test_handler_can_take_a_delivery_in_without_acting_on_it(
    hook_project: Project, hook_db_url: str
) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=hook_db_url) as app:
            body = dumps(cv_body(email="eve@blocked.example"))
            headers = standard_headers(body, msg_id="msg_blocked")
            first = await app.client.post("/webhooks/cv-guarded", content=body, headers=headers)
            again = await app.client.post("/webhooks/cv-guarded", content=body, headers=headers)
            assert first.status_code == 200, first.text  # a 2xx: the sender stops retrying
            answer = first.json()
            assert answer["status"] == "ignored"
            assert answer["reason"] == "the sender's domain is blocked"
            assert answer["action"] == "none" and answer["target"] is None
            assert (again.status_code, again.json()) == (200, answer)
            async with app.db.read() as session:
                delivery = (await session.scalars(select(Delivery))).one()
                records = (await session.scalars(select(InboxRecord))).all()
            assert (delivery.status_code, delivery.response) == (200, answer)
            assert delivery.entity_key == "eve@blocked.example"
            assert records == []  # nothing will act on it
            assert await app.candidates() == []
            metrics = app.coordinator.metrics.render().decode()
            assert 'outcome="ignored",route="cv-guarded"} 1.0' in metrics

            body = dumps(cv_body(email="ada@example.com"))  # the same route still acts
            response = await app.client.post(
                "/webhooks/cv-guarded", content=body, headers=standard_headers(body)
            )
            assert response.status_code == 202, response.text
            assert "reason" not in response.json()
            assert await app.counts() == (2, 1)

    asyncio.run(scenario())


def test_secret_being_rotated_out_is_still_accepted(hook_project: Project, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=sqlite_url(tmp_path)) as app:
            body = dumps(cv_body())
            headers = standard_headers(body, secret=SW_SECRET_OLD)
            response = await app.client.post("/webhooks/cv", content=body, headers=headers)
            assert response.status_code == 202, response.text
            assert await app.counts() == (1, 1)

    asyncio.run(scenario())


def test_twilio_form_signed_by_twilio_request_validator_is_accepted(
    hook_project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Behind a proxy: Twilio signs the public URL, not the one the app sees.
    monkeypatch.setenv("RAW_PUBLIC_BASE_URL", "https://hooks.example.com")
    params = {"CallSid": "CA123", "CallStatus": "completed", "candidate": "c-7", "Extra": "kept"}

    async def scenario() -> None:
        async with running_app(hook_project, db_url=sqlite_url(tmp_path)) as app:
            form = httpx.QueryParams(params).__str__().encode()
            signed_public = twilio_headers("https://hooks.example.com/webhooks/call-status", params)
            response = await app.client.post(
                "/webhooks/call-status", content=form, headers=signed_public
            )
            assert response.status_code == 202, response.text
            assert response.json()["delivery"] == "CA123"
            assert response.json()["target"] == "hiring-process/c-7"

            signed_internal = twilio_headers("http://testserver/webhooks/call-status", params)
            response = await app.client.post(
                "/webhooks/call-status", content=form, headers=signed_internal
            )
            assert response.status_code == 401
            async with app.db.read() as session:
                record = (await session.scalars(select(InboxRecord))).one()
            assert record.payload == {
                "CallSid": "CA123",
                "CallStatus": "completed",
                "candidate": "c-7",
            }

    asyncio.run(scenario())


# --- refusals: each names the problem and stores nothing ------------------------------------


def test_wrong_content_type_is_415(hook_project: Project, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=sqlite_url(tmp_path)) as app:
            body = dumps(cv_body())
            headers = standard_headers(body) | {"content-type": "text/plain"}
            response = await app.client.post("/webhooks/cv", content=body, headers=headers)
            assert response.status_code == 415
            error = response.json()["error"]
            assert error["type"] == "UnsupportedMediaTypeError"
            assert "application/json" in error["message"] and "text/plain" in error["message"]

            params = {"CallSid": "CA1", "CallStatus": "completed", "candidate": "c-1"}
            headers = twilio_headers("http://testserver/webhooks/call-status", params)
            headers["content-type"] = "application/json"
            response = await app.client.post(
                "/webhooks/call-status", content=json.dumps(params), headers=headers
            )
            assert response.status_code == 415
            assert "application/x-www-form-urlencoded" in response.json()["error"]["message"]
            await assert_nothing_stored(app)

    asyncio.run(scenario())


class Body:
    """A request body in chunks that counts how many the server pulled."""

    def __init__(self, size: int, chunk: int = 32) -> None:
        self.size = size
        self.chunk = chunk
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.size:
            piece = b"x" * min(self.chunk, self.size - self.sent)
            self.sent += len(piece)
            yield piece


def test_declared_length_over_the_limit_is_413_before_the_body_is_read(
    hook_project: Project, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=sqlite_url(tmp_path)) as app:
            body = Body(100_000)
            headers = standard_headers(b"") | {"content-length": "100000"}
            response = await app.client.post("/webhooks/tiny", content=body, headers=headers)
            assert response.status_code == 413
            error = response.json()["error"]
            assert error["type"] == "PayloadTooLargeError"
            assert "256 bytes" in error["message"]  # the route's own limit
            assert body.sent <= body.chunk  # refused before reading
            await assert_nothing_stored(app)

    asyncio.run(scenario())


def test_chunked_body_over_the_limit_is_413_once_it_passes_the_limit(
    hook_project: Project, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=sqlite_url(tmp_path)) as app:
            body = Body(1_000_000)  # no Content-Length: chunked
            response = await app.client.post(
                "/webhooks/cv", content=body, headers=standard_headers(b"")
            )
            assert response.status_code == 413
            assert "4096 bytes" in response.json()["error"]["message"]  # the default limit
            assert body.sent <= 4096 + 2 * body.chunk  # never read whole
            await assert_nothing_stored(app)

    asyncio.run(scenario())


def test_body_longer_than_its_declared_length_is_413(hook_project: Project, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=sqlite_url(tmp_path)) as app:
            body = dumps(cv_body(cv_text="y" * 1000))
            headers = standard_headers(body) | {"content-length": "100"}  # a lie
            response = await app.client.post("/webhooks/tiny", content=body, headers=headers)
            assert response.status_code == 413
            await assert_nothing_stored(app)

    asyncio.run(scenario())


def test_signature_refusals_are_401_with_the_reason(hook_project: Project, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=sqlite_url(tmp_path)) as app:
            body = dumps(cv_body())

            missing = {"content-type": "application/json", "webhook-id": "msg_1"}
            response = await app.client.post("/webhooks/cv", content=body, headers=missing)
            assert response.status_code == 401
            assert response.json()["error"]["type"] == "SignatureError"
            assert "missing" in response.json()["error"]["message"].lower()

            other_secret = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
            bad = standard_headers(body, secret=other_secret)
            response = await app.client.post("/webhooks/cv", content=body, headers=bad)
            assert response.status_code == 401
            assert "does not match" in response.json()["error"]["message"]

            tampered = standard_headers(body)
            response = await app.client.post(
                "/webhooks/cv", content=dumps(cv_body(years=1)), headers=tampered
            )
            assert response.status_code == 401

            old = datetime.now(UTC) - timedelta(minutes=10)  # tolerance: 5 minutes
            expired = standard_headers(body, timestamp=old)
            response = await app.client.post("/webhooks/cv", content=body, headers=expired)
            assert response.status_code == 401
            message = response.json()["error"]["message"].lower()
            assert "timestamp" in message or "expired" in message or "old" in message

            response = await app.client.post(
                "/webhooks/cv-github",
                content=body,
                headers=github_headers(body, secret="not-the-secret", delivery="d-1"),
            )
            assert response.status_code == 401
            await assert_nothing_stored(app)

    asyncio.run(scenario())


def test_body_not_matching_the_model_is_422_with_field_paths(
    hook_project: Project, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=sqlite_url(tmp_path)) as app:
            body = dumps(cv_body(email="not-an-email", years=-3))
            response = await app.client.post(
                "/webhooks/cv", content=body, headers=standard_headers(body)
            )
            assert response.status_code == 422
            error = response.json()["error"]
            assert error["type"] == "ValidationError"
            fields = {f["field"]: f["message"] for f in error["fields"]}
            assert set(fields) == {"candidate.email", "years"}
            assert "candidate.email" in error["message"]

            body = b'{"submission_id": "s-1", "candidate": '
            response = await app.client.post(
                "/webhooks/cv", content=body, headers=standard_headers(body)
            )
            assert response.status_code == 422
            assert response.json()["error"]["fields"][0]["field"] == "(body)"
            assert "JSON" in response.json()["error"]["fields"][0]["message"]

            params = {"CallSid": "CA9", "candidate": "c-1"}  # no CallStatus
            form = str(httpx.QueryParams(params)).encode()
            headers = twilio_headers("http://testserver/webhooks/call-status", params)
            response = await app.client.post("/webhooks/call-status", content=form, headers=headers)
            assert response.status_code == 422
            assert [f["field"] for f in response.json()["error"]["fields"]] == ["CallStatus"]
            await assert_nothing_stored(app)

    asyncio.run(scenario())


def test_delivery_without_an_idempotency_key_is_400_naming_what_is_missing(
    hook_project: Project, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=sqlite_url(tmp_path)) as app:
            body = dumps(cv_body())  # github scheme, no X-GitHub-Delivery, no delivery_key
            response = await app.client.post(
                "/webhooks/cv-github", content=body, headers=github_headers(body)
            )
            assert response.status_code == 400
            error = response.json()["error"]
            assert error["type"] == "MissingDeliveryKeyError"
            assert "github delivery id" in error["message"]

            body = dumps({"name": "no id here"})  # delivery_key: id
            headers = {
                "content-type": "application/json",
                "authorization": "Bearer " + ENV["HOOK_BEARER_SECRET"],
            }
            response = await app.client.post("/webhooks/free-form", content=body, headers=headers)
            assert response.status_code == 400
            assert "'id'" in response.json()["error"]["message"]
            await assert_nothing_stored(app)

    asyncio.run(scenario())


def test_handler_that_raises_answers_500_json_and_rolls_everything_back(
    hook_project: Project, hook_db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=hook_db_url) as app:
            body = dumps(cv_body())
            response = await app.client.post(
                "/webhooks/broken", content=body, headers=standard_headers(body)
            )
            assert response.status_code == 500
            error = response.json()["error"]
            assert error["type"] == "InternalServerError"
            assert "Traceback" not in response.text and "CRM" not in response.text
            await assert_nothing_stored(app)

    asyncio.run(scenario())
    assert "the CRM is down" in caplog.text  # the traceback stays in the server's log


# --- repeats --------------------------------------------------------------------------------


def test_duplicate_delivery_returns_first_answer_and_has_no_second_effect(
    hook_project: Project, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=sqlite_url(tmp_path)) as app:
            body = dumps(cv_body())
            first = await app.client.post(
                "/webhooks/cv", content=body, headers=standard_headers(body, msg_id="msg_x")
            )
            # The sender retries later, re-signed; even a changed body is the same delivery.
            changed = dumps(cv_body(email="someone@example.com"))
            again = await app.client.post(
                "/webhooks/cv", content=changed, headers=standard_headers(changed, msg_id="msg_x")
            )
            assert (again.status_code, again.json()) == (first.status_code, first.json())
            assert await app.counts() == (1, 1)
            assert await app.candidates() == ["ada@example.com"]

            # The same key on another route is another delivery.
            other = dumps(cv_body(submission_id="msg_x"))
            response = await app.client.post(
                "/webhooks/cv-keyed", content=other, headers=github_headers(other)
            )
            assert response.status_code == 202
            assert response.json()["correlation_id"] != first.json()["correlation_id"]
            assert await app.counts() == (2, 2)

    asyncio.run(scenario())


def test_fifty_concurrent_copies_have_one_effect_and_fifty_identical_answers(
    hook_project: Project, hook_db_url: str
) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=hook_db_url) as app:
            body = dumps(cv_body())
            headers = standard_headers(body, msg_id="msg_storm")
            responses = await asyncio.gather(
                *(app.client.post("/webhooks/cv", content=body, headers=headers) for _ in range(50))
            )
            answers = {(r.status_code, r.text) for r in responses}
            assert len(answers) == 1, answers
            status, text = answers.pop()
            assert status == 202 and json.loads(text)["delivery"] == "msg_storm"
            assert await app.counts() == (1, 1)
            assert await app.candidates() == ["ada@example.com"]

    asyncio.run(scenario())


def test_deliveries_arriving_together_share_commits_and_a_failing_handler_fails_alone(
    hook_project: Project, hook_db_url: str
) -> None:
    commits: list[object] = []

    def count(conn: object) -> None:
        commits.append(conn)

    def post(app: Running, path: str, email: str, msg_id: str) -> Any:
        body = dumps(cv_body(email=email))
        return app.client.post(path, content=body, headers=standard_headers(body, msg_id=msg_id))

    async def scenario() -> None:
        async with running_app(hook_project, db_url=hook_db_url) as app:
            event.listen(Engine, "commit", count)
            try:
                together = await asyncio.gather(
                    *(post(app, "/webhooks/cv", f"c{i}@example.com", f"m{i}") for i in range(20))
                )
                shared = len(commits)
                mixed = await asyncio.gather(
                    *(post(app, "/webhooks/cv", f"d{i}@example.com", f"n{i}") for i in range(5)),
                    post(app, "/webhooks/broken", "crm@example.com", "n-broken"),
                    *(post(app, "/webhooks/cv", f"e{i}@example.com", f"o{i}") for i in range(5)),
                )
            finally:
                event.remove(Engine, "commit", count)
            assert {r.status_code for r in together} == {202}
            assert shared < 20  # one commit served several deliveries
            assert [r.status_code for r in mixed] == [202] * 5 + [500] + [202] * 5
            answers = [r.json() for r in [*together, *mixed] if r.status_code == 202]
            assert len({a["correlation_id"] for a in answers}) == 30
            assert await app.counts() == (30, 30)
            assert "crm@example.com" not in await app.candidates()
            async with app.db.read() as session:
                rows = (
                    await session.execute(select(Delivery.delivery_key, Delivery.entity_key))
                ).all()
                records = (await session.execute(select(InboxRecord.correlation_id))).all()
            # Each delivery keeps its own entity key and correlation id, as if stored alone.
            expected = {f"m{i}": f"c{i}@example.com" for i in range(20)}
            expected.update({f"n{i}": f"d{i}@example.com" for i in range(5)})
            expected.update({f"o{i}": f"e{i}@example.com" for i in range(5)})
            assert dict(rows) == expected
            assert {c for (c,) in records} == {a["correlation_id"] for a in answers}

    asyncio.run(scenario())


def test_model_of_the_route_is_used_for_the_payload(hook_project: Project, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=sqlite_url(tmp_path)) as app:
            data = cv_body()
            del data["years"]  # the model's default fills it in
            body = dumps(data)
            response = await app.client.post(
                "/webhooks/cv", content=body, headers=standard_headers(body)
            )
            assert response.status_code == 202
            async with app.db.read() as session:
                record = (await session.scalars(select(InboxRecord))).one()
            assert CVSubmission.model_validate(record.payload).years == 0
            assert record.payload["years"] == 0

    asyncio.run(scenario())


def test_unknown_path_and_method_answer_the_one_error_shape(
    hook_project: Project, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with running_app(hook_project, db_url=sqlite_url(tmp_path)) as app:
            response = await app.client.post("/webhooks/nope", content=b"{}")
            assert response.status_code == 404
            assert response.json()["error"]["type"] == "NotFound"
            response = await app.client.get("/webhooks/cv")
            assert response.status_code == 405
            assert response.json()["error"]["type"] == "MethodNotAllowed"

    asyncio.run(scenario())


# --- a real server --------------------------------------------------------------------------


def _raw_http(port: int, request: bytes, *, timeout: float = 10.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data or not _complete(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":", 1)[1])
    return False


def test_raw_serve_answers_webhooks_over_real_http(hook_project: Project, tmp_path: Path) -> None:
    with raw_serve(hook_project, tmp_path / "served.db") as served:
        base, port = served.base_url, served.port
        body = dumps(cv_body())
        headers = standard_headers(body, msg_id="msg_real")
        with httpx.Client(base_url=base, timeout=10) as client:
            first = client.post("/webhooks/cv", content=body, headers=headers)
            again = client.post("/webhooks/cv", content=body, headers=headers)
            assert first.status_code == 202, first.text
            assert (again.status_code, again.json()) == (202, first.json())
            assert client.get("/api/deliveries").status_code == 401
            listed = client.get("/api/deliveries", headers={"Authorization": f"Bearer {API_TOKEN}"})
            assert [d["delivery_key"] for d in listed.json()["deliveries"]] == ["msg_real"]

        # Ten megabytes announced, none sent: refused at once, before the body arrives.
        head = (
            f"POST /webhooks/cv HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"
        ).encode()
        reply = _raw_http(port, head)
        assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
        assert b"PayloadTooLargeError" in reply
