"""Nothing accepted is lost and no effect runs twice, proven by killing `raw dispatcher`.

A real `raw dispatcher` process works a SQLite file's inbox. Its one record runs a
RAW workflow whose effect is an append to a log, keyed on ``self.idempotency_key``
and checked first (the idempotent-effect pattern). The dispatcher is killed with
SIGKILL before, during and after that effect, always before the record is marked
done; a new dispatcher takes the record up once the lease (1 s) runs out: the
record ends done, the action ran again with the same key, and the log holds the
effect exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from effect_workflow import EFFECT
from raw import clock
from raw.coordinator.db.database import Database, database_url, upgrade
from raw.coordinator.db.models import InboxRecord
from raw.project import find_project

from .dispatch_fixtures import SLOW

if TYPE_CHECKING:
    from conftest import Project

RAW_BIN = Path(sys.executable).with_name("raw")

CONFIG = """
    version: 1
    system:
      coordinator:
        database_url: sqlite:///.raw/inbox.db
        dispatcher:
          lease_seconds: 1
          poll_interval_seconds: 0.05
          base_delay_seconds: 0.1
          max_delay_seconds: 0.5
"""


def setup_inbox(project: Project, workflow: str, payload: dict[str, Any]) -> str:
    """Migrate the project's database and commit one pending record; returns the url."""
    (project.root / ".raw" / "config.yaml").write_text(textwrap.dedent(CONFIG), encoding="utf-8")
    url = database_url(find_project(project.root))

    async def commit() -> None:
        async with Database(url) as db:
            await upgrade(db)
            now = clock.now()
            async with db.write() as session:
                session.add(
                    InboxRecord(
                        route="effect-hook",
                        action={"kind": "run_workflow", "workflow": workflow},
                        payload=payload,
                        idempotency_key=f"delivery-{uuid.uuid4().hex}",
                        correlation_id=f"corr-{uuid.uuid4().hex[:16]}",
                        status="pending",
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                        updated_at=now,
                    )
                )

    asyncio.run(commit())
    return url


def the_record(url: str) -> InboxRecord:
    async def read() -> InboxRecord:
        async with Database(url) as db, db.read() as session:
            record = await session.get(InboxRecord, 1)
        assert record is not None
        return record

    return asyncio.run(read())


def wait_for(predicate: Any, what: str, timeout_seconds: float = 60) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        clock.wall_sleep(0.05)


def start_dispatcher(root: Path, name: str, *args: str) -> subprocess.Popen[bytes]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("RAW_") and k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")
    }
    log = root / f"{name}.log"
    with log.open("wb") as sink:  # a file, not a pipe: a full pipe would stall the process
        proc = subprocess.Popen(
            [str(RAW_BIN), "dispatcher", *args],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    # "raw dispatcher: polling ..." once it works the inbox
    wait_for(lambda: b"polling" in log.read_bytes() or proc.poll() is not None, f"{name} to start")
    assert proc.poll() is None, log.read_text()
    return proc


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


@pytest.mark.parametrize("stage", ["before", "during", "after"])
def test_dispatcher_killed_around_an_effect_loses_nothing_and_repeats_nothing(
    project: Project, stage: str
) -> None:
    project.add_workflow("effect", EFFECT)
    files = {name: str(project.root / f"{name}.txt") for name in ("log", "attempts", "gate")}
    url = setup_inbox(project, "effect", {**files, "stage": stage})

    first = start_dispatcher(project.root, "dispatcher-1")
    second = None
    try:
        gate = Path(files["gate"])
        # Its content, not only the file: write_text creates the file before writing it.
        wait_for(lambda: gate.exists() and gate.read_text(encoding="utf-8"), "the effect's gate")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        killed = the_record(url)
        assert killed.status == "in_progress"  # not marked done
        assert killed.lease_owner is not None and f":{first.pid}:" in killed.lease_owner

        second = start_dispatcher(project.root, "dispatcher-2")
        wait_for(lambda: the_record(url).status == "done", "the record to be done")
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    finally:
        stop(first)
        stop(second)

    record = the_record(url)
    attempts = Path(files["attempts"]).read_text(encoding="utf-8").splitlines()
    keys = {line.split()[1] for line in attempts}
    pids = {line.split()[0] for line in attempts}
    log = Path(files["log"]).read_text(encoding="utf-8").splitlines()
    assert record.attempts >= 2  # the action was attempted again after the crash
    assert len(attempts) >= 2 and len(pids) >= 2  # ... in the new dispatcher
    assert keys == {record.idempotency_key}  # with the same idempotency key
    assert log == [record.idempotency_key]  # and the effect exists exactly once
    assert record.result is not None and record.result["output"] == {"key": record.idempotency_key}
    assert Path(files["gate"]).read_text(encoding="utf-8") == stage
    assert b"stopped" in (project.root / "dispatcher-2.log").read_bytes()


def test_sigterm_lets_the_action_in_flight_finish(project: Project) -> None:
    project.add_workflow("slow", SLOW)
    marker = project.root / "started.txt"
    url = setup_inbox(project, "slow", {"marker": str(marker), "seconds": 1.0})

    proc = start_dispatcher(project.root, "dispatcher")
    try:
        wait_for(marker.exists, "the action to start")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        stop(proc)

    record = the_record(url)
    assert (record.status, record.attempts) == ("done", 1)
    assert record.result is not None and record.result["output"] == "slept"
    assert b"raw dispatcher: stopped." in (project.root / "dispatcher.log").read_bytes()


def test_once_performs_what_is_due_and_exits(project: Project) -> None:
    project.add_workflow("slow", SLOW)
    url = setup_inbox(project, "slow", {"marker": str(project.root / "m.txt"), "seconds": 0})
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_") and k != "DATABASE_URL"}

    proc = subprocess.run(
        [str(RAW_BIN), "dispatcher", "--once", "--json"],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"processed": 1}
    assert the_record(url).status == "done"
