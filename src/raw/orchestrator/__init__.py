"""The orchestrator kit: RAW workflows inside durable Temporal processes.

Install with ``pip install 'raw-systems[orchestrator]'``. Built on the official
``temporalio`` SDK and Temporal's own servers::

    from temporalio import workflow

    with workflow.unsafe.imports_passed_through():
        from raw.orchestrator import RawProcess, execute_raw, first_signal, sleep_until

See docs/orchestrator.md.
"""

from __future__ import annotations

from raw.orchestrator.activity import (
    RawActivities,
    RawWorkflowCall,
    RawWorkflowResult,
    run_raw_workflow,
    run_raw_workflow_call,
)
from raw.orchestrator.client import (
    SignalEnvelope,
    cancel,
    describe,
    list_processes,
    process_id,
    query,
    signal,
    signal_with_start,
    start_process,
)
from raw.orchestrator.connect import connect
from raw.orchestrator.process import (
    FirstSignal,
    RawProcess,
    RawState,
    execute_raw,
    first_signal,
    set_step,
    sleep_until,
    wait_for,
)

__all__ = [
    "FirstSignal",
    "RawActivities",
    "RawProcess",
    "RawState",
    "RawWorkflowCall",
    "RawWorkflowResult",
    "SignalEnvelope",
    "cancel",
    "connect",
    "describe",
    "execute_raw",
    "first_signal",
    "list_processes",
    "process_id",
    "query",
    "run_raw_workflow",
    "run_raw_workflow_call",
    "set_step",
    "signal",
    "signal_with_start",
    "sleep_until",
    "start_process",
    "wait_for",
]
