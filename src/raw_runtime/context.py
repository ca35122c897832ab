"""``WorkflowContext``, ``get_workflow_context`` and ``set_workflow_context``.

None outside a run; inside one a view of the run the runner records, so what
``emit`` and ``add_artifact`` are given lands in the run's log and manifest
(:mod:`raw.workflow.workflow_context`).
"""

from __future__ import annotations

from raw.workflow.workflow_context import (
    WorkflowContext,
    get_workflow_context,
    set_workflow_context,
)
from raw_runtime._refused import refuse

__all__ = ["WorkflowContext", "get_workflow_context", "set_workflow_context"]

__getattr__ = refuse(__name__)
