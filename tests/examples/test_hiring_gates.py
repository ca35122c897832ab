"""The hiring system passes every one of its gates, as `raw gates` runs them in its folder:
validate, dry, its own tests (api-test), the replay of its recorded histories
(temporal-validate), its rendered deployment (docker-validate) and system-check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import copy_hiring

RAW = str(Path(sys.executable).with_name("raw"))
GATES = ["validate", "dry", "api-test", "temporal-validate", "docker-validate", "system-check"]


@pytest.mark.usefixtures("clean_env")
def test_every_hiring_gate_passes(tmp_path: Path) -> None:
    root = copy_hiring(tmp_path / "hiring")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [RAW, "gates", "--json"], cwd=root, env=env, capture_output=True, text=True, timeout=600
    )
    report = json.loads(done.stdout)
    statuses = {gate["name"]: gate["status"] for gate in report["gates"]}
    assert done.returncode == 0, json.dumps(report, indent=2)
    assert statuses == dict.fromkeys(GATES, "passed")
