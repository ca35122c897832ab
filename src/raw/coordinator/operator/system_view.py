"""The System view: the system map (:mod:`raw.describe`) with live figures on it.

The map is drawn from the config and the code once per coordinator (they do not
change while it runs). The figures are read at each refresh:

- deliveries per minute for each route, over the last ``WINDOW_MINUTES`` (accepted
  deliveries, from the database);
- dead letters for each route (inbox records the dispatcher gave up on);
- processes running for each process type and, of those, how many wait for each
  signal (one visibility query over the newest ``PROCESS_LIMIT`` running processes:
  a process waits for a signal when its ``RawWaitingFor`` names the signal or the
  route that sends it);
- failed RAW runs for each workflow in the last hour (from the run index).

Each part of the drawing links into the view that lists it: a route into its
deliveries, its dead letters into Dead letters, a process into the running
processes, a workflow's failures into Failed runs, a table into the overview.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

from pydantic import BaseModel, Field
from sqlalchemy import func, select

from raw import clock
from raw.coordinator.db.models import Delivery, InboxRecord, RunIndex
from raw.coordinator.errors import database_available
from raw.coordinator.operator.records import FAILED_RUN_STATUSES, EntityCounts, entity_counts
from raw.coordinator.operator.temporal import list_system_processes
from raw.describe import Figure, SystemMap, build_system_map, to_svg

if TYPE_CHECKING:
    from sqlalchemy.orm import InstrumentedAttribute
    from sqlalchemy.sql.elements import ColumnElement

    from raw.coordinator.db.database import Database
    from raw.coordinator.operator.context import Operator

__all__ = ["PROCESS_LIMIT", "WINDOW_MINUTES", "SystemView", "build_system_view", "system_svg"]

WINDOW_MINUTES = 10
PROCESS_LIMIT = 500
FAILED_WINDOW = timedelta(hours=1)
_MAP_CACHE = "system-map"


class SystemView(BaseModel):
    """The map and its figures (``GET /api/system``)."""

    system: SystemMap
    generated_at: datetime
    window_minutes: int = WINDOW_MINUTES
    deliveries: dict[str, int] = Field(
        default_factory=dict, description="Route -> accepted deliveries in the window."
    )
    dead_letters: dict[str, int] = Field(default_factory=dict, description="Route -> dead now.")
    running: dict[str, int] = Field(default_factory=dict, description="Process type -> running.")
    waiting: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="Process type -> signal -> running processes waiting."
    )
    processes_more: bool = False
    """More than PROCESS_LIMIT processes run: the figures count the newest."""
    processes_error: str | None = None
    failed_runs: dict[str, int] = Field(
        default_factory=dict, description="RAW workflow -> failed runs in the last hour."
    )
    entities: list[EntityCounts] = Field(default_factory=list)

    def per_minute(self, route: str) -> float:
        return round(self.deliveries.get(route, 0) / self.window_minutes, 2)


def system_map(operator: Operator) -> SystemMap:
    """The map of the operator's system, built on first use and kept."""
    cached = operator.cache.get(_MAP_CACHE)
    if cached is not None:
        found: SystemMap = cached[1]
        return found
    built = build_system_map(operator.coordinator.project)
    operator.cache[_MAP_CACHE] = (clock.monotonic(), built)
    return built


async def _grouped(
    db: Database, column: InstrumentedAttribute[str], *where: ColumnElement[bool]
) -> dict[str, int]:
    """``column``'s values -> how many rows have each, among the rows ``where`` holds."""
    query = select(column, func.count()).where(*where).group_by(column)
    async with db.read() as session:
        rows = (await session.execute(query)).all()
    return {str(key): int(n) for key, n in rows}


async def build_system_view(operator: Operator) -> SystemView:
    system = system_map(operator)
    db = operator.coordinator.db
    now = clock.now()
    async with database_available(db):
        deliveries = await _grouped(
            db, Delivery.route, Delivery.received_at >= now - timedelta(minutes=WINDOW_MINUTES)
        )
        dead = await _grouped(db, InboxRecord.route, InboxRecord.status == "dead")
        failed = await _grouped(
            db,
            RunIndex.workflow,
            RunIndex.status.in_(FAILED_RUN_STATUSES),
            RunIndex.started_at >= now - FAILED_WINDOW,
        )
        entities = await entity_counts(db, operator.config.entities)
    view = SystemView(
        system=system,
        generated_at=now,
        deliveries=deliveries,
        dead_letters=dead,
        failed_runs=failed,
        entities=entities,
    )
    if operator.has_processes and system.of_kind("process"):
        await _count_processes(operator, view)
    return view


def _names_of_signal(system: SystemMap, process: str, signal: str) -> set[str]:
    """What a process's ``RawWaitingFor`` may say while it waits for ``signal``: the signal,
    or the name of a route that sends it."""
    names = {signal}
    for edge in system.edges_to(f"process:{process}"):
        if edge.kind in ("signal", "signal_with_start") and edge.label.endswith(f"'{signal}'"):
            names.add(edge.source.removeprefix("route:"))
    return names


async def _count_processes(operator: Operator, view: SystemView) -> None:
    listed = await list_system_processes(operator, state="running", limit=PROCESS_LIMIT)
    view.processes_error, view.processes_more = listed.error, listed.more
    signals: dict[str, dict[str, set[str]]] = {}
    for node in view.system.of_kind("process"):
        wanted = node.facts.get("signals", [])
        names = [wanted] if isinstance(wanted, str) else wanted
        signals[node.name] = {s: _names_of_signal(view.system, node.name, s) for s in names}
        view.running[node.name] = 0
        view.waiting[node.name] = dict.fromkeys(names, 0)
    for process in listed.processes:
        if process.type not in signals:
            continue
        view.running[process.type] += 1
        said = {part.strip() for part in (process.waiting_for or "").split("|")}
        for signal, known in signals[process.type].items():
            if said & known:
                view.waiting[process.type][signal] += 1


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def figures(view: SystemView, base: str) -> dict[str, list[Figure]]:
    """The live lines under each box of the map."""
    found: dict[str, list[Figure]] = {}
    for node in view.system.nodes:
        lines: list[Figure] = []
        if node.kind == "route":
            count = view.deliveries.get(node.name, 0)
            lines.append(
                Figure(
                    f"{view.per_minute(node.name):g} deliveries/min "
                    f"({count} in {view.window_minutes} min)"
                )
            )
            dead = view.dead_letters.get(node.name, 0)
            if node.facts.get("action") != "none" or dead:
                lines.append(
                    Figure(
                        _plural(dead, "dead letter", "dead letters"),
                        alert=dead > 0,
                        href=f"{base}/dead-letters",
                    )
                )
        elif node.kind == "process" and node.name in view.running:
            more = "+" if view.processes_more else ""
            lines.append(Figure(f"{view.running[node.name]}{more} running"))
            for signal, n in view.waiting.get(node.name, {}).items():
                lines.append(Figure(f"{n} waiting for '{signal}'"))
        elif node.kind == "workflow" and "missing" not in node.facts:
            failed = view.failed_runs.get(node.name, 0)
            lines.append(
                Figure(
                    f"{_plural(failed, 'failed run', 'failed runs')} in the last hour",
                    alert=failed > 0,
                    href=f"{base}/runs" if failed else None,
                )
            )
        elif node.kind == "entity":
            counted = next((e for e in view.entities if e.name == node.name), None)
            if counted is not None and counted.error is None:
                lines.append(Figure(_plural(counted.total, "row", "rows")))
        if lines:
            found[node.id] = lines
    return found


def links(view: SystemView, base: str) -> dict[str, str]:
    """Each part's link into the view that lists it."""
    found: dict[str, str] = {}
    for node in view.system.nodes:
        if node.kind == "route":
            found[node.id] = f"{base}/deliveries?route={quote(node.name, safe='')}"
        elif node.kind == "process":
            found[node.id] = f"{base}/processes?state=running"
        elif node.kind == "workflow":
            found[node.id] = f"{base}/runs"
        elif node.kind in ("schedule", "entity"):
            found[node.id] = f"{base}#h-{'schedules' if node.kind == 'schedule' else 'entities'}"
        elif node.kind == "integration" and node.facts.get("adapter") == "local":
            found[node.id] = f"{base}/outbox"
    return found


def system_svg(view: SystemView, base: str) -> str:
    return to_svg(view.system, figures=figures(view, base), links=links(view, base))
