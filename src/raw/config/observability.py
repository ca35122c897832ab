"""``system.observability``: how the running parts show what they do (logs, trace links).

    system:
      observability:
        log_format: json            # or text (default); --log-format and RAW_LOG_FORMAT win
        trace_url: "http://localhost:16686/trace/{trace_id}"   # RAW_TRACE_URL wins

``trace_url`` is a template: ``{trace_id}`` (32 hex digits) and optionally ``{span_id}``
(16) are replaced. Jaeger: ``http://localhost:16686/trace/{trace_id}``; Grafana Tempo
(Explore): ``https://grafana.example.com/explore?left={"datasource":"tempo","queries":
[{"query":"{trace_id}","queryType":"traceql"}]}``; Honeycomb:
``https://ui.honeycomb.io/<team>/environments/<env>/trace?trace_id={trace_id}``.
:func:`trace_link` turns a trace id into its link. Imports pydantic only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Literal

from pydantic import Field, field_validator

from raw.config._base import Strict
from raw.errors import ConfigError

__all__ = ["TRACE_URL_SETTING", "ObservabilityConfig", "trace_link", "trace_url_template"]

TRACE_URL_SETTING = "RAW_TRACE_URL"
_PLACEHOLDERS = ("trace_id", "span_id")
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_SPAN_ID = re.compile(r"^[0-9a-f]{16}$")


def check_template(value: str) -> str:
    """``value`` if it is an http(s) URL template with ``{trace_id}`` in it.

    Other braces are literal (Grafana's Explore URL holds JSON)."""
    value = value.strip()
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"'{value}' is not an http(s) URL template")
    if "{trace_id}" not in value:
        raise ValueError(f"'{value}' has no {{trace_id}} to put the trace id in")
    return value


def _escape(value: str) -> str:
    """Every brace doubled except around a known placeholder: ``{"q":"{trace_id}"}`` works."""
    out = value.replace("{", "{{").replace("}", "}}")
    for name in _PLACEHOLDERS:
        out = out.replace("{{" + name + "}}", "{" + name + "}")
    return out


class ObservabilityConfig(Strict):
    """Logs and trace links of the running parts (tracing itself: the ``OTEL_*`` settings)."""

    log_format: Literal["text", "json"] | None = Field(
        default=None,
        description=(
            "The log lines of raw serve, dispatcher, worker, up, integrations serve and mcp: "
            "text or json (one object a line with trace_id/span_id); --log-format and "
            "RAW_LOG_FORMAT win; default text."
        ),
    )
    trace_url: str | None = Field(
        default=None,
        description=(
            "A trace viewer's link with {trace_id} (and optionally {span_id}): the operator "
            "page links trace ids to it, e.g. Jaeger's http://localhost:16686/trace/{trace_id}; "
            "RAW_TRACE_URL wins; none: trace ids are plain text."
        ),
    )

    @field_validator("trace_url")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        return check_template(value) if value else None


def trace_url_template(
    configured: str | None = None, environ: Mapping[str, str] | None = None
) -> str | None:
    """``RAW_TRACE_URL`` when set (checked like the config's), else ``configured``, else None."""
    env = os.environ if environ is None else environ
    value = (env.get(TRACE_URL_SETTING) or "").strip()
    if value:
        try:
            return check_template(value)
        except ValueError as exc:
            raise ConfigError(f"{TRACE_URL_SETTING}: {exc}.") from None
    return configured or None


def trace_link(
    trace_id: str | None, template: str | None, span_id: str | None = None
) -> str | None:
    """The trace viewer's URL of ``trace_id``, or None (no template, or not a trace id)."""
    if not template or not trace_id or not _TRACE_ID.match(trace_id):
        return None
    span = span_id if span_id and _SPAN_ID.match(span_id) else ""
    return _escape(template).format(trace_id=trace_id, span_id=span)
