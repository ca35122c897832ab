"""What process code uses: deterministic, replay-safe waits that say what they wait for.

The sandbox-safe third of the kit, as ``temporalio.workflow`` is of the SDK:
importing it loads no I/O library (httpx, SQLAlchemy, FastAPI...), so a process
module imports it inside ``workflow.unsafe.imports_passed_through()``. Clients
(start, signal, query) are in :mod:`raw.orchestrator.client`, the activity that
runs RAW workflows in :mod:`raw.orchestrator.activity`.

Everything here runs inside a Temporal workflow, so it does no I/O and reads time
only through ``workflow.now()``; waits are Temporal timers and conditions::

    from temporalio import workflow

    with workflow.unsafe.imports_passed_through():
        from raw.orchestrator.workflow import RawProcess, execute_raw, first_signal, sleep_until

    @workflow.defn
    class HiringProcess(RawProcess):
        @workflow.run
        async def run(self, candidate: Candidate) -> str:
            analysis = await execute_raw("analyze-cv", {"cv_text": candidate.cv_text})
            if not analysis.output["qualified"]:
                return "rejected"
            booking = await first_signal(self, ["booked", "withdrawn"], timeout=timedelta(days=7))
            if booking is None or booking.name == "withdrawn":
                return "no-call"
            await sleep_until(datetime.fromisoformat(booking.payload["call_time"]))
            ...

- :func:`sleep_until` sleeps until an absolute time (Temporal's SDK sleeps only
  for a duration); a time in the past returns at once.
- :func:`wait_for` waits for a condition with a relative ``timeout`` or an absolute
  ``deadline`` and returns False when the time ran out; it never raises
  ``TimeoutError`` at the caller.
- :func:`first_signal` waits for the first of several signals and returns it (or
  None at the timeout). It is one condition with one timer: when it returns, the
  timer is cancelled and nothing is left running.
- :func:`execute_raw` runs a RAW workflow through the ``run_raw_workflow_call``
  activity with sensible timeouts, heartbeats and retries, and names the step.

A process that subclasses :class:`RawProcess` also answers the ``raw_state`` query
(a :class:`RawState`: step, what it waits for, until when, its history) and keeps
the ``RawStep``, ``RawWaitingFor`` and ``RawWaitUntil`` search attributes current,
so status pages and lists never query processes one by one. The attributes must
be registered on the server (``raw engine`` does it; the testing kit does it on
its servers); set ``raw_search_attributes = False`` on a process class for a
server where they are not.

Signals reach :func:`first_signal` through the process's generic receiver: any
signal the class has no handler of its own for is stored by name, in arrival
order, until a wait takes it. Signals the kit sends come in a :class:`SignalEnvelope`
(``{"idempotency_key": ..., "payload": ...}``): the receiver unwraps it and stores
each key once, so a webhook delivered twice is one event. A plain dict payload with
an ``"idempotency_key"`` is deduplicated the same way and kept whole. A class that
handles a signal itself can hand it on with :meth:`RawProcess.record_signal`.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

from raw.orchestrator._common import (
    RUN_RAW_WORKFLOW_CALL,
    SERVICE_UNAVAILABLE,
    SIGNAL_IDEMPOTENCY_FIELD,
    RawWorkflowCall,
    RawWorkflowResult,
    SignalEnvelope,
)
from raw.orchestrator.search_attributes import (
    RAW_STATE_QUERY,
    RAW_STEP,
    RAW_WAIT_UNTIL,
    RAW_WAITING_FOR,
)

__all__ = [
    "SIGNAL_IDEMPOTENCY_FIELD",
    "FirstSignal",
    "RawEvent",
    "RawProcess",
    "RawState",
    "RawWorkflowCall",
    "RawWorkflowResult",
    "SignalEnvelope",
    "execute_activity",
    "execute_raw",
    "first_signal",
    "set_step",
    "sleep_until",
    "wait_for",
]

_ENVELOPE = {SIGNAL_IDEMPOTENCY_FIELD, "payload"}
_HISTORY_LIMIT = 200
_ACTIVITY_GRACE_SECONDS = 10.0
"""Slack between a RAW run's own timeout and the activity's start-to-close timeout."""


EventKind = Literal["step", "wait", "resumed", "timed_out", "signal"]


class RawEvent(BaseModel):
    """One entry of a process's history: a step began, a wait began or ended, a signal came."""

    at: datetime
    kind: EventKind
    name: str
    until: datetime | None = None


class RawState(BaseModel):
    """What the ``raw_state`` query answers."""

    step: str | None = None
    waiting_for: str | None = None
    wait_until: datetime | None = None
    started_at: datetime | None = None
    history: list[RawEvent] = Field(default_factory=list)
    signals: dict[str, int] = Field(
        default_factory=dict, description="Signals received per name (duplicates not counted)."
    )
    pending_signals: dict[str, int] = Field(
        default_factory=dict, description="Signals received and not yet taken by a wait."
    )


@dataclass(frozen=True)
class FirstSignal:
    """The signal :func:`first_signal` returned: its name and payload."""

    name: str
    payload: Any = None


@dataclass
class _Tracker:
    """A process's bookkeeping; lives on the workflow instance, replayed with it."""

    started_at: datetime
    step: str | None = None
    waiting_for: str | None = None
    wait_until: datetime | None = None
    history: deque[RawEvent] = field(default_factory=lambda: deque(maxlen=_HISTORY_LIMIT))
    received: dict[str, int] = field(default_factory=dict)
    pending: dict[str, deque[tuple[int, Any]]] = field(default_factory=dict)
    seen_keys: set[tuple[str, str]] = field(default_factory=set)
    sequence: int = 0
    published: tuple[str | None, str | None, datetime | None] = (None, None, None)

    def event(self, kind: EventKind, name: str, until: datetime | None = None) -> None:
        self.history.append(RawEvent(at=workflow.now(), kind=kind, name=name, until=until))

    def has_pending(self, names: Sequence[str]) -> bool:
        return any(self.pending.get(n) for n in names)

    def take_first(self, names: Sequence[str]) -> FirstSignal:
        """The earliest pending signal among ``names``, removed from the queue."""
        best = min((n for n in names if self.pending.get(n)), key=lambda n: self.pending[n][0][0])
        _, payload = self.pending[best].popleft()
        return FirstSignal(best, payload)

    def state(self) -> RawState:
        return RawState(
            step=self.step,
            waiting_for=self.waiting_for,
            wait_until=self.wait_until,
            started_at=self.started_at,
            history=list(self.history),
            signals=dict(self.received),
            pending_signals={n: len(q) for n, q in self.pending.items() if q},
        )


class RawProcess:
    """Base for a process class (beside ``@workflow.defn``): state query, signals, step names."""

    raw_search_attributes: ClassVar[bool] = True
    """Keep RawStep/RawWaitingFor/RawWaitUntil current (they must be registered)."""

    def _raw(self) -> _Tracker:
        # Lazy, so a subclass __init__ that forgets super().__init__() still works.
        tracker: _Tracker | None = self.__dict__.get("_raw_tracker")
        if tracker is None:
            tracker = _Tracker(started_at=workflow.info().start_time)
            self.__dict__["_raw_tracker"] = tracker
        return tracker

    @workflow.query(name=RAW_STATE_QUERY)
    def raw_state(self) -> RawState:
        """The current step, what the process waits for and until when, and its history."""
        return self._raw().state()

    @workflow.signal(dynamic=True)
    def raw_signal(self, name: str, args: Sequence[RawValue]) -> None:
        """Store any signal without a handler of its own, for :func:`first_signal`."""
        converter = workflow.payload_converter()
        values = [converter.from_payload(a.payload) for a in args]
        payload = values[0] if len(values) == 1 else (values or None)
        self.record_signal(name, payload)

    def record_signal(self, name: str, payload: Any = None) -> bool:
        """Store a signal for the waits (unwrapping an envelope); False for a repeated key."""
        tracker = self._raw()
        key, payload = _unwrap(payload)
        if key is not None:
            if (name, key) in tracker.seen_keys:
                return False
            tracker.seen_keys.add((name, key))
        tracker.sequence += 1
        tracker.pending.setdefault(name, deque()).append((tracker.sequence, payload))
        tracker.received[name] = tracker.received.get(name, 0) + 1
        tracker.event("signal", name)
        return True

    def signal_pending(self, name: str) -> bool:
        """Whether a signal ``name`` was received and not yet taken by a wait."""
        return bool(self._raw().pending.get(name))

    def set_step(self, name: str) -> None:
        """Name the step the process is in (the ``RawStep`` search attribute)."""
        tracker = self._raw()
        tracker.step = name
        tracker.event("step", name)
        self._publish()

    def _publish(self) -> None:
        if not type(self).raw_search_attributes:
            return
        tracker = self._raw()
        step, waiting, until = tracker.published
        updates: list[SearchAttributeUpdate[Any]] = []
        if tracker.step != step:
            updates.append(
                RAW_STEP.value_set(tracker.step) if tracker.step else RAW_STEP.value_unset()
            )
        if tracker.waiting_for != waiting:
            updates.append(
                RAW_WAITING_FOR.value_set(tracker.waiting_for)
                if tracker.waiting_for
                else RAW_WAITING_FOR.value_unset()
            )
        if tracker.wait_until != until:
            updates.append(
                RAW_WAIT_UNTIL.value_set(tracker.wait_until)
                if tracker.wait_until
                else RAW_WAIT_UNTIL.value_unset()
            )
        if updates:
            workflow.upsert_search_attributes(updates)
            tracker.published = (tracker.step, tracker.waiting_for, tracker.wait_until)


def _unwrap(payload: Any) -> tuple[str | None, Any]:
    """(idempotency key, payload) of a signal; an envelope gives its inner payload."""
    if isinstance(payload, BaseModel) and set(type(payload).model_fields) == _ENVELOPE:
        payload = payload.model_dump(mode="json")
    if isinstance(payload, Mapping):
        key = payload.get(SIGNAL_IDEMPOTENCY_FIELD)
        if isinstance(key, str):
            if set(payload) <= _ENVELOPE:
                return key, payload.get("payload")
            return key, payload
    return None, payload


def _process() -> RawProcess | None:
    instance = workflow.instance()
    return instance if isinstance(instance, RawProcess) else None


def set_step(name: str) -> None:
    """Name the current step of the running process (a no-op outside a RawProcess)."""
    process = _process()
    if process is not None:
        process.set_step(name)


class _Wait:
    timed_out = False


@contextlib.contextmanager
def _waiting(what: str, until: datetime | None) -> Iterator[_Wait]:
    wait = _Wait()
    process = _process()
    if process is None:
        yield wait
        return
    tracker = process._raw()
    tracker.waiting_for, tracker.wait_until = what, until
    tracker.event("wait", what, until)
    process._publish()
    try:
        yield wait
    finally:
        tracker.waiting_for, tracker.wait_until = None, None
        tracker.event("timed_out" if wait.timed_out else "resumed", what)
        process._publish()


def _aware(when: datetime, what: str) -> datetime:
    if when.tzinfo is None:
        raise ValueError(
            f"{what} needs a timezone-aware datetime, e.g. datetime(2030, 1, 5, 9, tzinfo=UTC); "
            f"got {when.isoformat()} without a time zone."
        )
    return when


async def sleep_until(when: datetime, *, waiting_for: str = "timer") -> None:
    """Sleep until ``when`` (timezone-aware); returns at once if it has passed."""
    _aware(when, "sleep_until")
    remaining = when - workflow.now()
    if remaining <= timedelta(0):
        return
    with _waiting(waiting_for, when):
        await workflow.sleep(remaining, summary=f"{waiting_for} until {when.isoformat()}")


async def wait_for(
    condition: Callable[[], bool],
    *,
    timeout: timedelta | None = None,
    deadline: datetime | None = None,
    waiting_for: str = "condition",
) -> bool:
    """Wait until ``condition()`` is true: True when it is, False when the time ran out.

    Give a relative ``timeout`` or an absolute ``deadline`` (not both), or neither
    to wait as long as it takes. ``waiting_for`` names the wait in ``raw_state``
    and the ``RawWaitingFor`` search attribute, e.g. "calendar-booking".
    """
    if timeout is not None and deadline is not None:
        raise ValueError("wait_for takes a timeout or a deadline, not both.")
    if condition():
        return True
    now = workflow.now()
    if deadline is not None:
        until: datetime | None = _aware(deadline, "wait_for(deadline=...)")
    elif timeout is not None:
        until = now + timeout
    else:
        until = None
    remaining = until - now if until is not None else None
    if remaining is not None and remaining <= timedelta(0):
        return False
    with _waiting(waiting_for, until) as wait:
        try:
            await workflow.wait_condition(
                condition,
                timeout=remaining,
                timeout_summary=f"{waiting_for} until {until.isoformat()}" if until else None,
            )
        except TimeoutError:  # asyncio.TimeoutError is this class on Python 3.11+
            wait.timed_out = True
            return False
    return True


async def first_signal(
    process: RawProcess,
    names: Sequence[str],
    *,
    timeout: timedelta | None = None,
    deadline: datetime | None = None,
    waiting_for: str | None = None,
) -> FirstSignal | None:
    """Take the first of the ``names`` signals to arrive (or already waiting); None at timeout.

    A signal that came before the wait counts; the one returned is removed, so the
    next wait needs a new one. Only one condition and one timer are used, and the
    timer is cancelled when a signal wins: nothing is left dangling.
    """
    if isinstance(names, str):
        names = [names]
    if not names:
        raise ValueError("first_signal needs at least one signal name.")
    tracker = process._raw()
    arrived = await wait_for(
        lambda: tracker.has_pending(names),
        timeout=timeout,
        deadline=deadline,
        waiting_for=waiting_for or " | ".join(names),
    )
    return tracker.take_first(names) if arrived else None


async def execute_raw(
    workflow_id: str,
    params: Mapping[str, Any] | BaseModel | None = None,
    *,
    args: Sequence[str] = (),
    dry: bool = False,
    step: str | None = None,
    timeout_seconds: float = 300.0,
    heartbeat_timeout_seconds: float | None = 30.0,
    max_attempts: int = 3,
    retry_interval_seconds: float = 1.0,
    backoff_rate: float = 2.0,
    retry_policy: RetryPolicy | None = None,
    idempotency_key: str | None = None,
    task_queue: str | None = None,
    outage_wait_max_seconds: float = 300.0,
) -> RawWorkflowResult:
    """Run a RAW workflow as an activity and return its :class:`RawWorkflowResult`.

    The step is named ``step`` (default: the workflow id). ``timeout_seconds`` is
    the run's own timeout (it ends ``timed_out``, a retryable failure); the
    activity gets a little more. Invalid input and unknown workflows fail at once
    (non-retryable); other failures are retried ``max_attempts`` times with
    backoff, or as ``retry_policy`` says. Cancelling the process stops the run
    and waits until it has stopped.

    A run that fails because a service it needs is away (an SMTP server, a call
    provider: its ``error.unavailable``) spends no attempt: the process waits (a
    durable timer, shown as waiting for "<service> (away)"), up to
    ``outage_wait_max_seconds`` between tries, and runs it again with the same
    idempotency key, however long the outage lasts.
    """
    set_step(step or workflow_id)
    if isinstance(params, BaseModel):
        values: dict[str, Any] = params.model_dump(mode="json")
    else:
        values = dict(params or {})
    call = RawWorkflowCall(
        workflow=workflow_id,
        params=values,
        args=list(args) or None,
        dry=dry,
        timeout_seconds=timeout_seconds,
        idempotency_key=idempotency_key,
    )
    policy = _waits_out_outages(
        retry_policy
        or RetryPolicy(
            initial_interval=timedelta(seconds=retry_interval_seconds),
            backoff_coefficient=backoff_rate,
            maximum_attempts=max_attempts,
        )
    )
    heartbeat = (
        timedelta(seconds=heartbeat_timeout_seconds)
        if heartbeat_timeout_seconds is not None
        else None
    )

    def attempt(key: str | None) -> Awaitable[RawWorkflowResult]:
        this = call  # an outage's retry is the same invocation: the first try's key
        if key and call.idempotency_key is None:
            this = call.model_copy(update={"idempotency_key": key})
        return workflow.execute_activity(
            RUN_RAW_WORKFLOW_CALL,
            this,
            result_type=RawWorkflowResult,
            start_to_close_timeout=timedelta(seconds=timeout_seconds + _ACTIVITY_GRACE_SECONDS),
            heartbeat_timeout=heartbeat,
            retry_policy=policy,
            cancellation_type=(
                workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
                if heartbeat is not None
                else workflow.ActivityCancellationType.TRY_CANCEL
            ),
            task_queue=task_queue,
            summary=f"raw run {workflow_id}",
        )

    return await _waiting_out_outages(
        attempt,
        what=workflow_id,
        first_wait=timedelta(seconds=retry_interval_seconds),
        max_wait=timedelta(seconds=outage_wait_max_seconds),
    )


async def execute_activity(
    activity: Any,
    arg: Any = None,
    *,
    args: Sequence[Any] = (),
    outage_wait_max_seconds: float = 300.0,
    outage_first_wait_seconds: float = 1.0,
    **options: Any,
) -> Any:
    """Temporal's ``workflow.execute_activity``, that waits out an outage of a service.

    An activity run by a kit worker that raises a :class:`~raw.errors.ServiceUnreachableError`
    (an integration's server away) fails as ``RawServiceUnavailable`` without spending a
    retry attempt; this waits on a durable timer, shown as waiting for "<service> (away)",
    doubling up to ``outage_wait_max_seconds``, and schedules the activity again, for as
    long as the outage lasts. Every other failure is the activity's retry policy's.
    ``options`` are ``workflow.execute_activity``'s (timeouts, retry policy, ...).
    """
    call_args = list(args) if args else ([] if arg is None else [arg])
    options["retry_policy"] = _waits_out_outages(options.get("retry_policy") or RetryPolicy())

    def attempt(_key: str | None) -> Awaitable[Any]:
        return workflow.execute_activity(activity, args=call_args, **options)

    name = activity if isinstance(activity, str) else getattr(activity, "__name__", "activity")
    return await _waiting_out_outages(
        attempt,
        what=str(name),
        first_wait=timedelta(seconds=outage_first_wait_seconds),
        max_wait=timedelta(seconds=outage_wait_max_seconds),
    )


_T = TypeVar("_T")


def _waits_out_outages(policy: RetryPolicy) -> RetryPolicy:
    """``policy`` that leaves an outage to the caller's wait (no attempt spent on it)."""
    kept = list(policy.non_retryable_error_types or [])
    if SERVICE_UNAVAILABLE in kept:
        return policy
    return dataclasses.replace(policy, non_retryable_error_types=[*kept, SERVICE_UNAVAILABLE])


async def _waiting_out_outages(
    attempt: Callable[[str | None], Awaitable[_T]],
    *,
    what: str,
    first_wait: timedelta,
    max_wait: timedelta,
) -> _T:
    """``attempt(key)`` until it does not fail on a service that is away (no attempt spent)."""
    key: str | None = None
    wait = first_wait
    while True:
        try:
            return await attempt(key)
        except ActivityError as exc:
            away = _service_away(exc)
            if away is None:
                raise
            service, found = away
            key = key or found
        with _waiting(f"{service} (away)", workflow.now() + wait):
            await workflow.sleep(wait, summary=f"{service} is away: {what} waits")
        wait = min(wait * 2, max_wait)


def _service_away(exc: ActivityError) -> tuple[str, str | None] | None:
    """(the service, the run's idempotency key) when the run failed on an outage."""
    cause = exc.cause
    if not isinstance(cause, ApplicationError) or cause.type != SERVICE_UNAVAILABLE:
        return None
    details = cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {}
    return str(details.get("unavailable") or "a service"), details.get("idempotency_key")
