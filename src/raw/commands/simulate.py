"""``raw simulate``: scenarios against the whole system on simulated time."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from raw import clock
from raw.commands.document import Document
from raw.errors import UsageError
from raw.files import write_atomic
from raw.ids import new_run_id
from raw.local_state import SIMULATE_DIR
from raw.project import Project, find_project
from raw.simulate.preflight import check_against_system
from raw.simulate.runner import ScenarioResult, StepOutcome, run_scenario
from raw.simulate.scenario import Scenario, load_scenario

__all__ = ["inline_scenario_path", "load_checked", "simulate_document"]

FAILED = 1
INLINE_DIR = "inline"


def inline_scenario_path(project: Project, text: str) -> Path:
    """Keep a scenario given as text (YAML or JSON) under .raw/simulate/inline/ and name it.

    The file is read like any other, so its errors name a real path.
    """
    path = project.raw_dir / SIMULATE_DIR / INLINE_DIR / f"{new_run_id(clock.now())}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text.encode("utf-8"))
    return path


def load_checked(project: Project, paths: Sequence[str | Path]) -> list[tuple[str, Scenario]]:
    """Read every scenario and check it against the system, before anything starts."""
    if not paths:
        raise UsageError("Name at least one scenario file, e.g. raw simulate scenarios/*.yaml")
    scenarios = [(str(path), load_scenario(path)) for path in paths]
    for path, scenario in scenarios:  # exit 2, not 1
        check_against_system(scenario, project, path)
    return scenarios


async def simulate_document(
    project_dir: str | Path | None,
    paths: Sequence[str | Path],
    *,
    record: bool = False,
    database_url: str | None = None,
    keep: bool = False,
    on_scenario: Callable[[str, Scenario], Any] | None = None,
    on_step: Callable[[StepOutcome], None] | None = None,
    on_result: Callable[[ScenarioResult, Project], None] | None = None,
) -> Document:
    """Run each scenario on time-skipping Temporal; the document holds every timeline."""
    project = find_project(project_dir)
    scenarios = load_checked(project, paths)
    results: list[ScenarioResult] = []
    for path, scenario in scenarios:
        workdir = project.raw_dir / SIMULATE_DIR / new_run_id(clock.now())
        if on_scenario is not None:
            on_scenario(path, scenario)
        result = await run_scenario(
            project,
            scenario,
            workdir=workdir,
            path=path,
            on_step=on_step,
            record_histories=record,
            database_url=database_url,
        )
        results.append(result)
        if on_result is not None:
            on_result(result, project)
        if not keep and result.passed:
            shutil.rmtree(workdir, ignore_errors=True)
    passed = bool(results) and all(r.passed for r in results)
    body = {"passed": passed, "scenarios": [r.model_dump(mode="json") for r in results]}
    return Document(body, 0 if passed else FAILED, detail=results)
