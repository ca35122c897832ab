"""``BaseWorkflow[Params]``: what a RAW workflow author subclasses.

A workflow is a pure function with a record: it takes validated ``Params``,
runs its ``@step`` methods and returns an output. Define ``run()`` to control
the order (its return value is the output; an ``int`` keeps the original
runtime's meaning, 0 success); leave it out and the steps run in the order they
are defined, each called with no arguments, the last one's value being the
output.

The class body lives in :mod:`raw.workflow.definition`, which the runtime uses; this
module adds the ``python run.py`` entry point on top of it.
"""

from __future__ import annotations

import sys
from typing import NoReturn

from raw.workflow import terminal
from raw.workflow.definition import NoParams, P, WorkflowDefinition

__all__ = ["BaseWorkflow", "NoParams"]


class BaseWorkflow(WorkflowDefinition[P]):
    """Subclass as ``class AnalyzeCV(BaseWorkflow[CVParams])`` and add ``@step`` methods."""

    @classmethod
    def main(cls, argv: list[str] | None = None) -> NoReturn:
        """Parse ``--kebab-case`` flags from ``Params``, run, and exit with the run's code."""
        sys.exit(terminal.main(cls, sys.argv[1:] if argv is None else argv))
