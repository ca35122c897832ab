"""The workers: RAW workflows, their steps, and the runner that runs and records them."""

from __future__ import annotations

from raw.workflow.base import BaseWorkflow, NoParams
from raw.workflow.result import RunResult, StepResult
from raw.workflow.runner import run_workflow, run_workflow_async
from raw.workflow.steps import cache, cache_step, conditional, retry, step

__all__ = [
    "BaseWorkflow",
    "NoParams",
    "RunResult",
    "StepResult",
    "cache",
    "cache_step",
    "conditional",
    "retry",
    "run_workflow",
    "run_workflow_async",
    "step",
]
