"""The Temporal runtime every client, worker and replayer of the kit uses.

By default the SDK's core writes its own log lines to stdout, which would break
the rule that a command's ``--json`` answer is the only thing on stdout. The
kit's runtime forwards them to Python logging instead (logger
``temporalio.core``: warnings and errors reach stderr), where they belong.

``raw worker --metrics-port`` asks for the SDK's own metrics as well: the
runtime then serves them in Prometheus's text format at ``http://HOST:PORT/metrics``
(``temporal_workflow_task_schedule_to_start_latency``,
``temporal_activity_schedule_to_start_latency``, ``temporal_workflow_task_execution_latency``,
the pollers and slots...; durations in seconds; docs/observability.md lists what to
watch). The
metrics belong to the runtime, so they must be asked for before the first client
is made.
"""

from __future__ import annotations

import logging
import threading

from raw.errors import UsageError

__all__ = ["install", "metrics_address"]

_lock = threading.Lock()
_installed = False
_metrics: str | None = None


def install(*, metrics_bind_address: str | None = None) -> None:
    """Make the kit's runtime the default (idempotent); call before any client is made.

    ``metrics_bind_address`` (``HOST:PORT``) also serves the SDK's metrics for
    Prometheus there. Installing again with an address replaces a runtime installed
    without one; call it first thing, before any client exists.
    """
    global _installed, _metrics
    with _lock:
        if _installed and (metrics_bind_address is None or metrics_bind_address == _metrics):
            return
        # Lazy: temporalio loads only when a worker or client installs the runtime.
        from temporalio.runtime import (
            LogForwardingConfig,
            LoggingConfig,
            PrometheusConfig,
            Runtime,
            TelemetryConfig,
            TelemetryFilter,
        )

        forwarding = LogForwardingConfig(logger=logging.getLogger("temporalio.core"))
        telemetry = TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=forwarding,
            ),
            metrics=(
                # Seconds, as Prometheus's conventions and the coordinator's metrics have it.
                PrometheusConfig(bind_address=metrics_bind_address, durations_as_seconds=True)
                if metrics_bind_address
                else None
            ),
        )
        try:
            made = Runtime(telemetry=telemetry)
        except ValueError as exc:  # the metrics' address: in use, or not one
            raise UsageError(
                f"The worker's metrics cannot listen on {metrics_bind_address}: {exc}. "
                "Choose another --metrics-port (or --metrics-host)."
            ) from None
        Runtime.set_default(made, error_if_already_set=False)
        _installed, _metrics = True, metrics_bind_address


def metrics_address() -> str | None:
    """Where the installed runtime serves the SDK's metrics, or None."""
    return _metrics
