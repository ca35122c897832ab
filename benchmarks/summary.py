"""`make bench`: the quick version of every benchmark, and one table against issue 20's targets.

    cd benchmarks && PYTHONPATH=../src ../.venv/bin/python summary.py [--only NAME,...]
        [--save FILE] [--load FILE]

Runs each benchmark below with ``--quick --json`` (its progress goes to the terminal,
its figures come back as JSON), then prints one table: figure, ours, baseline, ratio
(the median of the per-round ratios where the benchmark has rounds; the spread in
brackets), target, met/missed; where issue 20 sets no target the figure is "reported",
and a growth figure (the claim at 100k records against 1k) is "flat" when the
biggest size takes at most 1.5x the smallest's. Quick runs are few and short: on a shared machine a
figure can move by a third between two runs, so read the ratios, and take any figure
worth quoting from the benchmark's full run (benchmarks/README.md gives each command).
``--save`` keeps the JSON of the run; ``--load`` prints the table from a saved one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

BENCHMARKS = {
    "webhook_ingest": "webhook_ingest.py",
    "workflow_overhead": "workflow_overhead.py",
    "process_throughput": "process_throughput.py",
    "engine_latency": "engine_latency.py",
    "system_up": "system_up.py",
    "startup_growth": "startup_growth.py",
    "dispatch_capacity": "dispatch_capacity.py",
    "claim_growth": "claim_growth.py",
    "waiting_processes": "waiting_processes.py",
    "memory": "memory.py",
}

Row = tuple[str, str, str, str, str, str]


def run_benchmark(name: str, timeout_seconds: float) -> dict[str, Any] | None:
    script = HERE / BENCHMARKS[name]
    print(f"== {name}: {script.name} --quick --json", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, str(script), "--quick", "--json"],
            cwd=HERE,
            stdout=subprocess.PIPE,
            text=True,
            timeout=timeout_seconds,
        )
    except subprocess.TimeoutExpired:
        print(f"== {name}: no result within {timeout_seconds:.0f} s", file=sys.stderr)
        return None
    print(f"== {name}: {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        print(f"== {name}: failed (exit {done.returncode})", file=sys.stderr)
        return None
    return json.loads(lines[-1])


def verdict(value: float, target: float, at_most: bool) -> str:
    return "met" if (value <= target if at_most else value >= target) else "MISSED"


def ratio_text(r: dict[str, Any]) -> str:
    return f"{r['median']:.2f} ({r['min']:.2f}-{r['max']:.2f})"


def ingest_rows(result: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for database, by_connections in result["databases"].items():
        for connections, found in by_connections.items():
            variants, ratios = found["variants"], found["ratios"]
            ours = next(v for k, v in variants.items() if k.startswith("ours"))["median"]
            key = next((k for k in ratios if k.split("/")[1].startswith("hand")), None)
            if key is None:
                continue
            hand = variants[key.split("/")[1]]["median"]
            load = statistics.median(found["load_average"])
            where = f"ingest {database} c{connections} (load {load:.1f})"
            for figure, label, unit, fmt, target, at_most, o, b in (
                ("rps", "req/s", "/s", ".0f", 1.0, False, ours["rps"], hand["rps"]),
                ("p99", "p99", " ms", ".0f", 1.1, True, ours["p99_ms"], hand["p99_ms"]),
                (
                    "end_to_end",
                    "end to end",
                    "/s",
                    ".0f",
                    0.9,
                    False,
                    ours.get("dispatched_per_s", 0.0),
                    hand.get("dispatched_per_s", 0.0),
                ),
            ):
                r = ratios[key].get(figure)
                if r is None:
                    continue
                sign = "<=" if at_most else ">="
                rows.append(
                    (
                        f"{where}: {label}",
                        f"{o:{fmt}}{unit}",
                        f"{b:{fmt}}{unit} hand-written",
                        ratio_text(r),
                        f"{sign} {target}",
                        verdict(r["median"], target, at_most),
                    )
                )
    return rows


def overhead_rows(result: dict[str, Any]) -> list[Row]:
    start = result["start_up"]
    med = {k: statistics.median(v) * 1000 for k, v in start["seconds"].items()}
    load = statistics.median(start["load_average"])
    r_plain, r_import = start["ratios"]["plain"], start["ratios"]["import_pydantic"]
    overhead = result["in_process"]["overhead_ms"]
    return [
        (
            f"raw run noop --json (load {load:.1f})",
            f"{med['raw']:.0f} ms",
            f"{med['plain']:.0f} ms plain script",
            ratio_text(r_plain),
            "<= 1.15",
            verdict(r_plain["median"], 1.15, True),
        ),
        (
            "raw run noop --json, old baseline",
            f"{med['raw']:.0f} ms",
            f"{med['import_pydantic']:.0f} ms import pydantic",
            ratio_text(r_import),
            "< 2.0",
            verdict(r_import["median"], 2.0, True),
        ),
        (
            "run_workflow overhead per run",
            f"{overhead:.2f} ms",
            f"{result['in_process']['direct_calls_ms']:.4f} ms 3 calls",
            "",
            "< 2 ms *",
            verdict(overhead, 2.0, True),
        ),
    ]


def throughput_rows(result: dict[str, Any]) -> list[Row]:
    found = result["in_process"]
    ratio = found["ours_per_s"] / found["plain_per_s"]
    return [
        (
            f"process throughput, {found['processes']} processes (load "
            f"{result['load_average']:.1f})",
            f"{found['ours_per_s']:.1f}/s",
            f"{found['plain_per_s']:.1f}/s plain activities",
            f"{ratio:.2f} (best of 2)",
            ">= 0.95",
            verdict(ratio, 0.95, False),
        )
    ]


def engine_rows(result: dict[str, Any]) -> list[Row]:
    tuned, default = result["tuned"]["back_to_back_ms"], result["default"]["back_to_back_ms"]
    return [
        (
            f"3-step process p50, embedded engine (load {result['load_average']:.1f})",
            f"{tuned:.0f} ms",
            f"{default:.0f} ms default dev server",
            f"{tuned / default:.2f}",
            "<= 45 ms *",
            verdict(tuned, 45.0, True),
        )
    ]


def system_up_rows(result: dict[str, Any]) -> list[Row]:
    warm, serve = statistics.median(result["warm_s"]), statistics.median(result["serve_s"])
    full = statistics.median(result["scenario_s"])
    bare = statistics.median(result["scenario_bare_s"])
    load = result["load_average"]
    return [
        (
            f"raw up warm to ready (load {load:.1f})",
            f"{warm:.2f} s",
            f"{serve:.2f} s raw serve alone",
            f"{warm / serve:.2f}",
            "<= 2.0 s *",
            verdict(warm, 2.0, True),
        ),
        (
            "raw simulate happy path",
            f"{full:.2f} s",
            f"{bare:.2f} s system up+down",
            f"{full / bare:.2f}",
            "<= 1.5 s *",
            verdict(full, 1.5, True),
        ),
    ]


def growth_rows(result: dict[str, Any]) -> list[Row]:
    counts = [str(n) for n in result["counts"]]
    first, last = counts[0], counts[-1]
    load = statistics.median(result["load_average"])
    rows: list[Row] = []
    for name, label, target in (
        ("run", f"raw run, {int(last):,} workflows (load {load:.1f})", 1.1),
        ("list", f"raw list, {int(last):,} workflows", None),
    ):
        medians, ratio = result["medians_ms"][name], result["ratios"][name][last]
        rows.append(
            (
                label,
                f"{medians[last]:.0f} ms",
                f"{medians[first]:.0f} ms {first} workflow",
                f"{ratio:.2f}",
                f"<= {target} (flat)" if target else "grows (imports each)",
                verdict(ratio, target, True) if target else "",
            )
        )
    return rows


def capacity_rows(result: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for database, found in result["databases"].items():
        runs = found["runs"]
        per_s = {n: statistics.median(r["per_s"] for r in runs[n]) for n in runs}
        for key, ratios in found["ratios"].items():
            more, one = key.split("/")
            rows.append(
                (
                    f"dispatch {result['records']:,} records, {database}, {more} vs {one} "
                    f"dispatcher(s) (load {result['load_average']:.1f})",
                    f"{per_s[more]:,.0f}/s",
                    f"{per_s[one]:,.0f}/s {one} dispatcher",
                    f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})",
                    "reported",
                    "",
                )
            )
    return rows


FLAT = 1.5
"""Growth figures: the biggest size's over the smallest's at most this is flat."""


def flat(ratio: float) -> str:
    return "flat" if ratio <= FLAT else "NOT FLAT"


def claim_rows(result: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for database, found in result["databases"].items():
        sizes = sorted(found["sizes"], key=int)
        small, big = found["sizes"][sizes[0]], found["sizes"][sizes[-1]]
        load = big["load_average"][-1]
        for figure, label in (("claim_ms", "claim"), ("sweep_ms", "claim + lease sweep")):
            ratio = big[figure]["median"] / small[figure]["median"]
            rows.append(
                (
                    f"{label}, {database}, {int(sizes[-1]):,} records (load {load:.1f})",
                    f"{big[figure]['median']:.2f} ms",
                    f"{small[figure]['median']:.2f} ms at {int(sizes[0]):,}",
                    f"{ratio:.2f}",
                    f"<= {FLAT} (flat)",
                    flat(ratio),
                )
            )
    return rows


def waiting_rows(result: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for count, f in result["counts"].items():
        where = f"{int(count):,} waiting processes (load {f['load_average']:.1f})"
        done = f"{f['completed']:,} of {int(count):,} completed"
        rows += [
            (f"{where}: start rate", f"{f['start_per_s']:.0f}/s", "", "", "reported", ""),
            (
                f"{where}: all waiting, all woken",
                f"{f['all_waiting_s']:.0f} s, {f['wake_all_s']:.0f} s",
                done,
                "",
                "reported",
                "" if f["completed"] >= int(count) else "CUT SHORT",
            ),
            (
                f"{where}: RSS worker, engine",
                f"{f['waiting_rss_mb']['worker']:.0f}, {f['waiting_rss_mb']['engine']:.0f} MB",
                f"{f['idle_rss_mb']['worker']:.0f}, {f['idle_rss_mb']['engine']:.0f} MB idle",
                "",
                "reported",
                "",
            ),
        ]
    return rows


def memory_rows(result: dict[str, Any]) -> list[Row]:
    wrk = result["wrk"]
    return [
        (
            f"RSS {part}, ingest {wrk['rps']:.0f} req/s (load {result['load_average']:.1f})",
            f"{result['peak_mb'][part]:.0f} MB peak",
            f"{result['idle_mb'][part]:.0f} MB idle",
            f"{result['peak_mb'][part] / result['idle_mb'][part]:.2f}",
            "reported",
            "",
        )
        for part in ("coordinator", "dispatcher", "worker", "engine")
    ]


ROWS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "webhook_ingest": ingest_rows,
    "workflow_overhead": overhead_rows,
    "process_throughput": throughput_rows,
    "engine_latency": engine_rows,
    "system_up": system_up_rows,
    "startup_growth": growth_rows,
    "dispatch_capacity": capacity_rows,
    "claim_growth": claim_rows,
    "waiting_processes": waiting_rows,
    "memory": memory_rows,
}


def table(results: dict[str, dict[str, Any] | None]) -> str:
    header: Row = ("figure", "ours", "baseline", "ratio (spread)", "target", "")
    rows: list[Row] = [header]
    for name, result in results.items():
        if result is None:
            rows.append((f"{name}: no result", "", "", "", "", "MISSING"))
            continue
        rows.extend(ROWS[name](result))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated names")
    parser.add_argument("--save", type=Path, help="write the run's JSON here")
    parser.add_argument("--load", type=Path, help="print the table of a saved run")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per benchmark")
    args = parser.parse_args()
    if args.load:
        results = json.loads(args.load.read_text())
    else:
        load_before = os.getloadavg()[0]
        results = {
            name: run_benchmark(name, args.timeout)
            for name in args.only.split(",")
            if name in BENCHMARKS
        }
        results["_machine"] = {"load_before": load_before, "load_after": os.getloadavg()[0]}
        if args.save:
            args.save.write_text(json.dumps(results, default=str))
    machine = results.pop("_machine", {})
    print()
    print(table(results))
    print(
        "\n* an absolute target (not a ratio): issue 20 sets it for a quiet machine; on a busy"
        " one it says little."
    )
    if machine:
        print(
            f"\nLoad average {machine['load_before']:.1f} before, {machine['load_after']:.1f}"
            f" after, on {os.cpu_count()} cores: "
            + ("a busy machine, read the ratios." if machine["load_after"] > 2 else "quiet.")
        )


if __name__ == "__main__":
    main()
