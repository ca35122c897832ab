"""What the embedded engine's tuning buys: one workflow's latency, default vs tuned.

Starts Temporal's dev server (the ``temporal`` binary beside this Python) once with
its default settings and once with the flags ``raw engine start`` uses
(``raw.orchestrator.engine.TUNING``), both on a SQLite file as the engine keeps its
state, both in the same run, each with its own client and worker in this process.
The workflow calls three trivial activities in sequence. Three figures, in ms:

  back-to-back  N workflows one after the other (a busy system, a test suite)
  after idle    one workflow after a second of quiet, M times (a business process
                that moves now and then): the dev server's rate limits refill while
                idle, so the defaults cost less here
  300 ms sleep  the wall time of a workflow that sleeps 300 ms (timer precision)

The variants take turns, so a busy machine slows them alike.

    .venv/bin/python benchmarks/engine_latency.py            # --runs 60 --idle-runs 10
    .venv/bin/python benchmarks/engine_latency.py --ablate   # also tuned minus each flag
    .venv/bin/python benchmarks/engine_latency.py --explore  # also the EXPLORE candidates
    .venv/bin/python benchmarks/engine_latency.py --explore eager local --phases

Each variant's back-to-back figure comes with the CPU it cost per workflow: the
server process (psutil) and this process (client + worker, ``time.process_time``),
figures a busy machine moves less than latencies. The server's own counters of
eager workflow starts and eager activities (its Prometheus endpoint) say whether
those paths were taken. ``--phases`` splits each batch's last workflow by the gaps
between its history events (hand-offs in the server, tasks on the worker);
``--freeze`` freezes this process's heap after the warm-up, as ``raw worker`` does.
The workflows live in ``engine_workflows.py``: the sandbox executes a workflow's
module again for every run, and this module cost each run 3-5 ms more.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from engine_workflows import ShortSleep, ThreeActivities, ThreeLocalActivities, bump
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from raw.orchestrator.engine import TUNING, find_binary, tuning_flags
from raw.orchestrator.worker import WorkerPlan, build_worker
from raw.ports import pick_free_ports

PHASES = {
    ("WORKFLOW_TASK_SCHEDULED", "WORKFLOW_TASK_STARTED"): (
        "server: first workflow task hand-off",
        "server: later workflow task hand-offs (x3, sticky)",
    ),
    ("WORKFLOW_TASK_STARTED", "WORKFLOW_TASK_COMPLETED"): (
        "worker: first workflow task (a new sandbox)",
        "worker: later workflow tasks (x3)",
    ),
    ("ACTIVITY_TASK_SCHEDULED", "ACTIVITY_TASK_STARTED"): ("server: activity hand-offs (x3)",) * 2,
    ("ACTIVITY_TASK_STARTED", "ACTIVITY_TASK_COMPLETED"): ("worker: activities (x3)",) * 2,
}
"""Gaps between consecutive history events, summed per workflow into these phases (the
first workflow task's label, the later ones'). A gap "on the worker" runs from the event
the server writes when it hands a task out to the one it writes on the task's completion:
it holds both gRPC trips and the server's own handling of the completion."""

WORKERS = ("sdk", "kit", "unsandboxed")
"""sdk: temporalio's default sandbox; kit: ``raw.orchestrator.worker.build_worker`` (as
``raw worker`` runs it); unsandboxed: no sandbox (a reference, not for users)."""


@dataclass
class Variant:
    name: str
    flags: list[str]
    eager_start: bool = False
    """Start with ``request_eager_start``: the first workflow task comes back in the start
    call's answer (the client is the worker's), not through matching."""
    worker: str = "sdk"
    local_activities: bool = False
    """Run the three steps as local activities (another workflow design, for reference)."""
    env: dict[str, str] = field(default_factory=dict)
    """Environment variables added for the server (the Go runtime's GOGC, say)."""
    back_to_back_ms: list[float] = field(default_factory=list)
    after_idle_ms: list[float] = field(default_factory=list)
    sleep_ms: list[float] = field(default_factory=list)
    server_cpu_s: float = 0.0
    """CPU of the server process over the back-to-back batches."""
    client_cpu_s: float = 0.0
    """CPU of this process (client + worker) over the back-to-back batches."""
    eager: dict[str, float] = field(default_factory=dict)
    last_run: tuple[float, float, Any] = (0.0, 0.0, None)
    phases: dict[str, list[float]] = field(default_factory=dict)
    """ms per workflow in each phase (``--phases``), from the workflow's history."""
    process: subprocess.Popen[bytes] | None = None
    client: Client | None = None
    metrics_port: int = 0

    async def timed(self, run: Any, task_queue: str) -> float:
        assert self.client is not None
        start, wall = time.perf_counter(), time.time()
        handle = await self.client.start_workflow(
            run, id=uuid.uuid4().hex, task_queue=task_queue, request_eager_start=self.eager_start
        )
        await handle.result()
        elapsed = (time.perf_counter() - start) * 1000
        self.last_run = (wall, wall + elapsed / 1000, handle)
        return elapsed

    async def add_phases(self) -> None:
        """Split the last run's time by its history: the gaps between its events."""
        wall_start, wall_end, handle = self.last_run
        history = await handle.fetch_history()
        events = [
            (EventType.Name(e.event_type), e.event_time.ToMicroseconds() / 1000)
            for e in history.events
        ]
        gaps = {"client: start call -> execution started": events[0][1] - wall_start * 1000}
        task = 0
        for (before, t0), (after, t1) in zip(events, events[1:], strict=False):
            task += before == "EVENT_TYPE_WORKFLOW_TASK_SCHEDULED"
            labels = PHASES.get((before[len("EVENT_TYPE_") :], after[len("EVENT_TYPE_") :]))
            if labels is not None:
                label = labels[0] if task == 1 else labels[1]
                gaps[label] = gaps.get(label, 0.0) + t1 - t0
        gaps["client: execution completed -> result"] = wall_end * 1000 - events[-1][1]
        for name, ms in gaps.items():
            self.phases.setdefault(name, []).append(ms)

    def three_steps(self) -> Any:
        return ThreeLocalActivities.run if self.local_activities else ThreeActivities.run

    def server_cpu(self) -> float:
        assert self.process is not None
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def read_eager_counters(self) -> None:
        """Sum the server's ``*_eager_execution`` counters (Prometheus text format)."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 (our own server)
            text = answer.read().decode()
        for line in text.splitlines():
            name = line.split("{", 1)[0].split(" ", 1)[0]
            if name.endswith("_eager_execution"):
                self.eager[name] = self.eager.get(name, 0.0) + float(line.rsplit(" ", 1)[1])

    def make_worker(self, task_queue: str) -> Worker:
        assert self.client is not None
        workflows, activities = [ThreeActivities, ThreeLocalActivities, ShortSleep], [bump]
        if self.worker == "kit":
            return build_worker(self.client, WorkerPlan(task_queue, workflows, activities))
        if self.worker == "unsandboxed":
            return Worker(
                self.client,
                task_queue=task_queue,
                workflows=workflows,
                activities=activities,
                workflow_runner=UnsandboxedWorkflowRunner(),
            )
        return Worker(
            self.client, task_queue=task_queue, workflows=workflows, activities=activities
        )


EXPLORE: tuple[tuple[str, list[str], dict[str, Any]], ...] = (
    # name, flags added to the tuned set, Variant options
    ("tuned, eager start", [], {"eager_start": True}),
    (
        "tuned, 1 task queue partition",
        [
            "--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
            "--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
        ],
        {},
    ),
    (
        "tuned, search attribute cache",
        ["--dynamic-config-value", "system.forceSearchAttributesCacheRefreshOnRead=false"],
        {},
    ),
    (
        "tuned, sqlite cache+mmap",
        [
            "--sqlite-pragma", "cache_size=-65536",
            "--sqlite-pragma", "temp_store=memory",
            "--sqlite-pragma", "mmap_size=268435456",
        ],
        {},
    ),
    ("tuned, GOGC=200", [], {"env": {"GOGC": "200"}}),
    ("tuned, adaptive stacks", [], {"env": {"GODEBUG": "adaptivestackstart=1"}}),
    ("tuned, GOMAXPROCS=1", [], {"env": {"GOMAXPROCS": "1"}}),
    (
        "tuned, no transition history",
        ["--dynamic-config-value", "history.enableTransitionHistory=false"],
        {},
    ),
    ("tuned, no CHASM", ["--dynamic-config-value", "history.enableChasm=false"], {}),
    ("tuned, kit worker", [], {"worker": "kit"}),
    ("tuned, unsandboxed worker", [], {"worker": "unsandboxed"}),
    ("tuned, 3 local activities", [], {"local_activities": True}),
)  # fmt: skip
"""Candidate settings measured with ``--explore`` (see benchmarks/README.md)."""


async def start_server(variant: Variant, folder: Path) -> None:
    """Start the variant's dev server on a SQLite file in ``folder`` and connect its client."""
    port, variant.metrics_port = pick_free_ports(2)
    log_path = folder / f"{id(variant)}.log"
    with open(log_path, "wb") as log:
        variant.process = subprocess.Popen(
            [
                str(find_binary()), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
                "--port", str(port), "--db-filename", str(folder / f"{id(variant)}.db"),
                "--metrics-port", str(variant.metrics_port),
                *variant.flags,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **variant.env},
        )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            variant.client = await Client.connect(f"127.0.0.1:{port}")
            return
        except RuntimeError:
            if time.monotonic() > deadline or variant.process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise SystemExit(f"{variant.name}: the server did not start:\n{tail}") from None
            await asyncio.sleep(0.05)


async def measure(
    variants: list[Variant],
    *,
    runs: int,
    idle_runs: int,
    sleeps: int,
    rounds: int,
    freeze: bool,
    phases: bool,
) -> None:
    task_queue = f"bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="engine-latency-") as tmp:
        try:
            await asyncio.gather(*(start_server(v, Path(tmp)) for v in variants))
            workers = [v.make_worker(task_queue) for v in variants]
            for worker in workers:
                await worker.__aenter__()
            try:
                for v in variants:  # warm-up: connections, caches, the sandbox
                    for _ in range(3):
                        await v.timed(v.three_steps(), task_queue)
                if freeze:  # as raw worker does once polling (raw._heap)
                    gc.collect()
                    gc.freeze()
                # long batches: a rate limit's refill shows in a batch's first run
                for round_ in range(rounds):
                    for v in variants:
                        server, client = v.server_cpu(), time.process_time()
                        for _ in range(runs // rounds + (round_ < runs % rounds)):
                            v.back_to_back_ms.append(await v.timed(v.three_steps(), task_queue))
                        v.client_cpu_s += time.process_time() - client
                        v.server_cpu_s += v.server_cpu() - server
                        if phases:  # the batch's last run: its history is read outside the timing
                            await v.add_phases()
                for _ in range(idle_runs):
                    for v in variants:
                        await asyncio.sleep(1.0)
                        v.after_idle_ms.append(await v.timed(v.three_steps(), task_queue))
                for _ in range(sleeps):
                    for v in variants:
                        v.sleep_ms.append(await v.timed(ShortSleep.run, task_queue))
                for v in variants:
                    v.read_eager_counters()
            finally:
                for worker in workers:
                    await worker.__aexit__(None, None, None)
        finally:
            for v in variants:
                if v.process is not None:
                    v.process.terminate()
                    v.process.wait()


def report(variants: list[Variant]) -> dict[str, Any]:
    median = statistics.median
    width = max(len(v.name) for v in variants) + 2
    print(
        f"\n{'variant':<{width}} {'back-to-back':>13} {'(p90)':>7} {'after idle':>11}"
        f" {'300 ms sleep':>13} {'CPU/workflow: server':>21} {'client+worker':>14}"
        f"  eager starts, activities\n" + "-" * (width + 110)
    )
    for v in variants:
        p90 = statistics.quantiles(v.back_to_back_ms, n=10)[-1]
        n = len(v.back_to_back_ms)
        print(
            f"{v.name:<{width}} {median(v.back_to_back_ms):10.1f} ms {p90:7.1f}"
            f" {median(v.after_idle_ms):8.1f} ms {median(v.sleep_ms):10.0f} ms"
            f" {v.server_cpu_s / n * 1000:18.1f} ms {v.client_cpu_s / n * 1000:11.1f} ms"
            f"  {v.eager.get('workflow_eager_execution', 0):.0f},"
            f" {v.eager.get('activity_eager_execution', 0):.0f}"
        )
    if variants[0].phases:
        print("\nwhere a back-to-back workflow's time goes, median ms (history event times):")
        names = list(variants[0].phases)
        print(f"  {'phase':<56}" + "".join(f" {v.name[:16]:>16}" for v in variants))
        for name in names:
            print(
                f"  {name:<56}"
                + "".join(f" {median(v.phases.get(name, [0.0])):16.2f}" for v in variants)
            )
    default, tuned = variants[0], variants[1]
    result: dict[str, Any] = {"benchmark": "engine_latency", "load_average": os.getloadavg()[0]}
    for v in variants:
        n = len(v.back_to_back_ms)
        result[v.name] = {
            "back_to_back_ms": median(v.back_to_back_ms),
            "after_idle_ms": median(v.after_idle_ms),
            "sleep_ms": median(v.sleep_ms),
            "server_cpu_ms": v.server_cpu_s / n * 1000,
            "client_cpu_ms": v.client_cpu_s / n * 1000,
            "eager": v.eager,
            "phases_ms": {name: median(ms) for name, ms in v.phases.items()},
        }
    print("\nmedians, default / tuned:")
    for label, attr in (
        (f"3-activity workflow, back-to-back (n={len(tuned.back_to_back_ms)})", "back_to_back_ms"),
        (f"3-activity workflow, after idle (n={len(tuned.after_idle_ms)})", "after_idle_ms"),
        (f"workflow sleeping 300 ms (n={len(tuned.sleep_ms)})", "sleep_ms"),
    ):
        d, t = median(getattr(default, attr)), median(getattr(tuned, attr))
        print(f"  {label:<52} {d:7.1f} / {t:6.1f} ms = {d / t:5.2f}x")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=60, help="back-to-back workflows per variant")
    parser.add_argument("--idle-runs", type=int, default=10, help="workflows after 1 s idle")
    parser.add_argument("--sleeps", type=int, default=5, help="300 ms sleeps per variant")
    parser.add_argument("--ablate", action="store_true", help="also: tuned minus each flag")
    parser.add_argument(
        "--explore",
        nargs="*",
        metavar="NAME",
        help="also: the EXPLORE candidates (all, or those whose name contains a NAME)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="back-to-back batches per variant")
    parser.add_argument(
        "--phases",
        action="store_true",
        help="split each batch's last workflow by its history events (use more --rounds)",
    )
    parser.add_argument(
        "--freeze", action="store_true", help="gc.freeze() after the warm-up, as raw worker does"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="make bench's version: --runs 15 --idle-runs 3 --sleeps 2",
    )
    parser.add_argument(
        "--json", action="store_true", help="the figures as JSON on stdout (the rest on stderr)"
    )
    args = parser.parse_args()
    if args.quick:
        args.runs, args.idle_runs, args.sleeps = 15, 3, 2
    real_stdout = sys.stdout
    if args.json:
        sys.stdout = sys.stderr
    variants = [Variant("default", []), Variant("tuned", tuning_flags())]
    if args.ablate:
        for left_out in TUNING:
            rest = tuple(t for t in TUNING if t is not left_out)
            variants.append(Variant(f"tuned without {left_out.value}", tuning_flags(rest)))
    if args.explore is not None:
        for name, extra, options in EXPLORE:
            if args.explore and not any(part in name for part in args.explore):
                continue
            variants.append(Variant(name, [*tuning_flags(), *extra], **options))
    print(f"{len(variants)} dev servers; each variant: {args.runs} back-to-back, "
          f"{args.idle_runs} after idle, {args.sleeps} sleeps ...")  # fmt: skip
    asyncio.run(
        measure(
            variants,
            runs=args.runs,
            idle_runs=args.idle_runs,
            sleeps=args.sleeps,
            rounds=args.rounds,
            freeze=args.freeze,
            phases=args.phases,
        )
    )
    result = report(variants)
    sys.stdout.flush()
    if args.json:
        real_stdout.write(json.dumps(result) + "\n")
        real_stdout.flush()
    os._exit(0)  # temporalio's runtime can abort at interpreter exit (NOTES.md)


if __name__ == "__main__":
    main()
