"""The system map: the parts of a RAW system as configured, and the arrows between them.

Nodes are webhook routes, processes, RAW workflows, schedules, integrations and entity
tables; edges say who starts, signals, runs or uses whom. The model is plain data
(its JSON is ``raw describe system --json``); :mod:`raw.describe.build` makes it from
a project and the renderers (text, Mermaid, SVG) only read it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "COLUMNS",
    "COLUMN_TITLES",
    "KIND_ORDER",
    "EdgeKind",
    "MapEdge",
    "MapNode",
    "NodeKind",
    "SystemMap",
]

NodeKind = Literal["route", "schedule", "process", "workflow", "integration", "entity"]
EdgeKind = Literal["start", "signal", "signal_with_start", "run_workflow", "runs", "uses"]

COLUMNS: dict[NodeKind, int] = {
    "route": 0,
    "schedule": 0,
    "process": 1,
    "workflow": 2,
    "integration": 3,
    "entity": 3,
}
"""Where each kind is drawn, left to right: what arrives, what waits, what does the work,
what it reaches. Every arrow points right."""
COLUMN_TITLES = (
    "Webhook routes and schedules",
    "Processes",
    "RAW workflows",
    "Integrations and tables",
)
KIND_ORDER: tuple[NodeKind, ...] = (
    "route",
    "schedule",
    "process",
    "workflow",
    "integration",
    "entity",
)


class MapNode(BaseModel):
    """One part of the system."""

    id: str = Field(description="Unique in the map: '<kind>:<name>', e.g. 'route:cv-submission'.")
    kind: NodeKind
    name: str = Field(description="The name in the config or the code, e.g. 'HiringProcess'.")
    label: str = Field(description="The first line drawn, e.g. 'POST /webhooks/cv-submission'.")
    details: list[str] = Field(default_factory=list, description="Further lines drawn under it.")
    facts: dict[str, str | list[str]] = Field(
        default_factory=dict, description="What the details say, as data (scheme, signals...)."
    )

    @property
    def column(self) -> int:
        return COLUMNS[self.kind]


class MapEdge(BaseModel):
    """An arrow: ``source`` starts, signals, runs or uses ``target``."""

    source: str
    target: str
    kind: EdgeKind
    label: str = Field(default="", description="What travels on it, e.g. \"signal 'booked'\".")


class SystemMap(BaseModel):
    """The whole system as configured (``raw describe system --json``)."""

    name: str
    nodes: list[MapNode] = Field(default_factory=list)
    edges: list[MapEdge] = Field(default_factory=list)
    notes: list[str] = Field(
        default_factory=list, description="What could not be read, so is not drawn."
    )

    def node(self, node_id: str) -> MapNode | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def of_kind(self, kind: NodeKind) -> list[MapNode]:
        return [n for n in self.nodes if n.kind == kind]

    def edges_from(self, node_id: str) -> list[MapEdge]:
        return [e for e in self.edges if e.source == node_id]

    def edges_to(self, node_id: str) -> list[MapEdge]:
        return [e for e in self.edges if e.target == node_id]
