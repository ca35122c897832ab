"""RAW Systems: durable, event-driven business systems from small, stateless RAW workflows.

from raw import BaseWorkflow, step, retry

class AnalyzeCV(BaseWorkflow[CVParams]):
    @step("analyze")
    def analyze(self) -> dict: ...
"""

from __future__ import annotations

from raw import clock
from raw.coordinator.run_mirror import run_index_mirror
from raw.errors import RawError
from raw.version import __version__
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
from raw.workflow.recorder import register_mirror_factory

# The composition root: the runtime records runs; the coordinator's run index is
# wired in here, so every entry point mirrors to it and the runtime never imports it.
register_mirror_factory(run_index_mirror)

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
