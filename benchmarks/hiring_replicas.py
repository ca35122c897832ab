"""The hiring system as replicas, with one of each part killed while applications flow.

One PostgreSQL and one Temporal dev server; 2 API processes (``raw serve``) behind a
round-robin front, 2 ``raw dispatcher`` and 2 ``raw worker`` processes, plus the local
integrations (``raw integrations serve``): each an OS process started with the command
the rendered manifests give its role. N applications go in (a CV, then a booking a few
seconds ahead; the phone simulator posts the call's status callbacks), and while they
flow one API process, one dispatcher (caught holding leases) and one worker are
SIGKILLed and replaced. Then it checks and prints:

- every delivery answered 2xx is in the database, and the inbox is all done;
- every process completed, in Temporal and in the candidates table;
- each candidate got exactly one scheduling email, one call and one summary (by the
  outboxes' idempotency keys, and by effect), none lost;
- the killed dispatcher's leases were taken over by another, once they ran out.

    .venv/bin/python benchmarks/hiring_replicas.py --applications 300

PostgreSQL: ``DATABASE_URL`` (a database is created on it and dropped), else an embedded
one. Exit code 0 when every check holds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from replica_checks import Figures, collect
from replica_parts import (
    Front,
    Part,
    TemporalDevServer,
    free_ports,
    part_command,
    run_once,
    until,
)
from replica_traffic import Senders, Statuses, apply
from sqlalchemy import text

REPO = Path(__file__).resolve().parents[1]
HIRING = REPO / "examples" / "hiring"


@dataclass
class Options:
    applications: int = 60
    rate_per_second: float = 5.0
    """Applications started per second (their bookings follow once each is screened)."""
    lease_seconds: float = 3.0
    call_delay_seconds: float = 3.0
    """How far ahead each booking is (the process sleeps until then: its wait, shortened)."""
    timeout_seconds: float = 600.0
    workdir: Path | None = None
    quiet: bool = False


@dataclass
class Kills:
    """What was killed, when (wall clock, UTC seconds), and the leases it held."""

    at: dict[str, float] = field(default_factory=dict)
    dispatcher_owner: str = ""
    dispatcher_killed_at: float = 0.0
    orphaned: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Inbox record id -> its row when its dispatcher was killed."""
    taken_over_at: dict[int, float] = field(default_factory=dict)
    """Inbox record id -> when another dispatcher was first seen holding it (or done)."""
    worker_runs: dict[str, str] = field(default_factory=dict)
    """The RAW runs in flight in the killed worker: idempotency key -> workflow."""


def _config(root: Path, options: Options) -> None:
    """The copied hiring config with the dispatchers' lease short and the phone quick."""
    path = root / ".raw" / "config.yaml"
    config = path.read_text(encoding="utf-8")
    changes = {
        "    migrations: hiring/migrations\n": (
            "    migrations: hiring/migrations\n"
            "    dispatcher:\n"
            f"      lease_seconds: {options.lease_seconds:g}\n"
            "      poll_interval_seconds: 0.2\n"
            "      base_delay_seconds: 0.2\n"
            "      max_delay_seconds: 2\n"
        ),
        "callback_delay_seconds: 3": "callback_delay_seconds: 0.5",
    }
    for old, new in changes.items():
        assert old in config, f"the hiring config has no {old!r}: update {__file__}"
        config = config.replace(old, new)
    path.write_text(config, encoding="utf-8")


ANALYSIS_SECONDS = 0.3
"""How long the copied analyze-cv's step takes here: a model's answer takes seconds, a
recording's none, and a worker can only be killed holding a RAW run while one lasts.
At ~20 ms a run the check, polling every 10 ms, could miss every run on a loaded
machine (seen once under `pytest -n 4` beside another suite)."""


def _analysis_as_long_as_a_model(root: Path) -> None:
    """The copy's analyze-cv waits :data:`ANALYSIS_SECONDS` before asking the model."""
    path = root / ".raw" / "workflows" / "analyze-cv" / "run.py"
    source = path.read_text(encoding="utf-8")
    call = "        analysis = self.llm.extract("
    assert call in source, f"analyze-cv has no {call.strip()!r}: update {__file__}"
    wait = f"        __import__('time').sleep({ANALYSIS_SECONDS})  # as a model's answer would\n"
    path.write_text(source.replace(call, wait + call, 1), encoding="utf-8")


def _secrets() -> dict[str, str]:
    return {
        "HIRING_CV_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
        "HIRING_CALENDAR_SECRET": secrets.token_hex(24),
        "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
        "HIRING_PORTAL_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
        "RAW_API_TOKEN": secrets.token_urlsafe(32),
    }


class System:
    """The parts of one run, started and stopped together."""

    def __init__(self, root: Path, logs: Path, env: dict[str, str], api_ports: list[int]) -> None:
        from raw.deploy.plan import build_plan
        from raw.project import Project

        commands = build_plan(Project(root)).commands  # what each role's container runs
        self.root, self.logs, self.env = root, logs, env

        def part(name: str, command: list[str], ready: str, **extra: str) -> Part:
            return Part(name, command, root, {**env, **extra}, ready, logs)

        self.integrations = part(
            "integrations",
            part_command(["raw", "integrations", "serve"]),
            "raw integrations: ready",
        )
        self.apis = [
            part(
                f"api-{i + 1}",
                part_command(commands["api"], host="127.0.0.1", port=str(port)),
                "Application startup complete",
                RAW_DISPATCHER="off",  # as rendered: the dispatchers run apart
            )
            for i, port in enumerate(api_ports)
        ]
        self.dispatchers = [
            part(
                f"dispatcher-{i + 1}",
                part_command(commands["dispatcher"]),
                "raw dispatcher: polling",
            )
            for i in range(2)
        ]
        # Each worker's metrics on a port of its own: the rendered 9464 is per pod, and
        # here every replica shares one host.
        self.workers = [
            part(
                f"worker-{i + 1}",
                part_command(commands["worker"], **{"metrics-port": str(metrics_port)}),
                "raw worker: polling",
            )
            for i, metrics_port in enumerate(free_ports(2))
        ]
        self.one_shots = {
            role: part_command(commands[role])
            for role in ("migrate", "temporal-setup", "schedules-sync")
        }

    @property
    def parts(self) -> list[Part]:
        return [self.integrations, *self.apis, *self.dispatchers, *self.workers]

    async def _one_shot(self, role: str) -> None:
        command = self.one_shots[role]
        await asyncio.to_thread(
            run_once, role, command, cwd=self.root, env=self.env, log_dir=self.logs
        )

    async def start(self) -> None:
        """As a deployment does: the one-shots that must run once (migrations, Temporal's
        search attributes) first, then every replica, then the schedules' sync, once."""
        await self._one_shot("migrate")
        await self._one_shot("temporal-setup")
        started = await asyncio.gather(*(p.start() for p in self.parts), return_exceptions=True)
        for outcome in started:  # every start has ended: stop() finds them all
            if isinstance(outcome, BaseException):
                raise outcome
        await self._one_shot("schedules-sync")

    async def stop(self) -> dict[str, int | None]:
        """SIGTERM every part (the replicas first); their exit codes."""
        ordered = [*self.apis, *self.dispatchers, *self.workers, self.integrations]
        codes = await asyncio.gather(*(p.stop() for p in ordered))
        return {p.name: code for p, code in zip(ordered, codes, strict=True)}


async def _rows(db: Any, query: str, **params: Any) -> list[Any]:
    async with db.read() as session:
        return list((await session.execute(text(query), params)).all())


async def _kill_in_the_act(
    db: Any, part: Part, query: str, *, timeout_seconds: float, **params: Any
) -> list[Any]:
    """SIGKILL ``part`` at a moment ``query`` finds it holding work: it is frozen first
    (SIGSTOP), the query asked again (exact now), then killed; else let go and tried again.
    The rows it held, as they were at the kill."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if await _rows(db, query, **params):
            part.signal(signal.SIGSTOP)
            held = await _rows(db, query, **params)
            if held:
                await part.kill()
                return held
            part.signal(signal.SIGCONT)
        await asyncio.sleep(0.01)
    raise TimeoutError(f"{part.name} was never caught holding work in {timeout_seconds:g} s")


HELD_LEASES = (
    "SELECT id, attempts, lease_owner, lease_expires_at, status FROM raw_inbox "
    "WHERE status = 'in_progress' AND lease_owner LIKE :owner"
)
"""The inbox records a dispatcher holds (its owner id holds its pid)."""
RUNNING_RAW_RUNS = (
    "SELECT run_id, workflow, idempotency_key FROM raw_runs "
    "WHERE status = 'running' AND manifest -> 'environment' ->> 'pid' = :pid"
)
"""The RAW runs a worker is running (in its own process)."""


async def _watch_takeover(db: Any, kills: Kills) -> None:
    """Note when each orphaned record is first seen with another owner (or done)."""
    while len(kills.taken_over_at) < len(kills.orphaned):
        ids = [i for i in kills.orphaned if i not in kills.taken_over_at]
        query = "SELECT id, status, lease_owner FROM raw_inbox WHERE id = ANY(:ids)"
        rows = await _rows(db, query, ids=ids)
        now = time.time()
        for row in rows:
            if row.status != "in_progress" or row.lease_owner != kills.dispatcher_owner:
                kills.taken_over_at[row.id] = now
        await asyncio.sleep(0.02)


async def _chaos(
    system: System, db: Any, senders: Senders, kills: Kills, options: Options, say: Any
) -> None:
    """Once a quarter of the CVs are in: kill one of each part, and start its replacement;
    the dispatcher while it holds leases, the worker while it runs RAW workflows."""
    quarter = max(options.applications // 4, 1)
    await until(
        lambda: sum(a.route == "cv-submission" for a in senders.accepted) >= quarter,
        what="a quarter of the CVs",
        timeout_seconds=options.timeout_seconds,
        interval=0.05,
    )

    async def crash(part: Part) -> None:
        kills.at[part.name] = time.time()
        await part.kill()
        say(f"killed {part.name} (SIGKILL) after {quarter} CVs; starting its replacement")
        await part.replace()

    async def dispatcher() -> None:
        part = system.dispatchers[0]
        owner = f"%:{part.pid}:%"
        held = await _kill_in_the_act(db, part, HELD_LEASES, timeout_seconds=120, owner=owner)
        kills.at[part.name] = kills.dispatcher_killed_at = time.time()
        kills.dispatcher_owner = held[0].lease_owner
        kills.orphaned = {row.id: row._asdict() for row in held}
        say(f"killed {part.name} (SIGKILL) holding inbox records {sorted(kills.orphaned)}")
        watcher = asyncio.create_task(_watch_takeover(db, kills))
        await part.replace()
        await asyncio.wait_for(watcher, options.timeout_seconds)

    async def worker() -> None:
        part = system.workers[0]
        running = await _kill_in_the_act(
            db, part, RUNNING_RAW_RUNS, timeout_seconds=120, pid=str(part.pid)
        )
        kills.at[part.name] = time.time()
        kills.worker_runs = {row.idempotency_key: row.workflow for row in running}
        say(f"killed {part.name} (SIGKILL) running {len(running)} RAW runs; replacing it")
        await part.replace()

    await asyncio.gather(crash(system.apis[0]), dispatcher(), worker())


async def _poll_statuses(db: Any, statuses: Statuses) -> None:
    while True:
        rows = await _rows(db, "SELECT candidate_id, status FROM hiring_candidates")
        statuses.update({row.candidate_id: row.status for row in rows})
        await asyncio.sleep(0.2)


async def run(options: Options) -> Figures:
    """Start the system, send the applications, kill and replace, check; the figures."""
    from raw.coordinator.sender import load_schemes
    from raw.project import Project
    from raw.testing.postgres import postgres_server
    from raw.testing.projects import copy_project

    say = (lambda _line: None) if options.quiet else (lambda line: print(line, flush=True))
    work = options.workdir or Path(tempfile.mkdtemp(prefix="raw-replicas-"))
    root = copy_project(HIRING, work / "hiring")
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    _config(root, options)
    _analysis_as_long_as_a_model(root)
    started = time.monotonic()
    temporal = TemporalDevServer(logs)
    front = Front([])
    system: System | None = None
    # Not under the work folder: the embedded server runs as its own OS user, which must
    # reach its data folder (pytest's basetemp is private to root).
    pg_folder = Path(tempfile.mkdtemp(prefix="raw-replicas-pg-"))
    pg_folder.chmod(0o755)
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, pg_folder, ignore_errors=True)
        server = cleanup.enter_context(postgres_server(pg_folder / "data"))
        url = server.create_database()
        try:
            address = await temporal.start()
            api_ports = free_ports(2)
            front.backends = [("127.0.0.1", port) for port in api_ports]
            base_url = f"http://127.0.0.1:{await front.start()}"
            keys = _secrets()
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith("RAW_") and k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")
            }
            env.update(
                keys,
                DATABASE_URL=url,
                TEMPORAL_ADDRESS=address,
                RAW_ENV="production",
                RAW_PUBLIC_BASE_URL=base_url,  # the callback URLs the simulator posts to
                RAW_LLM_MODE="recorded",  # analyze-cv and the summary on their recordings
                PYTHONUNBUFFERED="1",
            )
            system = System(root, logs, env, api_ports)
            say(f"starting the system in {work} (PostgreSQL, Temporal at {address}) ...")
            await system.start()
            say(f"started in {time.monotonic() - started:.1f} s; front at {base_url}")
            project = Project(root)
            load_schemes(project.config.system.coordinator, project.root)
            figures = await _traffic(project, system, url, base_url, keys, address, options, say)
        finally:
            codes = await system.stop() if system is not None else {}
            await front.close()
            temporal.stop()
            with contextlib.suppress(Exception):
                server.drop_database(url)
    figures.stop_codes = codes
    figures.front_connections = dict(front.connections)
    figures.elapsed_seconds = time.monotonic() - started
    return figures


async def _traffic(
    project: Any,
    system: System,
    url: str,
    base_url: str,
    keys: dict[str, str],
    address: str,
    options: Options,
    say: Any,
) -> Figures:
    from raw.coordinator.db.database import Database

    kills = Kills()
    statuses = Statuses()
    run_id = uuid.uuid4().hex[:6]
    limits = httpx.Limits(max_connections=32)
    async with (
        Database(url, pool_size=4, max_overflow=4) as db,
        httpx.AsyncClient(limits=limits, timeout=30) as client,
    ):
        senders = Senders(project, base_url, keys, client)
        poller = asyncio.create_task(_poll_statuses(db, statuses))
        t0 = time.monotonic()
        applications = [
            asyncio.create_task(
                apply(
                    senders,
                    statuses,
                    i,
                    run_id,
                    start_at=t0 + i / options.rate_per_second,
                    call_delay_seconds=options.call_delay_seconds,
                )
            )
            for i in range(options.applications)
        ]
        chaos = asyncio.create_task(_chaos(system, db, senders, kills, options, say))
        errors: list[str] = []
        try:
            done, _ = await asyncio.wait(applications, timeout=options.timeout_seconds)
            candidates = [t.result() for t in done if t.exception() is None]
            errors += [repr(t.exception()) for t in done if t.exception() is not None]
            errors += [f"{len(applications) - len(done)} applications never finished"] * (
                len(done) < len(applications)
            )
            say(f"{len(candidates)} applications and bookings accepted; waiting for the processes")
            waits = {
                "the chaos (kills and replacements)": lambda: chaos.done(),
                "every process to complete": lambda: statuses.count("completed") >= len(candidates),
                "the inbox to settle": lambda: _inbox_settled(db),
            }
            for what, predicate in waits.items():
                try:
                    await until(
                        predicate, what=what, timeout_seconds=options.timeout_seconds, interval=0.2
                    )
                except TimeoutError as exc:
                    errors.append(str(exc))
            if chaos.done() and chaos.exception() is not None:
                errors.append(f"the kills failed: {chaos.exception()!r}")
        finally:
            for task in [*applications, chaos, poller]:
                task.cancel()
            await asyncio.gather(*applications, chaos, poller, return_exceptions=True)
        figures = await collect(
            db,
            project.root,
            address,
            candidates,
            senders,
            kills,
            lease_seconds=options.lease_seconds,
        )
        figures.applications = options.applications
        figures.errors = errors
        return figures


async def _inbox_settled(db: Any) -> bool:
    """Nothing left to do: every record done or dead (a dead one is a failure, counted)."""
    query = "SELECT count(*) AS n FROM raw_inbox WHERE status IN ('pending', 'in_progress')"
    rows = await _rows(db, query)
    return bool(rows[0].n == 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=Options.applications)
    parser.add_argument("--rate", type=float, default=Options.rate_per_second, help="per second")
    parser.add_argument("--lease-seconds", type=float, default=Options.lease_seconds)
    parser.add_argument("--workdir", type=Path, help="keep the run's folder (logs) here")
    parser.add_argument("--json", action="store_true", help="the figures as JSON")
    args = parser.parse_args(argv)
    options = Options(
        applications=args.applications,
        rate_per_second=args.rate,
        lease_seconds=args.lease_seconds,
        workdir=args.workdir,
        quiet=args.json,
    )
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop the parts on the way out
    figures = asyncio.run(run(options))
    if args.json:
        print(json.dumps(figures.document(), indent=2))
    else:
        print(figures.report())
    problems = figures.problems()
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
