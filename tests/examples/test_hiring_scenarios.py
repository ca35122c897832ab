"""The hiring system's scenarios, each a multi-day story run in seconds on simulated time.

The real coordinator app, database, worker and local integrations run against the
time-skipping server (see raw.simulate). A scenario passes only if every step
goes as written; a failed one prints its timeline and mismatches.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from raw.project import Project
from raw.simulate import load_scenario, run_scenario
from raw.simulate.runner import ScenarioResult

from .conftest import HIRING

SCENARIOS = sorted((HIRING / "scenarios").glob("*.yaml"))


def run(path: Path, workdir: Path, database_url: str | None = None) -> ScenarioResult:
    return asyncio.run(
        run_scenario(
            Project(HIRING),
            load_scenario(path),
            workdir=workdir,
            path=str(path),
            database_url=database_url,
        )
    )


def timeline(result: ScenarioResult) -> str:
    lines = [f"{result.scenario}: error {result.error}" if result.error else result.scenario]
    for step in result.steps:
        lines.append(f"  [{step.at:%a %d %b %H:%M}] {'ok' if step.ok else 'FAIL'} {step.summary}")
        lines += [f"      - {p}" for p in step.problems]
    return "\n".join(lines)


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_hiring_scenario_passes(path: Path, tmp_path: Path) -> None:
    result = run(path, tmp_path / "run")
    assert result.passed, timeline(result)
    assert len(result.steps) == len(load_scenario(path).steps)


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("name", ["happy-path", "duplicate-cv"])
def test_hiring_scenario_passes_on_postgresql(
    name: str, tmp_path: Path, raw_postgres_url: str
) -> None:
    result = run(HIRING / "scenarios" / f"{name}.yaml", tmp_path / "run", raw_postgres_url)
    assert result.passed, timeline(result)


@pytest.mark.usefixtures("clean_env")
def test_a_wrong_expectation_fails_with_what_differs(tmp_path: Path) -> None:
    scenario = tmp_path / "wrong.yaml"
    scenario.write_text(
        """\
name: expects the wrong status
settle_seconds: 2
steps:
  - deliver: cv-submission
    body: {submission_id: f-1, name: Ada Lovelace, email: ada@example.com,
           phone: "+442071838750", cv_text: Ten years of Python.}
    save_as: cv
  - expect:
      database:
        table: hiring_candidates
        where: {candidate_id: "{{ cv.entity_key }}"}
        values: {status: rejected}
  - advance: 1d
""",
        encoding="utf-8",
    )
    result = run(scenario, tmp_path / "run")
    assert not result.passed
    assert [s.ok for s in result.steps] == [True, False]  # stops at the first failed step
    assert 'status: expected "rejected", got "awaiting-booking"' in result.steps[1].problems[0]
