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
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():  # else every workflow run re-imports them
    from raw.orchestrator.engine import TUNING, find_binary, tuning_flags
    from raw.ports import free_port


@activity.defn
async def bump(value: int) -> int:
    return value + 1


@workflow.defn
class ThreeActivities:
    @workflow.run
    async def run(self) -> int:
        value = 0
        for _ in range(3):
            value = await workflow.execute_activity(
                bump, value, start_to_close_timeout=timedelta(seconds=30)
            )
        return value


@workflow.defn
class ShortSleep:
    @workflow.run
    async def run(self) -> None:
        await asyncio.sleep(0.3)


@dataclass
class Variant:
    name: str
    flags: list[str]
    back_to_back_ms: list[float] = field(default_factory=list)
    after_idle_ms: list[float] = field(default_factory=list)
    sleep_ms: list[float] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    client: Client | None = None

    async def timed(self, run: Any, task_queue: str) -> float:
        assert self.client is not None
        start = time.perf_counter()
        await self.client.execute_workflow(run, id=uuid.uuid4().hex, task_queue=task_queue)
        return (time.perf_counter() - start) * 1000


async def _start(variant: Variant, folder: Path) -> None:
    port = free_port()
    log_path = folder / f"{id(variant)}.log"
    with open(log_path, "wb") as log:
        variant.process = subprocess.Popen(
            [
                str(find_binary()), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
                "--port", str(port), "--db-filename", str(folder / f"{id(variant)}.db"),
                *variant.flags,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
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


async def measure(variants: list[Variant], *, runs: int, idle_runs: int, sleeps: int) -> None:
    task_queue = f"bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="engine-latency-") as tmp:
        try:
            await asyncio.gather(*(_start(v, Path(tmp)) for v in variants))
            workers = [
                Worker(
                    v.client,  # type: ignore[arg-type]
                    task_queue=task_queue,
                    workflows=[ThreeActivities, ShortSleep],
                    activities=[bump],
                )
                for v in variants
            ]
            for worker in workers:
                await worker.__aenter__()
            try:
                for v in variants:  # warm-up: connections, caches, the sandbox
                    for _ in range(3):
                        await v.timed(ThreeActivities.run, task_queue)
                rounds = 3  # long batches: a rate limit's refill shows in a batch's first run
                for round_ in range(rounds):
                    for v in variants:
                        for _ in range(runs // rounds + (round_ < runs % rounds)):
                            v.back_to_back_ms.append(await v.timed(ThreeActivities.run, task_queue))
                for _ in range(idle_runs):
                    for v in variants:
                        await asyncio.sleep(1.0)
                        v.after_idle_ms.append(await v.timed(ThreeActivities.run, task_queue))
                for _ in range(sleeps):
                    for v in variants:
                        v.sleep_ms.append(await v.timed(ShortSleep.run, task_queue))
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
        f" {'300 ms sleep':>13}\n" + "-" * (width + 47)
    )
    for v in variants:
        p90 = statistics.quantiles(v.back_to_back_ms, n=10)[-1]
        print(
            f"{v.name:<{width}} {median(v.back_to_back_ms):10.1f} ms {p90:7.1f}"
            f" {median(v.after_idle_ms):8.1f} ms {median(v.sleep_ms):10.0f} ms"
        )
    default, tuned = variants[0], variants[1]
    result: dict[str, Any] = {"benchmark": "engine_latency", "load_average": os.getloadavg()[0]}
    for v in variants:
        result[v.name] = {
            "back_to_back_ms": median(v.back_to_back_ms),
            "after_idle_ms": median(v.after_idle_ms),
            "sleep_ms": median(v.sleep_ms),
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
    print(f"{len(variants)} dev servers; each variant: {args.runs} back-to-back, "
          f"{args.idle_runs} after idle, {args.sleeps} sleeps ...")  # fmt: skip
    asyncio.run(measure(variants, runs=args.runs, idle_runs=args.idle_runs, sleeps=args.sleeps))
    result = report(variants)
    sys.stdout.flush()
    if args.json:
        real_stdout.write(json.dumps(result) + "\n")
        real_stdout.flush()
    os._exit(0)  # temporalio's runtime can abort at interpreter exit (NOTES.md)


if __name__ == "__main__":
    main()
