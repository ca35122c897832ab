"""`raw simulate` as a user runs it: the timeline, exit codes, JSON, and clear refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.examples.conftest import copy_hiring

RAW = str(Path(sys.executable).with_name("raw"))


def simulate(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_")}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [RAW, "simulate", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def hiring(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_hiring(tmp_path_factory.mktemp("cli") / "hiring")


def test_a_passing_scenario_prints_its_timeline_and_exits_0(hiring: Path) -> None:
    done = simulate(hiring, "scenarios/rejected.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Unqualified candidate is rejected" in done.stdout
    assert "ok   deliver cv-submission -> 202 (start_process hiring-process/" in done.stdout
    assert "advance 29d" in done.stdout
    assert "passed in" in done.stdout
    assert not list((hiring / ".raw" / "simulate").iterdir())  # a passed run leaves nothing


def test_a_failed_expectation_exits_1_with_the_difference(hiring: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "fails.yaml"
    scenario.write_text(
        "name: fails\nsettle_seconds: 1\nsteps:\n  - expect: {emails: {to: nobody@x.y}}\n"
        "  - advance: 1d\n",
        encoding="utf-8",
    )
    done = simulate(hiring, str(scenario), "--json")
    assert done.returncode == 1
    document = json.loads(done.stdout)
    assert document["passed"] is False
    step = document["scenarios"][0]["steps"][0]
    assert step["ok"] is False
    assert step["problems"] == ['emails {"to": "nobody@x.y"}: expected at least one, found none']
    assert len(document["scenarios"][0]["steps"]) == 1


def test_a_malformed_scenario_exits_2_naming_step_and_field(hiring: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(
        "name: bad\nsteps:\n  - advance: 1d\n  - deliver: cv-submission\n    boddy: {}\n",
        encoding="utf-8",
    )
    done = simulate(hiring, str(scenario))
    assert done.returncode == 2
    assert "step 2: deliver: 'boddy': Extra inputs are not permitted" in done.stderr
    assert "Traceback" not in done.stderr


def test_schema_is_printed(hiring: Path) -> None:
    done = simulate(hiring, "--schema")
    assert done.returncode == 0
    assert json.loads(done.stdout)["title"] == "raw simulate scenario"
