"""1,000 and 10,000 hiring-style processes waiting at once on the embedded engine.

    cd benchmarks && PYTHONPATH=../src ../.venv/bin/python waiting_processes.py
        [--counts 1000,10000] [--in-flight 100] [--phase-seconds 300] [--quick] [--json]

For each count, a fresh project (a temp folder) whose one process is hiring-shaped:
an activity (the booking email), then ``first_signal`` on "booked" or "withdrawn" with
a 7-day timeout (the booking window), then an activity (the summary), done; a
``RawProcess``, so it keeps its state query and search attributes as the example's
does. ``raw engine start`` runs the embedded engine (the ``temporal`` binary with the
kit's tuning, state in a SQLite file) and ``raw worker`` serves the process: the same
commands ``raw up`` runs. The client is the kit's (``raw.orchestrator.connect``).

Figures: the start rate (processes over the time until the engine accepted the last
start, ``--in-flight`` starts at a time), the time until all are waiting (each one's
first activity has run: it appends a line to a file), the worker's and the engine's
resident memory (VmRSS from /proc) idle before, at their peak, and with all waiting,
then the time to wake them all (a "booked" signal to each, ``--in-flight`` at a
time) until all completed (their last activity's lines). A phase that has not
finished after ``--phase-seconds`` is cut short and reported as such, with how far it
got.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from processes import RAW_BIN, cpu_seconds, raw_parts

CONFIG = """\
version: 1
system:
  orchestrator:
    task_queue: waiting
    workflows: [waiting.process]
    activities: [waiting.activities]
"""

PROCESS = '''\
"""A hiring-shaped process: an email, up to 7 days waiting for a booking, a summary."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from raw.orchestrator.workflow import RawProcess, execute_activity, first_signal


@workflow.defn(name="WaitingProcess")
class WaitingProcess(RawProcess):
    @workflow.run
    async def run(self, application: dict[str, Any]) -> str:
        # A candidate (waiting_processes.py) or an order (memory.py's webhook route).
        candidate_id = application.get("candidate_id") or application.get("order_id")
        self.set_step("awaiting-booking")
        await execute_activity(
            "mark", f"waiting {candidate_id}", start_to_close_timeout=timedelta(seconds=60)
        )
        booked = await first_signal(
            self,
            ["booked", "withdrawn"],
            timeout=timedelta(days=7),
            waiting_for="calendar-booking",
        )
        self.set_step("summarising")
        await execute_activity(
            "mark", f"done {candidate_id}", start_to_close_timeout=timedelta(seconds=60)
        )
        return booked.name if booked else "no-booking"
'''

ACTIVITIES = '''\
"""The process's one activity: a line in the benchmark's file, so it can count."""

from __future__ import annotations

import os

from temporalio import activity


@activity.defn(name="mark")
def mark(line: str) -> None:
    with open(os.environ["WAITING_MARKS"], "a", encoding="utf-8") as sink:
        sink.write(line + "\\n")
'''


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Peaks:
    """The highest RSS of each pid, sampled every ``interval`` seconds in a thread."""

    def __init__(self, pids: dict[str, int], interval: float = 0.25) -> None:
        self.pids = pids
        self.interval = interval
        self.peak = dict.fromkeys(pids, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                with contextlib.suppress(OSError):
                    self.peak[name] = max(self.peak[name], rss_mb(pid))
            self._stop.wait(self.interval)

    def __enter__(self) -> Peaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def count_marks(path: Path, kind: str) -> int:
    if not path.exists():
        return 0
    prefix = kind + " "
    return sum(1 for line in path.read_text().splitlines() if line.startswith(prefix))


def wait_marks(path: Path, kind: str, count: int, deadline: float) -> tuple[int, float]:
    """Wait until ``count`` lines of ``kind`` (or the deadline); (lines seen, monotonic time)."""
    while True:
        seen = count_marks(path, kind)
        if seen >= count or time.monotonic() > deadline:
            return seen, time.monotonic()
        time.sleep(0.1)


def make_project(root: Path) -> Path:
    (root / ".raw").mkdir(parents=True)
    (root / ".raw" / "config.yaml").write_text(CONFIG, encoding="utf-8")
    (root / "waiting").mkdir()
    (root / "waiting" / "__init__.py").write_text("", encoding="utf-8")
    (root / "waiting" / "process.py").write_text(PROCESS, encoding="utf-8")
    (root / "waiting" / "activities.py").write_text(ACTIVITIES, encoding="utf-8")
    return root


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_")}
    for name in ("DATABASE_URL", "TEMPORAL_ADDRESS"):
        env.pop(name, None)
    return env


@contextlib.contextmanager
def engine(project: Path, env: dict[str, str]) -> Iterator[int]:
    """``raw engine start`` in ``project``; its pid; ``raw engine stop`` after."""
    done = subprocess.run(
        [str(RAW_BIN), "engine", "start", "--json"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise SystemExit(f"raw engine start failed:\n{done.stdout}\n{done.stderr}")
    pid = int(json.loads(done.stdout)["pid"])
    try:
        yield pid
    finally:
        subprocess.run(
            [str(RAW_BIN), "engine", "stop"], cwd=project, env=env, capture_output=True, timeout=60
        )


async def bounded(count: int, in_flight: int, call: Any, deadline: float) -> tuple[int, float]:
    """``call(n)`` for n in range(count), ``in_flight`` at a time, until the deadline;
    (calls done, monotonic time of the last)."""
    done = 0
    last = time.monotonic()
    queue = iter(range(count))

    async def lane() -> None:
        nonlocal done, last
        for n in queue:
            if time.monotonic() > deadline:
                return
            await call(n)
            done += 1
            last = time.monotonic()

    await asyncio.gather(*(lane() for _ in range(in_flight)))
    return done, last


def cpu(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def spent(before: dict[str, float], pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds each of ``pids`` used since ``before``."""
    return {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}


async def drive(
    project: Path, count: int, args: argparse.Namespace, marks: Path, pids: dict[str, int]
) -> dict:
    from raw.orchestrator.connect import connect
    from raw.project import Project

    client = await connect(Project(project))
    run = f"w{int(time.time())}"
    ids = [f"candidate-{run}-{n}" for n in range(count)]

    async def start(n: int) -> None:
        await client.start_workflow(
            "WaitingProcess", {"candidate_id": ids[n]}, id=ids[n], task_queue="waiting"
        )

    async def wake(n: int) -> None:
        await client.get_workflow_handle(ids[n]).signal("booked", {"slot": n})

    found: dict[str, Any] = {"count": count}
    cpu0 = cpu(pids)
    t0 = time.monotonic()
    started, last_start = await bounded(count, args.in_flight, start, t0 + args.phase_seconds)
    found["started"] = started
    found["start_s"] = last_start - t0
    found["start_per_s"] = started / max(last_start - t0, 1e-9)
    print(
        f"    {started} started in {found['start_s']:.1f} s ({found['start_per_s']:.0f}/s)",
        file=sys.stderr,
        flush=True,
    )
    waiting, when = await asyncio.to_thread(
        wait_marks, marks, "waiting", started, t0 + 2 * args.phase_seconds
    )
    found["waiting"] = waiting
    found["all_waiting_s"] = when - t0
    found["cpu_to_waiting_s"] = spent(cpu0, pids)
    print(
        f"    {waiting} waiting after {found['all_waiting_s']:.1f} s; CPU seconds meanwhile: "
        + ", ".join(f"{n} {v:.1f}" for n, v in found["cpu_to_waiting_s"].items()),
        file=sys.stderr,
        flush=True,
    )
    return found | {"_ids": ids, "_wake": wake}


async def wake_all(
    found: dict[str, Any], args: argparse.Namespace, marks: Path, pids: dict[str, int]
) -> None:
    cpu0 = cpu(pids)
    t0 = time.monotonic()
    woken, last_signal = await bounded(
        found["waiting"], args.in_flight, found["_wake"], t0 + args.phase_seconds
    )
    found["signalled"] = woken
    found["signal_s"] = last_signal - t0
    completed, when = await asyncio.to_thread(
        wait_marks, marks, "done", woken, t0 + 2 * args.phase_seconds
    )
    found["completed"] = completed
    found["wake_all_s"] = when - t0
    found["wake_per_s"] = completed / max(when - t0, 1e-9)
    found["cpu_to_woken_s"] = spent(cpu0, pids)
    print(
        f"    {woken} signalled in {found['signal_s']:.1f} s; {completed} completed after "
        f"{found['wake_all_s']:.1f} s ({found['wake_per_s']:.0f}/s); CPU seconds meanwhile: "
        + ", ".join(f"{n} {v:.1f}" for n, v in found["cpu_to_woken_s"].items()),
        file=sys.stderr,
        flush=True,
    )


def measure(count: int, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        project = make_project(Path(folder) / "waiting-system")
        marks = project / "marks.txt"
        env = {**clean_env(), "WAITING_MARKS": str(marks)}
        with engine(project, env) as engine_pid, worker(project, env) as worker_pid:
            pids = {"worker": worker_pid, "engine": engine_pid}
            time.sleep(2)  # idle: both settled after start-up
            idle = {name: rss_mb(pid) for name, pid in pids.items()}
            print(
                f"  {count} processes (load average {os.getloadavg()[0]:.2f}); idle RSS "
                f"worker {idle['worker']:.0f} MB, engine {idle['engine']:.0f} MB",
                file=sys.stderr,
                flush=True,
            )

            async def both() -> dict[str, Any]:
                with Peaks(pids) as peaks:
                    found = await drive(project, count, args, marks, pids)
                    found["waiting_rss_mb"] = {n: rss_mb(p) for n, p in pids.items()}
                    found["peak_start_rss_mb"] = dict(peaks.peak)
                    await wake_all(found, args, marks, pids)
                    found["peak_rss_mb"] = dict(peaks.peak)
                found["after_rss_mb"] = {n: rss_mb(p) for n, p in pids.items()}
                return found

            found = asyncio.run(both())
        for private in ("_ids", "_wake"):
            found.pop(private)
        found["idle_rss_mb"] = idle
        found["load_average"] = os.getloadavg()[0]
        w = found["waiting_rss_mb"]
        print(
            f"    RSS with all waiting: worker {w['worker']:.0f} MB, engine {w['engine']:.0f} MB;"
            f" peaks {found['peak_rss_mb']['worker']:.0f} / {found['peak_rss_mb']['engine']:.0f}"
            f" MB (load average {found['load_average']:.2f})",
            file=sys.stderr,
            flush=True,
        )
        return found


@contextlib.contextmanager
def worker(project: Path, env: dict[str, str]) -> Iterator[int]:
    """``raw worker`` in ``project``, once it said it polls; its pid; SIGTERM after."""
    with raw_parts("worker", 1, project, env, ready_seconds=120) as (pid,):
        yield pid


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--counts", default="1000,10000")
    parser.add_argument("--in-flight", type=int, default=100, help="starts/signals at a time")
    parser.add_argument(
        "--phase-seconds", type=float, default=300, help="cut a phase short after this"
    )
    parser.add_argument("--quick", action="store_true", help="make bench's: 300 only")
    parser.add_argument("--json", action="store_true", help="the figures as JSON on stdout")
    args = parser.parse_args()
    if args.quick:
        args.counts = "300"
    result: dict[str, Any] = {
        "benchmark": "waiting_processes",
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "in_flight": args.in_flight,
        "load_before": os.getloadavg()[0],
        "counts": {},
    }
    for count in (int(c) for c in args.counts.split(",")):
        result["counts"][str(count)] = measure(count, args)
    result["load_average"] = os.getloadavg()[0]
    print_table(result)
    if args.json:
        print(json.dumps(result))


def print_table(result: dict[str, Any]) -> None:
    out = sys.stderr
    print(
        f"\n{'count':>7} {'start/s':>8} {'all waiting':>12} {'wake all':>9} "
        f"{'worker MB idle/waiting/peak':>28} {'engine MB idle/waiting/peak':>28}",
        file=out,
    )
    for count, f in result["counts"].items():
        cut = "" if f["completed"] >= int(count) else f" (cut: {f['completed']} completed)"
        cells = [
            f"{f['idle_rss_mb'][n]:.0f} / {f['waiting_rss_mb'][n]:.0f} / {f['peak_rss_mb'][n]:.0f}"
            for n in ("worker", "engine")
        ]
        print(
            f"{int(count):>7} {f['start_per_s']:>8.0f} {f['all_waiting_s']:>10.1f} s "
            f"{f['wake_all_s']:>7.1f} s {cells[0]:>28} {cells[1]:>28}{cut}",
            file=out,
        )


if __name__ == "__main__":
    main()
