"""How fast the hiring system starts under `raw up`, and how fast a scenario runs.

(a) `raw up` in examples/hiring (a copy, so nothing of yours is touched) until it
prints "Ready": the first start (engine database created, migrations run) and
warm starts after it. Baseline in the same run: `raw serve` alone, from launch to
its /health answering 200 (the heaviest single part; `raw up` starts the engine,
the integrations, the worker and the coordinator, then syncs schedules).

(b) `raw simulate` of the happy-path scenario (nine simulated days) in-process,
against the same simulated system started and stopped with no steps.

    .venv/bin/python benchmarks/system_up.py            # --starts 5 --runs 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from raw.ports import free_port

REPO = Path(__file__).resolve().parents[1]
HIRING = REPO / "examples" / "hiring"
RAW = str(Path(sys.executable).with_name("raw"))


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_")}
    for name in ("DATABASE_URL", "TEMPORAL_ADDRESS"):
        env.pop(name, None)
    return env


def copy_hiring(target: Path) -> Path:
    from raw.testing.projects import copy_project

    return copy_project(HIRING, target)


CPU_TO_READY: list[float] = []
"""CPU seconds `raw up` and its processes used until "Ready", one per start (load-proof-ish)."""


def cpu_of_tree(pid: int) -> float:
    """CPU seconds of a process, its reaped children and its live descendants."""
    parent = psutil.Process(pid)
    times = parent.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for child in parent.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            child_times = child.cpu_times()
            total += child_times.user + child_times.system
    return total


def time_up(root: Path, *, keep_engine: bool) -> float:
    """Seconds from launching `raw up` to its "Ready" line; then stops it."""
    port = free_port()
    args = [RAW, "up", "--port", str(port)] + (["--keep-engine"] if keep_engine else [])
    t0 = time.monotonic()
    process = subprocess.Popen(
        args,
        cwd=root,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    elapsed = None
    for line in process.stdout:
        if "Ready in" in line:
            elapsed = time.monotonic() - t0
            CPU_TO_READY.append(cpu_of_tree(process.pid))
            break
    process.send_signal(signal.SIGTERM)
    for _ in process.stdout:
        pass
    process.wait(60)
    process.stdout.close()
    if elapsed is None:
        raise SystemExit(f"raw up did not get ready (exit {process.returncode})")
    return elapsed


def time_serve(root: Path) -> float:
    """Seconds from launching `raw serve` alone to /health answering 200."""
    port = free_port()
    env = {**clean_env(), "RAW_DISPATCHER": "off", "RAW_API_TOKEN": "x" * 40}
    for line in (root / ".raw" / "local.env").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            name, value = line.split("=", 1)
            env.setdefault(name, value)
    t0 = time.monotonic()
    process = subprocess.Popen(
        [RAW, "serve", "--port", str(port)],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    return time.monotonic() - t0
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise SystemExit("raw serve exited")
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


async def time_scenario(steps: bool) -> float:
    from raw.project import Project
    from raw.simulate import load_scenario, run_scenario
    from raw.simulate.harness import SimulatedSystem

    scenario = load_scenario(HIRING / "scenarios" / "happy-path.yaml")
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.monotonic()
        if steps:
            result = await run_scenario(Project(HIRING), scenario, workdir=Path(folder) / "w")
            assert result.passed, result
        else:
            async with SimulatedSystem(Project(HIRING), workdir=Path(folder) / "w"):
                pass
        return time.monotonic() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5, help="warm raw up starts (default 5)")
    parser.add_argument("--runs", type=int, default=5, help="scenario runs (default 5)")
    parser.add_argument("--quick", action="store_true", help="make bench's version: 2 and 2")
    parser.add_argument(
        "--json", action="store_true", help="the figures as JSON on stdout (the rest on stderr)"
    )
    args = parser.parse_args()
    if args.quick:
        args.starts, args.runs = 2, 2
    with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
        result = run(args)
    if args.json:
        print(json.dumps(result))


def run(args: argparse.Namespace) -> dict[str, object]:

    with tempfile.TemporaryDirectory() as folder:
        root = copy_hiring(Path(folder) / "hiring")
        first = time_up(root, keep_engine=True)
        CPU_TO_READY.clear()
        warm = [time_up(root, keep_engine=True) for _ in range(args.starts)]
        warm_cpu = list(CPU_TO_READY)
        serve = [time_serve(root) for _ in range(args.starts)]
        subprocess.run([RAW, "engine", "stop"], cwd=root, env=clean_env(), capture_output=True)
        cold_engine = time_up(root, keep_engine=False)
    print("(a) raw up -> Ready (examples/hiring)")
    print(f"    first start (new engine db, migrations): {first:.2f} s")
    print(
        f"    warm, engine running, median of {len(warm)}: {statistics.median(warm):.2f} s"
        f"  (min {min(warm):.2f}, max {max(warm):.2f})"
    )
    print(f"    warm, engine stopped (raw up starts it):  {cold_engine:.2f} s")
    print(
        f"    CPU used to ready (raw up + its processes; the engine not counted), warm, "
        f"median: {statistics.median(warm_cpu):.2f} s"
    )
    print(f"    baseline raw serve alone -> /health, median: {statistics.median(serve):.2f} s")
    print(
        f"    ratio warm raw up / raw serve alone: "
        f"{statistics.median(warm) / statistics.median(serve):.2f}   (target: under 5 s warm)"
    )

    bare = [asyncio.run(time_scenario(steps=False)) for _ in range(args.runs)]
    full = [asyncio.run(time_scenario(steps=True)) for _ in range(args.runs)]
    print("(b) raw simulate scenarios/happy-path.yaml (9 simulated days), in-process")
    print(
        f"    full scenario, median of {len(full)}: {statistics.median(full):.2f} s"
        f"  (min {min(full):.2f}, max {max(full):.2f})   (target: under 3 s)"
    )
    print(
        f"    baseline: the simulated system started and stopped, no steps: "
        f"{statistics.median(bare):.2f} s"
    )
    print(f"    ratio full / bare start: {statistics.median(full) / statistics.median(bare):.2f}")
    return {
        "benchmark": "system_up",
        "load_average": os.getloadavg()[0],
        "first_s": first,
        "warm_s": warm,
        "warm_cpu_s": warm_cpu,
        "serve_s": serve,
        "cold_engine_s": cold_engine,
        "scenario_s": full,
        "scenario_bare_s": bare,
    }


if __name__ == "__main__":
    main()
