"""Process helpers on Temporal's real servers: sleeps, waits, signals, raw_state, search attributes.

Time-skipping: a process that waits up to 7 days and then sleeps 3 days runs in
a fraction of a second of wall time (measured, not asserted: speed belongs to the
benchmarks). Listing by search attribute needs the dev server.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from raw.orchestrator.activity import RawActivities
from raw.orchestrator.client import SignalEnvelope
from raw.orchestrator.search_attributes import RAW_STEP, RAW_WAIT_UNTIL, RAW_WAITING_FOR
from raw.orchestrator.workflow import RawState
from raw.testing.pytest_plugin import WorkerFactory

from .processes import (
    DeadlineInput,
    DeadlineProcess,
    HiringInput,
    HiringOutcome,
    HiringProcess,
    SignalsInput,
    SignalsOutcome,
    SignalsProcess,
)

if TYPE_CHECKING:
    from conftest import Project

PROCESSES = [HiringProcess, SignalsProcess, DeadlineProcess]


async def state_when(
    handle: WorkflowHandle[Any, Any], ready: Any, *, timeout_seconds: float = 10.0
) -> RawState:
    """Query raw_state until ``ready(state)``; time does not skip while we poll.

    Each query is bounded and asked again: the time-skipping server ties a query that
    arrives while a workflow task is scheduled or running to that task, and gives it no
    deadline of its own (one the worker never answers waits forever).
    """
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            state = await handle.query(HiringProcess.raw_state, rpc_timeout=timedelta(seconds=2))
        except RPCError:
            if time.monotonic() > deadline:
                raise
            continue
        if ready(state) or time.monotonic() > deadline:
            return state
        await asyncio.sleep(0.02)


async def timers_left_running(handle: WorkflowHandle[Any, Any]) -> list[int]:
    """Ids of timers started and neither fired nor cancelled."""
    started: set[int] = set()
    ended: set[int] = set()
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            started.add(event.event_id)
        elif event.event_type == EventType.EVENT_TYPE_TIMER_FIRED:
            ended.add(event.timer_fired_event_attributes.started_event_id)
        elif event.event_type == EventType.EVENT_TYPE_TIMER_CANCELED:
            ended.add(event.timer_canceled_event_attributes.started_event_id)
    return sorted(started - ended)


def hiring(candidate: str = "ada", cv_text: str = "Ten years of Python") -> HiringInput:
    return HiringInput(candidate=candidate, cv_text=cv_text)


# --- the seven-day process under time skipping --------------------------------------------


def test_booked_process_waits_then_sleeps_until_the_call_and_completes_under_time_skipping(
    kit_project: Project,
    raw_time_skipping_env: WorkflowEnvironment,
    raw_worker: WorkerFactory,
    raw_task_queue: str,
) -> None:
    env = raw_time_skipping_env
    client: Client = env.client

    async def scenario() -> tuple[HiringOutcome, list[RawState], list[int]]:
        async with raw_worker(
            client,
            workflows=PROCESSES,
            raw_activities=RawActivities(project_dir=kit_project.root),
        ):
            handle = await client.start_workflow(
                HiringProcess.run, hiring(), id=f"hiring-{uuid.uuid4()}", task_queue=raw_task_queue
            )
            waiting = await state_when(handle, lambda s: s.waiting_for == "calendar-booking")
            call_time = (await env.get_current_time()) + timedelta(days=3)
            booking = SignalEnvelope(
                idempotency_key="calendar-event-1", payload={"call_time": call_time.isoformat()}
            )
            await handle.signal("booked", booking)
            await handle.signal("booked", booking)  # the webhook, delivered twice
            sleeping = await state_when(handle, lambda s: s.waiting_for == "call-time")
            outcome = await handle.result()
            final = await handle.query(HiringProcess.raw_state)
            return outcome, [waiting, sleeping, final], await timers_left_running(handle)

    outcome, (waiting, sleeping, final), dangling = asyncio.run(scenario())

    assert outcome.decision == "completed"
    assert outcome.summary == {"summary": f"Call with ada at {outcome.call_time.isoformat()}"}  # type: ignore[union-attr]
    assert outcome.call_time is not None and outcome.finished_at >= outcome.call_time
    assert outcome.finished_at - outcome.started_at >= timedelta(days=3)
    # waiting for the booking: its step, what it waits for, until when
    assert waiting.step == "schedule-call"
    assert waiting.started_at is not None and waiting.wait_until is not None
    assert timedelta(days=7) <= waiting.wait_until - waiting.started_at < timedelta(days=7, hours=1)
    assert [e.name for e in waiting.history if e.kind == "step"] == ["analyze-cv", "schedule-call"]
    # sleeping until the call: the booking counted once although it came twice
    assert sleeping.step == "call"
    assert sleeping.wait_until == outcome.call_time
    assert sleeping.signals == {"booked": 1}
    assert final.step == "summarize-call" and final.waiting_for is None
    assert [(e.kind, e.name) for e in final.history if e.kind in ("wait", "resumed")] == [
        ("wait", "calendar-booking"),
        ("resumed", "calendar-booking"),
        ("wait", "call-time"),
        ("resumed", "call-time"),
    ]
    assert dangling == []


def test_without_a_booking_the_process_takes_its_timeout_branch_after_seven_days(
    kit_project: Project,
    raw_time_skipping_env: WorkflowEnvironment,
    raw_worker: WorkerFactory,
    raw_task_queue: str,
) -> None:
    client = raw_time_skipping_env.client

    async def scenario() -> tuple[HiringOutcome, RawState]:
        async with raw_worker(
            client, workflows=PROCESSES, raw_activities=RawActivities(project_dir=kit_project.root)
        ):
            handle = await client.start_workflow(
                HiringProcess.run, hiring(), id=f"hiring-{uuid.uuid4()}", task_queue=raw_task_queue
            )
            outcome = await handle.result()
            return outcome, await handle.query(HiringProcess.raw_state)

    outcome, state = asyncio.run(scenario())

    assert outcome.decision == "no-booking"
    assert (
        timedelta(days=7) <= outcome.finished_at - outcome.started_at < timedelta(days=7, hours=1)
    )
    assert ("timed_out", "calendar-booking") in [(e.kind, e.name) for e in state.history]
    assert state.waiting_for is None and state.wait_until is None


def test_unqualified_candidate_is_rejected_without_waiting(
    kit_project: Project,
    raw_time_skipping_env: WorkflowEnvironment,
    raw_worker: WorkerFactory,
    raw_task_queue: str,
) -> None:
    client = raw_time_skipping_env.client

    async def scenario() -> HiringOutcome:
        async with raw_worker(
            client, workflows=PROCESSES, raw_activities=RawActivities(project_dir=kit_project.root)
        ):
            return await client.execute_workflow(
                HiringProcess.run,
                hiring(cv_text="Ten years of COBOL"),
                id=f"hiring-{uuid.uuid4()}",
                task_queue=raw_task_queue,
            )

    outcome = asyncio.run(scenario())

    assert outcome.decision == "rejected"
    assert outcome.finished_at - outcome.started_at < timedelta(minutes=1)


# --- first_signal and wait_for ----------------------------------------------------------


def run_signals(
    env: WorkflowEnvironment,
    raw_worker: WorkerFactory,
    task_queue: str,
    inp: SignalsInput,
    signals: list[tuple[str, Any]],
) -> tuple[SignalsOutcome, RawState, list[int]]:
    client = env.client

    async def scenario() -> tuple[SignalsOutcome, RawState, list[int]]:
        async with raw_worker(client, workflows=PROCESSES, include_raw_activities=False):
            handle = await client.start_workflow(
                SignalsProcess.run, inp, id=f"signals-{uuid.uuid4()}", task_queue=task_queue
            )
            for name, payload in signals:
                await handle.signal(name, payload)
            outcome = await handle.result()
            state = await handle.query(SignalsProcess.raw_state)
            return outcome, state, await timers_left_running(handle)

    return asyncio.run(scenario())


def test_first_signal_returns_the_first_arrival_and_leaves_no_timer_running(
    raw_time_skipping_env: WorkflowEnvironment, raw_worker: WorkerFactory, raw_task_queue: str
) -> None:
    outcome, state, dangling = run_signals(
        raw_time_skipping_env,
        raw_worker,
        raw_task_queue,
        SignalsInput(names=["booked", "withdrawn"], takes=1, timeout_hours=24 * 7),
        [("withdrawn", {"reason": "took another offer"})],
    )

    assert outcome.got == [("withdrawn", {"reason": "took another offer"})]
    assert outcome.elapsed < timedelta(hours=1)  # the 7-day timer never fired
    assert dangling == []
    assert state.pending_signals == {}


def test_first_signal_counts_a_redelivered_key_once_and_times_out_with_none(
    raw_time_skipping_env: WorkflowEnvironment, raw_worker: WorkerFactory, raw_task_queue: str
) -> None:
    outcome, state, dangling = run_signals(
        raw_time_skipping_env,
        raw_worker,
        raw_task_queue,
        SignalsInput(names=["booked", "withdrawn"], takes=4, timeout_hours=2),
        [
            ("booked", {"idempotency_key": "k1", "payload": {"slot": 1}}),
            ("booked", {"idempotency_key": "k1", "payload": {"slot": 1}}),
            ("booked", {"idempotency_key": "k2", "slot": 2}),
            ("withdrawn", None),
        ],
    )

    assert outcome.got == [
        ("booked", {"slot": 1}),
        ("booked", {"idempotency_key": "k2", "slot": 2}),
        ("withdrawn", None),
        None,
    ]
    assert timedelta(hours=2) <= outcome.elapsed < timedelta(hours=3)
    assert state.signals == {"booked": 2, "withdrawn": 1}
    assert dangling == []


def test_wait_for_an_absolute_deadline_returns_false_at_the_deadline_and_true_when_met(
    raw_time_skipping_env: WorkflowEnvironment, raw_worker: WorkerFactory, raw_task_queue: str
) -> None:
    client = raw_time_skipping_env.client

    async def scenario() -> tuple[Any, Any]:
        async with raw_worker(client, workflows=PROCESSES, include_raw_activities=False):
            unmet = await client.execute_workflow(
                DeadlineProcess.run,
                DeadlineInput(days=2.5),
                id=f"deadline-{uuid.uuid4()}",
                task_queue=raw_task_queue,
            )
            handle = await client.start_workflow(
                DeadlineProcess.run,
                DeadlineInput(days=2.5),
                id=f"deadline-{uuid.uuid4()}",
                task_queue=raw_task_queue,
            )
            await state_when(handle, lambda s: s.waiting_for == "release")
            await handle.signal(DeadlineProcess.release)
            return unmet, await handle.result()

    unmet, met = asyncio.run(scenario())

    assert unmet.past_deadline is False and unmet.met is False
    assert unmet.deadline <= unmet.resumed_at < unmet.deadline + timedelta(minutes=1)
    assert met.past_deadline is False and met.met is True
    assert met.resumed_at < met.deadline


# --- search attributes, listed on the dev server ------------------------------------------


def test_search_attributes_let_a_list_find_processes_by_what_they_wait_for(
    kit_project: Project,
    raw_dev_server_env: WorkflowEnvironment,
    raw_worker: WorkerFactory,
    raw_task_queue: str,
) -> None:
    client = raw_dev_server_env.client
    process_id = f"hiring-{uuid.uuid4()}"
    query = (
        f"WorkflowId = '{process_id}' AND RawWaitingFor = 'calendar-booking' "
        "AND RawStep = 'schedule-call' AND RawWaitUntil > '2000-01-01T00:00:00Z'"
    )

    async def listed(expected: bool) -> list[str]:
        found: list[str] = []
        for _ in range(100):  # visibility is eventually consistent
            found = [w.id async for w in client.list_workflows(query)]
            if bool(found) == expected:
                break
            await asyncio.sleep(0.05)
        return found

    async def scenario() -> tuple[RawState, Any, list[str], Any, list[str], HiringOutcome]:
        async with raw_worker(
            client, workflows=PROCESSES, raw_activities=RawActivities(project_dir=kit_project.root)
        ):
            handle = await client.start_workflow(
                HiringProcess.run, hiring(), id=process_id, task_queue=raw_task_queue
            )
            state = await state_when(handle, lambda s: s.waiting_for == "calendar-booking")
            waiting = (await handle.describe()).typed_search_attributes
            found = await listed(True)
            await handle.signal("withdrawn", SignalEnvelope(idempotency_key="w-1"))
            outcome = await handle.result()
            done = (await handle.describe()).typed_search_attributes
            return state, waiting, found, done, await listed(False), outcome

    state, waiting, found, done, after, outcome = asyncio.run(scenario())

    assert waiting.get(RAW_STEP) == "schedule-call"
    assert waiting.get(RAW_WAITING_FOR) == "calendar-booking"
    assert waiting.get(RAW_WAIT_UNTIL) == state.wait_until
    assert found == [process_id]
    assert outcome.decision == "withdrawn"
    assert done.get(RAW_STEP) == "schedule-call"
    assert done.get(RAW_WAITING_FOR) is None and done.get(RAW_WAIT_UNTIL) is None
    assert after == []
