"""The system map as plain text: what ``raw describe system`` prints by default."""

from __future__ import annotations

from raw.describe.model import KIND_ORDER, NodeKind, SystemMap

__all__ = ["to_text"]

HEADINGS: dict[NodeKind, str] = {
    "route": "Webhook routes",
    "schedule": "Schedules",
    "process": "Processes",
    "workflow": "RAW workflows",
    "integration": "Integrations",
    "entity": "Entity tables",
}


def to_text(system: SystemMap) -> str:
    lines = [f"System {system.name}"]
    if not system.nodes:
        lines.append("  Nothing to draw yet: no webhook routes, processes, schedules or workflows.")
    for kind in KIND_ORDER:
        nodes = system.of_kind(kind)
        if not nodes:
            continue
        lines += ["", f"{HEADINGS[kind]}:"]
        for node in nodes:
            lines.append(f"  {node.label}")
            lines += [f"      {detail}" for detail in node.details]
    if system.edges:
        lines += ["", "Arrows:"]
        for edge in system.edges:
            source, target = system.node(edge.source), system.node(edge.target)
            names = (
                source.label if source else edge.source,
                target.label if target else edge.target,
            )
            lines.append(f"  {names[0]} --{edge.label or edge.kind}--> {names[1]}")
    if system.notes:
        lines += ["", "Not drawn:"] + [f"  {note}" for note in system.notes]
    return "\n".join(lines) + "\n"
