"""The hiring process against its recorded histories (the temporal-validate gate).

The histories in examples/hiring/.raw/histories were recorded by
`raw simulate scenarios/*.yaml --record`, one per scenario's process, so every
branch (rejected, no booking, retried call, withdrawal, completed) is replayed
against the current code: a change that is not replay-safe fails here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import HIRING

RAW = str(Path(sys.executable).with_name("raw"))


def test_every_recorded_hiring_history_replays() -> None:
    done = subprocess.run(
        [RAW, "temporal", "replay", "--json"],
        cwd=HIRING,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(done.stdout)
    assert done.returncode == 0, report
    assert report["ok"] and not report["failures"] and not report["missing"]
    names = {Path(r["file"]).name.split("--")[0] for r in report["replayed"]}
    assert {"happy-path", "rejected", "no-booking", "call-retry", "withdraws"} <= names


def test_simulate_records_the_histories_of_a_passing_scenario(tmp_path: Path) -> None:
    from tests.examples.conftest import copy_hiring

    root = copy_hiring(tmp_path / "hiring")
    done = subprocess.run(
        [RAW, "simulate", "scenarios/rejected.yaml", "--record", "--json"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    saved = json.loads(done.stdout)["scenarios"][0]["histories"]
    assert len(saved) == 1 and saved[0].endswith(".json")
    assert "HiringProcess" in saved[0] and Path(saved[0]).is_file()
