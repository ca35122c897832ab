"""A test session killed hard leaves its PostgreSQL running; the next session stops it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from raw import pids
from raw.testing.postgres import FOLDER_PREFIX, OWNER_FILE, sweep_orphans


@pytest.fixture
def stand_in() -> Iterator[subprocess.Popen[bytes]]:
    """A process playing the server (it stops on SIGINT, as PostgreSQL's fast shutdown).

    It is used once it says it is ready: a SIGINT sent while it is still starting (before
    its interpreter has set its handler, or between fork and exec) can be lost, and a
    loaded machine makes that window wide.
    """
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == b"ready\n"
    yield child
    child.kill()
    child.wait()
    child.stdout.close()


def session_folder(parent: Path, name: str, owner_pid: int, server_pid: int) -> Path:
    folder = parent / f"{FOLDER_PREFIX}{name}"
    (folder / "data").mkdir(parents=True)
    owner = {"pid": owner_pid, "started": pids.start_ticks(owner_pid)}
    (folder / OWNER_FILE).write_text(json.dumps(owner))
    (folder / "data" / "postmaster.pid").write_text(f"{server_pid}\n/data\n")
    return folder


def test_the_server_of_a_dead_session_is_stopped_and_its_folder_removed(
    tmp_path: Path, stand_in: subprocess.Popen[bytes]
) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_owner = int(gone.stdout)
    folder = session_folder(tmp_path, "dead", dead_owner, stand_in.pid)

    assert sweep_orphans(tmp_path) == [folder]
    assert stand_in.wait(60) != 0  # stopped by the signal
    assert not folder.exists()


def test_a_living_session_and_a_folder_without_owner_are_left_alone(
    tmp_path: Path, stand_in: subprocess.Popen[bytes]
) -> None:
    living = session_folder(tmp_path, "living", os.getpid(), stand_in.pid)
    unowned = tmp_path / f"{FOLDER_PREFIX}old"
    unowned.mkdir()

    assert sweep_orphans(tmp_path) == []
    assert stand_in.poll() is None
    assert living.exists() and unowned.exists()
