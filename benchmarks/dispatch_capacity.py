"""Dispatcher capacity: how fast 1 and 2 `raw dispatcher` processes drain a backlog.

    python benchmarks/dispatch_capacity.py [--records 20000] [--rounds 3]
                                           [--dispatchers 1,2] [--databases postgresql,sqlite]
                                           [--quick] [--json]

The inbox is filled in one transaction with ``--records`` due records whose action
is ``none`` (claimed, performed, marked done: what is measured is the dispatcher's
own work, its claims and its ends, not an action's), as the webhook routes would
have left them; then N `raw dispatcher` processes, started beforehand and idle,
drain it. The figure is the records over the time from the commit of the backlog to
the last record done (from the records' own ``done_at``), and the dispatchers' CPU
per record (from /proc). The counts take turns in each round (1, 2, 1, 2, ...) on
the same database, and the figures are medians with their spread: the machine is
shared. On PostgreSQL the backlog's transaction sends ``NOTIFY raw_inbox`` as the
routes do; on SQLite the dispatchers find it by polling. ``--quick`` (make bench's): one
round of 5,000 records; ``--json``: the figures as JSON on stdout, the rest on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from processes import cpu_seconds, each_database, raw_dispatchers

CONFIG = """\
version: 1
system:
  coordinator:
    database_url: "{url}"
"""


def database_cpu(data_dir: Path | None) -> float:
    """CPU seconds of the PostgreSQL whose data is under ``data_dir``: the postmaster and
    its children now (0 for SQLite, whose work is done in the dispatchers)."""
    if data_dir is None:
        return 0.0
    found = list(data_dir.rglob("postmaster.pid"))
    if not found:
        return 0.0
    postmaster = int(found[0].read_text().split()[0])
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid = int(stat.parent.name)
            if pid == postmaster or int(fields[1]) == postmaster:
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@contextlib.contextmanager
def dispatchers(count: int, project: Path) -> Iterator[list[int]]:
    """``count`` idle `raw dispatcher` processes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAW_", "DATABASE_URL"))}
    with raw_dispatchers(count, project, env) as pids:
        time.sleep(1.0)  # let their polls back off to the interval: they start idle
        yield pids


def fill(engine: Any, records: int) -> tuple[int, Any]:
    """Insert ``records`` due records in one transaction; (the id before them, commit time)."""
    from sqlalchemy import func, insert, select, text

    from raw import clock
    from raw.coordinator.db.models import InboxRecord

    batch = uuid.uuid4().hex[:8]
    with engine.begin() as conn:
        last = int(conn.execute(select(func.coalesce(func.max(InboxRecord.id), 0))).scalar_one())
        now = clock.now()
        rows = [
            {
                "route": "order",
                "action": {"kind": "none"},
                "payload": {"n": n},
                "idempotency_key": f"order:{batch}-{n}",
                "correlation_id": uuid.uuid4().hex,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(records)
        ]
        conn.execute(insert(InboxRecord), rows)
        if engine.dialect.name == "postgresql":
            conn.execute(text("NOTIFY raw_inbox"))
    return last, clock.now()


def drained(engine: Any, after: int, records: int, timeout_seconds: float) -> Any:
    """Wait until the ``records`` after id ``after`` are done; the last one's ``done_at``."""
    from sqlalchemy import func, select

    from raw.coordinator.db.models import InboxRecord

    deadline = time.monotonic() + timeout_seconds
    while True:
        with engine.connect() as conn:
            done, last = conn.execute(
                select(func.count(), func.max(InboxRecord.done_at)).where(
                    InboxRecord.id > after, InboxRecord.status == "done"
                )
            ).one()
        if done >= records:
            return last
        if time.monotonic() > deadline:
            raise SystemExit(f"only {done} of {records} records done in {timeout_seconds:g} s")
        time.sleep(0.1)


def measure(
    url: str, work: Path, args: argparse.Namespace, data_dir: Path | None = None
) -> dict[str, Any]:
    import asyncio

    from sqlalchemy import create_engine

    from raw.coordinator.db.database import normalize_url, upgrade

    project = work / f"project-{uuid.uuid4().hex[:6]}"
    (project / ".raw").mkdir(parents=True)
    (project / ".raw" / "config.yaml").write_text(CONFIG.format(url=url), encoding="utf-8")
    asyncio.run(upgrade(url))
    engine = create_engine(normalize_url(url, sync=True))
    counts = [int(n) for n in args.dispatchers.split(",")]
    runs: dict[int, list[dict[str, float]]] = {n: [] for n in counts}
    try:
        for round_no in range(1, args.rounds + 1):
            print(f"  round {round_no} (load average {os.getloadavg()[0]:.2f})", flush=True)
            for n in counts:
                with dispatchers(n, project) as pids:
                    after, committed = fill(engine, args.records)
                    cpu0 = sum(cpu_seconds(p) for p in pids)
                    db0 = database_cpu(data_dir)
                    last = drained(engine, after, args.records, timeout_seconds=600)
                    cpu = sum(cpu_seconds(p) for p in pids) - cpu0
                    db_cpu = database_cpu(data_dir) - db0
                seconds = (last - committed) / timedelta(seconds=1)
                run = {"per_s": args.records / seconds, "seconds": seconds, "cpu_s": cpu}
                runs[n].append(run)
                print(
                    f"    {n} dispatcher(s): {args.records} records in {seconds:5.2f} s, "
                    f"{run['per_s']:5.0f}/s; CPU: dispatchers {cpu:4.1f} s "
                    f"({1000 * cpu / args.records:.2f} ms a record), PostgreSQL {db_cpu:4.1f} s"
                    f" (load average {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
    finally:
        engine.dispose()
    found: dict[str, Any] = {"runs": {str(n): runs[n] for n in counts}, "ratios": {}}
    print("  records/s, median, spread, each round:")
    for n in counts:
        values = [r["per_s"] for r in runs[n]]
        print(
            f"    {n} dispatcher(s): {statistics.median(values):5.0f}  "
            f"{min(values):.0f}-{max(values):.0f}  [{', '.join(f'{v:.0f}' for v in values)}]"
        )
    if len(counts) > 1:
        base = runs[counts[0]]
        for n in counts[1:]:
            ratios = [o["per_s"] / b["per_s"] for b, o in zip(base, runs[n], strict=True)]
            found["ratios"][f"{n}/{counts[0]}"] = ratios
            print(
                f"  {n} against {counts[0]}, per round: {statistics.median(ratios):.2f}  "
                f"{min(ratios):.2f}-{max(ratios):.2f}  [{', '.join(f'{r:.2f}' for r in ratios)}]"
            )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dispatchers", default="1,2")
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument("--quick", action="store_true", help="make bench's: 1 round of 5,000")
    parser.add_argument(
        "--json", action="store_true", help="the figures as JSON on stdout (the rest on stderr)"
    )
    args = parser.parse_args()
    if args.quick:
        args.records, args.rounds = 5_000, 1
    result: dict[str, Any] = {
        "benchmark": "dispatch_capacity",
        "records": args.records,
        "load_before": os.getloadavg()[0],
        "databases": {},
    }
    quiet = contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext()
    with quiet, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for kind, url, data_dir in each_database(args.databases, work):
            print(
                f"{kind}: {args.rounds} rounds of {args.dispatchers} dispatcher processes, "
                f"{args.records} records each",
                flush=True,
            )
            result["databases"][kind] = measure(url, work, args, data_dir=data_dir)
    result["load_average"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
