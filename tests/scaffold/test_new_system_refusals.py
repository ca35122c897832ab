"""`raw new system` refuses what it cannot generate before touching a file; --force writes over."""

from __future__ import annotations

from pathlib import Path

import pytest

from .systems import raw, raw_json


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Bad_Name", "--pattern", "single"], "lowercase letters, digits and dashes"),
        (["9lives", "--pattern", "single"], "starting with a letter"),
        (["json", "--pattern", "single"], "would shadow the installed module"),
        (["class", "--pattern", "single"], "is a Python keyword"),
        (["ok", "--pattern", "temporal", "--webhook", "x"], "--webhook needs --pattern full"),
        (["ok", "--pattern", "single", "--schedule", "0 8 * * *:r"], "needs --pattern temporal"),
        (["ok", "--pattern", "full", "--schedule", "daily"], "is not CRON:WORKFLOW"),
        (["ok", "--pattern", "full", "--schedule", "0 8 * * *:analyze"], "the process itself"),
        (["ok", "--pattern", "full", "--webhook", "Bad"], "is not a route name"),
        (
            ["ok", "--pattern", "full", "--webhook", "payment:gitlab"],
            "names the scheme 'gitlab', which is not known. Known schemes: bearer, github, "
            "standard-webhooks, twilio",
        ),
        (
            ["ok", "--pattern", "temporal", "--schedule", "61 7 * * *:daily-report"],
            "schedule 'daily-report': cron '61 7 * * *': minute 61 is out of range 0-59.",
        ),
        (
            ["ok", "--pattern", "full", "--schedule", "99 99 * * *:daily-report"],
            "minute 99 is out of range 0-59; hour 99 is out of range 0-23",
        ),
    ],
)
def test_bad_input_is_refused_with_the_rule_and_writes_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    code, answer = raw_json("new", "system", *args, cwd=tmp_path)
    assert code == 2
    assert message in answer["error"]["message"]
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_kept_unless_forced(tmp_path: Path) -> None:
    target = tmp_path / "notes"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    refused = raw("new", "system", "notes", "--pattern", "single", cwd=tmp_path)
    assert refused.returncode == 2
    assert "already exists; pass --force" in refused.stderr
    assert [p.name for p in target.iterdir()] == ["mine.txt"]

    code, answer = raw_json(
        "new", "system", "notes", "--pattern", "single", "--force", cwd=tmp_path
    )
    assert code == 0, answer
    assert (target / "mine.txt").read_text() == "keep me"
    assert ".raw/workflows/notes/run.py" in answer["files"]
