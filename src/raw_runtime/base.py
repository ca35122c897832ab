"""``BaseWorkflow`` and its decorators, where the original had them (``raw_runtime.base``)."""

from __future__ import annotations

from raw.workflow.base import BaseWorkflow
from raw.workflow.steps import cache, retry, step
from raw_runtime._refused import refuse

__all__ = ["BaseWorkflow", "cache", "retry", "step"]

__getattr__ = refuse(__name__)
