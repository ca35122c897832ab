"""``raw simulate``: a system's multi-day scenarios, run in seconds on simulated time.

See docs/simulate.md and :mod:`raw.simulate.scenario` for the scenario format.
"""

from __future__ import annotations

from raw.simulate.harness import SimulatedSystem, SimulationError
from raw.simulate.runner import ScenarioResult, StepOutcome, run_scenario
from raw.simulate.scenario import Scenario, ScenarioError, load_scenario, scenario_json_schema

__all__ = [
    "ScenarioError",
    "ScenarioResult",
    "Scenario",
    "SimulatedSystem",
    "SimulationError",
    "StepOutcome",
    "load_scenario",
    "run_scenario",
    "scenario_json_schema",
]
