"""Tools: ``@tool``, ``self.tool(name)``, ``Tool``, ``ToolEvent``, ``ToolResult`` and the rest.

The kit's own (:mod:`raw.workflow.tools`). ``self.tool(name)`` finds a tool
registered with ``@tool`` or ``register_tool``, else the project's
``tools/<name>/tool.py``. The original's built-in tools were never implemented
and are not pretended here.
"""

from __future__ import annotations

from raw.workflow.tools import (
    Tool,
    ToolEvent,
    ToolEventType,
    ToolNotFoundError,
    ToolRegistry,
    ToolResult,
    get_tool,
    get_tool_registry,
    register_tool,
    set_tool_registry,
    tool,
)
from raw_runtime._refused import refuse

__all__ = [
    "Tool",
    "ToolEvent",
    "ToolEventType",
    "ToolNotFoundError",
    "ToolRegistry",
    "ToolResult",
    "get_tool",
    "get_tool_registry",
    "register_tool",
    "set_tool_registry",
    "tool",
]

__getattr__ = refuse(__name__)
