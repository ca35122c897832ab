"""How the dispatcher's claim grows with the inbox: 1k, 100k and 1M records.

    cd benchmarks && PYTHONPATH=../src ../.venv/bin/python claim_growth.py
        [--sizes 1000,100000,1000000] [--claims 200] [--databases sqlite,postgresql]
        [--plans FILE.md] [--workdir DIR] [--quick] [--json]

One database per size and kind (SQLite files; databases on one PostgreSQL, the one
``RAW_TEST_POSTGRES_URL``/``DATABASE_URL`` names or an embedded one), filled in bulk
(Core ``executemany`` on SQLite, ``COPY`` on PostgreSQL) with a mix like an inbox that
has run for a while: 88% done, 0.5% dead, 7% pending and due (a backlog), 3% pending in
the future (retries after a backoff, records waiting for a service), 1% in progress
under a live lease and 0.5% under a lease that ran out (its dispatcher died); those
two are capped at 128 and 64 records, as leases belong to running actions and their
number follows the dispatchers' concurrency, not the inbox.

The dispatcher's own claim transaction (``Dispatcher._claim``, the statements of
``raw.coordinator.db.inbox``, committed) takes ``--limit`` records (its default
concurrency) many times; after each claim the records are put back as they were
(untimed), so every claim meets the same mix. The sizes take turns claim by claim, so
the machine's load falls on all of them alike. Two figures: the claim as a busy
dispatcher runs it (pending records only; it looks for expired leases once per poll
interval) and the claim with that look ("sweep"); medians and p95, and each
statement's own time. Then the plan of each statement a claim sent, as the driver
sent it: SQLite ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN (ANALYZE, BUFFERS)`` in
a transaction rolled back. PostgreSQL gets ``VACUUM ANALYZE`` after the fill (what
autovacuum would have done); SQLite gets nothing (the kit never runs ``ANALYZE``).
Flat: the claim at the biggest size takes at most 1.5x the smallest's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

MIX = (  # (kind, per thousand), in the order a record's id picks them
    ("done", 880),
    ("dead", 5),
    ("due", 70),
    ("future", 30),
    ("leased", 10),
    ("expired", 5),
)
LEASES_UP_TO_ID = 12_800
"""Leases belong to running actions (at most the dispatchers' concurrency): past this id,
the leased and expired slots are done records, so at most 128 live and 64 expired leases."""
GONE_OWNER = "gone-host:1:dead"
COLUMNS = (
    "id",
    "delivery_id",
    "route",
    "action",
    "payload",
    "idempotency_key",
    "correlation_id",
    "target_process_id",
    "status",
    "attempts",
    "next_attempt_at",
    "lease_owner",
    "lease_expires_at",
    "last_error",
    "result",
    "created_at",
    "updated_at",
    "done_at",
)
FLAT_RATIO = 1.5


def kind_of(record_id: int) -> str:
    slot = (record_id - 1) % 1000
    for kind, share in MIX:
        if slot < share:
            if kind in ("leased", "expired") and record_id > LEASES_UP_TO_ID:
                return "done"
            return kind
        slot -= share
    raise AssertionError(slot)


class Clock:
    """The times of the fill: records spread over the 30 days before ``start``."""

    def __init__(self, start: datetime, biggest: int) -> None:
        self.start = start
        self.step = timedelta(days=30) / max(biggest, 1)
        self.origin = start - timedelta(days=30)
        self.expired_at = start - timedelta(minutes=10)
        self.live_until = start + timedelta(days=1)


def row(record_id: int, clock: Clock) -> dict[str, Any]:
    """Inbox record ``record_id`` as the routes and the dispatcher would have left it."""
    kind = kind_of(record_id)
    # Routes commit in groups: ~20 records share a timestamp.
    created = clock.origin + clock.step * (record_id - record_id % 20)
    record: dict[str, Any] = {
        "id": record_id,
        "delivery_id": record_id,
        "route": "applications",
        "action": {"kind": "start_process", "process": "hiring", "id_from": "application_id"},
        "payload": {
            "application_id": f"app-{record_id}",
            "name": f"Applicant {record_id}",
            "email": f"applicant{record_id}@example.com",
            "role": "engineer",
        },
        "idempotency_key": f"applications:app-{record_id}",
        "correlation_id": uuid.UUID(int=record_id).hex,
        "target_process_id": None,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": created,
        "lease_owner": None,
        "lease_expires_at": None,
        "last_error": None,
        "result": None,
        "created_at": created,
        "updated_at": created,
        "done_at": None,
    }
    if kind == "done":
        done = created + timedelta(milliseconds=150)
        record.update(
            status="done",
            attempts=1,
            target_process_id=f"hiring-app-{record_id}",
            result={"process_id": f"hiring-app-{record_id}"},
            updated_at=done,
            done_at=done,
        )
    elif kind == "dead":
        record.update(status="dead", attempts=5, last_error="Gave up after 5 attempts.")
    elif kind == "future":
        record.update(
            attempts=2,
            next_attempt_at=clock.start + timedelta(hours=1, seconds=record_id % 3600),
            last_error="Waiting for Temporal: connection refused (no attempt spent).",
        )
    elif kind == "leased":
        record.update(
            status="in_progress",
            attempts=1,
            lease_owner="busy-host:2:live",
            lease_expires_at=clock.live_until,
        )
    elif kind == "expired":
        record.update(
            status="in_progress",
            attempts=1,
            lease_owner=GONE_OWNER,
            lease_expires_at=clock.expired_at,
        )
    return record


def chunks(first: int, last: int, clock: Clock, size: int = 20_000) -> Iterator[list[dict]]:
    for start in range(first, last + 1, size):
        yield [row(i, clock) for i in range(start, min(start + size, last + 1))]


def fill_sqlite(engine: Any, first: int, last: int, clock: Clock) -> None:
    from sqlalchemy import insert

    from raw.coordinator.db.models import InboxRecord

    statement = insert(InboxRecord.__table__)
    with engine.begin() as conn:
        for rows in chunks(first, last, clock):
            conn.execute(statement, rows)


def fill_postgresql(engine: Any, first: int, last: int, clock: Clock) -> None:
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        with conn.cursor() as cursor:
            names = ", ".join(COLUMNS)
            with cursor.copy(f"COPY raw_inbox ({names}) FROM STDIN") as copy:
                for rows in chunks(first, last, clock):
                    for r in rows:
                        copy.write_row(
                            [
                                json.dumps(r[c])
                                if c in ("action", "payload", "result") and r[c] is not None
                                else r[c]
                                for c in COLUMNS
                            ]
                        )
        conn.commit()
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE raw_inbox")
        conn.autocommit = False
    finally:
        raw.close()


class Bench:
    """One database: the kit's async ``Database``, a dispatcher on it, a sync engine."""

    def __init__(self, url: str, limit: int) -> None:
        from sqlalchemy import create_engine

        from raw.config.coordinator import DispatcherConfig
        from raw.coordinator.db.database import Database, normalize_url
        from raw.coordinator.dispatcher import Dispatcher

        self.url = url
        self.limit = limit
        self.db = Database(url)
        self.dialect = self.db.dialect
        self.dispatcher = Dispatcher(self.db, DispatcherConfig(concurrency=limit), owner="bench")
        self.sync = create_engine(normalize_url(url, sync=True))

    async def claim(self, *, sweep: bool) -> tuple[float, list[Any]]:
        loop = asyncio.get_running_loop()
        self.dispatcher._swept_at = float("-inf") if sweep else loop.time()
        t0 = time.perf_counter()
        items = await self.dispatcher._claim(self.limit)
        return time.perf_counter() - t0, items

    async def put_back(self, items: list[Any], clock: Clock) -> None:
        """The claimed records as they were before the claim."""
        from sqlalchemy import bindparam, update

        from raw.coordinator.db.inbox import TABLE

        if not items:
            return
        statement = (
            update(TABLE)
            .where(TABLE.c.id == bindparam("b_id"))
            .values(
                status=bindparam("b_status"),
                attempts=bindparam("b_attempts"),
                lease_owner=bindparam("b_owner"),
                lease_expires_at=bindparam("b_expires", type_=TABLE.c.lease_expires_at.type),
            )
        )
        rows = []
        for item in items:
            expired = kind_of(item.id) == "expired"
            rows.append(
                {
                    "b_id": item.id,
                    "b_status": "in_progress" if expired else "pending",
                    "b_attempts": item.attempts - 1,
                    "b_owner": GONE_OWNER if expired else None,
                    "b_expires": clock.expired_at if expired else None,
                }
            )
        async with self.db.write() as session:
            await session.execute(statement, rows)

    async def sent(self, clock: Clock) -> list[tuple[str, Any]]:
        """The statements (and parameters) a claim with a sweep and one without send."""
        from sqlalchemy import event

        captured: list[tuple[str, Any]] = []
        capturing = [False]
        engine = self.db._write_engine.sync_engine

        def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if capturing[0] and "raw_inbox" in statement:
                captured.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", capture)
        try:
            for sweep in (True, False):
                capturing[0] = True
                _, items = await self.claim(sweep=sweep)
                capturing[0] = False
                await self.put_back(items, clock)
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        return captured

    def plans(self, sent: list[tuple[str, Any]]) -> list[dict[str, str]]:
        out = []
        raw = self.sync.raw_connection()
        try:
            for statement, parameters in sent:
                cursor = raw.cursor()
                if self.dialect == "sqlite":
                    cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
                    levels: dict[int, int] = {0: -1}
                    lines = []
                    for node, parent, _, detail in cursor.fetchall():
                        levels[node] = levels.get(parent, -1) + 1
                        lines.append(f"{'  ' * levels[node]}{detail}")
                else:
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
                    lines = [r[0] for r in cursor.fetchall()]
                    raw.rollback()
                cursor.close()
                out.append({"statement": " ".join(statement.split()), "plan": "\n".join(lines)})
        finally:
            raw.rollback()
            raw.close()
        return out

    def count(self) -> int:
        from sqlalchemy import text

        with self.sync.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM raw_inbox")).scalar_one())

    async def close(self) -> None:
        await self.db.dispose()
        self.sync.dispose()


def summary(values: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in values)
    return {
        "median": statistics.median(ms),
        "p95": ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))],
        "min": ms[0],
        "max": ms[-1],
    }


def role(statement: str) -> str:
    """Which of the claim's statements ``statement`` is."""
    words = statement.split()
    first = words[0].upper() if words else ""
    if first in ("BEGIN", "SELECT"):
        return {"BEGIN": "begin", "SELECT": "pick expired"}[first]
    if "WITH picked" in statement or "IN (SELECT" in statement:
        return "take pending"
    return "take expired"


async def measure_sizes(
    benches: dict[int, Bench], clock: Clock, claims: int
) -> dict[str, dict[str, Any]]:
    """``claims`` claims of each kind on every size, the sizes taking turns claim by claim
    (so a change in the machine's load falls on all of them alike)."""
    from sqlalchemy import event

    timing = [False]
    spent: dict[int, dict[str, list[float]]] = {size: {} for size in benches}

    opened: dict[int, tuple[str, float]] = {}

    def close(size: int) -> None:
        if size in opened:
            name, t0 = opened.pop(size)
            spent[size].setdefault(name, []).append(time.perf_counter() - t0)

    def hooks(size: int, engine: Any) -> None:
        # A statement's time runs until the next statement or the commit: SQLite makes an
        # UPDATE ... RETURNING's rows (does its work) as they are fetched, after execute.
        def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            if timing[0]:
                close(size)
                opened[size] = (role(statement), time.perf_counter())

        def commit(conn: Any) -> None:
            if timing[0]:
                close(size)
                opened[size] = ("commit", time.perf_counter())

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "commit", commit)

    for size, bench in benches.items():
        hooks(size, bench.db._write_engine.sync_engine)
        for _ in range(5):  # warm the pool, the caches and the statements' compiled forms
            _, items = await bench.claim(sweep=True)
            await bench.put_back(items, clock)
    times: dict[int, dict[bool, list[float]]] = {s: {False: [], True: []} for s in benches}
    claimed: dict[int, list[int]] = {s: [] for s in benches}
    order = list(benches)
    for n in range(claims):
        for sweep in (n % 2 == 0, n % 2 == 1):
            for size in order if n % 2 else order[::-1]:
                bench = benches[size]
                timing[0] = True
                seconds, items = await bench.claim(sweep=sweep)
                close(size)  # the commit's end: the claim has returned
                timing[0] = False
                times[size][sweep].append(seconds)
                claimed[size].append(len(items))
                await bench.put_back(items, clock)
    return {
        str(size): {
            "claim_ms": summary(times[size][False]),
            "sweep_ms": summary(times[size][True]),
            "statements_ms": {k: summary(v) for k, v in sorted(spent[size].items())},
            "claimed_per_claim": statistics.median(claimed[size]),
            "plans": benches[size].plans(await benches[size].sent(clock)),
        }
        for size in benches
    }


@contextlib.contextmanager
def databases(kind: str, sizes: list[int], work: Path) -> Iterator[dict[int, str]]:
    """A fresh database for each size: SQLite files, or databases on one PostgreSQL (the
    one ``RAW_TEST_POSTGRES_URL``/``DATABASE_URL`` names, else an embedded one)."""
    if kind == "sqlite":
        yield {
            s: f"sqlite+aiosqlite:///{work / f'claims-{s}-{uuid.uuid4().hex[:6]}.db'}"
            for s in sizes
        }
        return
    from raw.testing.postgres import postgres_server

    with postgres_server(work / f"pg-{uuid.uuid4().hex[:6]}") as pg:
        urls = {s: pg.create_database() for s in sizes}
        try:
            yield urls
        finally:
            for url in urls.values():
                with contextlib.suppress(Exception):
                    pg.drop_database(url)


def run_database(kind: str, sizes: list[int], args: argparse.Namespace, work: Path) -> dict:
    from raw import clock as raw_clock
    from raw.coordinator.db.database import upgrade

    clock = Clock(raw_clock.now(), max(sizes))
    fills: dict[int, float] = {}
    with databases(kind, sizes, work) as urls:
        for size, url in urls.items():
            asyncio.run(upgrade(url))
            bench = Bench(url, args.limit)
            t0 = time.monotonic()
            if kind == "sqlite":
                fill_sqlite(bench.sync, 1, size, clock)
            else:
                fill_postgresql(bench.sync, 1, size, clock)
            fills[size] = time.monotonic() - t0
            print(
                f"  {kind}: {bench.count():,} records filled in {fills[size]:.1f} s "
                f"(load average {os.getloadavg()[0]:.2f})",
                file=sys.stderr,
                flush=True,
            )
            asyncio.run(bench.close())
        load_before = os.getloadavg()[0]

        async def measure() -> dict[str, dict[str, Any]]:
            benches = {size: Bench(url, args.limit) for size, url in urls.items()}
            try:
                return await measure_sizes(benches, clock, args.claims)
            finally:
                for bench in benches.values():
                    await bench.close()

        results = asyncio.run(measure())
    for size, found in results.items():
        found["fill_s"] = fills[int(size)]
        found["load_average"] = [load_before, os.getloadavg()[0]]
        c, s = found["claim_ms"], found["sweep_ms"]
        print(
            f"    {int(size):>9,}: claim {c['median']:.2f} ms (p95 {c['p95']:.2f}), with sweep "
            f"{s['median']:.2f} ms (p95 {s['p95']:.2f}); {found['claimed_per_claim']:.0f}"
            " records a claim; statements: "
            + ", ".join(f"{k} {v['median']:.2f}" for k, v in found["statements_ms"].items()),
            file=sys.stderr,
            flush=True,
        )
    return results


def verdicts(sizes: dict[str, Any]) -> dict[str, float]:
    ordered = sorted(sizes, key=int)
    small, big = sizes[ordered[0]], sizes[ordered[-1]]
    return {
        figure: big[figure]["median"] / small[figure]["median"]
        for figure in ("claim_ms", "sweep_ms")
    }


def write_plans(path: Path, result: dict[str, Any]) -> None:
    lines = [f"# Claim plans ({result['when']}, load average {result['load_average']:.1f})", ""]
    for kind, sizes in result["databases"].items():
        for size, found in sizes["sizes"].items():
            lines += [f"## {kind}, {int(size):,} records", ""]
            for plan in found["plans"]:
                lines += ["```", plan["statement"], "", plan["plan"], "```", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--claims", type=int, default=200, help="timed claims of each kind")
    parser.add_argument("--limit", type=int, default=64, help="records a claim asks for")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--plans", type=Path, help="write the plans here (Markdown)")
    parser.add_argument("--workdir", type=Path, help="where the databases go (default: a temp)")
    parser.add_argument("--quick", action="store_true", help="make bench's: 1k and 100k, 50")
    parser.add_argument("--json", action="store_true", help="the figures as JSON on stdout")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.claims = "1000,100000", 50
    sizes = [int(s) for s in args.sizes.split(",")]
    result: dict[str, Any] = {
        "benchmark": "claim_growth",
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "limit": args.limit,
        "claims": args.claims,
        "databases": {},
    }
    with contextlib.ExitStack() as stack:
        work = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        for kind in args.databases.split(","):
            found = run_database(kind, sizes, args, work)
            result["databases"][kind] = {"sizes": found, "growth": verdicts(found)}
    result["load_average"] = os.getloadavg()[0]
    if args.plans:
        write_plans(args.plans, result)
    print_table(result)
    if args.json:
        print(json.dumps(result))


def print_table(result: dict[str, Any]) -> None:
    out = sys.stderr
    print(
        f"\nclaim of {result['limit']} records, {result['claims']} claims of each kind, ms",
        file=out,
    )
    print(
        f"{'database':<11}{'records':>11}  {'claim median':>12}  {'p95':>7}  "
        f"{'+sweep median':>13}  {'p95':>7}  {'fill s':>7}",
        file=out,
    )
    for kind, found in result["databases"].items():
        for size, f in found["sizes"].items():
            c, s = f["claim_ms"], f["sweep_ms"]
            print(
                f"{kind:<11}{int(size):>11,}  {c['median']:>12.2f}  {c['p95']:>7.2f}  "
                f"{s['median']:>13.2f}  {s['p95']:>7.2f}  {f['fill_s']:>7.1f}",
                file=out,
            )
        g = found["growth"]
        print(
            f"{kind:<11}{'biggest/smallest':>22}: claim {g['claim_ms']:.2f}, with sweep "
            f"{g['sweep_ms']:.2f} ({'flat' if max(g.values()) <= FLAT_RATIO else 'NOT flat'})",
            file=out,
        )


if __name__ == "__main__":
    main()
