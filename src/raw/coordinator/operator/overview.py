"""The overview: the whole system on one screen, for ``/operator`` and ``GET /api/overview``.

Entities by status (from ``system.coordinator.entities``), processes by state and
the ones waiting (what for, until when), the inbox's depth, dead letters, failed
runs, and each schedule's next run and last result. A part that cannot be read
says why in its ``error`` and the rest is still shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from raw import clock
from raw.coordinator.errors import database_available
from raw.coordinator.operator.records import (
    EntityCounts,
    entity_counts,
    failed_run_count,
    inbox_counts,
)
from raw.coordinator.operator.temporal import (
    ProcessCounts,
    ProcessList,
    ScheduleList,
    list_system_processes,
    process_counts,
    schedules,
)

if TYPE_CHECKING:
    from raw.coordinator.operator.context import Operator

__all__ = ["Overview", "WAITING_LIMIT", "build_overview"]

WAITING_LIMIT = 20
"""How many running processes the overview lists (the newest)."""


class Overview(BaseModel):
    system: str
    generated_at: datetime
    entities: list[EntityCounts] = Field(default_factory=list)
    """Empty when the system declares no ``system.coordinator.entities``."""
    has_processes: bool
    processes: ProcessCounts
    running: ProcessList
    """The newest running processes, with what each waits for and until when."""
    inbox: dict[str, int]
    dead_letters: int
    failed_runs: int
    schedules: ScheduleList
    temporal_ui: str | None = None


async def build_overview(operator: Operator) -> Overview:
    db = operator.coordinator.db
    async with database_available(db):
        entities = await entity_counts(db, operator.config.entities)
        inbox = await inbox_counts(db)
        failed = await failed_run_count(db)
    if operator.has_processes:
        counts = await process_counts(operator)
        if counts.error is None:
            running = await list_system_processes(operator, state="running", limit=WAITING_LIMIT)
            planned = await schedules(operator)
        else:  # Temporal is down: say so once instead of waiting on it three times
            running = ProcessList(state="running", error=counts.error)
            planned = ScheduleList(error=counts.error)
    else:
        counts, running, planned = ProcessCounts(), ProcessList(state="running"), ScheduleList()
    return Overview(
        system=operator.system_name,
        generated_at=clock.now(),
        entities=entities,
        has_processes=operator.has_processes,
        processes=counts,
        running=running,
        inbox=inbox,
        dead_letters=inbox.get("dead", 0),
        failed_runs=failed,
        schedules=planned,
        temporal_ui=operator.temporal_ui() if operator.has_processes else None,
    )
