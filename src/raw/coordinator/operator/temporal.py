"""What the operator page reads from Temporal: processes by state, lists, schedules.

Lists never query processes one by one: counts are one ``CountWorkflowExecutions``
grouped by status, a list is one visibility query on the system's task queue,
and each row's step, what it waits for and until when come from the search
attributes the orchestrator kit keeps current (``RawStep``, ``RawWaitingFor``,
``RawWaitUntil``). Only the timeline of one process asks that process its
``raw_state``. Schedules come from :func:`raw.orchestrator.schedules.list_schedules`
(the function behind ``raw schedules list``), kept for a few seconds so a page
refreshing itself does not describe every schedule each time.

Each answer carries ``error`` instead of raising: a page shows the database's part
when Temporal is down, and says why the rest is missing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Literal, TypeVar

from pydantic import BaseModel, Field

from raw import clock
from raw.coordinator.api import ProcessView
from raw.errors import RawError

if TYPE_CHECKING:
    from temporalio.client import Client

    from raw.coordinator.operator.context import Operator

__all__ = [
    "PROCESS_STATES",
    "ProcessCounts",
    "ProcessList",
    "ScheduleList",
    "ScheduleRow",
    "list_system_processes",
    "process_counts",
    "schedules",
    "visibility_query",
]

ProcessState = Literal[
    "running", "completed", "failed", "canceled", "terminated", "timed_out", "continued_as_new"
]
PROCESS_STATES: tuple[ProcessState, ...] = (
    "running",
    "completed",
    "failed",
    "canceled",
    "terminated",
    "timed_out",
    "continued_as_new",
)
_EXECUTION_STATUS = {
    "running": "Running",
    "completed": "Completed",
    "failed": "Failed",
    "canceled": "Canceled",
    "terminated": "Terminated",
    "timed_out": "TimedOut",
    "continued_as_new": "ContinuedAsNew",
}
_STATE_OF = {v: k for k, v in _EXECUTION_STATUS.items()}
SCHEDULES_CACHE_SECONDS = 10.0
ANSWER_SECONDS = 10.0
"""How long a page waits for Temporal's answer to one read."""

T = TypeVar("T")


class ProcessCounts(BaseModel):
    by_state: dict[str, int] = Field(default_factory=dict)
    total: int = 0
    error: str | None = None


class ProcessList(BaseModel):
    state: ProcessState | None = None
    processes: list[ProcessView] = Field(default_factory=list)
    limit: int = 0
    more: bool = False
    """True when there are more than ``limit``: the page shows the newest."""
    error: str | None = None


class ScheduleRow(BaseModel):
    id: str
    workflow: str | None = None
    args: list[str] = Field(default_factory=list)
    cron: str | None = None
    timezone: str | None = None
    paused: bool = False
    next_run: datetime | None = None
    last_run_at: datetime | None = None
    last_status: str | None = None
    """The last run's status (running, completed, failed...) while Temporal still knows it."""
    last_process_id: str | None = None
    last_run_id: str | None = None


class ScheduleList(BaseModel):
    schedules: list[ScheduleRow] = Field(default_factory=list)
    error: str | None = None


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def visibility_query(operator: Operator, state: str | None = None) -> str:
    """The visibility filter for the system's processes (its task queue), in one state."""
    query = f"TaskQueue = {_quoted(operator.orchestrator.task_queue)}"
    if state is not None:
        query += f" AND ExecutionStatus = {_quoted(_EXECUTION_STATUS[state])}"
    return query


async def _ask(
    operator: Operator, call: Callable[[Client], Awaitable[T]]
) -> tuple[T | None, str | None]:
    """``call(client)``, or (None, why Temporal could not answer)."""
    try:
        # Lazy: needs the orchestrator extra, which may be missing.
        from temporalio.service import RPCError
    except ImportError:
        return None, "temporalio is not installed (pip install 'raw-systems[orchestrator]')."
    try:
        client = await operator.coordinator.temporal()
        async with asyncio.timeout(ANSWER_SECONDS):
            return await call(client), None
    except TimeoutError:
        return None, f"Temporal did not answer within {ANSWER_SECONDS:g} seconds."
    except RawError as exc:  # unavailable, a refused list filter, a vanished schedule
        return None, str(exc)
    except RPCError as exc:
        return None, f"Temporal refused the request: {exc.message or exc}"


async def process_counts(operator: Operator) -> ProcessCounts:
    """The system's processes by state: one count query grouped by status."""
    query = visibility_query(operator) + " GROUP BY ExecutionStatus"

    async def count(client: Client) -> ProcessCounts:
        answer = await client.count_workflows(query)
        by_state: dict[str, int] = {}
        for group in answer.groups:
            name = str(group.group_values[0]) if group.group_values else "unknown"
            by_state[_STATE_OF.get(name, name.lower())] = group.count
        return ProcessCounts(by_state=by_state, total=answer.count)

    counts, error = await _ask(operator, count)
    return counts if counts is not None else ProcessCounts(error=error)


async def list_system_processes(
    operator: Operator, *, state: ProcessState | None = None, limit: int = 100
) -> ProcessList:
    """The newest of the system's processes (in ``state``): one visibility query."""
    # Lazy: needs the orchestrator extra, which may be missing.
    from raw.orchestrator.client import list_processes

    query = visibility_query(operator, state)

    async def listed(client: Client) -> list[ProcessView]:
        return await list_processes(client, query=query, limit=limit + 1)

    rows, error = await _ask(operator, listed)
    if rows is None:
        return ProcessList(state=state, limit=limit, error=error)
    return ProcessList(state=state, processes=rows[:limit], limit=limit, more=len(rows) > limit)


async def schedules(operator: Operator) -> ScheduleList:
    """The system's schedules with their next run and last result (cached briefly)."""
    if not operator.orchestrator.schedules:
        return ScheduleList()
    cached = operator.cache.get("schedules")
    if cached is not None and clock.monotonic() - cached[0] < SCHEDULES_CACHE_SECONDS:
        value: ScheduleList = cached[1]
        return value
    # Lazy: needs the orchestrator extra, which may be missing.
    from raw.orchestrator.schedules import list_schedules

    project = operator.coordinator.project

    async def listed(client: Client) -> list[ScheduleRow]:
        rows = []
        for info in await list_schedules(client, project=project):
            last = info.last_run
            rows.append(
                ScheduleRow(
                    id=info.id,
                    workflow=info.workflow,
                    args=info.args,
                    cron=info.cron,
                    timezone=info.timezone,
                    paused=info.paused,
                    next_run=info.next_runs[0] if info.next_runs else None,
                    last_run_at=last.started_at if last else None,
                    last_status=last.status if last else None,
                    last_process_id=last.workflow_id if last else None,
                    last_run_id=last.run_id if last else None,
                )
            )
        return rows

    rows, error = await _ask(operator, listed)
    if rows is None:
        return ScheduleList(error=error)  # not cached: the next refresh tries again
    missing = [s.id for s in operator.orchestrator.schedules if s.id not in {r.id for r in rows}]
    answer = ScheduleList(
        schedules=rows,
        error=(
            f"Not on the Temporal server yet: {', '.join(missing)} ('raw schedules sync' creates "
            "them)."
            if missing
            else None
        ),
    )
    operator.cache["schedules"] = (clock.monotonic(), answer)
    return answer
