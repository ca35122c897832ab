"""Compatibility with the original RAW runtime.

Workflows written as ``from raw_runtime import BaseWorkflow, step, retry`` run
unchanged on this kit; every name here is the kit's own object.
"""

from __future__ import annotations

from raw import (
    BaseWorkflow,
    RunResult,
    cache,
    cache_step,
    conditional,
    retry,
    run_workflow,
    step,
)

__all__ = [
    "BaseWorkflow",
    "RunResult",
    "cache",
    "cache_step",
    "conditional",
    "retry",
    "run_workflow",
    "step",
]
