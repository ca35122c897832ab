"""RAW Systems: durable, event-driven business systems from small, stateless RAW workflows.

from raw import BaseWorkflow, step, retry

class AnalyzeCV(BaseWorkflow[CVParams]):
    @step("analyze")
    def analyze(self) -> dict: ...
"""

from __future__ import annotations

from raw import clock
from raw.coordinator import run_mirror as _run_mirror
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
from raw.workflow import recorder as _recorder

# The composition root: the runtime records runs; the coordinator's run index is
# wired in here, so every entry point mirrors to it and the runtime never imports it.
_recorder.register_mirror_factory(_run_mirror.run_index_mirror)

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
