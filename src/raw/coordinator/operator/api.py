"""The operator page's reads as JSON, behind the API token like the rest of ``/api``.

    GET /api/overview                  entities by status, processes by state, inbox, schedules
    GET /api/system                    the system map and its live figures
    GET /api/processes?state=&limit=   the system's processes (one visibility query)
    GET /api/schedules                 each schedule's next run and last result
    GET /api/timeline/{process_id}     one process's webhooks, runs, steps, waits and timers

The page renders exactly these answers, so whatever it shows a script can read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from raw.coordinator.api import require_api_token
from raw.coordinator.dependencies import OperatorDep
from raw.coordinator.errors import ERROR_RESPONSES, NotReadyError, database_available
from raw.coordinator.operator.context import Operator
from raw.coordinator.operator.overview import Overview, build_overview
from raw.coordinator.operator.system_view import SystemView, build_system_view
from raw.coordinator.operator.temporal import (
    ProcessList,
    ProcessState,
    ScheduleList,
    list_system_processes,
    schedules,
)
from raw.coordinator.operator.timeline import Timeline, build_timeline

__all__ = ["operator_api_router"]

operator_api_router = APIRouter(
    prefix="/api",
    dependencies=[Depends(require_api_token)],
    responses={401: ERROR_RESPONSES[401], 422: ERROR_RESPONSES[422]},
)


def _processes_or_503(operator: Operator) -> None:
    if not operator.has_processes:
        raise NotReadyError({"temporal": "this system has no processes"})


@operator_api_router.get(
    "/overview",
    response_model=Overview,
    responses={503: ERROR_RESPONSES[503]},
    tags=["operator"],
    summary="The whole system at a glance",
)
async def overview(operator: OperatorDep) -> Overview:
    return await build_overview(operator)


@operator_api_router.get(
    "/system",
    response_model=SystemView,
    responses={503: ERROR_RESPONSES[503]},
    tags=["operator"],
    summary="The system map with live figures",
)
async def system(operator: OperatorDep) -> SystemView:
    return await build_system_view(operator)


@operator_api_router.get(
    "/processes",
    response_model=ProcessList,
    responses={503: ERROR_RESPONSES[503]},
    tags=["processes"],
    summary="The system's processes, newest first",
)
async def processes(
    operator: OperatorDep,
    state: ProcessState | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ProcessList:
    _processes_or_503(operator)
    return await list_system_processes(operator, state=state, limit=limit)


@operator_api_router.get(
    "/schedules",
    response_model=ScheduleList,
    responses={503: ERROR_RESPONSES[503]},
    tags=["processes"],
    summary="Schedules: next run and last result",
)
async def schedule_list(operator: OperatorDep) -> ScheduleList:
    _processes_or_503(operator)
    return await schedules(operator)


@operator_api_router.get(
    "/timeline/{process_id:path}",
    response_model=Timeline,
    responses={503: ERROR_RESPONSES[503]},
    tags=["processes"],
    summary="One process's timeline",
)
async def timeline(operator: OperatorDep, process_id: str) -> Timeline:
    async with database_available(operator.coordinator.db):
        return await build_timeline(operator, process_id)
