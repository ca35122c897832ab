"""The workflows of engine_latency.py, in a module of their own.

The workflow sandbox executes the module that defines a workflow again for every
workflow run; engine_latency.py's own module (the benchmark's machinery) took
~3 ms of CPU to execute, a cost a small workflow module like this one does not have.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def bump(value: int) -> int:
    return value + 1


@workflow.defn
class ThreeActivities:
    @workflow.run
    async def run(self) -> int:
        value = 0
        for _ in range(3):
            value = await workflow.execute_activity(
                bump, value, start_to_close_timeout=timedelta(seconds=30)
            )
        return value


@workflow.defn
class ShortSleep:
    @workflow.run
    async def run(self) -> None:
        await asyncio.sleep(0.3)


@workflow.defn
class ThreeLocalActivities:
    """The same three steps as local activities: run by the worker inside one workflow
    task and recorded as markers when it completes, with no round trip per step."""

    @workflow.run
    async def run(self) -> int:
        value = 0
        for _ in range(3):
            value = await workflow.execute_local_activity(
                bump, value, start_to_close_timeout=timedelta(seconds=30)
            )
        return value
