"""Tools as the original RAW runtime offered them: ``@tool`` and ``self.tool(name)``.

A tool is a reusable action with one async interface: ``run(**config)`` yields
:class:`ToolEvent` s and ends with a ``completed`` or ``failed`` one; ``call(**config)``
runs it and returns the final :class:`ToolResult`. ``@tool`` turns a plain function
(sync or async) into one and registers it under its name.

``self.tool(name)`` finds a tool registered in this process, else the project's own
tool package ``tools/<name>/`` (``tool.py`` or ``__init__.py`` defining a ``Tool``
subclass or an ``@tool`` function), the layout the original's ``raw create --tool``
wrote. The original also listed built-in tools (email, sms, crm, converse, ...) that
raised ``NotImplementedError``; none is pretended here: for email, telephony,
storage and chat use :mod:`raw.integrations`, or register a tool of your own.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field

from raw import clock
from raw.errors import RawError
from raw.workflow.context import current_run

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


class ToolEventType(StrEnum):
    """What a tool's event says."""

    STARTED = "started"
    PROGRESS = "progress"
    COMPLETED = "completed"
    FAILED = "failed"
    MESSAGE = "message"
    CHUNK = "chunk"
    WAITING = "waiting"
    RESUMED = "resumed"
    CUSTOM = "custom"


class ToolEvent(BaseModel):
    """One event a tool yields while it runs."""

    model_config = ConfigDict(frozen=True)

    event_id: str = Field(default_factory=lambda: uuid4().hex[:12])
    type: ToolEventType
    tool: str
    timestamp: datetime = Field(default_factory=clock.now)
    data: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class ToolResult(BaseModel):
    """How a tool's run ended: ``success``, its ``data`` or its ``error``."""

    model_config = ConfigDict(frozen=True)

    success: bool
    data: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    duration_seconds: float = 0.0


class ToolNotFoundError(RawError, KeyError):
    def __init__(self, name: str, available: list[str], searched: Path | None) -> None:
        self.name = name
        self.available = available
        where = f" nor in {searched}/{name}/" if searched is not None else ""
        listed = ", ".join(available) or "none"
        message = (
            f"No tool named '{name}' is registered{where} (registered: {listed}). Define one "
            f"with @tool in tools/{name}/tool.py, or register_tool(...) before the run. The "
            "original runtime's built-in tools (email, sms, crm, converse, summarize, ...) "
            "were never implemented (they raised NotImplementedError); for email, telephony, "
            "storage and chat use raw.integrations."
        )
        RawError.__init__(self, message)

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class Tool(ABC):
    """A reusable action; subclass it and implement ``run`` as an async generator."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    triggers: ClassVar[list[str]] = []

    @abstractmethod
    def run(self, **config: Any) -> AsyncIterator[ToolEvent]:
        """Yield events while working; end with a ``completed`` or ``failed`` one."""

    async def call(self, **config: Any) -> ToolResult:
        """Run the tool to its end and return how it ended."""
        started = clock.monotonic()
        last: ToolEvent | None = None
        async for event in self.run(**config):
            last = event
            if event.type == ToolEventType.FAILED:
                return ToolResult(
                    success=False, error=event.error, duration_seconds=clock.monotonic() - started
                )
        duration = clock.monotonic() - started
        if last is not None and last.type == ToolEventType.COMPLETED:
            return ToolResult(success=True, data=last.data, duration_seconds=duration)
        return ToolResult(
            success=False,
            error=f"Tool '{self.name}' ended without a completed event.",
            duration_seconds=duration,
        )

    def _event(self, kind: ToolEventType, error: str | None = None, **data: Any) -> ToolEvent:
        return ToolEvent(type=kind, tool=self.name, data=data, error=error)

    def _emit_started(self, **data: Any) -> ToolEvent:
        return self._event(ToolEventType.STARTED, **data)

    def _emit_progress(self, **data: Any) -> ToolEvent:
        return self._event(ToolEventType.PROGRESS, **data)

    def _emit_completed(self, **data: Any) -> ToolEvent:
        return self._event(ToolEventType.COMPLETED, **data)

    def _emit_failed(self, error: str, **data: Any) -> ToolEvent:
        return self._event(ToolEventType.FAILED, error, **data)

    def _emit_message(self, **data: Any) -> ToolEvent:
        return self._event(ToolEventType.MESSAGE, **data)


class _FunctionTool(Tool):
    """A tool made by ``@tool`` from a function: its return value is ``data["result"]``."""

    def __init__(
        self, func: Callable[..., Any], name: str, description: str, triggers: list[str]
    ) -> None:
        self.func = func
        self.name = name  # type: ignore[misc]
        self.description = description  # type: ignore[misc]
        self.triggers = triggers  # type: ignore[misc]
        self.__doc__ = func.__doc__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the function directly, as before it was a tool."""
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<tool {self.name!r}>"

    async def run(self, **config: Any) -> AsyncIterator[ToolEvent]:
        yield self._emit_started(**config)
        try:
            result = self.func(**config)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            yield self._emit_failed(f"{type(exc).__name__}: {exc}")
            return
        yield self._emit_completed(result=result)


class ToolRegistry:
    """Tools by name."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}
        self._lock = threading.Lock()

    def register(self, tool: Tool) -> None:
        with self._lock:
            self._tools[tool.name] = tool

    def get(self, name: str) -> Tool | None:
        with self._lock:
            return self._tools.get(name)

    def list_tools(self) -> list[str]:
        with self._lock:
            return sorted(self._tools)

    def has_tool(self, name: str) -> bool:
        return self.get(name) is not None

    def require(self, name: str) -> Tool:
        found = self.get(name) or _from_project(name, self)
        if found is None:
            raise ToolNotFoundError(name, self.list_tools(), _project_tools_dir())
        return found


_registry = ToolRegistry()


def get_tool_registry() -> ToolRegistry:
    """The process's tool registry."""
    return _registry


def set_tool_registry(registry: ToolRegistry) -> None:
    """Replace the process's tool registry (tests)."""
    global _registry
    _registry = registry


def register_tool(tool: Tool) -> None:
    """Register ``tool`` under its name."""
    get_tool_registry().register(tool)


def get_tool(name: str) -> Tool:
    """The tool named ``name``: registered, or found in the project's ``tools/<name>/``."""
    return get_tool_registry().require(name)


def tool(
    description: str = "",
    name: str | None = None,
    triggers: list[str] | None = None,
) -> Callable[[Callable[..., Any]], Tool]:
    """Make a function (sync or async) a tool and register it under ``name``."""

    def decorate(func: Callable[..., Any]) -> Tool:
        made = _FunctionTool(
            func, name or func.__name__, description or func.__doc__ or "", list(triggers or ())
        )
        register_tool(made)
        return made

    return decorate


def _project_tools_dir() -> Path | None:
    """``<project>/tools``: beside the ``.raw`` folder above the run's workflow, or the cwd."""
    run = current_run()
    start = run.workflow_dir if run is not None and run.workflow_dir else Path.cwd()
    for folder in (start.resolve(), *start.resolve().parents):
        if (folder / ".raw").is_dir():
            return folder / "tools"
    return None


def _from_project(name: str, registry: ToolRegistry) -> Tool | None:
    tools_dir = _project_tools_dir()
    if tools_dir is None or not name.isidentifier():
        return None
    package = tools_dir / name
    source = package / "tool.py"
    if not source.is_file():
        source = package / "__init__.py"
    if not source.is_file():
        return None
    module_name = f"raw_project_tools.{name}"
    spec = importlib.util.spec_from_file_location(module_name, source)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    found = registry.get(name)  # an @tool in the module registered itself
    if found is not None:
        return found
    for value in vars(module).values():
        if isinstance(value, Tool):
            registry.register(value)
            return value
        if (
            isinstance(value, type)
            and issubclass(value, Tool)
            and value is not Tool
            and value.__module__ == module_name
            and not inspect.isabstract(value)
        ):
            instance = value()
            registry.register(instance)
            return instance
    return None
