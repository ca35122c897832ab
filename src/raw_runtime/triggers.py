"""``@on_event``: the original runtime's mark of the event a workflow handles.

As in the original, ``@on_event("twilio.call.incoming")`` records the event type on
the class and in this process's registry (``get_workflows_for_event``); it subscribes
the workflow to nothing. What starts a workflow on an event here is a webhook route
in ``.raw/config.yaml`` (the coordinator: signed webhooks, an inbox, retries) that
names the workflow; docs/migrating.md shows one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field

from raw import clock
from raw_runtime._refused import refuse

__all__ = [
    "TriggerEvent",
    "clear_trigger_registry",
    "get_workflows_for_event",
    "list_trigger_types",
    "on_event",
]

T = TypeVar("T", bound=type)

_lock = threading.Lock()
_registry: dict[str, list[type]] = {}


class TriggerEvent(BaseModel):
    """An external event, as the original described one."""

    model_config = ConfigDict(frozen=True)

    event_id: str = Field(default_factory=lambda: uuid4().hex[:12])
    event_type: str
    source: str
    timestamp: datetime = Field(default_factory=clock.now)
    data: dict[str, Any] = Field(default_factory=dict)


def on_event(event_type: str) -> Callable[[T], T]:
    """Record that the decorated workflow class handles ``event_type``."""

    def decorate(cls: T) -> T:
        types = (*getattr(cls, "__raw_triggers__", ()), event_type)
        cls.__raw_triggers__ = types  # type: ignore[attr-defined]
        cls._trigger_event_type = event_type  # type: ignore[attr-defined]
        with _lock:
            _registry.setdefault(event_type, []).append(cls)
        return cls

    return decorate


def get_workflows_for_event(event_type: str) -> list[type]:
    """The classes marked ``@on_event(event_type)`` in this process."""
    with _lock:
        return list(_registry.get(event_type, ()))


def list_trigger_types() -> list[str]:
    """The event types marked in this process."""
    with _lock:
        return list(_registry)


def clear_trigger_registry() -> None:
    """Forget every mark (tests)."""
    with _lock:
        _registry.clear()


__getattr__ = refuse(__name__)
