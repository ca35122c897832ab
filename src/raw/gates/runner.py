"""Run gates one after another, each in a process of its own within its time limit.

Every gate, built-in or command, runs as a child process in a session of its own
from the project's root, its output (stdout and stderr) going to its log. Past
its time limit the whole process group gets SIGTERM, then SIGKILL, and the gate
is recorded as ``timed_out``. A built-in gate writes its findings as JSON beside
its log. The run's folder, ``.raw/gates/<run-id>/``, holds the logs, those
details, ``journal.jsonl`` (one line per event, as it happens) and
``summary.json`` (what ``raw gates --json`` prints).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from raw import clock
from raw.files import write_atomic
from raw.gates.spec import GateSpec, expand_command
from raw.ids import new_run_id
from raw.local_state import GATES_DIR
from raw.project import Project

__all__ = ["GateResult", "GatesRun", "run_gates"]

GateStatus = Literal["passed", "failed", "timed_out", "error"]
KILL_GRACE_SECONDS = 5.0


@dataclass
class GateResult:
    name: str
    kind: str
    status: GateStatus
    duration_seconds: float
    timeout_seconds: float
    log: str
    exit_code: int | None
    command: str | None = None
    builtin: str | None = None
    note: str | None = None
    details: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GatesRun:
    run_id: str
    project: Path
    directory: Path
    results: list[GateResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.status == "passed" for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "project": str(self.project),
            "directory": str(self.directory),
            "ok": self.ok,
            "gates": [r.to_dict() for r in self.results],
        }


def _environment() -> dict[str, str]:
    """The parent's environment, with this Python's scripts (raw, pytest) first on PATH."""
    env = dict(os.environ)
    scripts = str(Path(sys.executable).parent)
    env["PATH"] = scripts + os.pathsep + env.get("PATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("RAW_PROJECT_DIR", None)  # the gate runs in the project's root
    return env


def _argv(spec: GateSpec, project: Project, details: Path) -> list[str]:
    if spec.kind == "builtin":
        return [
            sys.executable,
            "-m",
            "raw.gates.builtin",
            str(spec.builtin),
            str(project.root),
            str(details),
        ]
    return ["/bin/sh", "-c", expand_command(str(spec.command), project)]


def _stop(process: subprocess.Popen[bytes]) -> None:
    for signum, grace in ((signal.SIGTERM, KILL_GRACE_SECONDS), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signum)
        try:
            process.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def run_gate(spec: GateSpec, project: Project, directory: Path) -> GateResult:
    """Run one gate to its end or its time limit."""
    log = directory / f"{spec.name}.log"
    details = directory / f"{spec.name}.json"
    started = time.monotonic()
    exit_code: int | None = None
    with open(log, "wb") as out:
        header = f"# gate {spec.name}: {spec.describe()}\n"
        if spec.note:
            header += f"# note: {spec.note}\n"
        out.write(header.encode())
        out.flush()
        try:
            process = subprocess.Popen(
                _argv(spec, project, details),
                cwd=project.root,
                env=_environment(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            out.write(f"could not start: {exc}\n".encode())
            status: GateStatus = "error"
        else:
            try:
                exit_code = process.wait(spec.timeout_seconds)
                status = "passed" if exit_code == 0 else "failed"
            except subprocess.TimeoutExpired:
                _stop(process)
                exit_code = process.returncode
                status = "timed_out"
                out.write(f"\n# timed out after {spec.timeout_seconds:g} s: stopped\n".encode())
            except BaseException:  # Ctrl-C: never leave the gate's processes behind
                _stop(process)
                raise
    data: dict[str, Any] | None = None
    if details.is_file():
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(details.read_text(encoding="utf-8"))
    return GateResult(
        name=spec.name,
        kind=spec.kind,
        status=status,
        duration_seconds=round(time.monotonic() - started, 3),
        timeout_seconds=spec.timeout_seconds,
        log=str(log),
        exit_code=exit_code,
        command=spec.command,
        builtin=spec.builtin,
        note=spec.note,
        details=data,
    )


def _journal(path: Path, event: str, **values: Any) -> None:
    line = {"at": clock.now().isoformat(), "event": event, **values}
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, default=str) + "\n")


def run_gates(
    project: Project,
    specs: list[GateSpec],
    *,
    on_start: Callable[[int, GateSpec], None] | None = None,
    on_finish: Callable[[int, GateResult], None] | None = None,
) -> GatesRun:
    """Run ``specs`` in order (every one, even after a failure) and record the run."""

    run_id = new_run_id(clock.now())
    directory = project.raw_dir / GATES_DIR / run_id
    directory.mkdir(parents=True)
    journal = directory / "journal.jsonl"
    run = GatesRun(run_id=run_id, project=project.root, directory=directory)
    _journal(journal, "run-started", run_id=run_id, gates=[s.name for s in specs])
    for index, spec in enumerate(specs):
        if on_start is not None:
            on_start(index, spec)
        _journal(journal, "gate-started", gate=spec.name, timeout_seconds=spec.timeout_seconds)
        result = run_gate(spec, project, directory)
        run.results.append(result)
        _journal(
            journal,
            "gate-finished",
            gate=spec.name,
            status=result.status,
            duration_seconds=result.duration_seconds,
            exit_code=result.exit_code,
        )
        if on_finish is not None:
            on_finish(index, result)
    _journal(journal, "run-finished", ok=run.ok)
    write_atomic(directory / "summary.json", json.dumps(run.to_dict(), indent=2).encode())
    return run
