"""A state file's pid counts as running only while it is that same, living process."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from raw import pids


def test_a_running_process_is_alive_and_known_by_its_start_time() -> None:
    started = pids.start_ticks(os.getpid())
    assert started is not None
    assert pids.alive(os.getpid())
    assert pids.alive(os.getpid(), started)
    assert not pids.alive(os.getpid(), started + 1)  # a reused pid: another start time


def test_a_killed_process_not_yet_reaped_is_not_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = pids.start_ticks(child.pid)
        assert pids.alive(child.pid, started)
        child.kill()
        deadline = time.monotonic() + 10
        while pids.alive(child.pid) and time.monotonic() < deadline:  # a zombie until reaped
            time.sleep(0.01)
        os.kill(child.pid, 0)  # still there for the kernel: only its parent can reap it
        assert not pids.alive(child.pid)
        assert not pids.alive(child.pid, started)
    finally:
        child.kill()
        child.wait()
    assert not pids.alive(child.pid)
    assert not pids.alive(0) and not pids.alive(-1)
