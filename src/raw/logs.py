"""The log lines of the long-running parts: text or JSON, with the active span's trace ids.

``raw serve``, ``raw dispatcher``, ``raw worker``, ``raw up`` (and its children),
``raw integrations serve`` and ``raw mcp`` call :func:`configure` once at start.
One handler on the root logger writes every record (the kit's, uvicorn's access
and error logs, Temporal's, SQLAlchemy's) to stderr in one format:

- ``text`` (the default): ``LEVEL logger: message``;
- ``json``: one object a line: ``timestamp`` (the record's time, UTC), ``level``,
  ``logger``, ``message``, ``part`` (coordinator, dispatcher, worker, ...),
  ``exception`` when there is one, and ``trace_id`` / ``span_id`` when a span is active.

The format comes from ``--log-format``, else ``RAW_LOG_FORMAT``, else
``system.observability.log_format``, else text (:func:`resolve_format`). In JSON, the
command's own lines (``raw serve: ... on http://...``) are records too (:func:`say`), so
every line on stderr parses.

Trace ids are read only when ``opentelemetry.trace`` is already loaded (tracing is on):
logging never imports OpenTelemetry. Secrets never reach a line: URLs lose their
passwords and secret query values (:mod:`raw.redact`), and the values of the settings
whose names say they are secret (``RAW_API_TOKEN``, webhook secrets) are masked.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from raw.errors import UsageError
from raw.redact import MASK, redact_url, redact_urls, setting_secrets

__all__ = [
    "ENV",
    "FORMATS",
    "JsonFormatter",
    "TextFormatter",
    "configure",
    "json_line",
    "resolve_format",
    "say",
    "span_ids",
    "structured",
]

ENV = "RAW_LOG_FORMAT"
FORMATS = ("text", "json")
_ACCESS = "uvicorn.access"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", _ACCESS)
"""uvicorn's own logging config gives these handlers of their own and stops them propagating."""

_state: dict[str, str] = {}
"""What :func:`configure` set: ``format`` and ``part``."""


def resolve_format(flag: str | None = None, configured: str | None = None) -> str:
    """``--log-format``, else ``RAW_LOG_FORMAT``, else the config's, else ``text``."""
    source, value = "--log-format", flag
    if not value:
        source, value = ENV, os.environ.get(ENV, "").strip()
    if not value:
        source, value = "system.observability.log_format", configured
    chosen = (value or "text").strip().lower()
    if chosen not in FORMATS:
        raise UsageError(
            f"{source} is '{value}': give one of {', '.join(FORMATS)} (json: one JSON object "
            "a line, for a log collector)."
        )
    return chosen


def span_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the active span as hex, or None (no span, or tracing off).

    Reads ``opentelemetry.trace`` only if something already imported it.
    """
    trace: Any = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


class _Redactor:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.secrets = setting_secrets(environ)

    def __call__(self, text: str) -> str:
        text = redact_urls(text)
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


def _access_fields(record: logging.LogRecord) -> dict[str, Any]:
    """uvicorn's access record: its args are (client, method, path, HTTP version, status)."""
    args = record.args
    if record.name != _ACCESS or not isinstance(args, tuple) or len(args) != 5:
        return {}
    client, method, path, version, status = args
    return {"client": client, "method": method, "path": path, "status": status}


class _AccessRedaction(logging.Filter):
    """A request's query may carry a token (``?token=...``): its value never reaches a line."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _access_fields(record)
        if fields and isinstance(record.args, tuple):
            args = list(record.args)
            args[2] = redact_url(str(args[2]))
            record.args = tuple(args)
        return True


class TextFormatter(logging.Formatter):
    """``LEVEL logger: message``, the trace ids after it when a span is active."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.redact = _Redactor(environ)

    def format(self, record: logging.LogRecord) -> str:
        line = f"{record.levelname} {record.name}: {record.getMessage()}"
        ids = span_ids()
        if ids is not None:
            line += f" trace_id={ids[0]} span_id={ids[1]}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        elif record.exc_text:
            line += "\n" + record.exc_text
        return self.redact(line)


class JsonFormatter(logging.Formatter):
    """One JSON object a line (see the module's doc for its fields)."""

    def __init__(self, part: str, environ: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.part = part
        self.redact = _Redactor(environ)

    def document(self, record: logging.LogRecord) -> dict[str, Any]:
        created = datetime.fromtimestamp(record.created, UTC)
        doc: dict[str, Any] = {
            "timestamp": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": self.redact(record.getMessage()),
            "part": getattr(record, "raw_part", None) or self.part,
        }
        access = _access_fields(record)
        if access:
            doc["http"] = access
        if record.exc_info:
            doc["exception"] = self.redact(self.formatException(record.exc_info))
        elif record.exc_text:
            doc["exception"] = self.redact(record.exc_text)
        ids = span_ids()
        if ids is not None:
            doc["trace_id"], doc["span_id"] = ids
        return doc

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self.document(record), ensure_ascii=False, default=str)


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one handler :func:`configure` installs (and replaces when called again)."""


def configure(part: str, log_format: str, *, stream: TextIO | None = None) -> None:
    """Send every record to ``stream`` (stderr) in ``log_format``, labelled with ``part``.

    Third parties log from WARNING up (as Python's last-resort handler did); the kit's
    own loggers (``raw.*``) from INFO. uvicorn's loggers lose any handlers of their own
    and propagate here (uvicorn then runs with ``log_config=None``).
    """
    handler = _Handler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter(part) if log_format == "json" else TextFormatter())
    handler.addFilter(_AccessRedaction())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("raw").setLevel(logging.INFO)
    _state.update(format=log_format, part=part)


def structured() -> bool:
    """Whether :func:`configure` chose JSON: the command's own lines go through :func:`say`."""
    return _state.get("format") == "json"


def say(message: str, *, level: int = logging.INFO) -> None:
    """A command's own line (``raw worker: polling ...``) as a record of ``raw.<part>``."""
    logging.getLogger(f"raw.{_state.get('part', 'cli')}").log(level, "%s", message)


def json_line(message: str, *, part: str, logger: str, level: int = logging.INFO) -> str:
    """One JSON log line built outside logging (``raw up`` wrapping a part's plain line)."""
    record = logging.LogRecord(logger, level, "", 0, "%s", (message,), None)
    formatter = _formatters.get(part)
    if formatter is None:
        formatter = _formatters[part] = JsonFormatter(part)
    return formatter.format(record)


_formatters: dict[str, JsonFormatter] = {}
