"""Whether a benchmark's servers computed or waited for a CPU: run time against run-queue wait.

    python benchmarks/schedstat.py -- python webhook_ingest.py --rounds 2 ...

Runs the command and, until it ends, reads ``/proc/PID/task/TID/schedstat`` (time on a
CPU, time runnable but waiting for one, in ns) of every thread of the servers it starts
(its descendants whose command line names one: ``raw serve``, the hand-written route,
the bare insert). Prints per server process: its threads' summed run time and
run-queue wait, their ratio, the busiest thread's run time and the thread count. On a
shared machine, a server whose work is one thread gets about one thread's share of the
cores; this shows it (webhook_ingest in benchmarks/README.md).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

PROC = Path("/proc")


def _parents() -> dict[int, int]:
    parents = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def _descendants(root: int) -> list[int]:
    parents = _parents()
    found = []
    for pid in parents:
        up = pid
        while up in parents and up not in (root, 0, 1):
            up = parents[up]
        if up == root and pid != root:
            found.append(pid)
    return found


def _label(pid: int) -> str | None:
    try:
        command = (PROC / str(pid) / "cmdline").read_text().replace("\0", " ")
        environ = (PROC / str(pid) / "environ").read_text().split("\0")
    except OSError:
        return None
    if "ingest_handwritten" in command:
        return "hand-written"
    if "ingest_baseline" in command:
        return "bare insert"
    if " serve " in command:
        path = next((v for v in environ if v.startswith("PYTHONPATH=")), "PYTHONPATH=")
        return f"raw serve ({path.split('=', 1)[1].split(':')[-1] or 'installed'})"
    return None


def main() -> int:
    if "--" not in sys.argv:
        raise SystemExit(__doc__)
    command = sys.argv[sys.argv.index("--") + 1 :]
    proc = subprocess.Popen(command)
    threads: dict[tuple[int, int], tuple[str, int, int]] = {}
    while proc.poll() is None:
        for pid in _descendants(proc.pid):
            label = _label(pid)
            if label is None:
                continue
            try:
                for task in (PROC / str(pid) / "task").iterdir():
                    run, wait, _ = map(int, (task / "schedstat").read_text().split())
                    threads[(pid, int(task.name))] = (label, run, wait)
            except OSError:  # it ended meanwhile: its last reading stands
                continue
        time.sleep(0.2)
    servers: dict[tuple[str, int], list[int]] = {}
    for (pid, _), (label, run, wait) in threads.items():
        total = servers.setdefault((label, pid), [0, 0, 0, 0])
        total[0] += run
        total[1] += wait
        total[2] = max(total[2], run)
        total[3] += 1
    print("server process: CPU run time, run-queue wait (wait/run), busiest thread, threads")
    for (label, pid), (run, wait, top, count) in sorted(servers.items()):
        print(
            f"{label} pid {pid}: run {run / 1e9:.2f} s, waiting for a CPU {wait / 1e9:.2f} s "
            f"({wait / max(run, 1):.2f}), busiest thread {top / 1e9:.2f} s "
            f"({top / max(run, 1):.0%}), {count} threads"
        )
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
