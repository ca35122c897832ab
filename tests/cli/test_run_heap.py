"""`raw run` freezes what its imports made (raw._heap.freeze_imports): the collector no
longer walks the kit, and what the run itself makes is still collected, at exit too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

WORKFLOW = """
import gc
from pathlib import Path

from raw import BaseWorkflow, step

MARK = Path(__file__).with_name("finalized.txt")


class _InACycle:
    def __init__(self) -> None:
        self.me = self

    # Only a collection reaches an object in a cycle. By the time the shutdown's does,
    # the module's globals and the builtins are gone: __del__ keeps what it needs.
    def __del__(self, mark: str = str(MARK), open=open) -> None:
        with open(mark, "w", encoding="utf-8") as fh:
            fh.write("finalized")


KEPT = _InACycle()  # alive until the interpreter's shutdown clears this module


class Hi(BaseWorkflow):
    @step
    def hi(self) -> dict:
        frozen = gc.get_freeze_count()
        kit_frozen = not any(obj is BaseWorkflow for obj in gc.get_objects())
        module_walked = any(obj is KEPT for obj in gc.get_objects())
        return {"frozen": frozen, "kit_frozen": kit_frozen, "module_walked": module_walked}
"""


def _project(root: Path) -> Path:
    folder = root / ".raw" / "workflows" / "hi"
    folder.mkdir(parents=True)
    (root / ".raw" / "config.yaml").write_text("version: 1\n", encoding="utf-8")
    (folder / "run.py").write_text(WORKFLOW, encoding="utf-8")
    return folder


def test_raw_run_freezes_the_kit_and_still_finalizes_what_the_run_made(tmp_path: Path) -> None:
    folder = _project(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAW_", "OTEL_"))}
    env.pop("DATABASE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-c", "from raw.cli.main import main; main()", "run", "hi", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    output = json.loads(proc.stdout)["output"]
    assert output["frozen"] > 1000 and output["kit_frozen"]
    assert output["module_walked"]  # the workflow's own objects are collected as before
    assert (folder / "finalized.txt").read_text(encoding="utf-8") == "finalized"
