"""`raw simulate` as a user runs it: the timeline, exit codes, JSON, and clear refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
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


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            "  - deliver: cv-submision\n",
            "step 1: deliver: the system has no webhook route 'cv-submision'. Known: "
            "cv-submission, calendar-booking, call-status, withdrawal. "
            "Did you mean 'cv-submission'?",
        ),
        (
            "  - schedule: daily\n",
            "step 1: schedule: the system has no schedule 'daily' "
            "(system.orchestrator.schedules). Known: daily-report.",
        ),
        (
            "  - run: generate-reprot\n",
            "step 1: run: the project has no workflow 'generate-reprot'.",
        ),
        (
            "  - expect: {process: {id: '{{ cv.target }}'}}\n",
            "step 1: '{{ cv.target }}': no earlier step saved 'cv' (save_as: cv).",
        ),
        (
            "  - deliver: cv-submission\n    save_as: cv\n"
            "  - expect: {process: {id: '{{ cv.targt }}'}}\n",
            "step 2: '{{ cv.targt }}': a delivery saved as 'cv' has no field 'targt'.",
        ),
    ],
    ids=["route", "schedule", "workflow", "saved-name", "saved-field"],
)
def test_a_scenario_naming_what_the_system_lacks_exits_2_before_anything_starts(
    hiring: Path, tmp_path: Path, step: str, message: str
) -> None:
    scenario = tmp_path / "lacks.yaml"
    scenario.write_text(f"name: lacks\nsteps:\n{step}", encoding="utf-8")
    done = simulate(hiring, str(scenario))
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert done.stdout == ""  # refused before the scenario's timeline began
    assert "Traceback" not in done.stderr


def test_an_expectation_on_a_missing_table_fails_at_once_naming_the_tables(
    hiring: Path, tmp_path: Path
) -> None:
    # settle_seconds: 600 is beyond the subprocess's timeout: waiting for it would fail.
    scenario = tmp_path / "table.yaml"
    scenario.write_text(
        "name: table\nsettle_seconds: 600\nsteps:\n"
        "  - expect: {database: {table: hiring_candidate}}\n",
        encoding="utf-8",
    )
    done = simulate(hiring, str(scenario), "--json")
    assert done.returncode == 1, done.stderr
    step = json.loads(done.stdout)["scenarios"][0]["steps"][0]
    assert step["ok"] is False
    assert step["problems"][0].startswith("The database has no table 'hiring_candidate' (it has:")
    assert "hiring_candidates" in step["problems"][0]


SIGNALLED = """\
name: withdrawn by an operator
steps:
  - deliver: cv-submission
    body: {submission_id: form-1, name: Ada Lovelace, email: ada@example.com,
           phone: "+442071838750", cv_text: Ten years of Python and PostgreSQL.}
    save_as: cv
  - expect: {process: {id: "{{ cv.target }}", waiting_for: calendar-booking}}
  - signal: withdrawn
    process: "{{ cv.target }}"
    payload: {reason: decided by an operator}
  - expect:
      process: {id: "{{ cv.target }}", step: withdrawn, waiting_for: cv-retention}
      database: {table: hiring_candidates, where: {candidate_id: "{{ cv.entity_key }}"},
                 values: {status: withdrawn}}
  - advance: 31d
  - signal: withdrawn
    type: HiringProcess
    key: "{{ cv.entity_key }}"
    expect_status: closed
  - signal: withdrawn
    process: hiring-process/nobody
    expect_status: not_found
"""


def test_a_scenario_sends_a_signal_to_a_process_by_id_or_by_type_and_key(
    hiring: Path, tmp_path: Path
) -> None:
    scenario = tmp_path / "signal.yaml"
    scenario.write_text(SIGNALLED, encoding="utf-8")
    done = simulate(hiring, str(scenario))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok   signal withdrawn -> hiring-process/c-b5fc85e55755\n" in done.stdout
    assert "signal withdrawn -> hiring-process/c-b5fc85e55755: closed, as expected" in done.stdout
    assert "signal withdrawn -> hiring-process/nobody: not_found, as expected" in done.stdout


def test_the_timeline_prints_full_dates_to_the_second(hiring: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "dates.yaml"
    scenario.write_text(
        "name: dates\nsteps:\n  - schedule: daily-report\n  - advance: 1d\n", encoding="utf-8"
    )
    done = simulate(hiring, str(scenario), "--json")
    assert done.returncode == 0, done.stderr
    steps = json.loads(done.stdout)["scenarios"][0]["steps"]
    summary = steps[1]["summary"]  # advance 1d: Mon 07 Dec 2026 02:32:10 -> Tue 08 Dec 2026 ...
    start, end = (datetime.strptime(s, "%a %d %b %Y %H:%M:%S") for s in summary[12:].split(" -> "))
    assert end - start == timedelta(days=1)
