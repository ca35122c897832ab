"""Webhook ingest: our signed, idempotent route against a bare FastAPI insert, under wrk.

    python benchmarks/webhook_ingest.py [--seconds 8] [--connections 32] [--rounds 5]
                                        [--databases sqlite,postgresql]

Both servers are `uvicorn` with one worker on 127.0.0.1, on the same database. Ours
is `raw serve`: Standard Webhooks signature check, idempotency on the body's
`order_id`, and in one transaction committed before the 202 the delivery row, the
entity (the route's handler inserts the baseline's order row) and the inbox record,
with the built-in dispatcher running (the route's action is `none`, so each record
is taken and marked done). The baseline (ingest_baseline.py) validates the same
model and inserts the order row. wrk (Debian's `wrk`, installed with apt-get if
missing) sends pre-signed requests, each with its own delivery id, 2 threads,
bounded in time.

The machine is shared, so its load changes while this runs: the two servers take
turns (bare, ours, bare, ours, ...), each run on a freshly started server with a
fresh script, and the figure is the median of the rounds' ratios with their spread.
Reported per run: requests/s, p50/p99 latency, the server's CPU seconds (from
/proc) beside the wall time, so a load-generator bottleneck shows, and the CPU per
request; for ours, how many of the deliveries stored during the run the dispatcher
had already done when it ended (it must keep up, not fall behind).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from raw.ports import free_port

HERE = Path(__file__).resolve().parent
RAW_BIN = Path(sys.executable).with_name("raw")
SECRET = "whsec_" + base64.b64encode(b"webhook-ingest-benchmark-secret").decode()
TOKEN = "webhook-ingest-benchmark-token-0123456789"
THREADS = 2  # wrk threads
REQUESTS_PER_SECOND_MAX = 2500  # distinct deliveries prepared per second of load

CONFIG = """\
version: 1
system:
  coordinator:
    database_url: "{url}"
    dispatcher: {{poll_interval_seconds: 0.05, concurrency: 8}}
    webhooks:
      - name: order
        path: /webhooks/order
        body: ingest_models:Order
        handler: ingest_models:save_order
        scheme: standard-webhooks
        secrets: [BENCH_SECRET]
        delivery_key: order_id
        action: {{kind: none}}
"""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed and apt-get could not install it.")
    return found


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def write_script(path: Path, count: int, *, signed: bool) -> None:
    """A wrk script cycling through ``count`` pre-built requests, each a new delivery."""
    from standardwebhooks import Webhook

    webhook = Webhook(SECRET)
    now = datetime.now(UTC)
    # Built in init(): at the script's top level wrk has no Host header yet, and
    # wrk.format would make requests the server refuses.
    lines = ["local requests = {}", "init = function(args)"]
    for i in range(count):
        body = json.dumps(
            {
                "order_id": f"o-{i}-{uuid.uuid4().hex[:8]}",
                "customer": "ada",
                "amount_cents": 1299 + i,
                "items": ["book", "pen"],
            }
        )
        headers = {"Content-Type": "application/json"}
        if signed:
            msg_id = f"msg_{uuid.uuid4().hex}"
            headers.update(
                {
                    "webhook-id": msg_id,
                    "webhook-timestamp": str(int(now.timestamp())),
                    "webhook-signature": webhook.sign(msg_id, now, body),
                }
            )
        lua_headers = (
            "{"
            + ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
            + "}"
        )
        lines.append(
            f'requests[{i + 1}] = wrk.format("POST", "/webhooks/order", '
            f"{lua_headers}, {lua_string(body)})"
        )
    lines += [
        "end",
        # Each thread has its own Lua state and counter: thread k sends requests k, k+T,
        # k+2T, ... so no two threads send the same delivery.
        "local threads = 0",
        "setup = function(thread)",
        "  thread:set('first', threads)",
        "  threads = threads + 1",
        "end",
        "local i = 0",
        "request = function()",
        f"  local n = (i * {THREADS} + first) % #requests + 1",
        "  i = i + 1",
        "  return requests[n]",
        "end",
        "local non2xx = 0",
        "response = function(status, headers, body)",
        "  if status ~= 202 then non2xx = non2xx + 1 end",
        "end",
        "done = function(summary, latency, requests)",
        "  io.write(string.format('p50_us %d\\np99_us %d\\nerrors %d\\n', "
        "latency:percentile(50), latency:percentile(99), summary.errors.status))",
        "end",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


@contextlib.contextmanager
def server(cmd: list[str], cwd: Path, env: dict[str, str], port: int) -> Iterator[int]:
    log = cwd / f"server-{port}.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code < 500:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"server did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def run_wrk(wrk: str, script: Path, port: int, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        [
            wrk,
            f"-t{THREADS}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    values = dict(re.findall(r"^(p50_us|p99_us|errors) (\d+)$", out, re.M))
    return {
        "rps": rps,
        "requests": total,
        "p50_ms": int(values["p50_us"]) / 1000,
        "p99_ms": int(values["p99_us"]) / 1000,
        "non_2xx": int(values["errors"]),
    }


def table_counts(url: str) -> dict[str, int]:
    """Rows in the tables both servers write, and the inbox by status (sync, read only)."""
    from sqlalchemy import create_engine, inspect, text

    from raw.coordinator.db.database import normalize_url

    engine = create_engine(normalize_url(url, sync=True))
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            counts = {
                table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
                for table in ("bench_orders", "raw_webhook_deliveries")
                if table in tables
            }
            if "raw_inbox" in tables:
                rows = conn.execute(text("SELECT status, count(*) FROM raw_inbox GROUP BY status"))
                counts.update({f"inbox_{status}": int(n) for status, n in rows})
            return counts
    finally:
        engine.dispose()


def wait_until_dispatched(url: str, before: dict[str, int], timeout_seconds: float) -> bool:
    """Wait until every delivery stored since ``before`` is done by the dispatcher."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        now = table_counts(url)
        stored = now["raw_webhook_deliveries"] - before.get("raw_webhook_deliveries", 0)
        if now.get("inbox_done", 0) - before.get("inbox_done", 0) >= stored:
            return True
        time.sleep(0.05)
    return False


def create_entity_table(url: str) -> None:
    """The orders table both servers insert into (the baseline also creates it at start)."""
    from ingest_models import Base
    from sqlalchemy import create_engine

    from raw.coordinator.db.database import normalize_url

    engine = create_engine(normalize_url(url, sync=True))
    try:
        Base.metadata.create_all(engine)
    finally:
        engine.dispose()


ROUTES = {
    "bare": (
        "bare FastAPI insert",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "ingest_baseline:app",
            "--port",
            "{port}",
            "--log-level",
            "warning",
        ],
        "bench_orders",
    ),
    "ours": (
        "raw webhook route",
        [str(RAW_BIN), "serve", "--port", "{port}", "--log-level", "warning"],
        "raw_webhook_deliveries",
    ),
}


def run_once(
    which: str, url: str, project: Path, env: dict[str, str], wrk: str, args: argparse.Namespace
) -> dict[str, float]:
    """One server started, loaded by wrk for ``args.seconds``, stopped; its figures."""
    label, cmd, table = ROUTES[which]
    script = project / f"{which}.lua"
    # A new script each run: every request of every run is a new delivery.
    count = REQUESTS_PER_SECOND_MAX * args.seconds
    write_script(script, count, signed=which == "ours")
    port = free_port()
    with server([c.replace("{port}", str(port)) for c in cmd], project, env, port) as pid:
        before = table_counts(url)
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        figures = run_wrk(wrk, script, port, args.seconds, args.connections)
        if figures["requests"] > count:  # the script wrapped around: repeats, not new deliveries
            raise SystemExit(
                f"{label} took more than {count} requests: raise REQUESTS_PER_SECOND_MAX"
            )
        figures["server_cpu_s"] = cpu_seconds(pid) - cpu0
        figures["wall_s"] = time.monotonic() - t0
        after = table_counts(url)
        figures["stored"] = after.get(table, 0) - before.get(table, 0)
        # End to end: until the dispatcher has done every delivery of the run (the
        # baseline has nothing left to do when wrk stops).
        figures["e2e_s"], figures["e2e_cpu_s"] = figures["wall_s"], figures["server_cpu_s"]
        if which == "ours":
            figures["done_at_end"] = after.get("inbox_done", 0) - before.get("inbox_done", 0)
            if not wait_until_dispatched(url, before, timeout_seconds=120):
                raise SystemExit("the dispatcher did not finish the run's records in 120 s")
            figures["e2e_s"] = time.monotonic() - t0
            figures["e2e_cpu_s"] = cpu_seconds(pid) - cpu0
            figures["stored"] = table_counts(url)[table] - before.get(table, 0)
    figures["cpu_ms_per_request"] = 1000 * figures["server_cpu_s"] / max(figures["requests"], 1)
    figures["e2e_rate"] = figures["stored"] / figures["e2e_s"]
    figures["e2e_cpu_ms"] = 1000 * figures["e2e_cpu_s"] / max(figures["stored"], 1)
    print(f"    {describe(label, figures)}  non-2xx {int(figures['non_2xx'])}", flush=True)
    return figures


def describe(label: str, figures: dict[str, float]) -> str:
    line = (
        f"{label:<20} {figures['rps']:7.0f} req/s  p50 {figures['p50_ms']:6.1f} ms"
        f"  p99 {figures['p99_ms']:6.1f} ms  server CPU {figures['server_cpu_s']:4.1f} s"
        f" of {figures['wall_s']:4.1f} s ({figures['cpu_ms_per_request']:.2f} ms/req)"
    )
    if "done_at_end" in figures:
        line += (
            f"\n{'':<24} dispatched {figures['done_at_end']:.0f} of {figures['stored']:.0f}"
            f" by the end, all after {figures['e2e_s']:4.1f} s: {figures['e2e_rate']:4.0f}"
            f" deliveries/s end to end, CPU {figures['e2e_cpu_ms']:.2f} ms each"
        )
    return line


def measure(url: str, work: Path, wrk: str, args: argparse.Namespace) -> dict[str, Any]:
    """``args.rounds`` rounds of (bare, ours), each run on a freshly started server."""
    project = work / f"project-{uuid.uuid4().hex[:6]}"
    (project / ".raw").mkdir(parents=True)
    (project / ".raw" / "config.yaml").write_text(CONFIG.format(url=url), encoding="utf-8")
    create_entity_table(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAW_", "DATABASE_URL"))}
    env.update(
        BENCH_SECRET=SECRET, RAW_API_TOKEN=TOKEN, BENCH_DATABASE_URL=url, PYTHONPATH=str(HERE)
    )
    runs: dict[str, list[dict[str, float]]] = {"bare": [], "ours": []}
    for round_no in range(1, args.rounds + 1):
        print(f"  round {round_no} (load average {os.getloadavg()[0]:.2f})", flush=True)
        for which in ("bare", "ours"):
            runs[which].append(run_once(which, url, project, env, wrk, args))
    pairs = list(zip(runs["bare"], runs["ours"], strict=True))
    ratios = {
        "requests/s (the target)": [o["rps"] / b["rps"] for b, o in pairs],
        "end to end (deliveries/s until all dispatched)": [
            o["e2e_rate"] / b["e2e_rate"] for b, o in pairs
        ],
        "CPU per request, bare / ours": [
            b["cpu_ms_per_request"] / o["cpu_ms_per_request"] for b, o in pairs
        ],
        "CPU per delivery end to end, bare / ours": [
            b["e2e_cpu_ms"] / o["e2e_cpu_ms"] for b, o in pairs
        ],
    }
    summary: dict[str, Any] = {"ratios": ratios}
    print(f"  medians of {args.rounds} rounds:")
    for which, (label, _, _) in ROUTES.items():
        figures = {
            key: statistics.median(run[key] for run in runs[which]) for key in runs[which][0]
        }
        summary[which] = figures
        print(f"    {describe(label, figures)}")
    print("  ratios, ours / bare per round (median, spread, each round):")
    for name, values in ratios.items():
        print(
            f"    {name:<48} {statistics.median(values):.2f}  {min(values):.2f}-{max(values):.2f}"
            f"  [{', '.join(f'{r:.2f}' for r in values)}]"
        )
    ratio = statistics.median(ratios["requests/s (the target)"])
    print(f"  target >= 0.7 on requests/s: {'met' if ratio >= 0.7 else 'MISSED'}", flush=True)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for kind in args.databases.split(","):
            print(
                f"{kind}: {args.rounds} rounds of bare then ours, {args.connections} "
                f"connections, {args.seconds} s each",
                flush=True,
            )
            if kind == "sqlite":
                measure(f"sqlite+aiosqlite:///{work / 'bench.db'}", work, wrk, args)
            else:
                from raw.testing.postgres import postgres_server

                with postgres_server(work / "pg") as pg:
                    measure(pg.create_database(), work, wrk, args)


if __name__ == "__main__":
    main()
