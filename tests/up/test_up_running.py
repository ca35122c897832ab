"""A running `raw up` is found by the other commands on whatever port it took, and only once.

The hiring example under a real `raw up` on a free port (not 8000): the commands a
user types in a second terminal find it with no port given, a second `raw up` in
the same folder refuses before starting anything, and a clean stop leaves no record.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.examples.conftest import copy_hiring
from tests.examples.hiring_up import HiringUp, cv

from raw import pids
from raw.ports import free_port


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_other_commands_find_the_running_raw_up_and_a_second_one_refuses(
    tmp_path: Path,
) -> None:
    up = HiringUp(copy_hiring(tmp_path / "hiring"))
    record_file = up.root / ".raw" / "up" / "state.json"
    try:
        up.start()
        assert up.process is not None
        printed = up.raw("up", "--print-url")
        assert (printed.returncode, printed.stdout) == (0, up.base + "\n"), printed.stderr
        record = json.loads(up.raw("up", "--print-url", "--json").stdout)
        engine = json.loads((up.root / ".raw" / "temporal" / "engine.json").read_text())
        assert (record["pid"], record["port"]) == (up.process.pid, up.port)
        assert (record["temporal_address"], record["temporal_ui_url"]) == (
            engine["address"],
            engine["ui_url"],
        )

        second = up.raw("up", "--port", str(free_port()))
        assert second.returncode == 2, second.stdout + second.stderr
        assert second.stderr.startswith(
            f"Error: Another `raw up` is running here (pid {up.process.pid}, port {up.port}: "
        ), second.stderr
        assert "Temporal" not in second.stdout + second.stderr  # it started nothing
        assert json.loads(record_file.read_text())["pid"] == up.process.pid  # nor took over

        sent = up.raw(  # no --url: this project's raw up, not whatever holds port 8000
            "webhook", "send", "cv-submission", "--json",
            "--data", json.dumps(cv("ada@example.com", "Ada Lovelace")),
        )  # fmt: skip
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert json.loads(sent.stdout)["url"] == f"{up.base}/webhooks/cv-submission"
        assert json.loads(sent.stdout)["status_code"] == 202
    finally:
        up.stop()
    assert up.process.returncode == 0, up.log()
    assert not record_file.exists()
    after = up.raw("up", "--print-url")
    assert after.returncode == 4
    assert after.stderr.startswith("Error: No `raw up` is running for the project in ")


def _wait_for(what: str, check: Callable[[], object], up: HiringUp, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {seconds:g} s\n" + up.log()
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_raw_up_says_its_engine_died_and_starts_it_again_and_deliveries_go_through(
    tmp_path: Path,
) -> None:
    up = HiringUp(copy_hiring(tmp_path / "hiring"), fast_dispatcher=True)
    engine_file = up.root / ".raw" / "temporal" / "engine.json"
    try:
        up.start()
        first = json.loads(engine_file.read_text())
        os.kill(first["pid"], signal.SIGKILL)  # the engine dies under the running system
        _wait_for("the engine gone", lambda: not pids.alive(first["pid"]), up)
        # A CV arrives while the engine is away: accepted, and it waits (fast_dispatcher
        # allows two attempts only: an outage that spent them would dead-letter it).
        sent = up.send("cv-submission", cv("ada@example.com", "Ada Lovelace"))
        _wait_for(
            "raw up restarting its engine",
            lambda: any("engine" in line and "back at" in line for line in up.lines),
            up,
        )
        assert any("stopped on its own: starting it again" in line for line in up.lines)
        second = json.loads(engine_file.read_text())
        assert second["pid"] != first["pid"] and pids.alive(second["pid"])
        assert second["address"] == first["address"]  # the same ports: the parts reconnect
        pid = sent["response"]["target"]

        def reached() -> bool:
            status = up.raw("process", "status", pid, "--json")
            return status.returncode == 0 and json.loads(status.stdout).get("status") == "running"

        _wait_for(f"process {pid} running", reached, up)  # the delivery was not given up
    finally:
        up.stop()
    assert up.process is not None and up.process.returncode == 0, up.log()
