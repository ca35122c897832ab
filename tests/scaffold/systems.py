"""Generated systems for the tests: each pattern written once per test run, shared by workers.

`raw new system` runs as a user runs it (a subprocess of the installed `raw`). With
pytest-xdist every worker sees the same folder: the first to need a pattern writes
it under a lock, the others wait and reuse it. Tests that change a project copy it.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

RAW = str(Path(sys.executable).with_name("raw"))

SYSTEMS: dict[str, list[str]] = {
    "single": ["summarize", "--pattern", "single"],
    "temporal": ["onboarding", "--pattern", "temporal", "--schedule", "0 8 * * *:daily-report"],
    "full": [
        "approvals",
        "--pattern",
        "full",
        "--webhook",
        "request",
        "--webhook",
        "approval:github",  # a scheme other than the default, through every gate
        "--schedule",
        "30 18 * * 1-5:weekly-summary",
    ],
}


def clean_env(**extra: str) -> dict[str, str]:
    """The host's environment without RAW_*, pytest's own variables, or a database/Temporal."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RAW_", "PYTEST_")) and k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")
    }
    env.update(extra)
    return env


def raw(
    *args: str, cwd: Path, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RAW, *args],
        cwd=cwd,
        env=clean_env(**(env or {})),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def raw_json(
    *args: str, cwd: Path, timeout: float = 300, env: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    done = raw(*args, "--json", cwd=cwd, timeout=timeout, env=env)
    try:
        return done.returncode, json.loads(done.stdout)
    except ValueError:
        raise AssertionError(
            f"not JSON (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
        ) from None


def _shared_root(factory: pytest.TempPathFactory) -> Path:
    base = factory.getbasetemp()
    # Under xdist each worker's basetemp is <run>/popen-gwN: the run's folder is shared.
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "new-systems"


def generated(factory: pytest.TempPathFactory, pattern: str) -> Path:
    """The project `raw new system` writes for ``pattern`` (written once per test run)."""
    shared = _shared_root(factory)
    shared.mkdir(parents=True, exist_ok=True)
    name = SYSTEMS[pattern][0]
    target = shared / pattern / name
    with open(shared / f"{pattern}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / pattern / "done.json"
        if not done.exists():
            target.parent.mkdir(exist_ok=True)
            code, answer = raw_json(
                "new", "system", *SYSTEMS[pattern], "--dir", str(target), cwd=target.parent
            )
            assert code == 0, answer
            done.write_text(json.dumps(answer))
    return target
