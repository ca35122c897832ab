"""Quality gates: ``raw gates`` runs them with time limits, a log each and a journal.

Configured in ``.raw/config.yaml`` under ``builder.gates`` (:mod:`raw.gates.spec`);
run one after another, each in a process of its own (:mod:`raw.gates.runner`).
The built-in gates (:mod:`raw.gates.builtin`): ``validate``, ``dry``,
``temporal-validate``, ``docker-validate`` and ``system-check``
(:mod:`raw.gates.system_check`), which proves the parts of a system agree.
"""

from __future__ import annotations

from raw.gates.runner import GateResult, GatesRun, run_gates
from raw.gates.spec import GateSpec, select_gates

__all__ = ["GateResult", "GateSpec", "GatesRun", "run_gates", "select_gates"]
