"""Temporal processes used by the orchestrator tests.

The workflow sandbox re-imports this module for every run: keep it free of side
effects and of anything but workflow code and its models.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

from raw.orchestrator.activity import run_raw_workflow, run_raw_workflow_call
from raw.orchestrator.workflow import (
    RawProcess,
    RawWorkflowCall,
    RawWorkflowResult,
    execute_activity,
    execute_raw,
    first_signal,
    sleep_until,
    wait_for,
)

# --- the hiring-shaped process -------------------------------------------------------


class HiringInput(BaseModel):
    candidate: str
    cv_text: str


class HiringOutcome(BaseModel):
    decision: Literal["rejected", "no-booking", "withdrawn", "completed"]
    started_at: datetime
    finished_at: datetime
    call_time: datetime | None = None
    summary: dict[str, Any] | None = None


@workflow.defn
class HiringProcess(RawProcess):
    """Analyze the CV, wait up to 7 days for a booking, sleep until the call, summarise."""

    @workflow.run
    async def run(self, inp: HiringInput) -> HiringOutcome:
        started = workflow.now()
        self.set_step("analyze-cv")
        analysis = await workflow.execute_activity(  # the architecture's calling style
            run_raw_workflow,
            args=["analyze-cv", f"--cv-text={inp.cv_text}"],
            start_to_close_timeout=timedelta(minutes=5),
        )
        if not analysis["qualified"]:
            return HiringOutcome(
                decision="rejected", started_at=started, finished_at=workflow.now()
            )
        self.set_step("schedule-call")
        booking = await first_signal(
            self, ["booked", "withdrawn"], timeout=timedelta(days=7), waiting_for="calendar-booking"
        )
        if booking is None or booking.name == "withdrawn":
            return HiringOutcome(
                decision="no-booking" if booking is None else "withdrawn",
                started_at=started,
                finished_at=workflow.now(),
            )
        call_time = datetime.fromisoformat(booking.payload["call_time"])
        self.set_step("call")
        await sleep_until(call_time, waiting_for="call-time")
        summary = await execute_raw(
            "summarize-call", {"candidate": inp.candidate, "call_time": call_time.isoformat()}
        )
        return HiringOutcome(
            decision="completed",
            started_at=started,
            finished_at=workflow.now(),
            call_time=call_time,
            summary=summary.output,
        )


# --- signals and deadlines -------------------------------------------------------------


class SignalsInput(BaseModel):
    names: list[str]
    takes: int
    timeout_hours: float = 1.0


class SignalsOutcome(BaseModel):
    got: list[tuple[str, Any] | None]
    elapsed: timedelta


@workflow.defn
class SignalsProcess(RawProcess):
    """Take ``takes`` signals among ``names``, each with its own timeout."""

    @workflow.run
    async def run(self, inp: SignalsInput) -> SignalsOutcome:
        start = workflow.now()
        got: list[tuple[str, Any] | None] = []
        for _ in range(inp.takes):
            signal = await first_signal(self, inp.names, timeout=timedelta(hours=inp.timeout_hours))
            got.append(None if signal is None else (signal.name, signal.payload))
        return SignalsOutcome(got=got, elapsed=workflow.now() - start)


class DeadlineInput(BaseModel):
    days: float


class DeadlineOutcome(BaseModel):
    past_deadline: bool
    met: bool
    started_at: datetime
    deadline: datetime
    resumed_at: datetime


@workflow.defn
class DeadlineProcess(RawProcess):
    """wait_for with an absolute deadline; a typed signal releases it."""

    def __init__(self) -> None:
        self.released = False

    @workflow.signal
    def release(self) -> None:
        self.released = True

    @workflow.run
    async def run(self, inp: DeadlineInput) -> DeadlineOutcome:
        start = workflow.now()
        deadline = start + timedelta(days=inp.days)
        await sleep_until(start - timedelta(hours=1))  # in the past: returns at once
        past = await wait_for(lambda: self.released, deadline=start - timedelta(seconds=1))
        met = await wait_for(lambda: self.released, deadline=deadline, waiting_for="release")
        return DeadlineOutcome(
            past_deadline=past,
            met=met,
            started_at=start,
            deadline=deadline,
            resumed_at=workflow.now(),
        )


# --- calling the activity ------------------------------------------------------------


class CallRequest(BaseModel):
    style: Literal["cli", "call", "call_by_name", "typed"]
    args: list[str] = []
    call: RawWorkflowCall | None = None
    max_attempts: int = 1
    heartbeat_timeout_seconds: float | None = None
    start_to_close_seconds: float = 60.0
    wait_for_cancel: bool = False


class CallOutcome(BaseModel):
    output: Any = None
    result: RawWorkflowResult | None = None
    error_message: str | None = None
    error_type: str | None = None
    non_retryable: bool | None = None
    error_details: list[Any] | None = None
    cancelled: bool = False


@workflow.defn
class CallRaw:
    """Call run_raw_workflow in one of its forms; report what came back, or the failure."""

    def __init__(self) -> None:
        self.cancel_requested = False

    @workflow.signal
    def cancel(self) -> None:
        self.cancel_requested = True

    @workflow.run
    async def run(self, req: CallRequest) -> CallOutcome:
        options: dict[str, Any] = {
            "start_to_close_timeout": timedelta(seconds=req.start_to_close_seconds),
            "retry_policy": RetryPolicy(
                initial_interval=timedelta(milliseconds=100), maximum_attempts=req.max_attempts
            ),
            "heartbeat_timeout": timedelta(seconds=req.heartbeat_timeout_seconds)
            if req.heartbeat_timeout_seconds
            else None,
            "cancellation_type": workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        }
        task: workflow.ActivityHandle[Any]
        if req.style == "cli":
            task = workflow.start_activity(run_raw_workflow, args=req.args, **options)
        elif req.style == "call":  # by reference: decoded by its declared type, Any
            task = workflow.start_activity(run_raw_workflow, req.call, **options)
        elif req.style == "call_by_name":  # by name, result_type is honoured
            task = workflow.start_activity(
                "run_raw_workflow", req.call, result_type=RawWorkflowResult, **options
            )
        else:
            assert req.call is not None
            task = workflow.start_activity(run_raw_workflow_call, req.call, **options)
        if req.wait_for_cancel:
            await workflow.wait_condition(lambda: self.cancel_requested or task.done())
            if self.cancel_requested:
                task.cancel()
        try:
            value = await task
        except ActivityError as exc:
            cause = exc.cause
            if isinstance(cause, CancelledError):
                return CallOutcome(cancelled=True, error_message=str(cause))
            assert isinstance(cause, ApplicationError)
            return CallOutcome(
                error_message=cause.message,
                error_type=cause.type,
                non_retryable=cause.non_retryable,
                error_details=list(cause.details),
            )
        if isinstance(value, RawWorkflowResult):
            return CallOutcome(result=value, output=value.output)
        return CallOutcome(output=value)


# --- a process whose RAW workflow needs an integration's server -----------------------


class NotifyInput(BaseModel):
    to: str
    log: str


@workflow.defn
class NotifyProcess(RawProcess):
    """One email through a RAW workflow, with a budget of two attempts."""

    @workflow.run
    async def run(self, inp: NotifyInput) -> Any:
        result = await execute_raw(
            "notify",
            {"to": inp.to, "log": inp.log},
            max_attempts=2,
            retry_interval_seconds=1.0,
            outage_wait_max_seconds=60.0,
        )
        return result.output


@workflow.defn
class AwayProcess(RawProcess):
    """One activity that finds its service away a few times, with a budget of two attempts."""

    @workflow.run
    async def run(self, marker: str) -> Any:
        return await execute_activity(
            "send_when_back",
            marker,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=2),
        )
