"""The Temporal workflow every schedule starts: run one RAW workflow through the kit's activity.

Deterministic code only (it runs in the workflow sandbox and on replay). The
activity is referenced by name, ``run_raw_workflow``, so this module never
imports the activity's I/O code.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.common import RetryPolicy

RUN_RAW_WORKFLOW = "run_raw_workflow"
"""The activity that runs a RAW workflow (``raw.orchestrator.activity``)."""

SCHEDULED_RUN = "RawScheduledRun"
"""The workflow type every kit schedule starts."""

_GRACE_SECONDS = 10.0
"""Slack between the RAW run's own timeout and the activity's start-to-close timeout."""


class ScheduledRunInput(BaseModel):
    """What a schedule asks for: the RAW workflow and its CLI-style args or its params."""

    schedule_id: str
    workflow: str
    args: list[str] = Field(default_factory=list)
    params: dict[str, Any] | None = None
    timeout_seconds: float = Field(default=3600, gt=0)
    """The RAW run's own timeout; past it the run ends timed_out (retried)."""
    max_attempts: int = Field(default=3, ge=1)
    heartbeat_timeout_seconds: float = Field(default=30, gt=0)


def activity_call(run: ScheduledRunInput) -> dict[str, Any]:
    """The one argument ``run_raw_workflow`` gets: its ``RawWorkflowCall``, as JSON.

    In this form the activity returns a ``RawWorkflowResult`` (run id, status and
    output), which becomes the scheduled run's result.
    """
    return {
        "workflow": run.workflow,
        "params": run.params or {},
        "args": list(run.args) or None,
        "timeout_seconds": run.timeout_seconds,
    }


@workflow.defn(name=SCHEDULED_RUN)
class RawScheduledRun:
    """Run the schedule's RAW workflow once; return the activity's RawWorkflowResult."""

    @workflow.run
    async def run(self, run: ScheduledRunInput) -> dict[str, Any]:
        result: dict[str, Any] = await workflow.execute_activity(
            RUN_RAW_WORKFLOW,
            activity_call(run),
            result_type=dict,
            start_to_close_timeout=timedelta(seconds=run.timeout_seconds + _GRACE_SECONDS),
            heartbeat_timeout=timedelta(seconds=run.heartbeat_timeout_seconds),
            retry_policy=RetryPolicy(maximum_attempts=run.max_attempts),
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            summary=f"raw run {run.workflow} (schedule {run.schedule_id})",
        )
        return result
