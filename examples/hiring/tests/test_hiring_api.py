"""The hiring app: what each webhook stores and answers, and the candidates' status API."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from hiring.models import candidate_id_for
from hiring_support import cv, run, running

from raw.orchestrator.client import ProcessInfo, ProcessNotFoundError, describe

if TYPE_CHECKING:
    from temporalio.testing import WorkflowEnvironment

pytestmark = pytest.mark.usefixtures("settings")


def booking(
    candidate_id: str,
    token: str | None = None,
    attendee: str = "ada@example.com",
    **payload: Any,
) -> dict[str, Any]:
    metadata = {"candidate_id": candidate_id}
    if token is not None:
        metadata["booking_token"] = token
    return {
        "triggerEvent": "BOOKING_CREATED",
        "createdAt": "2026-03-02T09:00:00Z",
        "payload": {
            "uid": "b-1",
            "startTime": "2026-03-03T10:00:00Z",
            "endTime": "2026-03-03T10:20:00Z",
            "attendees": [{"name": "Someone", "email": attendee}],
            "metadata": metadata,
            **payload,
        },
    }


def test_cv_submission_creates_the_candidate() -> None:
    async def scenario() -> None:
        async with running() as hiring:
            answer = await hiring.deliver("cv-submission", cv())
            assert answer.status_code == 202, answer.text
            candidate = candidate_id_for("ada@example.com")
            assert answer.json()["target"] == f"hiring-process/{candidate}"
            listed = (await hiring.get("/api/candidates")).json()
            assert listed["counts"] == {"received": 1}
            detail = await hiring.get(f"/api/candidates/{candidate}")
            assert detail.status_code == 200
            body = detail.json()
            assert body["status"] == "received"
            assert body["submitted_at"].endswith(("Z", "+00:00"))  # times carry their zone
            assert body["correlation_id"] == answer.json()["correlation_id"]
            assert body["process"] is None and body["process_error"]  # no Temporal here

    run(scenario())


def test_cv_submission_starts_the_candidate_s_process(
    monkeypatch: pytest.MonkeyPatch, raw_time_skipping_env: WorkflowEnvironment
) -> None:
    client = raw_time_skipping_env.client
    monkeypatch.setenv("TEMPORAL_ADDRESS", client.service_client.config.target_host)
    monkeypatch.setenv("RAW_DISPATCHER", "on")  # the app's own dispatcher performs the action
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"  # a process id of this test's own
    candidate = candidate_id_for(email)

    async def scenario() -> tuple[str, ProcessInfo, dict[str, Any]]:
        async with running() as hiring:
            answer = await hiring.deliver("cv-submission", cv(email=email))
            assert answer.status_code == 202, answer.text
            for _ in range(400):  # the dispatcher polls its inbox twice a second
                with contextlib.suppress(ProcessNotFoundError):
                    process = await describe(client, f"hiring-process/{candidate}")
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the dispatcher never started the candidate's process")
            handle = client.get_workflow_handle(process.id)
            memo = await (await handle.describe()).memo()
            await handle.terminate("the test is over")  # no worker runs it here
            return answer.json()["correlation_id"], process, memo

    correlation_id, process, memo = run(scenario())

    assert (process.type, process.status, process.task_queue) == (
        "HiringProcess",
        "running",
        "hiring",
    )
    assert memo == {"correlation_id": correlation_id}  # started by this delivery


def test_a_second_form_from_the_same_person_keeps_one_candidate() -> None:
    async def scenario() -> None:
        async with running() as hiring:
            first = await hiring.deliver("cv-submission", cv())
            second = await hiring.deliver("cv-submission", cv(submission_id="form-2"))
            assert first.status_code == second.status_code == 202
            assert first.json()["target"] == second.json()["target"]
            assert (await hiring.get("/api/candidates")).json()["counts"] == {"received": 1}

    run(scenario())


@pytest.mark.parametrize(
    ("field", "value"), [("email", "not-an-email"), ("phone", "0207 183 8750"), ("cv_text", "")]
)
def test_a_bad_form_is_refused_with_the_field(field: str, value: str) -> None:
    async def scenario() -> None:
        async with running() as hiring:
            answer = await hiring.deliver("cv-submission", cv(**{field: value}))
            assert answer.status_code == 422
            assert answer.json()["error"]["fields"][0]["field"] == field

    run(scenario())


def test_calendar_bookings_need_cal_com_signature() -> None:
    async def scenario() -> None:
        async with running() as hiring:
            sent = await hiring.deliver("cv-submission", cv())
            candidate, token = sent.json()["target"].split("/")[1], sent.json()["correlation_id"]
            good = await hiring.deliver("calendar-booking", booking(candidate, token))
            assert good.status_code == 202, good.text
            assert good.json()["target"] == f"hiring-process/{candidate}"
            bad = await hiring.deliver(
                "calendar-booking", booking(candidate, token), secret="wrong"
            )
            assert bad.status_code == 401
            assert "X-Cal-Signature-256" in bad.json()["error"]["message"]
            repeat = await hiring.deliver("calendar-booking", booking(candidate, token))
            assert repeat.json() == good.json()  # the same booking is stored once

    run(scenario())


def test_a_booking_not_made_by_the_candidate_through_their_link_is_ignored() -> None:
    async def scenario() -> None:
        async with running() as hiring:
            sent = await hiring.deliver("cv-submission", cv())
            candidate, token = sent.json()["target"].split("/")[1], sent.json()["correlation_id"]
            assert candidate == candidate_id_for("ada@example.com")  # anyone can work it out
            forged = {
                "no token": booking(candidate, attendee="mallory@example.net", uid="m-1"),
                "wrong token": booking(candidate, "0" * 32, uid="m-2"),
                "stranger": booking(candidate, token, attendee="mallory@example.net", uid="m-3"),
                "no attendee": booking(candidate, token, uid="m-4", attendees=[]),
            }
            for case, body in forged.items():
                answer = await hiring.deliver("calendar-booking", body)
                assert answer.status_code == 200, (case, answer.text)  # Cal.com stops there
                assert answer.json()["status"] == "ignored", case
                assert answer.json()["action"] == "none", case
            reasons = [
                (await hiring.deliver("calendar-booking", body)).json()["reason"]
                for body in forged.values()
            ]
            assert "not made through candidate" in reasons[0]
            assert "not made through candidate" in reasons[1]
            assert "(mallory@example.net) do not include candidate" in reasons[2]
            assert "(none) do not include" in reasons[3]

            own = booking(candidate, token, attendee=" Ada@Example.com ", uid="a-1")
            answer = await hiring.deliver("calendar-booking", own)
            assert answer.status_code == 202, answer.text
            assert answer.json()["target"] == f"hiring-process/{candidate}"

    run(scenario())


def test_call_status_takes_the_candidate_from_the_signed_url() -> None:
    status = {"CallSid": "CA1", "CallStatus": "completed", "CallDuration": "60"}

    async def scenario() -> None:
        async with running() as hiring:
            good = await hiring.deliver("call-status", status, query={"candidate_id": "c-7"})
            assert good.status_code == 202, good.text
            assert good.json()["target"] == "hiring-process/c-7"
            missing = await hiring.deliver("call-status", {**status, "CallSid": "CA2"})
            assert missing.status_code == 422
            assert missing.json()["error"]["fields"][0]["field"] == "candidate_id"
            tampered = await hiring.deliver(
                "call-status",
                {**status, "CallSid": "CA3"},
                query={"candidate_id": "c-7"},
                tamper_query={"candidate_id": "c-8"},
            )
            assert tampered.status_code == 401  # Twilio signs the query: it cannot be changed

    run(scenario())


def test_the_candidates_api_needs_the_token() -> None:
    async def scenario() -> None:
        async with running() as hiring:
            answer = await hiring.client.get("/api/candidates")
            assert answer.status_code == 401
            missing = await hiring.get("/api/candidates/c-none")
            assert missing.status_code == 404
            assert "No candidate 'c-none'" in missing.json()["error"]["message"]

    run(scenario())
