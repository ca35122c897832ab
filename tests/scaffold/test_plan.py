"""`raw plan`: the decision tree from flags (or questions in a terminal), each branch explained."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

import pytest

from raw.scaffold.decision import decide

from .systems import RAW, clean_env, raw, raw_json


@pytest.mark.parametrize(
    ("state", "webhooks", "schedules", "pattern"),
    [
        (False, False, [], "single"),
        (False, True, [], "single"),  # the tree stops at the first question
        (True, False, [], "temporal"),
        (True, True, [], "full"),
        (False, False, ["0 8 * * *:daily-report"], "temporal"),  # a schedule needs Temporal
        (True, True, ["0 8 * * *:daily-report"], "full"),
    ],
)
def test_the_tree_recommends_the_pattern(
    state: bool, webhooks: bool, schedules: list[str], pattern: str
) -> None:
    recommendation = decide(state_across_days=state, webhooks=webhooks, schedules=schedules)
    assert recommendation.pattern == pattern
    assert all(b.explanation.endswith(".") for b in recommendation.branches)
    assert recommendation.command[:6] == ["raw", "new", "system", "my-system", "--pattern", pattern]
    if schedules:
        assert recommendation.command[-2:] == ["--schedule", schedules[0]]


def test_plan_json_gives_the_command_that_builds_it(tmp_path: Path) -> None:
    code, answer = raw_json(
        "plan", "--state-across-days", "--webhook", "application", "--webhook", "interview",
        "--schedule", "0 18 * * *", "--name", "hiring",
        cwd=tmp_path,
    )  # fmt: skip
    assert code == 0, answer
    assert answer["pattern"] == "full"
    assert [b["answer"] for b in answer["branches"]] == ["yes", "yes", "yes"]
    assert answer["command"] == (
        "raw new system hiring --pattern full --webhook application --webhook interview "
        "--schedule '0 18 * * *:daily-report'"
    )


def test_the_printed_command_builds_a_project(tmp_path: Path) -> None:
    code, answer = raw_json("plan", "--no-state-across-days", "--name", "digest", cwd=tmp_path)
    assert code == 0 and answer["pattern"] == "single"
    built = raw(*answer["argv"][1:], cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "digest" / ".raw" / "workflows" / "digest" / "run.py").is_file()


def test_without_answers_or_a_terminal_it_names_the_flags(tmp_path: Path) -> None:
    done = raw("plan", cwd=tmp_path)
    assert done.returncode == 2
    assert "--state-across-days or --no-state-across-days" in done.stderr


def test_in_a_terminal_it_asks_each_question(tmp_path: Path) -> None:
    main, secondary = pty.openpty()
    try:
        process = subprocess.Popen(
            [RAW, "plan", "--name", "approvals"],
            cwd=tmp_path,
            env=clean_env(NO_COLOR="1"),
            stdin=secondary,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.write(main, b"yes\ny\n")
        out, err = process.communicate(timeout=60)
    finally:
        os.close(main)
        os.close(secondary)
    assert process.returncode == 0, err
    assert "Does it need state across days" in err and "Does it need webhooks" in err
    assert "Recommended: FastAPI + Temporal + RAW workflows + deployment" in out
    assert "raw new system approvals --pattern full" in out
