"""Webhook ingest: our signed, idempotent route against a bare FastAPI insert, under wrk.

    python benchmarks/webhook_ingest.py [--seconds 8] [--connections 32]
                                        [--databases sqlite,postgresql]

Both servers are `uvicorn` with one worker on 127.0.0.1, one after the other, on
the same database. Ours is `raw serve`: Standard Webhooks signature check,
idempotency on the body's `order_id`, the delivery row and the inbox record
committed in one transaction before the 202, with the built-in dispatcher running
(the route's action is `none`, so each record is taken and marked done). The
baseline (ingest_baseline.py) validates the same model and inserts one row. wrk
(Debian's `wrk`, installed with apt-get if missing) sends pre-signed requests,
each with its own delivery id, 2 threads, bounded in time. Reported: requests/s,
p50/p99 latency, the server's CPU seconds (from /proc) beside the wall time, so a
load-generator bottleneck shows, and the throughput ratio (target 0.7 or better).
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
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
RAW_BIN = Path(sys.executable).with_name("raw")
SECRET = "whsec_" + base64.b64encode(b"webhook-ingest-benchmark-secret").decode()
TOKEN = "webhook-ingest-benchmark-token-0123456789"

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
        scheme: standard-webhooks
        secrets: [BENCH_SECRET]
        delivery_key: order_id
        action: {{kind: none}}
"""

MODELS = """
from pydantic import BaseModel


class Order(BaseModel):
    order_id: str
    customer: str
    amount_cents: int
    items: list[str]
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
        "local i = 0",
        "request = function()",
        "  i = i % #requests + 1",
        "  return requests[i]",
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
            "-t2",
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
    values = dict(re.findall(r"^(p50_us|p99_us|errors) (\d+)$", out, re.M))
    return {
        "rps": rps,
        "p50_ms": int(values["p50_us"]) / 1000,
        "p99_ms": int(values["p99_us"]) / 1000,
        "non_2xx": int(values["errors"]),
    }


def measure(url: str, work: Path, wrk: str, seconds: int, connections: int) -> None:
    project = work / f"project-{uuid.uuid4().hex[:6]}"
    (project / ".raw").mkdir(parents=True)
    (project / ".raw" / "config.yaml").write_text(CONFIG.format(url=url), encoding="utf-8")
    (project / "ingest_models.py").write_text(MODELS, encoding="utf-8")
    count = max(2000, 3000 * seconds)
    ours_script, base_script = work / "ours.lua", work / "base.lua"
    write_script(ours_script, count, signed=True)
    write_script(base_script, count, signed=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAW_", "DATABASE_URL"))}
    env.update(
        BENCH_SECRET=SECRET, RAW_API_TOKEN=TOKEN, BENCH_DATABASE_URL=url, PYTHONPATH=str(HERE)
    )
    results = {}
    for name, cmd, script in (
        (
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
            base_script,
        ),
        (
            "raw webhook route",
            [str(RAW_BIN), "serve", "--port", "{port}", "--log-level", "warning"],
            ours_script,
        ),
    ):
        port = free_port()
        with server([c.replace("{port}", str(port)) for c in cmd], project, env, port) as pid:
            cpu0, t0 = cpu_seconds(pid), time.monotonic()
            figures = run_wrk(wrk, script, port, seconds, connections)
            figures["server_cpu_s"] = cpu_seconds(pid) - cpu0
            figures["wall_s"] = time.monotonic() - t0
        results[name] = figures
        print(
            f"    {name:<20} {figures['rps']:8.0f} req/s   p50 {figures['p50_ms']:7.1f} ms"
            f"   p99 {figures['p99_ms']:7.1f} ms   server CPU {figures['server_cpu_s']:5.1f} s"
            f" of {figures['wall_s']:4.1f} s wall   non-2xx {int(figures['non_2xx'])}"
        )
    ratio = results["raw webhook route"]["rps"] / results["bare FastAPI insert"]["rps"]
    print(f"    ratio {ratio:.2f} (target >= 0.7: {'met' if ratio >= 0.7 else 'MISSED'})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for kind in args.databases.split(","):
            print(f"{kind}: {args.connections} connections, {args.seconds} s each")
            if kind == "sqlite":
                measure(
                    f"sqlite+aiosqlite:///{work / 'bench.db'}",
                    work,
                    wrk,
                    args.seconds,
                    args.connections,
                )
            else:
                from raw.testing.postgres import postgres_server

                with postgres_server(work / "pg") as pg:
                    measure(pg.create_database(), work, wrk, args.seconds, args.connections)


if __name__ == "__main__":
    main()
