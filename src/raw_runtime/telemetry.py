"""``log_metric`` and ``log_event``: measurements and events, written into the run's log.

The original's default sink dropped them (telemetry was opt-in); here each one is
a line in the run's ``run.log`` (``METRIC name=value unit tags`` / ``EVENT``) and a
record on the ``raw.telemetry`` logger (``extra={"metric": ...}`` / ``{"event": ...}``),
so a logging handler can export them. Outside a run only the logger gets them.
"""

from __future__ import annotations

import json
import logging
from enum import StrEnum
from typing import Any

from raw import clock
from raw.workflow.context import current_run
from raw_runtime._refused import refuse

__all__ = ["EventSeverity", "log_event", "log_metric"]

logger = logging.getLogger("raw.telemetry")


class EventSeverity(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


_LEVELS = {
    EventSeverity.DEBUG: logging.DEBUG,
    EventSeverity.INFO: logging.INFO,
    EventSeverity.WARNING: logging.WARNING,
    EventSeverity.ERROR: logging.ERROR,
    EventSeverity.CRITICAL: logging.CRITICAL,
}


def _run_line(kind: str, text: str) -> None:
    run = current_run()
    if run is not None:
        run.handle.log(f"{clock.now().isoformat()} {kind} {text}")


def log_metric(
    name: str,
    value: float,
    tags: dict[str, str] | None = None,
    unit: str | None = None,
) -> None:
    """Record a measurement: ``log_metric("rows", 120, unit="rows", tags={"source": "crm"})``."""
    number = float(value)
    record = {"name": name, "value": number, "unit": unit, "tags": dict(tags or {})}
    shown = f"{name}={number:g}" + (f" {unit}" if unit else "")
    if tags:
        shown += " " + " ".join(f"{k}={v}" for k, v in tags.items())
    _run_line("METRIC", shown)
    logger.info("metric %s", shown, extra={"metric": record})


def log_event(
    name: str,
    severity: EventSeverity | str = EventSeverity.INFO,
    message: str | None = None,
    data: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> None:
    """Record an event: ``log_event("order.shipped", message="...", data={...})``."""
    level = EventSeverity(severity)
    record = {
        "name": name,
        "severity": level.value,
        "message": message,
        "data": dict(data or {}),
        "tags": dict(tags or {}),
    }
    shown = name + (f": {message}" if message else "")
    if data:
        shown += " " + json.dumps(data, default=repr, sort_keys=True)
    _run_line(f"EVENT {level.value.upper()}", shown)
    logger.log(_LEVELS[level], "event %s", shown, extra={"event": record})


__getattr__ = refuse(__name__)
