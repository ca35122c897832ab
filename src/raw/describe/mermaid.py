"""The system map as a Mermaid flowchart, for READMEs (GitHub and GitLab draw it)."""

from __future__ import annotations

import re

from raw.describe.model import COLUMN_TITLES, EdgeKind, MapNode, SystemMap

__all__ = ["to_mermaid"]

_ARROWS: dict[EdgeKind, str] = {
    "start": "-->",
    "signal": "-.->",
    "signal_with_start": "-.->",
    "run_workflow": "-->",
    "runs": "-->",
    "uses": "-->",
}


def _id(node_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", node_id)


def _text(value: str) -> str:
    """Mermaid's entity codes for what would end or confuse a quoted label."""
    return (
        value.replace("#", "#35;")
        .replace("&", "#amp;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
    )


def _label(node: MapNode) -> str:
    return "<br/>".join(_text(line) for line in [node.label, *node.details])


def _shape(node: MapNode) -> str:
    text = f'"{_label(node)}"'
    if node.kind == "entity":
        return f"[({text})]"
    if node.kind == "schedule":
        return f"([{text}])"
    if node.kind == "integration":
        return f"[/{text}/]"
    if node.kind == "process":
        return f"[[{text}]]"
    return f"[{text}]"


def to_mermaid(system: SystemMap, *, fenced: bool = False) -> str:
    """``flowchart LR`` with one subgraph per column; ``fenced`` wraps it in ```mermaid."""
    lines = ["flowchart LR"]
    for column, title in enumerate(COLUMN_TITLES):
        nodes = [n for n in system.nodes if n.column == column]
        if not nodes:
            continue
        lines.append(f'  subgraph col{column}["{_text(title)}"]')
        lines += [f"    {_id(n.id)}{_shape(n)}" for n in nodes]
        lines.append("  end")
    for edge in system.edges:
        arrow = _ARROWS[edge.kind]
        label = f'|"{_text(edge.label)}"|' if edge.label else ""
        lines.append(f"  {_id(edge.source)} {arrow}{label} {_id(edge.target)}")
    text = "\n".join(lines) + "\n"
    return f"```mermaid\n{text}```\n" if fenced else text
