"""The hiring process: days of waiting between a CV and a call summary, on Temporal.

analyze-cv -> unqualified: rejection email, done. Qualified: an email with the
booking link -> up to 7 days for the calendar webhook (then a reminder, then 3 more
days before we withdraw) -> sleep until the call (a reschedule moves it) -> place
the call -> wait for its final status (not answered: retry later, up to three
attempts) -> generate-call-summary -> store it -> done. A ``withdrawn`` signal ends
the process cleanly at any point. A rejected or withdrawn candidate's CV is erased
after the retention period.

Deterministic code only: the I/O is in ``hiring.activities``, called by name.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from hiring.contracts import (
        CallRequest,
        CandidateUpdate,
        EmailKind,
        EmailRequest,
        HiringOutcome,
        Outcome,
        PlacedCall,
        SummaryRecord,
    )
    from hiring.models import CVSubmission
    from raw.orchestrator.workflow import (
        FirstSignal,
        RawProcess,
        execute_activity,
        execute_raw,
        first_signal,
        sleep_until,
    )

FINAL_CALL_STATES = {"completed", "busy", "failed", "no-answer", "canceled"}
_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=10)


async def _activity(name: str, arg: Any, *, result_type: type | None = None) -> Any:
    """One of hiring.activities, by name (this module imports no I/O code). An SMTP server
    or call provider that is away is waited out, spending none of the ten attempts."""
    return await execute_activity(
        name,
        arg,
        result_type=result_type,
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=_RETRY,
    )


class Withdrawn(Exception):
    """The candidate withdrew: unwinds the process to its clean end."""


@workflow.defn(name="HiringProcess")
class HiringProcess(RawProcess):
    BOOKING_WINDOW = timedelta(days=7)
    REMINDER_WINDOW = timedelta(days=3)
    CALL_ANSWER_TIMEOUT = timedelta(hours=1)
    CALL_RETRY_DELAY = timedelta(hours=4)
    MAX_CALL_ATTEMPTS = 3
    CV_RETENTION = timedelta(days=30)

    def __init__(self) -> None:
        self.candidate_id = ""
        self.call_attempts = 0

    @workflow.run
    async def run(self, submission: CVSubmission) -> HiringOutcome:
        self.candidate_id = submission.candidate_id
        try:
            return await self._hire(submission)
        except Withdrawn:
            await self._update(status="withdrawn")
            await self._email("withdrawn")
            return await self._retain_then_erase("withdrawn")

    async def _hire(self, submission: CVSubmission) -> HiringOutcome:
        await self._update(status="screening")
        analysis = await execute_raw(
            "analyze-cv",
            {
                "cv_text": submission.cv_text,
                "position": submission.position,
                "candidate_id": self.candidate_id,
            },
        )
        output: dict[str, Any] = analysis.output
        await self._update(
            score=output["score"],
            qualified=output["qualified"],
            analysis=output,
            llm=analysis.llm,
        )
        self._check_withdrawn()
        if not output["qualified"]:
            await self._update(status="rejected")
            await self._email("rejection")
            return await self._retain_then_erase("rejected")

        await self._update(status="awaiting-booking")
        await self._email("scheduling")
        booking = await self._next_booking(timeout=self.BOOKING_WINDOW)
        if booking is None:
            await self._update(status="reminded")
            await self._email("reminder")
            booking = await self._next_booking(timeout=self.REMINDER_WINDOW)
            if booking is None:
                await self._update(status="no-booking")
                await self._email("no-booking")
                return await self._retain_then_erase("no-booking")

        call_time = _start_time(booking)
        while True:  # until the call time; a reschedule moves it
            await self._update(status="call-scheduled", call_time=call_time)
            moved = await self._next_booking(deadline=call_time, waiting_for="call-time")
            if moved is None:
                break
            call_time = _start_time(moved)

        transcript, duration = await self._call_until_answered()
        if transcript is None:
            await self._update(status="unreachable")
            await self._email("unreachable")
            return await self._retain_then_erase("unreachable")

        await self._update(status="summarising")
        summary = await execute_raw(
            "generate-call-summary",
            {
                "candidate_id": self.candidate_id,
                "candidate_name": submission.name,
                "position": submission.position,
                "transcript": transcript,
                "call_duration_seconds": duration,
            },
        )
        await _activity(
            "store_summary", SummaryRecord(candidate_id=self.candidate_id, summary=summary.output)
        )
        await self._update(status="completed")
        return HiringOutcome(
            candidate_id=self.candidate_id, outcome="completed", call_attempts=self.call_attempts
        )

    # -- waits

    def _check_withdrawn(self) -> None:
        if self.signal_pending("withdrawn"):
            raise Withdrawn

    async def _next_booking(
        self,
        *,
        timeout: timedelta | None = None,
        deadline: datetime | None = None,
        waiting_for: str = "calendar-booking",
    ) -> FirstSignal | None:
        signal = await first_signal(
            self,
            ["booked", "withdrawn"],
            timeout=timeout,
            deadline=deadline,
            waiting_for=waiting_for,
        )
        if signal is not None and signal.name == "withdrawn":
            raise Withdrawn
        return signal

    async def _call_until_answered(self) -> tuple[str | None, int]:
        """Place the call, retrying unanswered ones; (transcript, seconds) or (None, 0)."""
        for attempt in range(1, self.MAX_CALL_ATTEMPTS + 1):
            self.call_attempts = attempt
            await self._update(status="calling", call_attempts=attempt)
            placed: PlacedCall = await _activity(
                "place_call",
                CallRequest(candidate_id=self.candidate_id, attempt=attempt),
                result_type=PlacedCall,
            )
            await self._update(call_sid=placed.call_sid)
            final = await self._final_status(placed.call_sid)
            if final is not None and final.get("CallStatus") == "completed":
                return str(final.get("TranscriptionText") or ""), int(
                    final.get("CallDuration") or 0
                )
            if attempt < self.MAX_CALL_ATTEMPTS:
                await self._update(status="call-retry")
                signal = await first_signal(
                    self, ["withdrawn"], timeout=self.CALL_RETRY_DELAY, waiting_for="call-retry"
                )
                if signal is not None:
                    raise Withdrawn
        return None, 0

    async def _final_status(self, call_sid: str) -> dict[str, Any] | None:
        """The call's final status callback (earlier calls' callbacks are ignored)."""
        deadline = workflow.now() + self.CALL_ANSWER_TIMEOUT
        while True:
            signal = await first_signal(
                self, ["call-status", "withdrawn"], deadline=deadline, waiting_for="call-status"
            )
            if signal is None:
                return None  # no word from the provider: treat as not answered
            if signal.name == "withdrawn":
                raise Withdrawn
            status: dict[str, Any] = signal.payload or {}
            if status.get("CallSid") == call_sid and status.get("CallStatus") in FINAL_CALL_STATES:
                return status

    async def _retain_then_erase(self, outcome: Outcome) -> HiringOutcome:
        """Keep the CV for the retention period, then erase it."""
        await sleep_until(workflow.now() + self.CV_RETENTION, waiting_for="cv-retention")
        await _activity("erase_cv", self.candidate_id)
        return HiringOutcome(
            candidate_id=self.candidate_id,
            outcome=outcome,
            cv_erased=True,
            call_attempts=self.call_attempts,
        )

    # -- activities

    async def _update(self, **fields: Any) -> None:
        if fields.get("status"):
            self.set_step(fields["status"])  # the RawStep search attribute follows the status
        update = CandidateUpdate(candidate_id=self.candidate_id, **fields)
        await _activity("update_candidate", update)

    async def _email(self, kind: EmailKind) -> None:
        await _activity("send_email", EmailRequest(candidate_id=self.candidate_id, kind=kind))


def _start_time(booking: FirstSignal) -> datetime:
    payload: dict[str, Any] = booking.payload or {}
    return datetime.fromisoformat(str(payload["payload"]["startTime"]).replace("Z", "+00:00"))
