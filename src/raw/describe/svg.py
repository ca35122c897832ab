"""The system map as SVG, laid out here (no Graphviz): four columns, arrows left to right.

Columns: webhook routes and schedules, processes, RAW workflows, integrations and
tables. Boxes stack in their column, each column centred on the tallest; arrows
are curves from a box's right side to the next box's left side, spread along both
so they do not meet in one point. The drawing scales to its container (a
``viewBox``, no fixed size), names itself (``<title>``, ``<desc>``), and draws with
presentation attributes only: no ``<style>`` or ``style=``, so a page with a strict
Content-Security-Policy shows it as it is. Colours keep 4.5:1 for text and 3:1
for lines on white; kinds of arrow differ by dash pattern as well as colour.

The operator page passes ``figures`` (live lines under a box, an alert in red, each
may be a link) and ``links`` (each box's name a link into the view that lists it).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from raw.describe.model import COLUMN_TITLES, EdgeKind, MapEdge, MapNode, NodeKind, SystemMap

__all__ = ["Figure", "to_svg"]

BOX_WIDTH = 260
GAP_X = 64
MARGIN = 16
TOP = 56
GAP_Y = 22
LABEL_LINE = 20
LINE = 16
PAD = 10
CHARS_PER_LINE = 34
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
TEXT = "#1b1b1b"
MUTED = "#404040"
ALERT = "#a4001d"
FIGURE = "#0b4a8b"

KIND_COLOUR: dict[NodeKind, str] = {
    "route": "#1f5fa8",
    "schedule": "#6b4c00",
    "process": "#6a2c91",
    "workflow": "#24692b",
    "integration": "#8a4b00",
    "entity": "#4a4a4a",
}
KIND_NAME: dict[NodeKind, str] = {
    "route": "webhook route",
    "schedule": "schedule",
    "process": "process",
    "workflow": "RAW workflow",
    "integration": "integration",
    "entity": "entity table",
}
EDGE_STYLE: dict[EdgeKind, tuple[str, str | None, str]] = {
    "start": ("#1f5fa8", None, "starts"),
    "signal": ("#6a2c91", "6 4", "signals"),
    "signal_with_start": ("#6a2c91", "6 4", "signals or starts"),
    "run_workflow": ("#24692b", None, "runs"),
    "runs": ("#24692b", None, "runs"),
    "uses": ("#8a4b00", "2 3", "uses"),
}
LEGEND: tuple[EdgeKind, ...] = ("start", "signal", "runs", "uses")


@dataclass(frozen=True)
class Figure:
    """A live line under a box (``3 deliveries/min``); ``alert`` draws it in red, ``href``
    makes it a link of its own (a box's dead letters into the Dead letters view)."""

    text: str
    alert: bool = False
    href: str | None = None


@dataclass
class _Box:
    node: MapNode
    lines: list[str]
    figures: list[Figure]
    x: float = 0.0
    y: float = 0.0

    @property
    def height(self) -> float:
        return PAD * 2 + 4 + LABEL_LINE + LINE * (len(self.lines) + len(self.figures))


def _wrap(lines: Sequence[str]) -> list[str]:
    wrapped: list[str] = []
    for line in lines:
        wrapped += textwrap.wrap(line, CHARS_PER_LINE, break_on_hyphens=False) or [""]
    return wrapped


def _layout(
    system: SystemMap, figures: Mapping[str, Sequence[Figure]]
) -> tuple[dict[str, _Box], float, float]:
    columns: list[list[_Box]] = [[] for _ in COLUMN_TITLES]
    for node in system.nodes:
        box = _Box(node, _wrap(node.details), list(figures.get(node.id, ())))
        columns[node.column].append(box)
    heights = [sum(b.height for b in c) + GAP_Y * max(len(c) - 1, 0) for c in columns]
    tallest = max(heights)
    boxes: dict[str, _Box] = {}
    for index, column in enumerate(columns):
        y = TOP + (tallest - heights[index]) / 2
        for box in column:
            box.x, box.y = MARGIN + index * (BOX_WIDTH + GAP_X), y
            y += box.height + GAP_Y
            boxes[box.node.id] = box
    width = MARGIN * 2 + len(columns) * BOX_WIDTH + (len(columns) - 1) * GAP_X
    return boxes, width, TOP + tallest


def _ports(edges: Sequence[MapEdge], boxes: Mapping[str, _Box]) -> dict[int, tuple[float, float]]:
    """Edge index -> (y where it leaves its source, y where it enters its target)."""
    leaving: dict[str, list[int]] = {}
    entering: dict[str, list[int]] = {}
    for index, edge in enumerate(edges):
        leaving.setdefault(edge.source, []).append(index)
        entering.setdefault(edge.target, []).append(index)
    ys: dict[int, list[float]] = {i: [0.0, 0.0] for i in range(len(edges))}
    for side, groups, other in ((0, leaving, "target"), (1, entering, "source")):
        for node_id, indices in groups.items():
            box = boxes[node_id]
            indices.sort(key=lambda i: boxes[getattr(edges[i], other)].y)
            for rank, index in enumerate(indices):
                ys[index][side] = box.y + box.height * (rank + 1) / (len(indices) + 1)
    return {i: (a, b) for i, (a, b) in ys.items()}


def _attr(name: str, value: str | float) -> str:
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return f" {name}={quoteattr(text)}"


def _text(x: float, y: float, content: str, *, size: int, fill: str, weight: str = "") -> str:
    bold = _attr("font-weight", weight) if weight else ""
    return (
        f"<text{_attr('x', x)}{_attr('y', y)}{_attr('font-size', size)}{_attr('fill', fill)}"
        f"{bold}>{escape(content)}</text>"
    )


def _linked(content: str, href: str | None, label: str | None = None) -> str:
    if href is None:
        return content
    named = _attr("aria-label", label) if label else ""
    return f"<a{_attr('href', href)}{named}>{content}</a>"


def _box(box: _Box, link: str | None) -> str:
    node = box.node
    colour = KIND_COLOUR[node.kind]
    spoken = ". ".join([f"{KIND_NAME[node.kind]} {node.label}", *node.details])
    parts = [
        f"<rect{_attr('x', box.x)}{_attr('y', box.y)}{_attr('width', BOX_WIDTH)}"
        f'{_attr("height", box.height)} rx="6" fill="#ffffff"{_attr("stroke", colour)}'
        ' stroke-width="2"/>',
        f'<rect{_attr("x", box.x)}{_attr("y", box.y)} width="6"{_attr("height", box.height)}'
        f' rx="3"{_attr("fill", colour)}/>',
    ]
    x = box.x + PAD + 6
    label = _text(x, box.y + PAD + 15, node.label, size=15, fill=TEXT, weight="600")
    parts.append(_linked(label, link, f"{KIND_NAME[node.kind]} {node.label}"))
    y = box.y + PAD + LABEL_LINE + 14
    for line in box.lines:
        parts.append(_text(x, y, line, size=12, fill=MUTED))
        y += LINE
    for figure in box.figures:
        fill = ALERT if figure.alert else FIGURE
        drawn = _text(x, y, figure.text, size=12, fill=fill, weight="600")
        parts.append(_linked(drawn, figure.href))
        y += LINE
    title = f"<title>{escape(spoken)}</title>"
    klass = f' class="map-node map-{node.kind}"'
    return f"<g{klass} data-node={quoteattr(node.id)}>{title}{''.join(parts)}</g>"


def _curve(a: tuple[float, float], b: tuple[float, float]) -> str:
    bend = max((b[0] - a[0]) / 2, 12.0)
    return f" C{a[0] + bend:g} {a[1]:g} {b[0] - bend:g} {b[1]:g} {b[0]:g} {b[1]:g}"


class _Channels:
    """Where an arrow that skips a column crosses it: through the gap between two boxes
    nearest its course (above the first or below the last at the ends), a few pixels
    apart from the arrows already there."""

    def __init__(self, boxes: Mapping[str, _Box]) -> None:
        self.columns: dict[float, list[_Box]] = {}
        for box in boxes.values():
            self.columns.setdefault(box.x, []).append(box)
        self.used: dict[tuple[float, float], int] = {}

    def cross(self, x: float, wanted: float) -> float:
        column = sorted(self.columns.get(x, []), key=lambda b: b.y)
        if not column:
            return wanted
        gaps = [column[0].y - GAP_Y / 2]
        gaps += [a.y + a.height + GAP_Y / 2 for a in column[:-1]]
        gaps.append(column[-1].y + column[-1].height + GAP_Y / 2)
        gap = min(gaps, key=lambda g: abs(g - wanted))
        count = self.used.get((x, gap), 0)
        self.used[(x, gap)] = count + 1
        offset = (count + 1) // 2 * 5 * (1 if count % 2 else -1)
        return gap + offset


def _edge(
    edge: MapEdge,
    boxes: Mapping[str, _Box],
    ys: tuple[float, float],
    channels: _Channels,
    prefix: str,
) -> str:
    source, target = boxes[edge.source], boxes[edge.target]
    colour, dash, verb = EDGE_STYLE[edge.kind]
    x1, x2 = source.x + BOX_WIDTH, target.x - 2
    path = f"M{x1:g} {ys[0]:g}"
    here = (x1, ys[0])
    x = source.x + BOX_WIDTH + GAP_X
    while x < target.x - 1:  # each column the arrow skips
        wanted = ys[0] + (ys[1] - ys[0]) * (x - x1) / max(x2 - x1, 1.0)
        y = channels.cross(x, wanted)
        path += _curve(here, (x, y)) + f" H{x + BOX_WIDTH:g}"
        here = (x + BOX_WIDTH, y)
        x += BOX_WIDTH + GAP_X
    path += _curve(here, (x2, ys[1]))
    dashed = _attr("stroke-dasharray", dash) if dash else ""
    words = f"{source.node.label} {edge.label or verb} {target.node.label}"
    return (
        f'<path d="{path}" fill="none"{_attr("stroke", colour)} stroke-width="1.75"{dashed}'
        f' marker-end="url(#{prefix}-arrow-{edge.kind})" class="map-edge">'
        f"<title>{escape(words)}</title></path>"
    )


def _defs(prefix: str) -> str:
    markers = "".join(
        f'<marker id="{prefix}-arrow-{kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7"'
        f' markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z"'
        f"{_attr('fill', colour)}/></marker>"
        for kind, (colour, _, _) in EDGE_STYLE.items()
    )
    return f"<defs>{markers}</defs>"


def _legend(y: float, prefix: str) -> tuple[str, float]:
    parts = []
    x = float(MARGIN)
    for kind in LEGEND:
        colour, dash, verb = EDGE_STYLE[kind]
        dashed = _attr("stroke-dasharray", dash) if dash else ""
        parts.append(
            f'<path d="M{x:g} {y:g} H{x + 36:g}"{_attr("stroke", colour)} stroke-width="1.75"'
            f'{dashed} marker-end="url(#{prefix}-arrow-{kind})"/>'
        )
        parts.append(_text(x + 44, y + 4, verb, size=12, fill=TEXT))
        x += 140
    return '<g class="map-legend">' + "".join(parts) + "</g>", y + 20


def _description(system: SystemMap) -> str:
    counts = {
        ("webhook route", "webhook routes"): len(system.of_kind("route")),
        ("schedule", "schedules"): len(system.of_kind("schedule")),
        ("process", "processes"): len(system.of_kind("process")),
        ("RAW workflow", "RAW workflows"): len(system.of_kind("workflow")),
        ("integration", "integrations"): len(system.of_kind("integration")),
        ("entity table", "entity tables"): len(system.of_kind("entity")),
    }
    listed = ", ".join(f"{n} {what[n != 1]}" for what, n in counts.items() if n)
    return (
        f"The {system.name} system: {listed or 'nothing configured yet'}, and "
        f"{len(system.edges)} {'arrow' if len(system.edges) == 1 else 'arrows'} from what "
        "arrives to what does the work."
    )


def to_svg(
    system: SystemMap,
    *,
    figures: Mapping[str, Sequence[Figure]] | None = None,
    links: Mapping[str, str] | None = None,
    id_prefix: str = "system-map",
) -> str:
    """The map as one ``<svg>`` element (an XML document of its own when written to a file)."""
    boxes, width, bottom = _layout(system, figures or {})
    heading = "".join(
        _text(MARGIN + i * (BOX_WIDTH + GAP_X), 30, title, size=13, fill=MUTED, weight="600")
        for i, title in enumerate(COLUMN_TITLES)
    )
    ports = _ports(system.edges, boxes)
    channels = _Channels(boxes)
    edges = "".join(
        _edge(e, boxes, ports[i], channels, id_prefix) for i, e in enumerate(system.edges)
    )
    nodes = "".join(_box(b, (links or {}).get(b.node.id)) for b in boxes.values())
    legend, height = _legend(bottom + 28, id_prefix)
    interactive = bool(links) or any(f.href for fs in (figures or {}).values() for f in fs)
    role = ' role="group"' if interactive else ' role="img"'
    return (
        '<svg xmlns="http://www.w3.org/2000/svg"'
        f"{_attr('viewBox', f'0 0 {width:g} {height + MARGIN:g}')}"
        f' width="100%"{role} aria-labelledby="{id_prefix}-title {id_prefix}-desc"'
        f'{_attr("font-family", FONT)} class="system-map">'
        f'<title id="{id_prefix}-title">System map of {escape(system.name)}</title>'
        f'<desc id="{id_prefix}-desc">{escape(_description(system))}</desc>'
        f'{_defs(id_prefix)}<rect width="100%" height="100%" fill="#ffffff"/>'
        f'{heading}<g class="map-edges">{edges}</g><g class="map-nodes">{nodes}</g>'
        f"{legend}</svg>\n"
    )
