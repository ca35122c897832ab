"""The original runtime's step decorators: ``raw_step``, ``cache_step``, ``retry``, ``conditional``.

Each is the kit's own decorator (:mod:`raw.workflow.steps`): ``raw_step`` is
``step``, ``cache_step`` is ``cache``. Where the kit differs from the original
on purpose (cache keys include the params; an async step is recorded when it
finishes), docs/migrating.md says why.
"""

from __future__ import annotations

from raw.workflow.steps import cache, cache_step, conditional, retry, step
from raw_runtime._refused import refuse

raw_step = step
"""The original runtime's name for :func:`raw.step`."""

__all__ = ["cache", "cache_step", "conditional", "raw_step", "retry", "step"]

__getattr__ = refuse(__name__)
