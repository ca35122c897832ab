"""Resident memory of each part: coordinator, dispatcher, worker, engine; idle and under load.

    cd benchmarks && PYTHONPATH=../src ../.venv/bin/python memory.py
        [--seconds 15] [--connections 32] [--drain-seconds 120] [--quick] [--json]

The parts run as `raw up` runs them, each its own process on 127.0.0.1 in a fresh
project (a temp folder): ``raw engine start`` (the embedded engine, the kit's tuning),
``raw worker``, ``raw serve`` with its built-in dispatcher off, and one ``raw
dispatcher``; the coordinator's database is a SQLite file. Its one webhook route is
webhook_ingest.py's (Standard Webhooks signatures, idempotency on ``order_id``, the
order row stored by the route's handler), but its action starts a process: the
hiring-shaped process of waiting_processes.py (an activity, then up to 7 days waiting
for a "booked" signal), one per order. So the load reaches every part: the
coordinator takes the deliveries, the dispatcher starts the processes, the engine
keeps them, the worker runs their first steps.

Figures (VmRSS from /proc, MB): each part idle (all started, 3 s of quiet), at its
peak while wrk sends signed deliveries for ``--seconds`` and after (sampled every
0.25 s), at the end of the load, and once the dispatcher has started every accepted
delivery's process or ``--drain-seconds`` have passed (the table says which); with
the requests/s, the processes started and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from processes import RAW_BIN, raw_dispatchers
from waiting_processes import ACTIVITIES, PROCESS, Peaks, clean_env, engine, rss_mb, worker
from webhook_ingest import (
    HERE,
    REQUESTS_PER_SECOND_MAX,
    SECRET,
    TOKEN,
    create_entity_table,
    ensure_wrk,
    run_wrk,
    server,
    write_script,
)

from raw.ports import free_port

CONFIG = """\
version: 1
system:
  coordinator:
    database_url: "{url}"
    webhooks:
      - name: order
        path: /webhooks/order
        body: ingest_models:Order
        handler: ingest_models:save_order
        scheme: standard-webhooks
        secrets: [BENCH_SECRET]
        delivery_key: order_id
        action: {{kind: start_process, process: WaitingProcess, business_key: order_id}}
  orchestrator:
    task_queue: waiting
    workflows: [waiting.process]
    activities: [waiting.activities]
"""

PARTS = ("coordinator", "dispatcher", "worker", "engine")
SCRIPT_REQUESTS_MAX = 20_000
"""Requests in one wrk script: wrk's Lua gives up on a script of 50,000 (no output)."""


def make_project(root: Path, url: str) -> Path:
    (root / ".raw").mkdir(parents=True)
    (root / ".raw" / "config.yaml").write_text(CONFIG.format(url=url), encoding="utf-8")
    (root / "waiting").mkdir()
    (root / "waiting" / "__init__.py").write_text("", encoding="utf-8")
    (root / "waiting" / "process.py").write_text(PROCESS, encoding="utf-8")
    (root / "waiting" / "activities.py").write_text(ACTIVITIES, encoding="utf-8")
    return root


def inbox_counts(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, func, select

    from raw.coordinator.db.database import normalize_url
    from raw.coordinator.db.models import InboxRecord

    sync = create_engine(normalize_url(url, sync=True))
    try:
        with sync.connect() as conn:
            rows = conn.execute(select(InboxRecord.status, func.count()).group_by("status"))
            return {str(status): int(n) for status, n in rows}
    finally:
        sync.dispose()


def snapshot(pids: dict[str, int]) -> dict[str, float]:
    return {name: rss_mb(pid) for name, pid in pids.items()}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from raw.coordinator.db.database import upgrade

    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        url = f"sqlite+aiosqlite:///{work / 'coordinator.db'}"
        project = make_project(work / "system", url)
        asyncio.run(upgrade(url))
        create_entity_table(url)
        marks = project / "marks.txt"
        path = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p)
        env = {
            **clean_env(),
            "BENCH_SECRET": SECRET,
            "RAW_API_TOKEN": TOKEN,
            "PYTHONPATH": path,
            "WAITING_MARKS": str(marks),
        }
        port = free_port()
        serve_env = {**env, "RAW_DISPATCHER": "off"}
        serve_cmd = [str(RAW_BIN), "serve", "--port", str(port), "--log-level", "warning"]
        script = project / "load.lua"
        count = min(REQUESTS_PER_SECOND_MAX * args.seconds, SCRIPT_REQUESTS_MAX)
        write_script(script, count, signed=True)
        with (
            engine(project, env) as engine_pid,
            worker(project, env) as worker_pid,
            server(serve_cmd, project, serve_env, port) as serve_pid,
            raw_dispatchers(1, project, env) as (dispatcher_pid,),
        ):
            pids = {
                "coordinator": serve_pid,
                "dispatcher": dispatcher_pid,
                "worker": worker_pid,
                "engine": engine_pid,
            }
            time.sleep(3)
            idle = snapshot(pids)
            print(
                "  idle: "
                + ", ".join(f"{n} {idle[n]:.0f} MB" for n in PARTS)
                + f" (load average {os.getloadavg()[0]:.2f})",
                file=sys.stderr,
                flush=True,
            )
            load_before = os.getloadavg()[0]
            with Peaks(pids) as peaks:
                figures = run_wrk(wrk, script, port, args.seconds, args.connections)
                if figures["requests"] > count:  # wrapped around: repeats, not new deliveries
                    raise SystemExit(f"wrk sent more than {count} requests: shorten --seconds")
                loaded = snapshot(pids)
                print(
                    f"  wrk: {figures['rps']:.0f} req/s, {figures['requests']} requests, "
                    f"{figures['non_2xx']} not 202; at the end: "
                    + ", ".join(f"{n} {loaded[n]:.0f} MB" for n in PARTS),
                    file=sys.stderr,
                    flush=True,
                )
                t_load_end = time.monotonic()
                deadline = t_load_end + args.drain_seconds
                while True:
                    counts = inbox_counts(url)
                    open_ = counts.get("pending", 0) + counts.get("in_progress", 0)
                    if not open_ or time.monotonic() > deadline:
                        break
                    time.sleep(0.5)
                drained = snapshot(pids)
                drain_s = time.monotonic() - t_load_end
            peak = dict(peaks.peak)
            started = sum(1 for line in marks.read_text().splitlines()) if marks.exists() else 0
    result = {
        "benchmark": "memory",
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "seconds": args.seconds,
        "connections": args.connections,
        "wrk": figures,
        "inbox": counts,
        "processes_waiting": started,
        "idle_mb": idle,
        "peak_mb": peak,
        "end_of_load_mb": loaded,
        "drained_mb": drained,
        "drain_s": drain_s,
        "drained": not open_,
        "load_before": load_before,
        "load_average": os.getloadavg()[0],
    }
    return result


def print_table(result: dict[str, Any]) -> None:
    out = sys.stderr
    wrk = result["wrk"]
    print(
        f"\nRSS, MB: idle, and under {result['seconds']} s of signed deliveries at "
        f"{result['connections']} connections ({wrk['rps']:.0f} req/s; inbox after "
        f"{result['inbox']}; {result['processes_waiting']} processes reached their wait)",
        file=out,
    )
    later = f"{'drained' if result['drained'] else 'not drained'} {result['drain_s']:.0f} s later"
    print(f"{'part':<13}{'idle':>7}{'peak':>8}{'end of load':>13}  {later}", file=out)
    for part in PARTS:
        print(
            f"{part:<13}{result['idle_mb'][part]:>7.0f}{result['peak_mb'][part]:>8.0f}"
            f"{result['end_of_load_mb'][part]:>13.0f}  {result['drained_mb'][part]:.0f}",
            file=out,
        )
    print(
        f"load average {result['load_before']:.2f} before the load, "
        f"{result['load_average']:.2f} after",
        file=out,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=15, help="wrk's load")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--drain-seconds", type=float, default=120)
    parser.add_argument("--quick", action="store_true", help="make bench's: 8 s, 30 s to drain")
    parser.add_argument("--json", action="store_true", help="the figures as JSON on stdout")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.drain_seconds = 8, 30
    result = run(args)
    print_table(result)
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
