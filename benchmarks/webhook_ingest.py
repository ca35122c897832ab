"""Webhook ingest: our signed, idempotent route against a hand-written route, under wrk.

    python benchmarks/webhook_ingest.py [--seconds 8] [--connections 32[,128]] [--rounds 5]
        [--databases sqlite,postgresql] [--baselines hand,bare] [--warmup-seconds N]
        [--hw-pool N[,M]] [--hw-gc default[,freeze]] [--dispatchers 0[,1,2]] [--concurrency N[,M]]
        [--before-src PATH] [--before-dispatcher SETTINGS] [--no-bare] [--no-ours]
        [--py-spy DIR] [--quick] [--json]

All servers are `uvicorn` with one worker on 127.0.0.1, on the same database. Ours
is `raw serve`: Standard Webhooks signature check, idempotency on the body's
`order_id`, and in one transaction committed before the 202 the delivery row, the
entity (the route's handler inserts the order row) and the inbox record, with the
built-in dispatcher running (the route's action is `none`, so each record is taken
and marked done) or, with ``--dispatchers n``, the server's own turned off and n
`raw dispatcher` processes beside it. The baselines (``--baselines``):

- ``hand`` (ingest_handwritten.py), the honest one: what a careful engineer writes
  instead, on nothing of ours; the same signature check, model and idempotency, the
  order row and an outbox row in one transaction (SQLAlchemy Core), and a minimal
  outbox poller. ``--hw-pool`` tries its pool settings; ``--hw-gc freeze`` runs it
  with its started heap frozen (``gc.freeze()``), as ``raw serve`` runs.
- ``bare`` (ingest_baseline.py), the old, weak one: no signature, one ORM insert
  through our own database layer.

wrk (Debian's `wrk`, installed with apt-get if missing) sends pre-signed requests
(unsigned for ``bare``), each with its own delivery id, 2 threads, bounded in time.
``--before-src`` runs ours a second time from another source tree (main's, to
compare before and after in the same run), with the dispatcher settings this
benchmark used before (poll every 0.05 s, concurrency 8) unless
``--before-dispatcher`` names others ('' for the defaults).

The machine is shared, so its load changes while this runs: the variants take turns,
in alternating order (A B, B A, ...), each run on a freshly started server (loaded,
unmeasured, for ``--warmup-seconds`` first) with a fresh script, and the figures
are the medians of the rounds with their spread; the ratios of ours to each baseline
are taken per round. Reported per run: requests/s, p50/p99 latency, the server's CPU
seconds (from /proc) beside the wall time, and the CPU per request; for ours and the
hand-written route, end to end, from the rows' own timestamps: accepted/s (the run's
deliveries over the time from the first one received to the last), dispatched/s (the
same count over the time from the first received to the last record done) and their
ratio, 1.0 for a dispatcher that is never behind; and how many records were done when
wrk stopped. Issue 20's targets against the hand-written route: requests/s >= 1.0x,
p99 <= 1.1x, dispatched/s ("end to end") >= 0.9x.
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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from processes import RAW_BIN, cpu_seconds, each_database, raw_dispatchers

from raw.ports import free_port

HERE = Path(__file__).resolve().parent
SECRET = "whsec_" + base64.b64encode(b"webhook-ingest-benchmark-secret").decode()
TOKEN = "webhook-ingest-benchmark-token-0123456789"
THREADS = 2  # wrk threads
REQUESTS_PER_SECOND_MAX = 2500  # distinct deliveries prepared per second of load

CONFIG = """\
version: 1
system:
  coordinator:
    database_url: "{url}"
    dispatcher: {{{dispatcher}}}
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


@contextlib.contextmanager
def sampled(folder: Path | None, pid: int, name: str, seconds: int) -> Iterator[None]:
    """With ``--py-spy DIR``: py-spy samples the server while wrk runs, its folded stacks
    (one line a stack, the count last) written to DIR/<variant>-c<connections>-<n>.txt."""
    if folder is None:
        yield
        return
    spy = shutil.which("py-spy") or os.environ.get("PY_SPY", "")
    if not spy:
        raise SystemExit("--py-spy: no py-spy on PATH (pip install py-spy, or set PY_SPY)")
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{name}-{len(list(folder.glob(f'{name}-*.txt'))) + 1}.txt"
    cmd = [spy, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "100"]
    cmd += ["--nonblocking", "--format", "raw", "--output", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        try:
            proc.wait(timeout=seconds + 30)
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


def hw_outbox() -> Any:
    """The hand-written route's outbox table, as far as these looks need it (importing
    ingest_handwritten would build its app)."""
    from sqlalchemy import DateTime, Integer, String, column, table

    return table(
        "hw_outbox",
        column("id", Integer),
        column("status", String),
        column("received_at", DateTime(timezone=True)),
        column("done_at", DateTime(timezone=True)),
    )


class Inbox:
    """Read-only looks at the database both servers write (one sync engine per database)."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine

        from raw.coordinator.db.database import normalize_url

        self.engine = create_engine(normalize_url(url, sync=True))

    def close(self) -> None:
        self.engine.dispose()

    def count(self, table: str) -> int:
        from sqlalchemy import inspect, text

        with self.engine.connect() as conn:
            if table not in inspect(conn).get_table_names():
                return 0
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())

    def last_delivery(self, kind: str) -> int:
        """The last delivery's id (ours) or outbox row's (the hand-written route's)."""
        from sqlalchemy import func, inspect, select

        from raw.coordinator.db.models import Delivery

        if kind == "bare":
            return 0
        with self.engine.connect() as conn:
            if kind == "hand":
                if "hw_outbox" not in inspect(conn).get_table_names():
                    return 0
                last = select(func.coalesce(func.max(hw_outbox().c.id), 0))
                return int(conn.execute(last).scalar_one())
            return int(conn.execute(select(func.coalesce(func.max(Delivery.id), 0))).scalar_one())

    def run(self, after: int, kind: str = "ours") -> dict[str, Any]:
        """The deliveries stored after delivery ``after``: how many, when the first and the
        last were received, how many of their records are done and when the last was."""
        from sqlalchemy import func, select

        from raw.coordinator.db.models import Delivery, InboxRecord

        if kind == "hand":  # the outbox row is the delivery and the record at once
            outbox = hw_outbox()
            deliveries, received_at = outbox.c.id, outbox.c.received_at
            records, done_at_col, status = outbox.c.id, outbox.c.done_at, outbox.c.status
        else:
            deliveries, received_at = Delivery.id, Delivery.received_at
            records, done_at_col = InboxRecord.delivery_id, InboxRecord.done_at
            status = InboxRecord.status
        with self.engine.connect() as conn:
            stored, first, last = conn.execute(
                select(func.count(), func.min(received_at), func.max(received_at)).where(
                    deliveries > after
                )
            ).one()
            done, done_at = conn.execute(
                select(func.count(), func.max(done_at_col)).where(records > after, status == "done")
            ).one()
        return {"stored": stored, "first": first, "last": last, "done": done, "done_at": done_at}

    def wait_until_dispatched(
        self, after: int, kind: str, timeout_seconds: float
    ) -> dict[str, Any]:
        """Wait until every record of the deliveries stored after ``after`` is done."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            run = self.run(after, kind)
            if run["done"] >= run["stored"]:
                return run
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"the dispatcher did only {run['done']} of {run['stored']} records "
                    f"in {timeout_seconds:g} s after the load"
                )
            time.sleep(0.1)


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


BARE = [sys.executable, "-m", "uvicorn", "ingest_baseline:app", "--port", "{port}"]
HAND = [sys.executable, "-m", "uvicorn", "ingest_handwritten:app", "--port", "{port}"]
OURS = [str(RAW_BIN), "serve", "--port", "{port}"]


@dataclass(frozen=True)
class Variant:
    """One server set-up measured in each round."""

    name: str
    label: str
    kind: str = "ours"
    """``ours`` (raw serve), ``hand`` (ingest_handwritten.py, the honest baseline) or
    ``bare`` (ingest_baseline.py, the old, weak one)."""
    dispatchers: int = 0
    """0: the built-in dispatcher of `raw serve`; n: n `raw dispatcher` processes beside it."""
    src: str | None = None
    """Another source tree to run (`--before-src`), else the caller's."""
    dispatcher: str = ""
    """The dispatcher's settings in config.yaml (YAML flow mapping's inside)."""
    pool: str = ""
    """The hand-written route's ``HW_POOL`` (empty: its default for the database)."""
    gc_freeze: bool = False
    """The hand-written route with its heap frozen once started (``HW_GC_FREEZE=1``)."""

    @property
    def ours(self) -> bool:
        return self.kind == "ours"

    @property
    def signed(self) -> bool:
        return self.kind != "bare"


def make_project(work: Path, url: str, variant: Variant) -> Path:
    """A project folder for ``variant``: the route, with its dispatcher settings."""
    project = work / f"project-{variant.name}-{uuid.uuid4().hex[:6]}"
    (project / ".raw").mkdir(parents=True)
    config = CONFIG.format(url=url, dispatcher=variant.dispatcher)
    (project / ".raw" / "config.yaml").write_text(config, encoding="utf-8")
    return project


def run_once(
    variant: Variant,
    inbox: Inbox,
    project: Path,
    env: dict[str, str],
    wrk: str,
    args: argparse.Namespace,
    connections: int,
) -> dict[str, float]:
    """One server started, loaded by wrk for ``args.seconds``, stopped; its figures."""
    script = project / f"{variant.name}.lua"
    # A new script each run: every request of every run is a new delivery.
    count = REQUESTS_PER_SECOND_MAX * args.seconds
    write_script(script, count, signed=variant.signed)
    port = free_port()
    base_cmd = {"ours": OURS, "hand": HAND, "bare": BARE}[variant.kind]
    cmd = [c.replace("{port}", str(port)) for c in base_cmd]
    cmd += ["--log-level", "warning"]
    env = dict(env)
    if variant.pool:
        env["HW_POOL"] = variant.pool
    if variant.gc_freeze:
        env["HW_GC_FREEZE"] = "1"
    if variant.src is not None:
        env["PYTHONPATH"] = os.pathsep.join((str(HERE), variant.src))
    if variant.dispatchers:
        env["RAW_DISPATCHER"] = "off"  # the server's own; `raw dispatcher` ignores it
    table = {"ours": "raw_webhook_deliveries", "hand": "hw_orders", "bare": "bench_orders"}
    table = table[variant.kind]
    with (
        raw_dispatchers(variant.dispatchers, project, env) as helpers,
        server(cmd, project, env, port) as pid,
    ):
        if args.warmup_seconds:  # not measured: connections opened, caches filled, on both
            warm_from = inbox.last_delivery(variant.kind)
            warm = project / f"{variant.name}-warmup.lua"
            write_script(warm, REQUESTS_PER_SECOND_MAX * args.warmup_seconds, signed=variant.signed)
            run_wrk(wrk, warm, port, args.warmup_seconds, connections)
            if variant.kind != "bare":
                inbox.wait_until_dispatched(warm_from, variant.kind, timeout_seconds=120)
        before = inbox.count(table)
        after_id = inbox.last_delivery(variant.kind)
        pids = [pid, *helpers]
        cpu0, t0 = {p: cpu_seconds(p) for p in pids}, time.monotonic()
        with sampled(args.py_spy, pid, f"{variant.name}-c{connections}", args.seconds):
            figures = run_wrk(wrk, script, port, args.seconds, connections)
        if figures["requests"] > count:  # the script wrapped around: repeats, not new deliveries
            raise SystemExit(
                f"{variant.label} took more than {count} requests: raise REQUESTS_PER_SECOND_MAX"
            )
        figures["server_cpu_s"] = cpu_seconds(pid) - cpu0[pid]
        figures["wall_s"] = time.monotonic() - t0
        figures["stored"] = inbox.count(table) - before
        if variant.kind != "bare":
            figures.update(dispatch_figures(inbox, after_id, variant.kind))
            figures["all_cpu_s"] = sum(cpu_seconds(p) - cpu0[p] for p in pids)
    figures["cpu_ms_per_request"] = 1000 * figures["server_cpu_s"] / max(figures["requests"], 1)
    print(f"    {describe(variant.label, figures)}", flush=True)
    return figures


def dispatch_figures(inbox: Inbox, after: int, kind: str) -> dict[str, float]:
    """Accepted and dispatched per second of the run's deliveries, from their timestamps.

    Both are counted from the first delivery's receipt: accepted/s is the run's
    deliveries over the time until the last was received, dispatched/s the same count
    over the time until the last record was done. Their ratio is 1.0 for a dispatcher
    that is never behind; 0.5 when the last record is done as long after the load as
    the load lasted.
    """
    at_end = inbox.run(after, kind)
    run = inbox.wait_until_dispatched(after, kind, timeout_seconds=180)
    accepted_s = (run["last"] - run["first"]).total_seconds()
    dispatched_s = (run["done_at"] - run["first"]).total_seconds()
    return {
        "done_at_end": at_end["done"],
        "stored": run["stored"],
        "accepted_per_s": run["stored"] / max(accepted_s, 1e-9),
        "dispatched_per_s": run["stored"] / max(dispatched_s, 1e-9),
        "ratio": accepted_s / max(dispatched_s, 1e-9),
        "lag_s": dispatched_s - accepted_s,
    }


def describe(label: str, figures: dict[str, float]) -> str:
    line = (
        f"{label:<24} {figures['rps']:6.0f} req/s  p50 {figures['p50_ms']:6.1f} ms"
        f"  p99 {figures['p99_ms']:6.1f} ms  server CPU {figures['server_cpu_s']:4.1f} s"
        f" of {figures['wall_s']:4.1f} s ({figures['cpu_ms_per_request']:.2f} ms/req)"
        f"  non-2xx {figures['non_2xx']:.0f}"
    )
    if "ratio" in figures:
        line += (
            f"\n{'':<28}accepted {figures['accepted_per_s']:5.0f}/s, dispatched"
            f" {figures['dispatched_per_s']:5.0f}/s: ratio {figures['ratio']:.3f}"
            f" (last done {figures['lag_s']:.2f} s after the last accepted; done when wrk"
            f" stopped: {figures['done_at_end']:.0f} of {figures['stored']:.0f};"
            f" CPU of all our processes {figures['all_cpu_s']:.1f} s)"
        )
    return line


def spread(values: list[float], fmt: str = ".2f") -> str:
    return (
        f"{statistics.median(values):{fmt}}  {min(values):{fmt}}-{max(values):{fmt}}"
        f"  [{', '.join(f'{v:{fmt}}' for v in values)}]"
    )


TARGETS = {"rps": 1.0, "p99": 1.1, "end_to_end": 0.9}
"""Issue 20's targets for ours against the hand-written route: requests/s at least 1.0x,
p99 at most 1.1x, end to end (dispatched/s) at least 0.9x."""


def ratios(ours: dict[str, float], base: dict[str, float]) -> dict[str, float]:
    """Ours over a baseline in one round: requests/s, p99 and, where both dispatch, end to
    end (the run's deliveries over the time until the last is dispatched)."""
    out = {"rps": ours["rps"] / base["rps"], "p99": ours["p99_ms"] / base["p99_ms"]}
    if "dispatched_per_s" in ours and "dispatched_per_s" in base:
        out["end_to_end"] = ours["dispatched_per_s"] / base["dispatched_per_s"]
    return out


def measure(
    url: str,
    work: Path,
    wrk: str,
    variants: list[Variant],
    args: argparse.Namespace,
    connections: int,
) -> dict[str, Any]:
    """``args.rounds`` rounds of the variants in turn, each run on a freshly started server."""
    projects = {v.name: make_project(work, url, v) for v in variants}
    create_entity_table(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAW_", "DATABASE_URL"))}
    # The benchmarks' folder first, then the caller's path: PYTHONPATH=src runs this tree.
    path = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p)
    env.update(BENCH_SECRET=SECRET, RAW_API_TOKEN=TOKEN, BENCH_DATABASE_URL=url, PYTHONPATH=path)
    runs: dict[str, list[dict[str, float]]] = {v.name: [] for v in variants}
    loads: list[float] = []
    ours_variants = [v for v in variants if v.ours]
    baselines = [v for v in variants if not v.ours]
    inbox = Inbox(url)
    try:
        for round_no in range(1, args.rounds + 1):
            loads.append(os.getloadavg()[0])
            print(f"  round {round_no} (load average {loads[-1]:.2f})", flush=True)
            # Alternating order (A B, B A, ...): whoever runs second in a round does not
            # always meet the same leftovers (page cache, WAL, the other side's load).
            order = variants if round_no % 2 else variants[::-1]
            for variant in order:
                project = projects[variant.name]
                run = run_once(variant, inbox, project, env, wrk, args, connections)
                runs[variant.name].append(run)
            for o in ours_variants:
                for b in baselines:
                    r = ratios(runs[o.name][-1], runs[b.name][-1])
                    print(
                        f"    {o.label} / {b.label}: "
                        + ", ".join(f"{k} {v:.2f}" for k, v in r.items()),
                        flush=True,
                    )
    finally:
        inbox.close()
    print(f"  medians of {args.rounds} rounds:")
    summary: dict[str, Any] = {
        "connections": connections,
        "rounds": args.rounds,
        "seconds": args.seconds,
        "load_average": loads,
        "variants": {},
        "ratios": {},
    }
    for variant in variants:
        done = runs[variant.name]
        figures = {key: statistics.median(run[key] for run in done) for key in done[0]}
        summary["variants"][variant.name] = {
            "label": variant.label,
            "median": figures,
            "runs": done,
        }
        print(f"    {describe(variant.label, figures)}")
    print("  per variant: median, spread, each round")
    for variant in variants:
        if variant.kind == "bare":
            continue
        done = runs[variant.name]
        print(f"    {variant.label}")
        print(f"      accepted deliveries/s   {spread([r['accepted_per_s'] for r in done], '.0f')}")
        print(
            f"      dispatched actions/s    {spread([r['dispatched_per_s'] for r in done], '.0f')}"
        )
        keeping_up = [r["ratio"] for r in done]
        met = "met" if statistics.median(keeping_up) >= 0.95 else "MISSED"
        print(f"      dispatched/accepted     {spread(keeping_up, '.3f')}  (>= 0.95: {met})")
    for o in ours_variants:
        for b in baselines:
            per_round = [ratios(ro, rb) for ro, rb in zip(runs[o.name], runs[b.name], strict=True)]
            key = f"{o.name}/{b.name}"
            summary["ratios"][key] = {}
            print(f"    {o.label} / {b.label} ({'honest' if b.kind == 'hand' else 'old, weak'})")
            for figure in per_round[0]:
                values = [r[figure] for r in per_round]
                median = statistics.median(values)
                summary["ratios"][key][figure] = {
                    "median": median,
                    "min": min(values),
                    "max": max(values),
                    "rounds": values,
                }
                verdict = ""
                if b.kind == "hand":
                    target = TARGETS[figure]
                    met = median <= target if figure == "p99" else median >= target
                    sign = "<=" if figure == "p99" else ">="
                    verdict = f"  (target {sign} {target}: {'met' if met else 'MISSED'})"
                print(f"      {figure:<11} {spread(values)}{verdict}")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument(
        "--connections", default="32", help="comma-separated, one set of rounds each (32,128)"
    )
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--warmup-seconds",
        type=int,
        default=0,
        help="load each server this long, unmeasured, before its measured run (default 0)",
    )
    parser.add_argument(
        "--baselines",
        default="hand,bare",
        help="comma-separated: hand = the hand-written route (ingest_handwritten.py, the "
        "honest baseline), bare = the old bare insert through our database layer "
        "(ingest_baseline.py); default hand,bare",
    )
    parser.add_argument(
        "--hw-pool",
        default="",
        help="comma-separated HW_POOL values for the hand-written route, one variant each "
        "(SQLite: 1 = one connection and a lock, N = N connections; PostgreSQL: pool size)",
    )
    parser.add_argument(
        "--hw-gc",
        default="default",
        help="comma-separated, one variant each: default = the hand-written route as "
        "written, freeze = with its started heap frozen (gc.freeze(), as raw serve runs)",
    )
    parser.add_argument(
        "--dispatchers",
        default="0",
        help="comma-separated: 0 = the built-in dispatcher of raw serve, "
        "n = n `raw dispatcher` processes beside it (default 0)",
    )
    parser.add_argument(
        "--concurrency",
        default="",
        help="comma-separated: the dispatcher's concurrency, one variant each (default: "
        "the config's default)",
    )
    parser.add_argument(
        "--before-src",
        default=None,
        metavar="PATH",
        help="also run ours (built-in dispatcher) from this source tree, e.g. main's src",
    )
    parser.add_argument(
        "--before-dispatcher",
        default="poll_interval_seconds: 0.05, concurrency: 8",
        metavar="SETTINGS",
        help="the dispatcher settings of --before-src (YAML flow mapping's inside; default: "
        "the ones this benchmark gave it before its defaults changed; '' for the defaults)",
    )
    parser.add_argument("--no-bare", action="store_true", help="no baseline at all")
    parser.add_argument("--no-ours", action="store_true", help="baselines only (pool trials)")
    parser.add_argument(
        "--py-spy",
        type=Path,
        metavar="DIR",
        help="sample each server with py-spy while wrk runs; folded stacks in DIR",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="make bench's version: 2 rounds of 3 s after 2 s of warm-up, 32 and 128 "
        "connections, hand-written baseline only",
    )
    parser.add_argument(
        "--json", action="store_true", help="the figures as JSON on stdout (the rest on stderr)"
    )
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds, args.connections, args.baselines = 3, 2, "32,128", "hand"
        args.warmup_seconds = 2
    with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
        result = run(args)
    if args.json:
        print(json.dumps(result, default=str))


def run(args: argparse.Namespace) -> dict[str, Any]:
    variants: list[Variant] = []
    wanted = [] if args.no_bare else [b for b in args.baselines.split(",") if b]
    if "hand" in wanted:
        for pool in [p for p in args.hw_pool.split(",") if p] or [""]:
            for gc_mode in [g for g in args.hw_gc.split(",") if g] or ["default"]:
                if gc_mode not in ("default", "freeze"):
                    raise SystemExit(f"--hw-gc: 'default' or 'freeze', not {gc_mode!r}")
                frozen = gc_mode == "freeze"
                suffix = (f", pool {pool}" if pool else "") + (", heap frozen" if frozen else "")
                name = f"hand{pool}" + ("-frozen" if frozen else "")
                variants.append(
                    Variant(
                        name,
                        f"hand-written route{suffix}",
                        kind="hand",
                        pool=pool,
                        gc_freeze=frozen,
                    )
                )
    if "bare" in wanted:
        variants.append(Variant("bare", "bare insert (old)", kind="bare"))
    if args.before_src:
        variants.append(
            Variant(
                "before",
                "raw route, before",
                src=args.before_src,
                dispatcher=args.before_dispatcher,
            )
        )
    for n in [] if args.no_ours else (int(v) for v in args.dispatchers.split(",")):
        for c in [int(v) for v in args.concurrency.split(",") if v] or [0]:
            name = "raw route" if n == 0 else f"raw route + {n} dispatcher{'s' if n > 1 else ''}"
            name += f", concurrency {c}" if c else ""
            settings = f"concurrency: {c}" if c else ""
            variants.append(Variant(f"ours-{n}-{c}", name, dispatchers=n, dispatcher=settings))
    wrk = ensure_wrk()
    result: dict[str, Any] = {"benchmark": "webhook_ingest", "databases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for kind, url, _ in each_database(args.databases, work):
            result["databases"][kind] = {}
            for connections in (int(c) for c in args.connections.split(",")):
                print(
                    f"{kind}: {args.rounds} rounds of {', '.join(v.label for v in variants)}; "
                    f"{connections} connections, {args.seconds} s each",
                    flush=True,
                )
                figures = measure(url, work, wrk, variants, args, connections)
                result["databases"][kind][str(connections)] = figures
    return result


if __name__ == "__main__":
    main()
