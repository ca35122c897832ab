"""`raw run` takes `logging` on first use: a run that logs nothing never imports it,
and a run that logs still shows its lines on stderr, `[workflow] message`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CODE = (
    "import sys\nfrom raw.cli.main import main\ntry:\n    main(sys.argv[1:])\n"
    "except SystemExit:\n    pass\n"
    "print('logging loaded:', 'logging' in sys.modules, file=sys.stderr)"
)


def _project(root: Path, body: str) -> Path:
    folder = root / ".raw" / "workflows" / "hi"
    folder.mkdir(parents=True)
    (root / ".raw" / "config.yaml").write_text("version: 1\n", encoding="utf-8")
    (folder / "run.py").write_text(
        "from raw import BaseWorkflow, step\n\n\nclass Hi(BaseWorkflow):\n"
        f"    @step\n    def hi(self) -> str:\n        {body}\n        return 'hi'\n",
        encoding="utf-8",
    )
    return root


def _run(root: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAW_", "OTEL_"))}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-c", CODE, "run", "hi", "--json"],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )


def test_a_run_that_logs_nothing_does_not_import_logging(tmp_path: Path) -> None:
    proc = _run(_project(tmp_path, "pass"))
    assert json.loads(proc.stdout)["status"] == "succeeded"
    assert proc.stderr.strip().endswith("logging loaded: False")


@pytest.mark.parametrize(
    "body",
    [
        "self.log('hello from the step')",
        "import logging; logging.getLogger('raw.workflow').info('hello from the step')",
    ],
)
def test_a_run_that_logs_shows_its_lines_on_stderr(tmp_path: Path, body: str) -> None:
    proc = _run(_project(tmp_path, body))
    assert json.loads(proc.stdout)["status"] == "succeeded"
    assert "[hi] hello from the step" in proc.stderr
    assert proc.stderr.strip().endswith("logging loaded: True")
