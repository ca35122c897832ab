"""A project made by the original RAW runtime, opened and run as it is.

Its `.raw/config.yaml` (version "0.2.0", created_at, builder sections), its
date-prefixed workflow folders, its skill's plain-script template with a dry_run.py,
its GUIDE's hello world and a BaseWorkflow file leaning on the original's run-time
behaviour: each through `raw validate`, `raw run --dry`, `raw run` and `python run.py`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests.compat.original_projects import (
    COUNTER_RUN_PY,
    GUIDE_HELLO_RUN_PY,
    ORIGINAL_CONFIG,
    ORIGINAL_CONFIG_WITH_BUILDER,
    SKILL_DRY_RUN_PY,
    SKILL_RUN_PY,
)

if TYPE_CHECKING:
    from conftest import Project, RunCli

SUMMARISE = "20260110-summarise-items-a1b2c3"
HELLO = "20260111-hello-world-d4e5f6"
COUNT = "20260112-count-tags-0a1b2c"
HELLO_AGAIN = "20260115-hello-world-ffee00"


@pytest.fixture
def original(project: Project) -> Project:
    """The test's project turned into one the original runtime made."""
    (project.root / ".raw" / "config.yaml").write_text(ORIGINAL_CONFIG, encoding="utf-8")
    folder = project.add_workflow(SUMMARISE, SKILL_RUN_PY, mocks={"api_response": {"a": 1}})
    (folder / "dry_run.py").write_text(SKILL_DRY_RUN_PY, encoding="utf-8")
    project.add_workflow(HELLO, GUIDE_HELLO_RUN_PY)
    project.add_workflow(COUNT, COUNTER_RUN_PY)
    (project.root / ".env").write_text("GREETING=hello from .env\n", encoding="utf-8")
    return project


def only_run(project: Project, workflow: str) -> Path:
    [run_dir] = project.runs(workflow)
    return run_dir


# --- the config -------------------------------------------------------------------


def test_original_config_is_read_and_check_says_so(raw_cli: RunCli, original: Project) -> None:
    result = raw_cli("config", "check", "--json")
    assert result.code == 0, result.stderr
    assert result.json()["original_format"] == {"version": "0.2.0", "set_aside": []}


def test_config_upgrade_shows_the_diff_and_writes_only_when_told(
    raw_cli: RunCli, original: Project
) -> None:
    path = original.root / ".raw" / "config.yaml"
    path.write_text(ORIGINAL_CONFIG_WITH_BUILDER, encoding="utf-8")

    refused = raw_cli("config", "upgrade")
    assert refused.code == 2
    assert "-version: 0.2.0" in refused.stdout and "+version: 1" in refused.stdout
    assert "pass --yes" in refused.stderr
    assert path.read_text(encoding="utf-8") == ORIGINAL_CONFIG_WITH_BUILDER

    done = raw_cli("config", "upgrade", "--yes", "--json")
    assert done.code == 0, done.stderr
    assert done.json()["written"] is True
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Upgraded by `raw config upgrade`")
    assert "# created_at: 2026-01-10T08:30:00" in text
    assert "budgets" not in text.split("\n", 4)[-1]  # only named in the header comment
    assert "timeout_seconds: 300" in text  # the original's gate default, kept

    checked = raw_cli("config", "check", "--json")
    assert checked.code == 0 and checked.json()["original_format"] is None
    again = raw_cli("config", "upgrade", "--yes")
    assert again.code == 0 and "nothing to upgrade" in again.stderr


def test_unknown_gate_in_an_original_config_is_still_an_error(
    raw_cli: RunCli, original: Project
) -> None:
    (original.root / ".raw" / "config.yaml").write_text(
        "version: 0.2.0\nbuilder:\n  gates:\n    default: [validate, typo]\n", encoding="utf-8"
    )
    result = raw_cli("config", "check")
    assert result.code == 2
    assert "unknown gate 'typo'" in result.stderr


# --- finding date-prefixed folders ---------------------------------------------------


@pytest.mark.parametrize("name", ["hello-world", "hello", "20260111", "world", HELLO])
def test_original_folders_are_found_by_name_prefix_or_part(
    raw_cli: RunCli, original: Project, name: str
) -> None:
    result = raw_cli("run", name, "--name", "Ada", "--json")
    assert result.code == 0, result.stderr
    assert result.json()["workflow"] == HELLO


def test_a_name_that_fits_several_lists_them(raw_cli: RunCli, original: Project) -> None:
    original.add_workflow(HELLO_AGAIN, GUIDE_HELLO_RUN_PY)
    result = raw_cli("run", "hello", "--json")
    assert result.code == 2
    message = result.json()["error"]["message"]
    assert HELLO in message and HELLO_AGAIN in message
    human = raw_cli("validate", "hello-world")
    assert human.code == 2
    assert human.stderr.startswith("Error: 'hello-world' fits 2 workflows")


def test_a_prefix_never_finds_a_folder_of_this_kits_naming(
    raw_cli: RunCli, original: Project
) -> None:
    original.add_workflow("analyze-cv", GUIDE_HELLO_RUN_PY)
    result = raw_cli("run", "analyze", "--json")
    assert result.code == 3
    assert "analyze-cv" in result.json()["error"]["message"]


# --- the skill's plain script and its dry_run.py ---------------------------------------


def test_plain_script_validates_by_what_can_be_checked(raw_cli: RunCli, original: Project) -> None:
    result = raw_cli("validate", "summarise", "--json")
    assert result.code == 0, result.stdout
    [report] = result.json()["workflows"]
    assert report["valid"] is True
    assert any("plain script" in w["message"] for w in report["warnings"])


def test_plain_script_that_does_not_compile_or_answer_help_is_invalid(
    raw_cli: RunCli, original: Project
) -> None:
    original.add_workflow("20260120-broken-abcdef", "import argparse\ndef main(:\n")
    original.add_workflow("20260121-crashes-abcdef", "raise RuntimeError('no help here')\n")
    result = raw_cli("validate", "--json")
    assert result.code == 1
    reports = {r["workflow"]: r for r in result.json()["workflows"]}
    assert "syntax error" in reports["20260120-broken-abcdef"]["errors"][0]["message"]
    crash = reports["20260121-crashes-abcdef"]["errors"][0]["message"]
    assert "--help exited with code 1" in crash and "no help here" in crash


def test_plain_script_runs_with_its_flags_and_is_recorded(
    raw_cli: RunCli, original: Project
) -> None:
    result = raw_cli("run", "summarise", "--topic", "demo", "--max-items", "2", "--json")
    assert result.code == 0, result.stderr
    doc = result.json()
    assert (doc["status"], doc["return_code"]) == ("succeeded", 0)
    run_dir = only_run(original, SUMMARISE)
    assert doc["run_dir"] == str(run_dir)
    output = json.loads((run_dir / "results" / "output.json").read_text(encoding="utf-8"))
    assert output == {"topic": "demo", "items": ["demo-0", "demo-1"]}
    assert [a["name"] for a in doc["artifacts"]] == ["output.json"]
    assert "Fetching data" in (run_dir / "stdout.log").read_text(encoding="utf-8")
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["script"]["command"][1:] == ["run.py", "--topic", "demo", "--max-items", "2"]
    assert manifest["timings"]["duration_ms"] > 0
    assert not (original.root / "results").exists()  # nothing landed outside the run


def test_plain_script_refusing_its_flags_is_invalid_input(
    raw_cli: RunCli, original: Project
) -> None:
    result = raw_cli("run", "summarise", "--json")  # --topic is required by its argparse
    assert result.code == 2
    doc = result.json()
    assert doc["status"] == "invalid_input" and doc["return_code"] == 2
    assert "the following arguments are required: --topic" in doc["error"]["message"]


def test_plain_script_dry_run_runs_its_dry_run_py_in_the_run_folder(
    raw_cli: RunCli, original: Project
) -> None:
    result = raw_cli("run", "summarise", "--dry", "--json")
    assert result.code == 0, result.stderr
    doc = result.json()
    assert doc["dry"] is True
    written = Path(doc["artifacts"][0]["path"])
    assert json.loads(written.read_text()) == {"dry_run": True, "input_keys": ["a"]}
    assert written.is_relative_to(Path(doc["run_dir"]))


def test_plain_script_dry_run_fails_when_run_py_is_broken(
    raw_cli: RunCli, original: Project
) -> None:
    folder = original.root / ".raw" / "workflows" / SUMMARISE
    (folder / "run.py").write_text("def broken(:\n", encoding="utf-8")
    result = raw_cli("run", "summarise", "--dry", "--json")
    assert result.code == 1
    assert "run.py line 1: syntax error" in result.json()["error"]["message"]


def test_plain_script_without_dry_run_py_says_what_is_missing(
    raw_cli: RunCli, original: Project
) -> None:
    result = raw_cli("run", "hello", "--dry", "--json")
    assert result.code == 2
    assert "has no dry_run.py" in result.json()["error"]["message"]


def test_plain_script_help_is_its_own(raw_cli: RunCli, original: Project) -> None:
    result = raw_cli("run", "summarise", "--help")
    assert result.code == 0
    assert "--max-items MAX_ITEMS" in result.stdout


@pytest.mark.parametrize(
    ("workflow", "args", "written"),
    [
        (SUMMARISE, ["--topic", "solo"], "output.json"),
        (HELLO, ["--name", "Ada"], "greeting.txt"),
    ],
)
def test_plain_scripts_run_as_python_run_py(
    original: Project, tmp_path: Path, workflow: str, args: list[str], written: str
) -> None:
    script = original.root / ".raw" / "workflows" / workflow / "run.py"
    proc = subprocess.run(
        [sys.executable, str(script), *args], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "results" / written).exists()


# --- BaseWorkflow code relying on the original's run-time behaviour --------------------


def test_base_workflow_runs_in_its_run_folder_as_the_original_did(
    raw_cli: RunCli, original: Project
) -> None:
    assert raw_cli("validate", "count-tags").code == 0
    result = raw_cli("run", "count", "--tags", "a", "b", "c", "--label", "x", "--json")
    assert result.code == 0, result.stderr
    doc = result.json()
    run_dir = Path(doc["run_dir"])
    assert doc["steps"][0]["result"] == {"label": "x", "count": 3}
    names = sorted(a["name"] for a in doc["artifacts"])
    assert names == ["note.txt", "relative.txt", "summary.json"]
    assert (run_dir / "relative.txt").read_text() == "hello from .env"
    assert (run_dir / "results" / "note.txt").read_text() == "from run_dir"
    assert "counted 3 tags" in (run_dir / "output.log").read_text()

    dry = raw_cli("run", "count", "--dry", "--json")
    assert dry.code == 0, dry.stderr


def test_base_workflow_runs_as_python_run_py(original: Project, tmp_path: Path) -> None:
    script = original.root / ".raw" / "workflows" / COUNT / "run.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--tags", "a", "b", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["steps"][0]["result"]["count"] == 2
    assert (tmp_path / "relative.txt").exists()  # python run.py keeps the caller's folder


def test_plain_script_runs_in_process_callers_too(original: Project) -> None:
    """run_workflow (the coordinator, the dry gate, a worker) starts it the same way."""
    from raw import run_workflow

    result = run_workflow("summarise", {"topic": "api", "max_items": 1}, project_dir=original.root)
    assert result.status == "succeeded", result.error
    assert [a.name for a in result.artifacts] == ["output.json"]
    dry = run_workflow(SUMMARISE, dry=True, project_dir=original.root)
    assert dry.status == "succeeded", dry.error


def test_dry_gate_passes_an_original_project(raw_cli: RunCli, original: Project) -> None:
    (original.root / ".raw" / "workflows" / HELLO / "dry_run.py").write_text(
        SKILL_DRY_RUN_PY, encoding="utf-8"
    )
    result = raw_cli("gates", "--json", timeout=300)
    assert result.code == 0, result.stdout + result.stderr
