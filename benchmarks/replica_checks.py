"""What a replicas run must show afterwards, read from the database, Temporal and the outboxes."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from replica_traffic import Senders
from sqlalchemy import text

from raw.integrations.mail_catcher import MAIL_DIR, MailStore
from raw.integrations.paths import local_path
from raw.integrations.phone_simulator import CallLog

SCHEDULING_SUBJECT = "Book your screening call"


@dataclass
class Figures:
    applications: int = 0
    accepted: dict[str, int] = field(default_factory=dict)
    """Deliveries answered 2xx, by route (the call-status ones posted by the phone simulator)."""
    retries: dict[str, int] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    stored: int = 0
    accepted_not_stored: list[str] = field(default_factory=list)
    inbox: dict[str, int] = field(default_factory=dict)
    processes: dict[str, int] = field(default_factory=dict)
    """Temporal's status of each candidate's process."""
    redone_after_worker_kill: dict[str, int] = field(default_factory=dict)
    """Tasks given to a worker again (from the histories): activities retried after a
    timeout (the killed worker's), workflow tasks that timed out (a sticky
    ``schedule_to_start`` one was cached on the killed worker)."""
    candidates: dict[str, int] = field(default_factory=dict)
    effects: dict[str, int] = field(default_factory=dict)
    duplicate_keys: dict[str, int] = field(default_factory=dict)
    """Idempotency keys found more than once in an outbox, by kind."""
    duplicates: dict[str, int] = field(default_factory=dict)
    """Candidates with the same effect twice (under different keys), by kind."""
    lost: dict[str, int] = field(default_factory=dict)
    lease_seconds: float = 0.0
    leases_orphaned: int = 0
    takeover_after_kill_seconds: list[float] = field(default_factory=list)
    takeover_after_expiry_seconds: list[float] = field(default_factory=list)
    taken_over_by_others: int = 0
    runs_on_killed_worker: int = 0
    """RAW runs in flight in the worker when it was killed."""
    runs_resumed: int = 0
    """Of those, the ones whose activity ran again (same idempotency key) and succeeded."""
    stop_codes: dict[str, int | None] = field(default_factory=dict)
    front_connections: dict[int, int] = field(default_factory=dict)
    elapsed_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    """Waits that timed out, applications that failed."""

    def document(self) -> dict[str, Any]:
        return asdict(self)

    def problems(self) -> list[str]:
        """Every check that does not hold, as a sentence; empty when the run is good."""
        n = self.applications
        found = list(self.errors)
        if self.refused:
            found.append(f"{len(self.refused)} deliveries were refused: {self.refused[:3]}")
        if self.accepted_not_stored:
            found.append(f"accepted but not stored: {self.accepted_not_stored[:5]}")
        if set(self.inbox) - {"done"}:
            found.append(f"inbox records not done: {self.inbox}")
        if self.processes.get("COMPLETED", 0) != n:
            found.append(f"processes: {self.processes}, expected {n} COMPLETED")
        if self.candidates.get("completed", 0) != n:
            found.append(f"candidates: {self.candidates}, expected {n} completed")
        for kind, count in {**self.duplicate_keys, **self.duplicates, **self.lost}.items():
            if count:
                found.append(f"{kind}: {count}")
        if self.leases_orphaned == 0:
            found.append("the killed dispatcher held no lease: nothing was taken over")
        if self.runs_on_killed_worker == 0:
            found.append("the killed worker ran no RAW run: nothing had to resume")
        if self.runs_resumed != self.runs_on_killed_worker:
            found.append(
                f"{self.runs_on_killed_worker - self.runs_resumed} RAW runs of the killed worker "
                "never ran again to success"
            )
        if self.taken_over_by_others != self.leases_orphaned:
            found.append(
                f"{self.leases_orphaned - self.taken_over_by_others} of the killed dispatcher's "
                "records were not taken over by another dispatcher"
            )
        late = [s for s in self.takeover_after_expiry_seconds if s > self.lease_seconds]
        if late:
            found.append(f"leases taken over more than a lease time after expiring: {late}")
        early = [s for s in self.takeover_after_expiry_seconds if s < -0.5]
        if early:
            found.append(f"leases taken over before they expired: {early}")
        return found

    def report(self) -> str:
        """The figures as a person reads them."""
        kill_times = ", ".join(f"{s:.2f}" for s in self.takeover_after_kill_seconds) or "-"
        expiry_times = ", ".join(f"{s:.2f}" for s in self.takeover_after_expiry_seconds) or "-"
        lines = [
            f"applications          {self.applications}",
            f"accepted (2xx)        {sum(self.accepted.values())}  {self.accepted}",
            f"stored                {self.stored}  (accepted not stored: "
            f"{len(self.accepted_not_stored)})",
            f"sent again            {sum(self.retries.values())}  {self.retries}",
            f"refused               {len(self.refused)}",
            f"inbox                 {self.inbox}",
            f"processes (Temporal)  {self.processes}",
            f"candidates            {self.candidates}",
            f"tasks redone          {self.redone_after_worker_kill}",
            f"effects               {self.effects}",
            f"duplicates            by key {self.duplicate_keys}; by effect {self.duplicates}",
            f"lost                  {self.lost}",
            f"leases orphaned       {self.leases_orphaned}, taken over by another dispatcher: "
            f"{self.taken_over_by_others} (lease {self.lease_seconds:g} s)",
            f"  taken over after the kill (s)      {kill_times}",
            f"  taken over after the lease ran out (s) {expiry_times}",
            f"worker killed running {self.runs_on_killed_worker} RAW runs; run again to success "
            f"with the same key: {self.runs_resumed}",
            f"front connections     {self.front_connections}",
            f"parts' exit codes     {self.stop_codes}",
            f"elapsed               {self.elapsed_seconds:.1f} s",
            *(f"error                 {e}" for e in self.errors),
        ]
        return "\n".join(lines)


async def _rows(db: Any, query: str, **params: Any) -> list[Any]:
    async with db.read() as session:
        return list((await session.execute(text(query), params)).all())


def _timeout(kind: int) -> str:
    from temporalio.api.enums.v1 import TimeoutType

    return TimeoutType.Name(kind).lower().removeprefix("timeout_type_")


async def _processes(address: str, candidates: list[str]) -> tuple[Counter[str], Counter[str]]:
    """Each process's status, and what its history shows of the killed worker's work: tasks
    that timed out on it and ran again elsewhere."""
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    client = await Client.connect(address, data_converter=pydantic_data_converter)
    statuses: Counter[str] = Counter()
    redone: Counter[str] = Counter()
    for candidate in candidates:
        handle = client.get_workflow_handle(f"hiring-process/{candidate}")
        described = await handle.describe()
        statuses[described.status.name if described.status else "UNKNOWN"] += 1
        async for event in handle.fetch_history_events():
            started = event.activity_task_started_event_attributes
            if event.HasField("activity_task_started_event_attributes") and started.attempt > 1:
                failure = started.last_failure  # retried by the server: no event of its own
                why = (
                    _timeout(failure.timeout_failure_info.timeout_type)
                    if failure.HasField("timeout_failure_info")
                    else "a failure"
                )
                redone[f"activity retried after {why}"] += 1
            elif event.HasField("workflow_task_timed_out_event_attributes"):
                kind = event.workflow_task_timed_out_event_attributes
                redone[f"workflow task {_timeout(kind.timeout_type)}"] += 1
    return statuses, redone


async def collect(
    db: Any,
    root: Path,
    address: str,
    candidates: list[str],
    senders: Senders,
    kills: Any,
    *,
    lease_seconds: float,
) -> Figures:
    """The figures of a finished run."""
    figures = Figures(applications=len(candidates), lease_seconds=lease_seconds)
    accepted = Counter(a.route for a in senders.accepted)
    figures.retries = dict(senders.retries)
    figures.refused = list(senders.refused)

    stored = {
        r.correlation_id
        for r in await _rows(db, "SELECT correlation_id FROM raw_webhook_deliveries")
    }
    figures.accepted_not_stored = [
        f"{a.route} {a.correlation_id}" for a in senders.accepted if a.correlation_id not in stored
    ]
    figures.stored = sum(1 for a in senders.accepted if a.correlation_id in stored)

    # The simulator's callbacks answered 2xx: each must be a stored call-status delivery.
    calls = CallLog.for_project(root).list()
    callback_keys = {
        f"{call.sid}:{attempt.call_status}"
        for call in calls
        for attempt in call.callbacks
        if attempt.http_status is not None and 200 <= attempt.http_status < 300
    }
    stored_keys = {
        r.delivery_key
        for r in await _rows(
            db, "SELECT delivery_key FROM raw_webhook_deliveries WHERE route = 'call-status'"
        )
    }
    accepted["call-status"] = len(callback_keys)
    missing = sorted(k for k in callback_keys if not any(k in s for s in stored_keys))
    figures.accepted_not_stored += [f"call-status {k}" for k in missing]
    figures.stored += len(callback_keys) - len(missing)
    figures.accepted = dict(accepted)

    inbox = await _rows(db, "SELECT status, count(*) AS n FROM raw_inbox GROUP BY status")
    figures.inbox = {r.status: r.n for r in inbox}
    rows = await _rows(db, "SELECT status, count(*) AS n FROM hiring_candidates GROUP BY status")
    figures.candidates = {r.status: r.n for r in rows}
    processes, redone = await _processes(address, candidates)
    figures.processes = dict(processes)
    figures.redone_after_worker_kill = dict(redone)

    _effects(figures, root, candidates, calls)
    summaries = await _rows(
        db,
        "SELECT idempotency_key FROM raw_runs "
        "WHERE workflow = 'generate-call-summary' AND status = 'succeeded'",
    )
    by_candidate = Counter(
        str(r.idempotency_key).split(":", 1)[0].rsplit("/", 1)[-1]
        for r in {r.idempotency_key: r for r in summaries}.values()
    )
    stored_summaries = {
        p.stem for p in (local_path(root, ".raw/storage") / "summaries").glob("*.json")
    }
    figures.effects["summaries"] = len(stored_summaries)
    figures.duplicates["summaries (runs per candidate > 1)"] = sum(
        1 for n in by_candidate.values() if n > 1
    )
    figures.lost["summaries"] = sum(1 for c in candidates if c not in stored_summaries)

    figures.leases_orphaned = len(kills.orphaned)
    for rid, row in kills.orphaned.items():
        taken = kills.taken_over_at.get(rid)
        if taken is None:
            continue
        figures.takeover_after_kill_seconds.append(round(taken - kills.dispatcher_killed_at, 3))
        expires: datetime = row["lease_expires_at"]
        expiry = (expires if expires.tzinfo else expires.replace(tzinfo=UTC)).timestamp()
        figures.takeover_after_expiry_seconds.append(round(taken - expiry, 3))
    ended = await _rows(
        db,
        "SELECT id, status, attempts FROM raw_inbox WHERE id = ANY(:ids)",
        ids=list(kills.orphaned),
    )
    figures.runs_on_killed_worker = len(kills.worker_runs)
    resumed = await _rows(
        db,
        "SELECT DISTINCT idempotency_key FROM raw_runs "
        "WHERE status = 'succeeded' AND idempotency_key = ANY(:keys)",
        keys=list(kills.worker_runs),
    )
    figures.runs_resumed = len(resumed)
    figures.taken_over_by_others = sum(
        1 for r in ended if r.status == "done" and r.attempts > kills.orphaned[r.id]["attempts"]
    )
    return figures


def _effects(figures: Figures, root: Path, candidates: list[str], calls: list[Any]) -> None:
    """Emails and calls from the local outboxes: by idempotency key, and by effect."""
    mail = MailStore(local_path(root, MAIL_DIR)).list()
    scheduling = [m for m in mail if m.subject.startswith(SCHEDULING_SUBJECT)]
    figures.effects["emails"] = len(mail)
    figures.effects["scheduling emails"] = len(scheduling)
    figures.effects["calls"] = len(calls)
    keys = Counter(m.message_id for m in mail)
    figures.duplicate_keys["emails"] = sum(1 for n in keys.values() if n > 1)
    call_keys = Counter(c.idempotency_key for c in calls)
    figures.duplicate_keys["calls"] = sum(1 for n in call_keys.values() if n > 1)
    per_recipient = Counter(r for m in scheduling for r in m.envelope_to)
    figures.duplicates["scheduling emails"] = sum(1 for n in per_recipient.values() if n > 1)
    per_phone = Counter(c.to for c in calls)
    figures.duplicates["calls"] = sum(1 for n in per_phone.values() if n > 1)
    figures.lost["scheduling emails"] = max(len(candidates) - len(per_recipient), 0)
    figures.lost["calls"] = max(len(candidates) - len(per_phone), 0)
