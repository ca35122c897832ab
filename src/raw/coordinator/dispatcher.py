"""The dispatcher: takes inbox records and performs their actions, at least once.

A webhook commits its inbox record in the same transaction as the delivery, so
once it has answered 2xx the record is durable; the dispatcher makes it happen:

- **Claiming under a lease.** One write transaction picks the records that are
  due (``pending`` with ``next_attempt_at`` passed, or ``in_progress`` under a
  lease that expired because its dispatcher died) and marks them ``in_progress``
  with this dispatcher as ``lease_owner`` until ``lease_expires_at``, counting the
  attempt. On PostgreSQL the rows are picked with ``FOR UPDATE SKIP LOCKED``, so
  dispatchers skip each other's rows instead of queueing; on SQLite the write
  transaction is serialised (``BEGIN IMMEDIATE``), and the ``UPDATE`` re-checks
  that each row is still due in any case. Two dispatchers never hold the same
  record at once. A record whose last allowed attempt died with its dispatcher
  becomes ``dead`` instead of running once more.
- **Heartbeats.** While an action runs its lease is renewed every third of
  ``lease_seconds``, so a long action is not taken over; a crashed dispatcher's
  lease runs out and another takes the record up again.
- **Outcomes.** Done: ``done`` with the result. A failure another attempt may fix:
  back to ``pending`` after ``min(max_delay, base * 2**(attempts-1))`` seconds with
  full jitter; after ``max_attempts`` it is ``dead`` (a dead letter, retried by
  hand with :func:`retry_dead_letter`). A failure no retry can fix: ``dead`` at
  once. Every outcome write is conditional on still holding the lease.
- **Outages.** Attempts are for failures of the action itself. When a service the
  action needs is away (Temporal, an integration's server: the outcome is
  ``unavailable``), the record goes back to ``pending`` with its attempt given back,
  and the dispatcher notes the outage: records that need that service are not tried
  while it lasts, but for one probe every ``outage_probe_seconds`` at most (sooner at
  first). When a try gets through, the outage is over, and every record that waited
  for the service is due at once. An outage however long dead-letters nothing.
- **Waking.** A dispatcher claims as soon as records are due, not at its next
  poll: the webhook routes of its own process wake it once their records have
  committed, and on PostgreSQL so does a ``NOTIFY raw_inbox`` from any process,
  which it ``LISTEN``s for on a connection of its own
  (:mod:`raw.coordinator.db.wakeup`). It still polls, every
  ``poll_interval_seconds`` while nothing comes, sooner (from
  :data:`BUSY_POLL_SECONDS`, doubling while polls find nothing) after records
  came: that is how a dispatcher in another process finds SQLite's records.
- **Stopping.** :meth:`Dispatcher.stop` stops claiming (a record is only ever
  claimed to start at once, so none waits unstarted), lets the actions in flight
  finish within a grace period, and releases the rest: ``pending``, due now.

Waits between polls and heartbeats are in wall time, not :mod:`raw.clock`: they pace
work against other processes. Every timestamp written comes from :mod:`raw.clock`.

Actions are repeated after a crash, so each gets the record's stable idempotency
key (see :mod:`raw.coordinator.actions`). Outages are tracked in
:mod:`raw.coordinator.outages`; dead letters are retried by hand with
:mod:`raw.coordinator.dead_letters`, whose names this module keeps importable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from raw import clock, tracing
from raw.config.coordinator import DispatcherConfig
from raw.coordinator.actions import ActionOutcome, ActionRunner, InboxItem, OutcomeStatus
from raw.coordinator.db.database import database_away
from raw.coordinator.db.group_commit import GroupCommit
from raw.coordinator.db.inbox import InboxStatements
from raw.coordinator.db.wakeup import inbox_bell, listen
from raw.coordinator.dead_letters import (
    InboxDatabase,
    InboxRecordError,
    InboxRecordNotDeadError,
    InboxRecordNotFoundError,
    retry_dead_letter,
)
from raw.coordinator.outages import WAITING_FOR as WAITING_FOR
from raw.coordinator.outages import Outage, Outages
from raw.project import Project

__all__ = [
    "DispatchHook",
    "Dispatcher",
    "InboxDatabase",
    "InboxRecordError",
    "InboxRecordNotDeadError",
    "InboxRecordNotFoundError",
    "backoff_seconds",
    "retry_dead_letter",
]

log = logging.getLogger("raw.coordinator.dispatcher")

DispatchHook = Callable[[str, str, float], None]
"""``on_dispatch(route, outcome, seconds)``; outcome is done, retry, dead, unavailable or lost."""

DEFAULT_GRACE_SECONDS = 20.0

BUSY_POLL_SECONDS = 0.02
"""The first wait between polls after records came (capped by ``poll_interval_seconds``)."""


def backoff_seconds(
    attempts: int, config: DispatcherConfig, rng: random.Random | None = None
) -> float:
    """The wait before the next attempt after ``attempts`` failed ones (full jitter)."""
    cap = min(config.max_delay_seconds, config.base_delay_seconds * 2 ** max(attempts - 1, 0))
    return (rng or random).uniform(0.0, cap)


def _default_owner() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Dispatcher:
    """Performs the inbox's actions: in the app's lifespan, or alone as ``raw dispatcher``."""

    def __init__(
        self,
        db: InboxDatabase,
        config: DispatcherConfig,
        project: Project | Path | str | None = None,
        *,
        owner: str | None = None,
        actions: ActionRunner | None = None,
        on_dispatch: DispatchHook | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.project = project
        self.owner = (owner or _default_owner())[:100]
        self.actions = actions or ActionRunner(project)
        self.on_dispatch = on_dispatch
        self._rng = rng or random.Random()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._slot_free = asyncio.Event()
        self._due: asyncio.Event | None = None
        """Set when records are said to be due (this process's routes, PostgreSQL's NOTIFY)."""
        self._listener: asyncio.Task[None] | None = None
        self.listening = False
        """Whether PostgreSQL's ``NOTIFY raw_inbox`` reaches this dispatcher now."""
        self._poll_wait = config.poll_interval_seconds
        """The wait before the next poll: short after records came, growing to the interval."""
        self._in_flight: set[asyncio.Task[None]] = set()
        self._leases: set[int] = set()
        """The records whose actions are running here, whose leases the heartbeat renews."""
        self._heartbeat: asyncio.Task[None] | None = None
        self._outages = Outages(config, self.owner)
        self.database_away_since: datetime | None = None
        """When the database stopped answering the dispatcher, while it does not."""
        self._database_tries = 0
        self._swept_at = float("-inf")
        """When claims last looked for records whose lease ran out (loop time)."""
        self._sql = InboxStatements(db.dialect)
        # Records that end together share one transaction (the single SQLite writer is
        # shared with the webhook routes); one whose end fails does not sink the others.
        self._ends: GroupCommit[tuple[InboxItem, ActionOutcome], str] = GroupCommit(
            self._write_ends, name="store action ends"
        )

    @property
    def outages(self) -> dict[str, Outage]:
        """The services away at their last try, by name ('Temporal', 'email', ...)."""
        return self._outages.by_service

    # -- the unit of work

    async def run_once(self) -> int:
        """Claim what is due (up to ``concurrency``), perform it all; return how many."""
        if self._stopping.is_set():
            return 0
        items = await self._claim(self.config.concurrency)
        if items:
            outcomes = await asyncio.gather(
                *(self._process(item) for item in items), return_exceptions=True
            )
            for outcome in outcomes:  # as the background loop does: log, and let leases decide
                if isinstance(outcome, BaseException) and not isinstance(
                    outcome, asyncio.CancelledError
                ):
                    log.error("dispatcher %s: an action task failed", self.owner, exc_info=outcome)
        return len(items)

    # -- running in the background

    @property
    def running(self) -> bool:
        return self._loop_task is not None and not self._loop_task.done()

    async def start(self) -> None:
        """Poll in a background task until :meth:`stop`."""
        if self.running:
            return
        self._stopping.clear()
        self._due = inbox_bell(self.db).subscribe()
        url = getattr(self.db, "url", None)
        if self.db.dialect == "postgresql" and isinstance(url, str):
            self._listener = asyncio.create_task(
                listen(
                    url,
                    self._due.set,
                    retry_seconds=self.config.outage_probe_seconds,
                    listening=self._listening,
                ),
                name=f"raw-dispatcher-listen-{self.owner}",
            )
        self._loop_task = asyncio.create_task(self._loop(), name=f"raw-dispatcher-{self.owner}")

    async def stop(self, *, grace_seconds: float = DEFAULT_GRACE_SECONDS) -> None:
        """Stop claiming; let actions in flight finish within ``grace_seconds``.

        Actions still running then are cancelled and their records released
        (``pending``, due now), so another dispatcher takes them at once.
        """
        self._stopping.set()
        self._slot_free.set()
        if self._loop_task is not None:
            await self._loop_task
            self._loop_task = None
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
            self.listening = False
        if self._due is not None:
            inbox_bell(self.db).unsubscribe(self._due)
            self._due = None
        deadline = asyncio.get_running_loop().time() + grace_seconds
        while self._in_flight:  # records claimed as others ended join the set meanwhile
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            await asyncio.wait(set(self._in_flight), timeout=remaining)
        late = set(self._in_flight)
        if late:
            for task in late:
                task.cancel()
            log.warning(
                "dispatcher %s: %d action(s) outlived the %.1f s grace period and were "
                "released to be retried",
                self.owner,
                len(late),
                grace_seconds,
            )
            await asyncio.gather(*late, return_exceptions=True)
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None

    async def _loop(self) -> None:
        due = self._due or asyncio.Event()
        while not self._stopping.is_set():
            free = self.config.concurrency - len(self._in_flight)
            claimed: list[InboxItem] = []
            if free > 0:
                due.clear()  # before the claim: what is said to be due from now on is seen
                try:
                    claimed = await self._claim(free)
                except Exception as exc:
                    if not database_away(exc):
                        log.exception("dispatcher %s: claiming inbox records failed", self.owner)
                    else:  # it may come back: wait for it, a little longer each time
                        await _first_of([self._stopping.wait()], timeout=self._database_wait(exc))
                        continue
                else:
                    self._database_back()
                    self._polled(len(claimed))
            self._spawn(claimed)
            self._slot_free.clear()
            # Fewer claimed than asked for: nothing else is due until records are said to
            # be due, or the next poll. All slots taken: more may be due, so claim again as
            # soon as one frees up (the ends of actions claim for the slots they free, too).
            full = len(self._in_flight) >= self.config.concurrency
            waits = [self._stopping.wait(), self._slot_free.wait() if full else due.wait()]
            wait = self.config.poll_interval_seconds if full else self._poll_wait
            await _first_of(waits, timeout=wait)

    def _listening(self, ready: bool) -> None:
        self.listening = ready

    def _polled(self, claimed: int) -> None:
        """Poll sooner after records came; back off to the interval while none come."""
        interval = self.config.poll_interval_seconds
        if claimed:
            self._poll_wait = min(BUSY_POLL_SECONDS, interval)
        else:
            self._poll_wait = min(self._poll_wait * 2, interval)

    def _spawn(self, items: Sequence[InboxItem]) -> None:
        for item in items:
            task = asyncio.create_task(self._process(item), name=f"raw-inbox-{item.id}")
            self._in_flight.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._slot_free.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("dispatcher %s: an action task failed", self.owner, exc_info=task.exception())

    # -- claiming

    async def _claim(self, limit: int) -> list[InboxItem]:
        sweep = self._sweep_due()
        # Tracing on: the polls run all day, each statement would be a trace of its own.
        with tracing.untraced():
            return await self.db.run_write(lambda session: self._take(session, limit, sweep=sweep))

    def _sweep_due(self) -> bool:
        """Whether this claim looks for records whose lease ran out: once per poll interval
        (a busy dispatcher claims far more often than that)."""
        tick = asyncio.get_running_loop().time()  # pacing: wall time, not raw.clock
        if tick - self._swept_at < self.config.poll_interval_seconds:
            return False
        self._swept_at = tick
        return True

    async def _take(self, session: AsyncSession, limit: int, *, sweep: bool) -> list[InboxItem]:
        """Claim up to ``limit`` due records in ``session``'s transaction.

        With ``sweep``, records whose dispatcher's lease ran out come first.
        """
        now = clock.now()
        sql = self._sql
        expires = now + timedelta(seconds=self.config.lease_seconds)
        params: dict[str, Any] = {"now": now, "owner": self.owner, "expires": expires}
        rows: list[Any] = []
        picked: Sequence[Any] = []
        if sweep:
            picked = (await session.execute(sql.pick_expired, {**params, "limit": limit})).all()
        abandoned = [rid for rid, _, attempts in picked if attempts >= self.config.max_attempts]
        if abandoned:
            await self._bury_abandoned(session, abandoned, now)
        wanted = [rid for rid, *_ in picked if rid not in abandoned]
        if wanted:
            rows += (await session.execute(sql.take, {**params, "ids": wanted})).all()
        if len(picked) < limit:
            pending = {**params, "limit": limit - len(picked)}
            rows += (await session.execute(sql.take_pending, pending)).all()
        items = [InboxItem(*row) for row in rows]
        items.sort(key=lambda item: item.id)
        return items

    async def _bury_abandoned(self, session: AsyncSession, ids: list[int], now: datetime) -> None:
        """Dead-letter records whose last allowed attempt died with its dispatcher."""
        error = (
            f"The dispatcher running attempt {self.config.max_attempts} of "
            f"{self.config.max_attempts} stopped before it finished (its lease expired)."
        )
        await session.execute(self._sql.bury, {"ids": ids, "now": now, "error": error})
        log.warning("dispatcher %s: abandoned inbox records %s dead-lettered", self.owner, ids)

    # -- performing

    async def _process(self, item: InboxItem) -> None:
        t0 = clock.monotonic()
        self._hold(item.id)
        try:
            try:
                outcome = self._outages.wait_for(item) or await self._perform(item)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug in an action must not stall the record
                log.exception("dispatcher %s: inbox record %d's action raised", self.owner, item.id)
                outcome = ActionOutcome.retry(f"{type(exc).__name__}: {exc}")
        except asyncio.CancelledError:
            self._leases.discard(item.id)
            await self._release(item)
            raise
        finally:
            self._leases.discard(item.id)
        final = await self._end(item, outcome)
        self._report(item.route, final, clock.monotonic() - t0)

    async def _end(self, item: InboxItem, outcome: ActionOutcome) -> str:
        """Write the attempt's end; while the database is away, wait for it and write again
        (the action is done: losing its end would repeat it and spend an attempt)."""
        while True:
            try:
                # Traced: the write joins the delivery's trace (its action's span has ended).
                final = await self._ends.submit((item, outcome), traceparent=item.traceparent)
            except Exception as exc:
                if self._stopping.is_set() or not database_away(exc):
                    raise
                await asyncio.sleep(self._database_wait(exc))
                continue
            self._database_back()
            return final

    def _database_wait(self, exc: BaseException) -> float:
        """Note the database away (said once); the seconds to wait before the next try."""
        if self.database_away_since is None:
            self.database_away_since = clock.now()
            self._database_tries = 0
            log.warning(
                "dispatcher %s: the database is away (%s); dispatching waits for it, "
                "spending no attempts",
                self.owner,
                f"{type(exc).__name__}: {exc}".splitlines()[0][:300],
            )
        self._database_tries += 1
        backoff = self.config.poll_interval_seconds * 2.0 ** min(self._database_tries, 16)
        return min(self.config.outage_probe_seconds, backoff)

    def _database_back(self) -> None:
        if self.database_away_since is not None:
            away = (clock.now() - self.database_away_since).total_seconds()
            log.warning("dispatcher %s: the database is back after %.0f s", self.owner, away)
            self.database_away_since = None

    # -- outages

    async def _perform(self, item: InboxItem) -> ActionOutcome:
        service = self._outages.needs(item)
        try:
            outcome = await self.actions.perform(item)
        finally:
            self._outages.probed(service)
        ended = self._outages.tried(item, service, outcome)
        if ended is not None:
            await self._came_back(ended)
        return outcome

    async def _came_back(self, outage: Outage) -> None:
        """The service answers again: every record that waited for it is due now."""
        now = clock.now()
        away = (now - outage.since).total_seconds()
        waiting = WAITING_FOR.format(service=outage.service)
        try:
            due = await self.db.run_write(
                lambda session: self._sql.wake_waiting(session, waiting, now)
            )
        except Exception:  # they are due at their own next_attempt_at anyway
            log.exception("dispatcher %s: waking the records that waited failed", self.owner)
            due = 0
        if due:
            inbox_bell(self.db).ring()  # this process's other dispatchers, too
        log.warning(
            "dispatcher %s: %s is back after %.0f s; %d waiting record(s) are due now",
            self.owner,
            outage.service,
            away,
            due,
        )

    def _hold(self, record_id: int) -> None:
        """Keep renewing ``record_id``'s lease while its action runs."""
        self._leases.add(record_id)
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(
                self._renew_leases(), name=f"raw-dispatcher-heartbeat-{self.owner}"
            )

    async def _renew_leases(self) -> None:
        """Renew the leases of every action running, in one statement, each lease_seconds / 3."""
        # Wall time, not raw.clock: the lease is read by other processes, which no test
        # clock moves, and a manual clock would make this loop spin.
        interval = self.config.lease_seconds / 3
        while self._leases:
            await asyncio.sleep(interval)
            ids = sorted(self._leases)
            if not ids:
                return
            now = clock.now()
            expires = now + timedelta(seconds=self.config.lease_seconds)
            params = {"ids": ids, "owner": self.owner, "now": now, "expires": expires}
            try:
                with tracing.untraced():  # as the polls
                    renewed = await self.db.run_write(partial(self._renew, params=params))
            except Exception as exc:
                if not database_away(exc):  # an outage is said once, by the claims
                    log.exception(
                        "dispatcher %s: renewing the leases of inbox records %s failed",
                        self.owner,
                        ids,
                    )
                continue
            for rid in ids:
                if rid not in renewed and rid in self._leases:
                    log.warning("dispatcher %s: lost the lease of inbox record %d", self.owner, rid)
                    self._leases.discard(rid)

    async def _renew(self, session: AsyncSession, *, params: dict[str, Any]) -> set[int]:
        return {int(rid) for (rid,) in await session.execute(self._sql.renew, params)}

    def _final_values(self, item: InboxItem, outcome: ActionOutcome) -> tuple[str, dict[str, Any]]:
        """The record's end state for ``outcome``: (status, column values)."""
        now = clock.now()
        values: dict[str, Any] = {"lease_owner": None, "lease_expires_at": None, "updated_at": now}
        if outcome.target_process_id is not None:
            values["target_process_id"] = outcome.target_process_id
        status = outcome.status
        if status == "retry" and item.attempts >= self.config.max_attempts:
            status = "dead"
        if status == "unavailable":  # not a failure of the action: its attempt is given back
            outage = self.outages.get(outcome.service or "")
            due = outage.next_try - asyncio.get_running_loop().time() if outage else 0.0
            delay = max(due, 0.0) + self._rng.uniform(0.0, self.config.base_delay_seconds)
            service = outcome.service or "a service"
            values.update(
                status="pending",
                attempts=max(item.attempts - 1, 0),
                next_attempt_at=now + timedelta(seconds=delay),
                last_error=f"{WAITING_FOR.format(service=service)}: {outcome.error} "
                "(no attempt spent).",
            )
            return "unavailable", values
        if status == "done":
            values.update(status="done", result=outcome.result, done_at=now)
        elif status == "retry":
            delay = backoff_seconds(item.attempts, self.config, self._rng)
            values.update(
                status="pending",
                next_attempt_at=now + timedelta(seconds=delay),
                last_error=outcome.error,
            )
        else:
            error = outcome.error or "The action failed."
            if outcome.status == "retry":
                error = f"Gave up after {item.attempts} attempts. Last error: {error}"
            values.update(status="dead", last_error=error, result=outcome.result)
        return status, values

    async def _write_ends(self, batch: Sequence[tuple[InboxItem, ActionOutcome]]) -> list[str]:
        """Write the ends of attempts in one transaction (see ``self._ends``).

        A record whose lease another dispatcher took is not touched ("lost"). In the
        background loop the same transaction claims the records that take the freed
        slots, so a busy dispatcher commits once per batch, not twice.
        """
        ends = [(item, outcome, *self._final_values(item, outcome)) for item, outcome in batch]
        refill = 0
        if self.running and not self._stopping.is_set():
            # Every free slot, with those this batch frees (its tasks are still in flight).
            refill = max(self.config.concurrency - len(self._in_flight) + len(batch), 0)
        sweep = self._sweep_due() if refill else False

        async def transaction(session: AsyncSession) -> tuple[set[int], list[InboxItem]]:
            held = await self._sql.write_ends(
                session, self.owner, [(item.id, values) for item, _, _, values in ends]
            )
            for item, outcome, status, values in ends:
                if item.id in held and status in ("done", "dead"):
                    # The entity's own update commits with the record's end, or not at all.
                    final = replace(
                        outcome, status=cast(OutcomeStatus, status), error=values.get("last_error")
                    )
                    await self._on_result(session, item, final)
            claimed = await self._take(session, refill, sweep=sweep) if refill else []
            return held, claimed

        # One call for the whole transaction (on SQLite: one trip to a thread, the COMMIT).
        held, claimed = await self.db.run_write(transaction)
        if claimed:
            self._polled(len(claimed))
        self._spawn(claimed)  # before this batch's tasks end: stop() waits for these too
        statuses = []
        for item, _, status, values in ends:
            if item.id not in held:
                # Our lease ran out and another dispatcher took the record: its attempt decides.
                log.warning(
                    "dispatcher %s: inbox record %d was taken over before attempt %d finished (%s)",
                    self.owner,
                    item.id,
                    item.attempts,
                    status,
                )
                statuses.append("lost")
                continue
            if status == "dead":
                log.warning(
                    "dispatcher %s: inbox record %d is a dead letter: %s",
                    self.owner,
                    item.id,
                    values["last_error"],
                )
            statuses.append(status)
        return statuses

    async def _on_result(
        self, session: AsyncSession, item: InboxItem, final: ActionOutcome
    ) -> None:
        reference = item.action.get("on_result")
        if not reference:
            return
        # Lazy: raw.coordinator.webhooks loads FastAPI, which `raw dispatcher` alone never needs.
        from raw.coordinator.webhooks import import_object

        root = self._project_root()
        hook = import_object(str(reference), root=root)
        await hook(session, item, final)

    def _project_root(self) -> Path | None:
        project = self.project
        if isinstance(project, Project):
            return project.root
        return Path(project) if project is not None else None

    async def _release(self, item: InboxItem) -> None:
        """Give a record back, due now, when this dispatcher stops in the middle of it."""
        error = "The dispatcher stopped during the action; it will be retried (no attempt spent)."
        try:
            now = clock.now()
            attempts = max(item.attempts - 1, 0)  # stopping is not the action failing
            await self.db.run_write(
                lambda session: self._sql.release(
                    session, self.owner, item.id, now, error, attempts=attempts
                )
            )
        except Exception:  # the lease runs out on its own
            log.exception("dispatcher %s: releasing inbox record %d failed", self.owner, item.id)

    def _report(self, route: str, outcome: str, seconds: float) -> None:
        if self.on_dispatch is None:
            return
        try:
            self.on_dispatch(route, outcome, seconds)
        except Exception:  # metrics must never break dispatching
            log.exception("dispatcher %s: the on_dispatch hook raised", self.owner)


async def _first_of(waits: Sequence[Any], *, timeout: float) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
