"""RAW Systems: durable, event-driven business systems from small, stateless RAW workflows.

from raw import BaseWorkflow, step, retry

class AnalyzeCV(BaseWorkflow[CVParams]):
    @step("analyze")
    def analyze(self) -> dict: ...
"""

from __future__ import annotations

__version__ = "0.1.0"

from raw import clock
from raw.errors import RawError
from raw.workflow import (
    BaseWorkflow,
    NoParams,
    RunResult,
    StepResult,
    cache,
    cache_step,
    conditional,
    retry,
    run_workflow,
    run_workflow_async,
    step,
)

__all__ = [
    "BaseWorkflow",
    "NoParams",
    "RawError",
    "RunResult",
    "StepResult",
    "__version__",
    "cache",
    "cache_step",
    "clock",
    "conditional",
    "retry",
    "run_workflow",
    "run_workflow_async",
    "step",
]
