"""Workflows written for the original RAW runtime run unchanged, without its known defects.

The contract is ../shared/RAW-CONTRACT.md: a ``run.py`` importing ``raw_runtime``,
run both by ``raw run <id>`` and as ``python run.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from raw.ids import new_run_id
from raw.workflow.recorder import FileRecorder

if TYPE_CHECKING:
    from conftest import CliResult, Project, RunCli

# The contract's example file, with the body of `process` written out.
COUNT_LINES = """\
#!/usr/bin/env python3
# /// script
# requires-python = ">=3.10"
# dependencies = ["pydantic>=2", "rich"]
# ///
from pydantic import BaseModel, Field
from raw_runtime import BaseWorkflow, step, retry

class Params(BaseModel):
    input_file: str = Field(..., description="Input file path")
    output_dir: str = Field(default="results", description="Output directory")

class CountLines(BaseWorkflow[Params]):
    @step("process")
    @retry(retries=3, backoff="exponential")
    def process(self) -> dict:
        with open(self.params.input_file, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
        return {"file": self.params.input_file, "lines": len(lines)}

    def run(self) -> int:
        result = self.process()
        self.save("summary.json", result)
        self.log(f"counted {result['lines']} lines")
        return 0

if __name__ == "__main__":
    CountLines.main()
"""

SETTINGS = """\
from pydantic import BaseModel
from raw_runtime import BaseWorkflow, step

class Params(BaseModel):
    verbose: bool = True

class Settings(BaseWorkflow[Params]):
    @step("report")
    def report(self) -> dict:
        return {"verbose": self.params.verbose}

    def run(self) -> int:
        self.save("settings.json", self.report())
        return 0

if __name__ == "__main__":
    Settings.main()
"""

FLAKY = """\
from raw_runtime import BaseWorkflow, step, retry

class Flaky(BaseWorkflow):
    @step("call")
    @retry(retries=3, backoff="fixed", base_delay=0)
    def call(self) -> None:
        raise ConnectionError("the service is down")

    def run(self) -> int:
        self.call()
        return 0
"""

MISSING_DEPENDENCY = """\
# /// script
# dependencies = ["raw-compat-absent-pkg>=1.0"]
# ///
import raw_compat_absent_pkg
from raw_runtime import BaseWorkflow, step

class UsesIt(BaseWorkflow):
    @step("use")
    def use(self) -> int:
        return raw_compat_absent_pkg.VALUE
"""

PYTHON = Path(sys.executable)


@pytest.fixture
def count_lines(project: Project) -> Path:
    """The contract's example as ``.raw/workflows/count-lines/run.py``."""
    return project.add_workflow("count-lines", COUNT_LINES)


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.txt"
    path.write_text("one\ntwo\nthree\n", encoding="utf-8")
    return path


def run_script(folder: Path, *args: str) -> CliResult:
    """``python run.py ARGS`` in the workflow's folder, as the original's users ran it."""
    from conftest import CliResult

    env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_")}
    proc = subprocess.run(
        [str(PYTHON), "run.py", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def manifest_of(doc: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (Path(doc["run_dir"]) / "manifest.json").read_text(encoding="utf-8")
    )
    return data


def test_contract_example_runs_through_raw_run_with_a_rich_manifest(
    raw_cli: RunCli, count_lines: Path, data_file: Path
) -> None:
    result = raw_cli("run", "count-lines", "--input-file", str(data_file), "--json")
    assert result.code == 0, result.stderr
    doc = result.json()
    assert (doc["status"], doc["return_code"]) == ("succeeded", 0)
    assert Path(doc["run_dir"]).parent == count_lines / "runs"

    manifest = manifest_of(doc)
    assert manifest["params"] == {"input_file": str(data_file), "output_dir": "results"}
    assert manifest["environment"]["entry_point"] == "cli"
    assert [(s["name"], s["status"], s["result"]) for s in manifest["steps"]] == [
        ("process", "succeeded", {"file": str(data_file), "lines": 3})
    ]
    (artifact,) = manifest["artifacts"]
    assert artifact["name"] == "summary.json"
    assert json.loads(Path(artifact["path"]).read_text(encoding="utf-8"))["lines"] == 3
    assert "counted 3 lines" in Path(doc["log_path"]).read_text(encoding="utf-8")


def test_contract_example_runs_as_a_script_with_the_same_manifest_shape(
    raw_cli: RunCli, count_lines: Path, data_file: Path
) -> None:
    via_cli = raw_cli("run", "count-lines", "--input-file", str(data_file), "--json")
    via_script = run_script(count_lines, "--input-file", str(data_file), "--json")
    assert via_script.code == 0, via_script.stderr
    cli_doc, script_doc = via_cli.json(), via_script.json()
    assert Path(script_doc["run_dir"]).parent == count_lines / "runs"
    assert script_doc["run_id"] != cli_doc["run_id"]

    cli_manifest, script_manifest = manifest_of(cli_doc), manifest_of(script_doc)
    assert script_manifest.keys() == cli_manifest.keys()
    assert script_manifest["environment"]["entry_point"] == "python run.py"
    for key in ("workflow", "status", "return_code", "params", "output", "error"):
        assert script_manifest[key] == cli_manifest[key], key
    assert [(s["name"], s["status"], s["result"]) for s in script_manifest["steps"]] == [
        (s["name"], s["status"], s["result"]) for s in cli_manifest["steps"]
    ]
    assert [a["name"] for a in script_manifest["artifacts"]] == ["summary.json"]

    human = run_script(count_lines, "--input-file", str(data_file))
    assert human.code == 0, human.stderr
    assert "counted 3 lines" in human.stderr


def test_required_params_are_enforced_by_both_entry_points(
    raw_cli: RunCli, count_lines: Path
) -> None:
    via_cli = raw_cli("run", "count-lines")
    via_script = run_script(count_lines)
    for result in (via_cli, via_script):
        assert result.code == 2
        assert "--input-file: required" in [line.strip() for line in result.stderr.splitlines()]
        assert "Traceback (most recent call last)" not in result.stderr


def test_a_bool_defaulting_to_true_can_be_switched_off(raw_cli: RunCli, project: Project) -> None:
    folder = project.add_workflow("settings", SETTINGS)
    default = run_script(folder, "--json")
    switched_off = run_script(folder, "--no-verbose", "--json")
    via_cli = raw_cli("run", "settings", "--no-verbose", "--json")
    assert manifest_of(default.json())["params"] == {"verbose": True}
    assert manifest_of(switched_off.json())["params"] == {"verbose": False}
    assert manifest_of(via_cli.json())["params"] == {"verbose": False}


def test_retries_means_attempts_after_the_first(raw_cli: RunCli, project: Project) -> None:
    project.add_workflow("flaky", FLAKY)
    result = raw_cli("run", "flaky", "--json")
    assert result.code == 1
    (step,) = result.json()["steps"]
    assert step["status"] == "failed"
    assert [a["error"] for a in step["attempts"]] == ["ConnectionError: the service is down"] * 4


def test_runs_started_together_get_their_own_run_folders(
    count_lines: Path, project: Project, tmp_path: Path
) -> None:
    files = []
    for name in ("a", "b", "c"):
        path = tmp_path / f"{name}.txt"
        path.write_text(name * 3 + "\n", encoding="utf-8")
        files.append(path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_")}
    procs = [
        subprocess.Popen(
            [str(PYTHON.with_name("raw")), "run", "count-lines", "--input-file", str(f), "--json"],
            cwd=project.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for f in files
    ]
    docs = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    assert len({d["run_dir"] for d in docs}) == 3
    assert len(project.runs("count-lines")) == 3
    assert sorted(manifest_of(d)["params"]["input_file"] for d in docs) == sorted(
        str(f) for f in files
    )


def test_the_same_run_id_twice_still_gets_two_folders(tmp_path: Path) -> None:
    moment = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert new_run_id(moment) != new_run_id(moment)
    recorder = FileRecorder()
    first = recorder.start("w", "20260101T120000000000Z-000000", workflow_dir=tmp_path)
    second = recorder.start("w", "20260101T120000000000Z-000000", workflow_dir=tmp_path)
    first.close()
    second.close()
    assert first.run_dir != second.run_dir
    assert first.run_dir is not None and first.run_dir.is_dir()
    assert second.run_dir is not None and second.run_dir.is_dir()


def test_an_uninstalled_pep723_dependency_is_named(raw_cli: RunCli, project: Project) -> None:
    project.add_workflow("uses-it", MISSING_DEPENDENCY)
    # Since issue 19 raw run installs the header's dependencies; --no-deps runs in this
    # environment, where the import fails (installs: tests/compat/test_original_dependencies).
    result = raw_cli("run", "uses-it", "--no-deps", "--json")
    assert result.code == 1
    message = result.json()["error"]["message"]
    assert "imports 'raw_compat_absent_pkg', which is not installed" in message
    assert "raw-compat-absent-pkg>=1.0" in message
    assert "Traceback (most recent call last)" not in result.stderr

    validated = raw_cli("validate", "uses-it", "--json")
    assert validated.code == 1
    (entry,) = validated.json()["workflows"]
    warnings = [w["message"] for w in entry["warnings"]]
    assert any("raw-compat-absent-pkg, not installed here" in w for w in warnings), warnings


def test_installed_dependencies_are_not_reported_missing(
    raw_cli: RunCli, count_lines: Path
) -> None:
    # PyYAML and python-dotenv install modules named yaml and dotenv.
    source = COUNT_LINES.replace(
        '"pydantic>=2", "rich"', '"pydantic>=2", "PyYAML", "python-dotenv"'
    )
    (count_lines / "run.py").write_text(source, encoding="utf-8")
    result = raw_cli("validate", "count-lines", "--json")
    (entry,) = result.json()["workflows"]
    assert not any("not installed" in w["message"] for w in entry["warnings"]), entry["warnings"]
