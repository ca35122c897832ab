"""The hiring project's own test suite passes, run as its `api-test` gate runs it.

Run in a subprocess from the project's folder: the project's tests have a
conftest of their own, which must not mix with this suite's.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .conftest import HIRING


@pytest.mark.usefixtures("clean_env")
def test_the_hiring_projects_own_tests_pass() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
        ],
        cwd=HIRING,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "failed" not in done.stdout
