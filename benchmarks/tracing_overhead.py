"""What tracing costs `raw run`'s start-up: off against on, measured in the same run.

    python benchmarks/tracing_overhead.py [--rounds N] [--launches N] [--baseline-src DIR]
                                          [--quick] [--json]

`raw run noop --json` (workflow_overhead.py's three no-op steps) launched in turns:

- ``off``: no OTEL_* setting (the default): no OpenTelemetry module is imported;
- ``on``: ``OTEL_EXPORTER_OTLP_ENDPOINT`` set to an OTLP/HTTP receiver in this process
  (it answers every export with 200), so the SDK, the exporter, the run's and steps'
  spans and the flush at exit are all paid;
- ``plain``: noop_plain.py, the honest baseline of workflow_overhead.py;
- ``baseline`` (with ``--baseline-src DIR``): `raw run` from another checkout's ``src``
  (e.g. the main branch before tracing), to show that ``off`` is unchanged.

A round's figure is each command's median of ``--launches`` launches (alternating
order); ratios are per round, reported as the median of the rounds with their spread.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from workflow_overhead import HERE, make_project, spread


class _Receiver(BaseHTTPRequestHandler):
    """Accepts every OTLP/HTTP export (an empty ExportTraceServiceResponse is zero bytes)."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _launch(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def run(args: argparse.Namespace) -> dict[str, Any]:
    raw_bin = str(Path(sys.executable).with_name("raw"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "RAW_"))}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    raw_run = [raw_bin, "run", "noop", "--json"]
    commands: dict[str, tuple[list[str], dict[str, str]]] = {
        "off": (raw_run, base_env),
        "on": (raw_run, {**base_env, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}),
        "plain": ([sys.executable, str(HERE / "noop_plain.py"), "--json"], base_env),
    }
    if args.baseline_src:
        commands["baseline"] = (raw_run, {**base_env, "PYTHONPATH": args.baseline_src})
    result: dict[str, Any] = {"benchmark": "tracing_overhead", "seconds": {}, "ratios": {}}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = make_project(Path(tmp))
            for cmd, env in commands.values():  # warm up
                _launch(cmd, root, env)
            per_round: dict[str, list[float]] = {name: [] for name in commands}
            loads = []
            names = list(commands)
            for round_no in range(args.rounds):
                loads.append(os.getloadavg()[0])
                times: dict[str, list[float]] = {name: [] for name in commands}
                for i in range(args.launches):
                    for name in names if (round_no + i) % 2 == 0 else names[::-1]:
                        cmd, env = commands[name]
                        times[name].append(_launch(cmd, root, env))
                for name in names:
                    per_round[name].append(statistics.median(times[name]))
                print(
                    f"    round {round_no + 1} (load average {loads[-1]:.2f}): "
                    + ", ".join(f"{n} {per_round[n][-1] * 1000:.1f} ms" for n in names),
                    flush=True,
                )
    finally:
        server.shutdown()
        server.server_close()
    result["seconds"] = per_round
    result["load_average"] = loads
    print(f"    medians of {args.rounds} rounds (min-max; each round):")
    for name in names:
        print(
            f"    raw run noop, {name:<9} {spread([v * 1000 for v in per_round[name]], '.1f')} ms"
        )
    pairs = [("on", "off"), ("off", "plain")]
    if "baseline" in per_round:
        pairs.append(("off", "baseline"))
    for top, bottom in pairs:
        values = [a / b for a, b in zip(per_round[top], per_round[bottom], strict=True)]
        result["ratios"][f"{top}/{bottom}"] = {
            "median": statistics.median(values),
            "min": min(values),
            "max": max(values),
            "rounds": values,
        }
        print(f"    ratio {top} / {bottom:<9} {spread(values)}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds")
    parser.add_argument("--launches", type=int, default=6, help="launches per round")
    parser.add_argument(
        "--baseline-src", help="another checkout's src folder: its raw run as a baseline"
    )
    parser.add_argument("--quick", action="store_true", help="--rounds 3 --launches 4")
    parser.add_argument(
        "--json", action="store_true", help="the figures as JSON on stdout (the rest on stderr)"
    )
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.launches = 3, 4
    with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
        result = run(args)
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
