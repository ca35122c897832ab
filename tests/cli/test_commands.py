"""`raw init`, `raw create`, `raw list`, `raw show` and `raw logs` through the real binary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Project, RunCli

BROKEN = "from raw import BaseWorkflow\n\nclass Broken(BaseWorkflow[\n"

PRINTS_ON_IMPORT = """
from raw import BaseWorkflow, step

print("printed while importing")


class Loud(BaseWorkflow):
    \"\"\"Says hello.\"\"\"

    @step("hello")
    def hello(self) -> str:
        return "hello"
"""


def _files(root: Path) -> set[Path]:
    return set(root.rglob("*"))


# --- raw init


def test_init_creates_the_config_and_the_workflows_folder(raw_cli: RunCli, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    result = raw_cli("init", "--json", cwd=fresh)
    assert result.code == 0, result.stderr
    doc = result.json()
    assert doc["created"] is True
    assert doc["project"] == str(fresh.resolve())
    config = fresh / ".raw" / "config.yaml"
    assert str(config) in doc["files"]
    assert 'name: "fresh"' in config.read_text(encoding="utf-8")
    assert (fresh / ".raw" / "workflows").is_dir()

    # The new project is usable: its config validates and it lists no workflows.
    listed = raw_cli("list", "--json", cwd=fresh)
    assert (listed.code, listed.json()["workflows"]) == (0, [])


def test_second_init_leaves_the_existing_config_untouched(raw_cli: RunCli, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert raw_cli("init", cwd=fresh).code == 0
    config = fresh / ".raw" / "config.yaml"
    config.write_text("version: 1\nname: mine\n", encoding="utf-8")

    again = raw_cli("init", "--json", cwd=fresh)
    assert again.code == 0
    assert again.json()["created"] is False
    assert config.read_text(encoding="utf-8") == "version: 1\nname: mine\n"
    human = raw_cli("init", cwd=fresh)
    assert "already a RAW project; nothing changed" in human.stderr


# --- raw create


def test_created_workflow_dry_runs_and_its_generated_test_passes(
    raw_cli: RunCli, project: Project
) -> None:
    result = raw_cli(
        "create", "summarize-notes", "--intent", "Summarise meeting notes for the team", "--json"
    )
    assert result.code == 0, result.stderr
    folder = project.root / ".raw" / "workflows" / "summarize-notes"
    test_file = folder / "test_summarize_notes.py"
    expected = {
        folder / "run.py",
        folder / "mocks" / "params.json",
        folder / "mocks" / "llm.json",
        test_file,
    }
    assert {Path(f) for f in result.json()["files"]} == expected
    assert all(f.is_file() for f in expected)
    assert "Summarise meeting notes for the team" in (folder / "run.py").read_text(encoding="utf-8")

    dry = raw_cli("run", "summarize-notes", "--dry", "--json")
    assert dry.code == 0, dry.stderr
    doc = dry.json()
    assert doc["status"] == "succeeded"
    assert [(s["name"], s["status"]) for s in doc["steps"]] == [
        ("prepare", "succeeded"),
        ("summarise", "succeeded"),
    ]

    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAW_", "PYTEST_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(test_file), "-p", "no:cacheprovider", "-q"],
        cwd=project.root,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout


def test_any_intent_text_gives_a_loadable_workflow(raw_cli: RunCli, project: Project) -> None:
    intent = r'Say "hi" to {name} in C:\new $HOME ${x} """ and end on a "quote"'
    assert raw_cli("create", "greet", "--intent", intent).code == 0
    dry = raw_cli("run", "greet", "--dry", "--json")
    assert dry.code == 0, dry.json()["error"]
    shown = raw_cli("show", "greet", "--json").json()
    assert shown["description"] == intent


@pytest.mark.parametrize("bad_id", ["../x", "Bad_Name", "/abs"])
def test_create_refuses_an_invalid_id_and_writes_nothing(
    raw_cli: RunCli, project: Project, tmp_path: Path, bad_id: str
) -> None:
    before = _files(tmp_path)
    result = raw_cli("create", bad_id, "--json")
    assert result.code == 2
    assert "is not a valid workflow id" in result.json()["error"]["message"]
    assert _files(tmp_path) == before
    assert not Path("/abs").exists()


def test_create_refuses_an_existing_workflow_without_force(
    raw_cli: RunCli, project: Project
) -> None:
    assert raw_cli("create", "notes").code == 0
    run_py = project.root / ".raw" / "workflows" / "notes" / "run.py"
    run_py.write_text("# my own work\n", encoding="utf-8")

    refused = raw_cli("create", "notes")
    assert refused.code == 2
    assert "already exists; pass --force" in refused.stderr
    assert run_py.read_text(encoding="utf-8") == "# my own work\n"

    forced = raw_cli("create", "notes", "--force")
    assert forced.code == 0, forced.stderr
    assert "class Notes(BaseWorkflow[Params])" in run_py.read_text(encoding="utf-8")


def test_create_outside_a_project_exits_3(raw_cli: RunCli, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = raw_cli("create", "notes", "--json", cwd=elsewhere)
    assert result.code == 3
    assert "raw init" in result.json()["error"]["message"]
    assert list(elsewhere.iterdir()) == []


# --- raw list, show, logs


def test_list_shows_each_workflow_with_its_last_run(
    raw_cli: RunCli, project: Project, echo: str
) -> None:
    project.add_workflow("broken", BROKEN)
    run = raw_cli("run", echo, "--cv-text", "x", "--json").json()

    result = raw_cli("list", "--json")
    assert result.code == 0
    rows = {r["id"]: r for r in result.json()["workflows"]}
    assert rows.keys() == {"broken", "echo"}
    assert rows["echo"]["loads"] is True
    assert rows["echo"]["description"] == "Return the params it was given."
    assert rows["echo"]["last_run"]["run_id"] == run["run_id"]
    assert rows["echo"]["last_run"]["status"] == "succeeded"
    assert rows["broken"]["loads"] is False
    assert "syntax error" in rows["broken"]["error"]
    assert rows["broken"]["last_run"] is None

    human = raw_cli("list")
    assert human.code == 0
    lines = human.stdout.splitlines()
    assert any(line.startswith("broken") and "does not load" in line for line in lines)
    assert any(line.startswith("echo") and "succeeded" in line for line in lines)


def test_list_and_show_json_survive_a_workflow_that_prints_on_import(
    raw_cli: RunCli, project: Project
) -> None:
    project.add_workflow("loud", PRINTS_ON_IMPORT)
    listed = raw_cli("list", "--json")
    assert [r["id"] for r in listed.json()["workflows"]] == ["loud"]
    shown = raw_cli("show", "loud", "--json")
    assert shown.json()["steps"][0]["name"] == "hello"
    assert "printed while importing" in shown.stderr


def test_show_describes_params_steps_and_recent_runs(
    raw_cli: RunCli, project: Project, echo: str
) -> None:
    first = raw_cli("run", echo, "--cv-text", "x", "--json").json()
    second = raw_cli("run", echo, "--json").json()  # invalid input, still a run

    result = raw_cli("show", echo, "--json")
    assert result.code == 0
    doc = result.json()
    assert (doc["id"], doc["class_name"], doc["loads"]) == ("echo", "Echo", True)
    params = {p["name"]: p for p in doc["params"]}
    assert params["cv_text"] == {
        "name": "cv_text",
        "flag": "--cv-text",
        "type": "str",
        "required": True,
        "default": None,
        "choices": None,
        "description": "The CV to read.",
    }
    assert (params["verbose"]["type"], params["verbose"]["default"]) == ("bool", True)
    assert (params["tag"]["type"], params["tag"]["default"]) == ("list[str]", [])
    assert params["color"]["choices"] == ["red", "blue"]
    assert [s["name"] for s in doc["steps"]] == ["echo"]
    assert [(r["run_id"], r["status"]) for r in doc["recent_runs"]] == [
        (second["run_id"], "invalid_input"),
        (first["run_id"], "succeeded"),
    ]

    human = raw_cli("show", echo, "--runs", "1")
    assert human.code == 0
    assert "--cv-text" in human.stdout
    assert "required" in human.stdout
    assert "steps:" in human.stdout
    assert second["run_id"] in human.stdout
    assert first["run_id"] not in human.stdout  # --runs 1


def test_show_unknown_workflow_exits_3(raw_cli: RunCli, echo: str) -> None:
    result = raw_cli("show", "ecko", "--json")
    assert result.code == 3
    assert "Did you mean 'echo'?" in result.json()["error"]["message"]


def test_logs_prints_the_latest_run_or_the_one_asked_for(
    raw_cli: RunCli, boom: str, echo: str
) -> None:
    failed = raw_cli("run", boom, "--json").json()
    raw_cli("run", boom, "--json")

    latest = raw_cli("logs", boom)
    assert latest.code == 0
    assert failed["run_id"] not in latest.stdout
    assert "kaboom: the second step broke" in latest.stdout

    chosen = raw_cli("logs", boom, "--run", failed["run_id"], "--json")
    assert chosen.code == 0
    doc = chosen.json()
    assert (doc["workflow"], doc["run_id"]) == ("boom", failed["run_id"])
    assert f"run {failed['run_id']} of 'boom' started" in doc["log"]
    assert "Traceback (most recent call last)" in doc["log"]


def test_logs_of_an_unknown_run_exits_3(raw_cli: RunCli, boom: str, echo: str) -> None:
    raw_cli("run", boom)
    unknown = raw_cli("logs", boom, "--run", "20200101T000000000000Z-000000", "--json")
    assert unknown.code == 3
    assert "has no run '20200101T000000000000Z-000000'" in unknown.json()["error"]["message"]

    never_run = raw_cli("logs", echo)
    assert never_run.code == 3
    assert "has no runs yet" in never_run.stderr
    assert never_run.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["show"], id="show-without-id"),
        pytest.param(["show", "echo", "--runs", "many"], id="show-bad-runs"),
        pytest.param(["logs", "echo", "--run"], id="logs-run-without-value"),
        pytest.param(["create"], id="create-without-id"),
        pytest.param(["list", "--all"], id="list-unknown-option"),
    ],
)
def test_usage_errors_are_one_json_document_with_exit_2(
    raw_cli: RunCli, echo: str, args: list[str]
) -> None:
    result = raw_cli(*args, "--json")
    assert result.code == 2
    doc = result.json()
    assert doc["exit_code"] == 2
    assert doc["error"]["type"] == "UsageError"
