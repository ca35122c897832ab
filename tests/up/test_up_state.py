"""`.raw/up/state.json`: where the running `raw up` listens, for the commands that talk to it.

Records are written as `raw up` writes them; "running" means the recorded process
is alive, so a record naming this test process is a running `raw up`, and one naming
a process that has exited is a stale one (a `raw up` that was killed).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import exited_pid
from raw.orchestrator.connect import resolve_target
from raw.project import Project
from raw.up_state import UpState, read_running, remove_state, state_path, write_state


@pytest.fixture
def raw_project(tmp_path: Path) -> Project:
    root = tmp_path / "proj"
    (root / ".raw").mkdir(parents=True)
    (root / ".raw" / "config.yaml").write_text("version: 1\nname: test\n", encoding="utf-8")
    return Project(root)


def test_a_running_raw_up_is_found_and_a_killed_one_is_not(raw_project: Project) -> None:
    here = UpState.here("127.0.0.1", 8123)
    write_state(raw_project, here)
    assert read_running(raw_project) == here
    assert here.api_url == "http://127.0.0.1:8123"

    write_state(raw_project, here.model_copy(update={"pid": exited_pid()}))
    assert state_path(raw_project).exists()
    assert read_running(raw_project) is None


def test_the_record_is_git_ignored_whatever_the_project_ignores(raw_project: Project) -> None:
    write_state(raw_project, UpState.here("127.0.0.1", 8123))
    subprocess.run(["git", "init", "-q", str(raw_project.root)], check=True)
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=raw_project.root,
        check=True,
        capture_output=True,
        text=True,
    )
    assert ".raw/config.yaml" in status.stdout  # git sees the folder's other files
    assert ".raw/up/" not in status.stdout


def test_a_stop_removes_only_its_own_record(raw_project: Project) -> None:
    later = UpState.here("127.0.0.1", 8123)
    write_state(raw_project, later)
    remove_state(raw_project, exited_pid())  # an earlier raw up, stopping late
    assert read_running(raw_project) == later
    remove_state(raw_project, later.pid)
    assert not state_path(raw_project).exists()


def test_temporal_clients_use_the_server_of_the_running_raw_up(
    raw_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    # raw up was started with TEMPORAL_ADDRESS set in its own terminal only; a command
    # from another terminal goes to that server, not to an embedded engine or nowhere.
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)
    up = UpState.here("127.0.0.1", 8123).model_copy(update={"temporal_address": "10.1.2.3:7233"})
    write_state(raw_project, up)
    target = resolve_target(raw_project)
    assert (target.address, target.source) == ("10.1.2.3:7233", "raw up")

    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:7999")  # an explicit address still wins
    assert resolve_target(raw_project).address == "127.0.0.1:7999"
