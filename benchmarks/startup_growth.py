"""`raw run` start-up as a project grows: 1, 100 and 1,000 workflows (issue 20's growth table).

    cd benchmarks && PYTHONPATH=../src ../.venv/bin/python startup_growth.py \
        [--counts 1,100,1000] [--launches 9] [--quick] [--json]

For each count, a throw-away project holds that many copies of workflow_overhead.py's
``noop`` workflow (``wf-0000`` ...). Each round launches, per project, ``raw run
wf-0000 --json`` and ``raw list --json``; the projects take turns (alternating order)
so a change in the machine's load falls on all of them. A figure is the median of the
launches; the ratio is each project's median over the one-workflow project's. A run
should not grow with the count: it touches one workflow. ``raw list`` reads every
workflow and its last run, so it grows by design; it is here to show the scale.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from workflow_overhead import compile_kit, launch_once, make_project


def make_growing_project(root: Path, count: int) -> Path:
    """A project of ``count`` workflows: the noop workflow, copied."""
    make_project(root)
    workflows = root / ".raw" / "workflows"
    template = workflows / "noop" / "run.py"
    for i in range(count):
        folder = workflows / f"wf-{i:04d}"
        folder.mkdir()
        shutil.copyfile(template, folder / "run.py")
    shutil.rmtree(workflows / "noop")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--counts", default="1,100,1000", help="workflows per project")
    parser.add_argument("--launches", type=int, default=9, help="launches of each command")
    parser.add_argument("--quick", action="store_true", help="make bench's version: --launches 4")
    parser.add_argument(
        "--json", action="store_true", help="the figures as JSON on stdout (the rest on stderr)"
    )
    args = parser.parse_args()
    if args.quick:
        args.launches = 4
    with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
        result = run([int(c) for c in args.counts.split(",")], args.launches)
    if args.json:
        print(json.dumps(result))


def run(counts: list[int], launches: int) -> dict:
    raw_bin = str(Path(sys.executable).with_name("raw"))
    commands = {
        "run": [raw_bin, "run", "wf-0000", "--json"],
        "list": [raw_bin, "list", "--json"],
    }
    result: dict = {"benchmark": "startup_growth", "counts": counts, "launches": launches}
    with tempfile.TemporaryDirectory() as tmp:
        roots = {n: make_growing_project(Path(tmp) / f"p{n}", n) for n in counts}
        compile_kit()
        for root in roots.values():  # warm: the page cache, .pyc files, the config cache
            for cmd in commands.values():
                launch_once(cmd, root)
        times: dict[str, dict[int, list[float]]] = {c: {n: [] for n in counts} for c in commands}
        loads = []
        for i in range(launches):
            loads.append(os.getloadavg()[0])
            for n in counts if i % 2 == 0 else counts[::-1]:
                for name, cmd in commands.items():
                    times[name][n].append(launch_once(cmd, roots[n]))
    result["load_average"] = loads
    result["seconds"] = {c: {str(n): v for n, v in by_n.items()} for c, by_n in times.items()}
    result["medians_ms"] = {}
    result["ratios"] = {}
    print(
        f"median of {launches} launches each, load average "
        f"{min(loads):.2f}-{max(loads):.2f} during the run"
    )
    for name, by_n in times.items():
        medians = {n: statistics.median(v) * 1000 for n, v in by_n.items()}
        first = medians[counts[0]]
        result["medians_ms"][name] = {str(n): m for n, m in medians.items()}
        result["ratios"][name] = {str(n): m / first for n, m in medians.items()}
        label = f"raw {name}" + (" wf-0000 --json" if name == "run" else " --json")
        cells = ", ".join(
            f"{n:>5} workflows {m:7.1f} ms ({m / first:.2f}x)" for n, m in medians.items()
        )
        print(f"    {label:<26} {cells}")
    return result


if __name__ == "__main__":
    main()
