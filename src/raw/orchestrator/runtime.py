"""The Temporal runtime every client, worker and replayer of the kit uses.

By default the SDK's core writes its own log lines to stdout, which would break
the rule that a command's ``--json`` answer is the only thing on stdout. The
kit's runtime forwards them to Python logging instead (logger
``temporalio.core``: warnings and errors reach stderr), where they belong.
"""

from __future__ import annotations

import logging
import threading

_lock = threading.Lock()
_installed = False


def install() -> None:
    """Make the kit's runtime the default (idempotent); call before any client is made."""
    global _installed
    with _lock:
        if _installed:
            return
        # Lazy: temporalio loads only when a worker or client installs the runtime.
        from temporalio.runtime import (
            LogForwardingConfig,
            LoggingConfig,
            Runtime,
            TelemetryConfig,
            TelemetryFilter,
        )

        forwarding = LogForwardingConfig(logger=logging.getLogger("temporalio.core"))
        telemetry = TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=forwarding,
            )
        )
        Runtime.set_default(Runtime(telemetry=telemetry), error_if_already_set=False)
        _installed = True
