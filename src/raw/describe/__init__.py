"""The system map: a RAW system's parts as configured, and the arrows between them.

:func:`build_system_map` reads a project (its config and, with ``ast``, its process
and activity code) into a :class:`SystemMap`; :func:`to_text`, :func:`to_mermaid` and
:func:`to_svg` draw it. ``raw describe system`` prints it, the operator page's System
view draws it with live figures, and generated READMEs carry its Mermaid drawing.
"""

from __future__ import annotations

from raw.describe.build import build_system_map
from raw.describe.mermaid import to_mermaid
from raw.describe.model import MapEdge, MapNode, SystemMap
from raw.describe.svg import Figure, to_svg
from raw.describe.text import to_text

__all__ = [
    "Figure",
    "MapEdge",
    "MapNode",
    "SystemMap",
    "build_system_map",
    "to_mermaid",
    "to_svg",
    "to_text",
]
