"""What the benchmarks share about the processes they start: CPU from /proc, raw parts."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

RAW_BIN = Path(sys.executable).with_name("raw")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def raw_parts(
    command: str, count: int, project: Path, env: dict[str, str], *, ready_seconds: float = 60
) -> Iterator[list[int]]:
    """``count`` `raw <command>` processes (``worker``, ``dispatcher``) in ``project``,
    each ready (it said it polls) before this yields their pids; stopped with SIGTERM after."""
    procs: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        for n in range(count):
            log = project / f"{command}-{n}-{uuid.uuid4().hex[:6]}.log"
            with log.open("wb") as sink:
                proc = subprocess.Popen(
                    [str(RAW_BIN), command],
                    cwd=project,
                    env=env,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                )
            procs.append((proc, log))
        deadline = time.monotonic() + ready_seconds
        for proc, log in procs:
            while "polling" not in log.read_text(errors="replace"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"raw {command} did not start:\n{log.read_text()}")
                time.sleep(0.05)
        yield [proc.pid for proc, _ in procs]
    finally:
        for proc, _ in procs:
            proc.send_signal(signal.SIGTERM)
        for proc, _ in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def raw_dispatchers(
    count: int, project: Path, env: dict[str, str]
) -> contextlib.AbstractContextManager[list[int]]:
    """``count`` `raw dispatcher` processes in ``project`` (see :func:`raw_parts`)."""
    return raw_parts("dispatcher", count, project, env)


def each_database(kinds: str, work: Path) -> Iterator[tuple[str, str, Path | None]]:
    """For each of the comma-separated ``kinds`` (sqlite, postgresql): (kind, a fresh
    database's URL, the PostgreSQL data folder or None); PostgreSQL is the embedded one,
    stopped when the next kind's turn comes."""
    for kind in kinds.split(","):
        if kind == "sqlite":
            yield kind, f"sqlite+aiosqlite:///{work / f'bench-{uuid.uuid4().hex[:6]}.db'}", None
            continue
        from raw.testing.postgres import postgres_server

        data_dir = work / f"pg-{uuid.uuid4().hex[:6]}"
        with postgres_server(data_dir) as pg:
            yield kind, pg.create_database(), data_dir
