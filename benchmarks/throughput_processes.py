"""Temporal workflows and activities for process_throughput.py (imported by the sandbox too)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from raw.orchestrator.activity import run_raw_workflow
    from raw.orchestrator.workflow import RawProcess, execute_raw, first_signal, sleep_until

TIMEOUT = timedelta(seconds=120)


@activity.defn
async def plain_noop(n: int) -> int:
    return n


@workflow.defn
class ThreeRawWorkflows:
    """Three trivial RAW workflows through the kit's activity (the architecture's call)."""

    @workflow.run
    async def run(self, n: int) -> int:
        total = 0
        for _ in range(3):
            total += await workflow.execute_activity(
                run_raw_workflow, args=["noop", f"--n={n}"], start_to_close_timeout=TIMEOUT
            )
        return total


@workflow.defn
class ThreePlainActivities:
    """The baseline: three hand-written activities doing the same nothing."""

    @workflow.run
    async def run(self, n: int) -> int:
        total = 0
        for _ in range(3):
            total += await workflow.execute_activity(plain_noop, n, start_to_close_timeout=TIMEOUT)
        return total


@workflow.defn
class HiringShaped(RawProcess):
    """14 days: analyse, no booking for 7 days, a reminder, 7 more days, a call, a summary."""

    @workflow.run
    async def run(self, n: int) -> str:
        start = workflow.now()
        await execute_raw("noop", {"n": n}, step="analyze-cv")
        booking = await first_signal(self, ["booked", "withdrawn"], timeout=timedelta(days=7))
        if booking is None:
            await execute_raw("noop", {"n": n}, step="send-reminder")
            booking = await first_signal(self, ["booked", "withdrawn"], timeout=timedelta(days=7))
        await sleep_until(start + timedelta(days=14), waiting_for="call-time")
        await execute_raw("noop", {"n": n}, step="generate-call-summary")
        return "booked" if booking else "no-booking"
