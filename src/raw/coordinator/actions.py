"""Perform an inbox record's action, with the record's stable idempotency key.

The dispatcher claims a record and hands it to an :class:`ActionRunner`, which
answers an :class:`ActionOutcome`: ``done`` (with a result to store), ``retry``
(a failure another attempt may fix: a workflow that failed, a signal racing its
process's start), ``dead`` (a failure no retry can fix: bad params, no such
workflow, a finished process) or ``unavailable`` (the action could not be tried:
a service it needs, Temporal or an integration's server, is away; the dispatcher
waits for it without spending an attempt). Delivery is at least once, so every
action is safe to repeat:

- ``run_workflow`` (Pattern 1) runs a RAW workflow in this process; the workflow
  sees the record's key as ``self.idempotency_key``, and the run's manifest
  carries the delivery's ``correlation_id`` (and the key).
- ``start_process`` starts the process for the body's business key with the
  correlation id in its memo; a second start of a running process is reported,
  not duplicated.
- ``signal`` sends the signal in a ``SignalEnvelope`` holding the record's key, so
  a process built on ``RawProcess`` drops a repeat; ``signal_with_start`` likewise,
  starting the process (memo included) when it is not running.
- ``none`` is done at once.

The Temporal client is connected lazily, once, and only for actions that need it:
a coordinator whose routes only run RAW workflows never imports temporalio.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import ValidationError

from raw import tracing
from raw.config.coordinator import ActionConfig
from raw.errors import RawError
from raw.project import Project, find_project
from raw.workflow.result import RunResult
from raw.workflow.runner import run_workflow_async

if TYPE_CHECKING:
    from temporalio.client import Client

__all__ = [
    "CORRELATION_MEMO_KEY",
    "UNAVAILABLE_RPC_CODES",
    "ActionOutcome",
    "ActionRunner",
    "InboxItem",
    "InboxItemLike",
    "OutcomeStatus",
]

log = logging.getLogger("raw.coordinator.dispatcher")

OutcomeStatus = Literal["done", "retry", "dead", "unavailable"]

UNAVAILABLE_RPC_CODES = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED"})
"""Temporal's answers that say the server is away or overloaded, not that the call is wrong."""

CORRELATION_MEMO_KEY = "correlation_id"
"""The memo field of a process started by the dispatcher that holds the correlation id."""


class InboxItemLike(Protocol):
    """What an action needs from an inbox record (an ``InboxRecord`` has all of it)."""

    @property
    def id(self) -> int: ...
    @property
    def route(self) -> str: ...
    @property
    def action(self) -> dict[str, Any]: ...
    @property
    def payload(self) -> dict[str, Any]: ...
    @property
    def idempotency_key(self) -> str: ...
    @property
    def correlation_id(self) -> str: ...
    @property
    def target_process_id(self) -> str | None: ...
    @property
    def attempts(self) -> int: ...


@dataclass(frozen=True)
class InboxItem:
    """A claimed inbox record, read once, independent of any database session."""

    id: int
    route: str
    action: dict[str, Any]
    payload: dict[str, Any]
    idempotency_key: str
    correlation_id: str
    target_process_id: str | None = None
    attempts: int = 1
    traceparent: str | None = None
    """The webhook route's span (tracing on): the action's span is its child."""

    @classmethod
    def of(cls, record: InboxItemLike) -> InboxItem:
        return cls(
            id=record.id,
            route=record.route,
            action=dict(record.action),
            payload=dict(record.payload),
            idempotency_key=record.idempotency_key,
            correlation_id=record.correlation_id,
            target_process_id=record.target_process_id,
            attempts=record.attempts,
            traceparent=getattr(record, "traceparent", None),
        )


@dataclass(frozen=True)
class ActionOutcome:
    """What became of one attempt at an action."""

    status: OutcomeStatus
    result: dict[str, Any] | None = None
    error: str | None = None
    """For ``retry`` and ``dead``: what went wrong, as a sentence for ``last_error``."""
    target_process_id: str | None = None
    """The process the action reached, to store on the record."""
    service: str | None = None
    """For ``unavailable``: the service that was away ('Temporal', 'email', ...)."""

    @classmethod
    def unavailable(
        cls, service: str, error: str, *, target_process_id: str | None = None
    ) -> ActionOutcome:
        """The action could not be tried: ``service`` is away. No attempt is spent."""
        return cls("unavailable", error=error, target_process_id=target_process_id, service=service)

    @classmethod
    def done(cls, result: dict[str, Any], *, target_process_id: str | None = None) -> ActionOutcome:
        return cls("done", result=result, target_process_id=target_process_id)

    @classmethod
    def retry(
        cls,
        error: str,
        *,
        result: dict[str, Any] | None = None,
        target_process_id: str | None = None,
    ) -> ActionOutcome:
        return cls("retry", result=result, error=error, target_process_id=target_process_id)

    @classmethod
    def dead(
        cls,
        error: str,
        *,
        result: dict[str, Any] | None = None,
        target_process_id: str | None = None,
    ) -> ActionOutcome:
        return cls("dead", result=result, error=error, target_process_id=target_process_id)


class _Permanent(RawError):
    """An action that can never succeed as recorded (becomes ``dead`` at once)."""


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _field(payload: Mapping[str, Any], path: str, *, route_hint: str) -> Any:
    """The body field at a dotted ``path``; a missing one is permanent."""
    value: Any = payload
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise _Permanent(
                f"The delivery's body has no field '{path}', which {route_hint} needs. "
                "Fix the route's action in .raw/config.yaml or the sender's payload."
            )
        value = value[part]
    return value


# --- the runner ---------------------------------------------------------------------------


ClientFactory = Callable[[], Awaitable["Client"]]


@dataclass
class ActionRunner:
    """Performs inbox records' actions for one project; one per dispatcher.

    ``connect_client`` overrides how the Temporal client is made (default:
    :func:`raw.orchestrator.connect.connect` for the project), ``client`` gives one
    ready made.
    """

    project: Project | Path | str | None = None
    client: Client | None = None
    connect_client: ClientFactory | None = None
    _project: Project | None = field(default=None, init=False, repr=False)
    _client_lock: asyncio.Lock | None = field(default=None, init=False, repr=False)

    @property
    def project_obj(self) -> Project:
        """The project, found on first use (an action of kind none needs none)."""
        if self._project is None:
            given = self.project
            self._project = given if isinstance(given, Project) else find_project(given)
        return self._project

    async def temporal_client(self) -> Client:
        """The Temporal client, connected on first use; a failure is retried next time."""
        if self.client is not None:
            return self.client
        if self._client_lock is None:
            self._client_lock = asyncio.Lock()
        async with self._client_lock:
            if self.client is None:
                if self.connect_client is not None:
                    self.client = await self.connect_client()
                else:
                    # Lazy: needs the orchestrator extra, which may be missing.
                    from raw.orchestrator.connect import connect

                    self.client = await connect(self.project_obj)
        return self.client

    async def perform(self, item: InboxItemLike) -> ActionOutcome:
        """Perform ``item``'s action once; never raises for the action's own failures.

        With tracing on, the attempt is a span in the trace of the delivery that wrote
        the record (its stored traceparent), in whatever process the dispatcher runs;
        the Temporal start or signal and a RAW run happen inside it.
        """
        kind = str(item.action.get("kind", ""))
        attributes = {
            "raw.inbox.id": item.id,
            "raw.inbox.route": item.route,
            "raw.inbox.attempt": item.attempts,
            "raw.action": kind,
            "raw.correlation_id": item.correlation_id,
        }
        traceparent = getattr(item, "traceparent", None)
        with tracing.span(f"dispatch {kind}", attributes=attributes, parent=traceparent) as span:
            outcome = await self._perform(item)
            if span is not None:
                failed = outcome.status in ("retry", "dead")
                span.end(
                    error=f"action {outcome.status}" if failed else None,
                    **{
                        "raw.action.outcome": outcome.status,
                        "raw.process_id": outcome.target_process_id,
                    },
                )
            return outcome

    async def _perform(self, item: InboxItemLike) -> ActionOutcome:
        try:
            action = ActionConfig.model_validate(
                {k: v for k, v in item.action.items() if k in ActionConfig.model_fields}
            )
        except ValidationError as exc:
            return ActionOutcome.dead(
                f"Inbox record {item.id} holds an action that is not valid: "
                f"{exc.errors(include_url=False)[0]['msg']}. Fix the route's action and "
                "retry the dead letter."
            )
        try:
            if action.kind == "none":
                return ActionOutcome.done({"status": "complete"})
            if action.kind == "run_workflow":
                return await self._run_workflow(item, action)
            return await self._temporal(item, action)
        except _Permanent as exc:
            return ActionOutcome.dead(str(exc))

    # -- Pattern 1: a RAW workflow in this process

    def _params(self, item: InboxItemLike, action: ActionConfig) -> dict[str, Any]:
        if action.params is None:
            return dict(item.payload)
        hint = f"the '{action.workflow}' workflow's parameters"
        return {
            name: _field(item.payload, path, route_hint=hint)
            for name, path in action.params.items()
        }

    async def _run_workflow(self, item: InboxItemLike, action: ActionConfig) -> ActionOutcome:

        assert action.workflow is not None
        params = self._params(item, action)
        project = self.project_obj
        result = await run_workflow_async(
            action.workflow,
            params,
            idempotency_key=item.idempotency_key,
            correlation_id=item.correlation_id,  # in the manifest and the run index
            project_dir=project.root,
        )
        return _workflow_outcome(result)

    # -- Temporal: start, signal, signal-with-start

    async def _temporal(self, item: InboxItemLike, action: ActionConfig) -> ActionOutcome:
        # Lazy: needs the orchestrator extra, which may be missing.
        from temporalio.service import RPCError

        from raw.orchestrator.client import (
            InvalidProcessIdError,
            ProcessClosedError,
            ProcessNotFoundError,
            process_id,
            process_type,
        )
        from raw.orchestrator.connect import TemporalUnavailableError

        assert action.process is not None and action.business_key is not None
        pid = item.target_process_id  # worked out when the delivery was accepted
        if pid is None:
            hint = f"the '{action.kind}' action (its business_key)"
            key = _field(item.payload, action.business_key, route_hint=hint)
            try:
                pid = process_id(process_type(action.process), str(key))
            except InvalidProcessIdError as exc:
                raise _Permanent(str(exc)) from None
        try:
            client = await self.temporal_client()
            if action.kind == "start_process":
                result = await self._start(client, item, action, pid)
            elif action.kind == "signal":
                # Lazy: needs the orchestrator extra, which may be missing.
                from raw.orchestrator.client import signal

                assert action.signal is not None
                sent = await signal(
                    client,
                    pid,
                    action.signal,
                    item.payload,
                    idempotency_key=item.idempotency_key,
                )
                result = {"status": "signalled", "process_id": pid, "idempotency_key": sent}
            else:
                result = await self._signal_with_start(client, item, action, pid)
        except ProcessClosedError as exc:  # no signal reaches a finished process, ever
            if await self._signalled_before(item, action, pid):
                return ActionOutcome.done(
                    {
                        "status": "signalled",
                        "process_id": pid,
                        "idempotency_key": item.idempotency_key,
                        "repeat": True,
                    },
                    target_process_id=pid,
                )
            return ActionOutcome.dead(str(exc), target_process_id=pid)
        except TemporalUnavailableError as exc:
            return ActionOutcome.unavailable("Temporal", str(exc), target_process_id=pid)
        except RPCError as exc:
            if exc.status is not None and exc.status.name in UNAVAILABLE_RPC_CODES:
                return ActionOutcome.unavailable("Temporal", _describe(exc), target_process_id=pid)
            return ActionOutcome.retry(_describe(exc), target_process_id=pid)
        except ProcessNotFoundError as exc:  # a signal racing its process's start: later
            return ActionOutcome.retry(_describe(exc), target_process_id=pid)
        return ActionOutcome.done(result, target_process_id=pid)

    async def _signalled_before(self, item: InboxItemLike, action: ActionConfig, pid: str) -> bool:
        """A repeat attempt of a signal found the process finished: did an earlier attempt
        (its dispatcher died before recording it) deliver the signal before the end?"""
        if action.kind != "signal" or action.signal is None or item.attempts <= 1:
            return False
        # Lazy: needs the orchestrator extra, which may be missing.
        from raw.orchestrator.client import signal_received

        try:
            client = await self.temporal_client()
            return await signal_received(client, pid, action.signal, item.idempotency_key)
        except Exception:  # the history could not be read: the dead letter says what to check
            log.warning("could not read process %s's history", pid, exc_info=True)
            return False

    def _task_queue(self) -> str:
        # Lazy: needs the orchestrator extra, which may be missing.
        from raw.orchestrator.connect import orchestrator_config

        return orchestrator_config(self.project_obj).task_queue

    async def _start(
        self, client: Client, item: InboxItemLike, action: ActionConfig, pid: str
    ) -> dict[str, Any]:
        # client.start_process has no memo: start the workflow directly, with its policies.
        # Lazy: needs the orchestrator extra, which may be missing.
        from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
        from temporalio.exceptions import WorkflowAlreadyStartedError

        assert action.process is not None
        earlier = await self._started_by_us(client, item, pid)
        if earlier is not None:
            return _started(pid, earlier, started=False)
        try:
            handle = await client.start_workflow(
                action.process,
                item.payload,
                id=pid,
                task_queue=self._task_queue(),
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                memo={CORRELATION_MEMO_KEY: item.correlation_id},
            )
        except WorkflowAlreadyStartedError as exc:
            run_id = exc.run_id or (await client.get_workflow_handle(pid).describe()).run_id
            return _started(pid, run_id, started=False)
        return _started(pid, handle.result_run_id or "", started=True)

    async def _started_by_us(self, client: Client, item: InboxItemLike, pid: str) -> str | None:
        """On a repeat attempt, the run an earlier attempt of this record started, if any.

        A process that has already finished would otherwise be started again by a
        repeat (the id may be reused for a later delivery); its memo says whose it is.
        """
        if item.attempts <= 1:
            return None
        # Lazy: needs the orchestrator extra, which may be missing.
        from temporalio.service import RPCError, RPCStatusCode

        try:
            description = await client.get_workflow_handle(pid).describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None
            raise
        memo = await description.memo()
        if memo.get(CORRELATION_MEMO_KEY) == item.correlation_id:
            return description.run_id
        return None

    async def _signal_with_start(
        self, client: Client, item: InboxItemLike, action: ActionConfig, pid: str
    ) -> dict[str, Any]:
        # Lazy: needs the orchestrator extra, which may be missing.
        from raw.orchestrator.client import SignalEnvelope

        assert action.process is not None and action.signal is not None
        earlier = await self._started_by_us(client, item, pid)
        if earlier is not None:  # that start carried the signal
            return {
                "status": "signalled",
                "process_id": pid,
                "run_id": earlier,
                "started": False,
                "idempotency_key": item.idempotency_key,
            }
        envelope = SignalEnvelope(idempotency_key=item.idempotency_key, payload=item.payload)
        handle = await client.start_workflow(
            action.process,
            item.payload,
            id=pid,
            task_queue=self._task_queue(),
            start_signal=action.signal,
            start_signal_args=[envelope],
            memo={CORRELATION_MEMO_KEY: item.correlation_id},
        )
        response = getattr(handle, "_start_workflow_response", None)
        return {
            "status": "signalled",
            "process_id": pid,
            "run_id": handle.result_run_id or "",
            "started": bool(getattr(response, "started", False)),
            "idempotency_key": item.idempotency_key,
        }


def _started(pid: str, run_id: str, *, started: bool) -> dict[str, Any]:
    status = "started" if started else "already_started"  # a repeat is reported, not an error
    return {"status": status, "process_id": pid, "run_id": run_id, "started": started}


def _workflow_outcome(result: RunResult) -> ActionOutcome:
    """Pattern 1's statuses from a RAW run's result."""
    if result.status == "succeeded":
        return ActionOutcome.done(
            {"status": "complete", "output": result.output, "run_id": result.run_id}
        )
    error = result.error.model_dump(exclude_none=True) if result.error else None
    if result.error is not None and result.error.unavailable:
        return ActionOutcome.unavailable(
            result.error.unavailable,
            f"Workflow '{result.workflow}' run {result.run_id} could not reach "
            f"{result.error.unavailable}: {result.error.message}",
        )
    message = f"Workflow '{result.workflow}' run {result.run_id} ended {result.status}" + (
        f": {result.error.message}" if result.error else "."
    )
    failed = {"status": "failed", "error": error, "run_id": result.run_id}
    if result.status in ("invalid_input", "not_found"):
        return ActionOutcome.dead(message, result=failed)
    # failed, timed_out, cancelled (the dispatcher stopping): another attempt may succeed.
    return ActionOutcome.retry(message, result=failed)
