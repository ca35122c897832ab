"""Old import paths of the orchestrator kit, kept for one release with a DeprecationWarning.

The kit was split the way ``temporalio`` is: :mod:`raw.orchestrator.workflow`
(sandbox-safe, for process code), :mod:`raw.orchestrator.client` and
:mod:`raw.orchestrator.activity`. ``from raw.orchestrator import X`` and
``from raw.orchestrator.process import X`` still answer, and say where X lives now.
"""

from __future__ import annotations

WORKFLOW = "raw.orchestrator.workflow"
CLIENT = "raw.orchestrator.client"
ACTIVITY = "raw.orchestrator.activity"

PACKAGE_NAMES: dict[str, str] = {
    "FirstSignal": WORKFLOW,
    "RawProcess": WORKFLOW,
    "RawState": WORKFLOW,
    "RawWorkflowCall": WORKFLOW,
    "RawWorkflowResult": WORKFLOW,
    "execute_raw": WORKFLOW,
    "first_signal": WORKFLOW,
    "set_step": WORKFLOW,
    "sleep_until": WORKFLOW,
    "wait_for": WORKFLOW,
    "SignalEnvelope": CLIENT,
    "cancel": CLIENT,
    "connect": CLIENT,
    "describe": CLIENT,
    "list_processes": CLIENT,
    "process_id": CLIENT,
    "query": CLIENT,
    "signal": CLIENT,
    "signal_with_start": CLIENT,
    "start_process": CLIENT,
    "RawActivities": ACTIVITY,
    "run_raw_workflow": ACTIVITY,
    "run_raw_workflow_call": ACTIVITY,
}
"""What ``from raw.orchestrator import X`` gave before the split -> where X lives now."""

PROCESS_NAMES: dict[str, str] = dict.fromkeys(
    (
        "SIGNAL_IDEMPOTENCY_FIELD",
        "FirstSignal",
        "RawEvent",
        "RawProcess",
        "RawState",
        "execute_raw",
        "first_signal",
        "set_step",
        "sleep_until",
        "wait_for",
    ),
    WORKFLOW,
)
"""What ``raw.orchestrator.process`` held -> where it lives now."""
