"""Client helpers for processes: start, signal, signal-with-start, query, describe, cancel, list.

A process's id is derived from its type and a business key
(``hiring-process/candidate-123``), so the same event always reaches the same
process and a second start of the same id is reported, not duplicated.

Every signal the kit sends carries an idempotency key inside a
:class:`SignalEnvelope`, so a process can drop a redelivered signal (webhooks
arrive at least once). A process built on the kit's base class unwraps the
envelope itself; a hand-written handler receives it as its one argument.

Errors (all :class:`~raw.errors.RawError`):

    RawError
    ├── InvalidProcessIdError     an empty or whitespace-holding type or business key
    ├── ProcessNotFoundError      no process with that id on the server
    ├── ProcessClosedError        the process has finished: no more signals or cancels
    ├── ProcessQueryError         the process did not answer a query
    └── InvalidVisibilityQueryError   the server refused a list filter
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import workflow as temporal_workflow
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionDescription,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from raw.errors import RawError
from raw.orchestrator._common import SignalEnvelope
from raw.orchestrator.connect import TemporalUnavailableError, connect, orchestrator_config
from raw.orchestrator.search_attributes import (
    RAW_STATE_QUERY,
    RAW_STEP,
    RAW_WAIT_UNTIL,
    RAW_WAITING_FOR,
)
from raw.processes import ProcessView

__all__ = [
    "InvalidProcessIdError",
    "InvalidVisibilityQueryError",
    "ProcessClosedError",
    "ProcessInfo",
    "ProcessNotFoundError",
    "ProcessQueryError",
    "SignalEnvelope",
    "SignalWithStartResult",
    "StartResult",
    "TemporalUnavailableError",
    "cancel",
    "connect",
    "describe",
    "list_processes",
    "process_id",
    "process_type",
    "query",
    "signal",
    "signal_received",
    "signal_with_start",
    "start_process",
    "workflow_type_name",
]

_WHITESPACE = re.compile(r"\s")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

WorkflowRef = str | type | Callable[..., Any]
"""A Temporal workflow: its type name, its ``@workflow.defn`` class, or its run method."""


# --- errors -------------------------------------------------------------------------------


class InvalidProcessIdError(RawError):
    def __init__(self, what: str, value: str) -> None:
        self.what = what
        self.value = value
        super().__init__(
            f"{value!r} is not a valid {what}: it must be non-empty and hold no whitespace "
            "(for example 'candidate-123')."
        )


class ProcessNotFoundError(RawError):
    def __init__(self, process_id: str, *, namespace: str | None = None) -> None:
        self.process_id = process_id
        self.namespace = namespace
        where = f" in namespace '{namespace}'" if namespace else ""
        super().__init__(
            f"No process '{process_id}' on the Temporal server{where}. "
            "'raw process list' shows the processes there."
        )


class ProcessClosedError(RawError):
    def __init__(self, process_id: str, action: str) -> None:
        self.process_id = process_id
        self.action = action
        super().__init__(
            f"Process '{process_id}' has already finished, so it cannot be {action}. "
            f"'raw process status {process_id}' shows how it ended."
        )


class ProcessQueryError(RawError):
    def __init__(self, process_id: str, query_name: str, reason: str) -> None:
        self.process_id = process_id
        self.query_name = query_name
        self.reason = reason
        super().__init__(f"Process '{process_id}' did not answer query '{query_name}': {reason}")


class InvalidVisibilityQueryError(RawError):
    def __init__(self, query: str, reason: str) -> None:
        self.query = query
        self.reason = reason
        super().__init__(
            f"The Temporal server refused the list filter {query!r}: {reason}. "
            "Write it in Temporal's visibility syntax, e.g. \"WorkflowType = 'HiringProcess' "
            "AND ExecutionStatus = 'Running'\"."
        )


# --- models -------------------------------------------------------------------------------


class StartResult(BaseModel):
    """The outcome of a start: ``started`` is False when the process was already running."""

    id: str
    run_id: str
    started: bool


class SignalWithStartResult(StartResult):
    """A signal-with-start: whether it started the process, and the signal's idempotency key."""

    idempotency_key: str


ProcessInfo = ProcessView
"""The earlier name of :class:`raw.processes.ProcessView`, which ``describe`` and
``list_processes`` return (``state`` unset)."""


def _view(execution: WorkflowExecution) -> ProcessView:
    attributes = execution.typed_search_attributes
    return ProcessView(
        id=execution.id,
        run_id=execution.run_id,
        type=execution.workflow_type,
        status=execution.status.name.lower() if execution.status is not None else "unknown",
        task_queue=execution.task_queue,
        start_time=execution.start_time,
        close_time=execution.close_time,
        step=attributes.get(RAW_STEP) or None,
        waiting_for=attributes.get(RAW_WAITING_FOR) or None,
        wait_until=attributes.get(RAW_WAIT_UNTIL),
    )


# --- ids ----------------------------------------------------------------------------------


def workflow_type_name(workflow: WorkflowRef) -> str:
    """The Temporal workflow type a class, run method or name stands for."""
    if isinstance(workflow, str):
        return workflow
    if isinstance(workflow, type):
        defn = temporal_workflow._Definition.from_class(workflow)
    else:
        defn = temporal_workflow._Definition.from_run_fn(workflow)
    if defn is None or not defn.name:
        raise TypeError(f"{workflow!r} is not a @workflow.defn class or its @workflow.run method")
    return defn.name


def process_type(workflow: WorkflowRef) -> str:
    """The id prefix of a process type: ``HiringProcess`` -> ``hiring-process``."""
    name = workflow_type_name(workflow)
    return _CAMEL.sub("-", name).replace("_", "-").lower()


def process_id(process_type: str, business_key: str) -> str:
    """The id of the process of ``process_type`` for ``business_key``: ``type/key``."""
    for what, value in (("process type", process_type), ("business key", business_key)):
        if not value or _WHITESPACE.search(value):
            raise InvalidProcessIdError(what, value)
    return f"{process_type}/{business_key}"


def _envelope(payload: Any, idempotency_key: str | None) -> SignalEnvelope:
    return SignalEnvelope(idempotency_key=idempotency_key or uuid.uuid4().hex, payload=payload)


def _not_found(exc: RPCError) -> bool:
    return exc.status == RPCStatusCode.NOT_FOUND


def _closed(exc: RPCError) -> bool:
    # The server answers NOT_FOUND for a finished execution, with "workflow execution
    # already completed"; the time-skipping test server says "Completed workflow".
    message = exc.message.lower()
    return _not_found(exc) and ("already completed" in message or "completed workflow" in message)


# --- operations ---------------------------------------------------------------------------


async def start_process(
    client: Client,
    workflow: WorkflowRef,
    arg: Any = None,
    *,
    business_key: str,
    task_queue: str | None = None,
    process_type_name: str | None = None,
    id_reuse_policy: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    execution_timeout_seconds: float | None = None,
) -> StartResult:
    """Start the process for ``business_key``; report (not duplicate) one already running.

    With the default reuse policy a process that has finished can be started
    again for the same key; pass ``WorkflowIDReusePolicy.REJECT_DUPLICATE`` to
    forbid that too (then the finished run is reported).
    """
    pid = process_id(process_type_name or process_type(workflow), business_key)
    try:
        handle = await client.start_workflow(
            workflow_type_name(workflow),
            *([] if arg is None else [arg]),
            id=pid,
            task_queue=task_queue or orchestrator_config(None).task_queue,
            id_reuse_policy=id_reuse_policy,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            execution_timeout=(
                timedelta(seconds=execution_timeout_seconds) if execution_timeout_seconds else None
            ),
        )
    except WorkflowAlreadyStartedError as exc:
        run_id = exc.run_id or (await client.get_workflow_handle(pid).describe()).run_id
        return StartResult(id=pid, run_id=run_id, started=False)
    return StartResult(id=pid, run_id=handle.result_run_id or "", started=True)


async def signal(
    client: Client,
    process_id: str,
    name: str,
    payload: Any = None,
    *,
    idempotency_key: str | None = None,
) -> str:
    """Send signal ``name`` to a running process, in a SignalEnvelope; returns its key."""
    envelope = _envelope(payload, idempotency_key)
    try:
        await client.get_workflow_handle(process_id).signal(name, envelope)
    except RPCError as exc:
        if _closed(exc):
            raise ProcessClosedError(process_id, "signalled") from None
        if _not_found(exc):
            raise ProcessNotFoundError(process_id, namespace=client.namespace) from None
        raise
    return envelope.idempotency_key


async def signal_received(client: Client, process_id: str, name: str, idempotency_key: str) -> bool:
    """Whether the process's latest run received signal ``name`` with ``idempotency_key``.

    Read from its history, so it answers for a finished process too (no worker needed):
    a repeated signal action whose first attempt reached the process before it finished
    was delivered, not lost.
    """
    handle = client.get_workflow_handle(process_id)
    try:
        async for event in handle.fetch_history_events():
            if not event.HasField("workflow_execution_signaled_event_attributes"):
                continue
            signaled = event.workflow_execution_signaled_event_attributes
            if signaled.signal_name != name or not signaled.input.payloads:
                continue
            (envelope,) = await client.data_converter.decode(signaled.input.payloads[:1])
            if isinstance(envelope, dict) and envelope.get("idempotency_key") == idempotency_key:
                return True
    except RPCError as exc:
        if _not_found(exc):
            return False
        raise
    return False


async def signal_with_start(
    client: Client,
    workflow: WorkflowRef,
    arg: Any = None,
    *,
    business_key: str,
    signal: str,
    payload: Any = None,
    idempotency_key: str | None = None,
    task_queue: str | None = None,
    process_type_name: str | None = None,
) -> SignalWithStartResult:
    """Signal the process for ``business_key``, starting it first if it is not running."""
    pid = process_id(process_type_name or process_type(workflow), business_key)
    envelope = _envelope(payload, idempotency_key)
    handle = await client.start_workflow(
        workflow_type_name(workflow),
        *([] if arg is None else [arg]),
        id=pid,
        task_queue=task_queue or orchestrator_config(None).task_queue,
        start_signal=signal,
        start_signal_args=[envelope],
    )
    response = getattr(handle, "_start_workflow_response", None)
    started = bool(getattr(response, "started", False))
    return SignalWithStartResult(
        id=pid,
        run_id=handle.result_run_id or "",
        started=started,
        idempotency_key=envelope.idempotency_key,
    )


async def query(
    client: Client,
    process_id: str,
    name: str = RAW_STATE_QUERY,
    *args: Any,
    timeout_seconds: float = 10.0,
) -> Any:
    """Ask a process a query (by default the kit's ``raw_state``); needs a worker running."""
    try:
        return await client.get_workflow_handle(process_id).query(
            name, args=args, rpc_timeout=timedelta(seconds=timeout_seconds)
        )
    except WorkflowQueryFailedError as exc:
        raise ProcessQueryError(process_id, name, exc.message) from None
    except WorkflowQueryRejectedError as exc:
        raise ProcessQueryError(process_id, name, f"rejected ({exc.status})") from None
    except RPCError as exc:
        if _not_found(exc):
            raise ProcessNotFoundError(process_id, namespace=client.namespace) from None
        if exc.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
            raise ProcessQueryError(
                process_id,
                name,
                f"no answer within {timeout_seconds:g} seconds (is a worker running?)",
            ) from None
        raise


async def describe(client: Client, process_id: str) -> ProcessView:
    """The process's status, type, times and the kit's search attributes."""
    try:
        description: WorkflowExecutionDescription = await client.get_workflow_handle(
            process_id
        ).describe()
    except RPCError as exc:
        if _not_found(exc):
            raise ProcessNotFoundError(process_id, namespace=client.namespace) from None
        raise
    return _view(description)


async def cancel(client: Client, process_id: str) -> None:
    """Ask a running process to cancel (it runs its cancellation handling, then ends)."""
    # The server accepts a cancel request for a finished execution silently: say so instead.
    if (await describe(client, process_id)).status != "running":
        raise ProcessClosedError(process_id, "cancelled")
    try:
        await client.get_workflow_handle(process_id).cancel()
    except RPCError as exc:
        if _closed(exc):
            raise ProcessClosedError(process_id, "cancelled") from None
        if _not_found(exc):
            raise ProcessNotFoundError(process_id, namespace=client.namespace) from None
        raise


async def list_processes(
    client: Client, *, query: str | None = None, limit: int = 100
) -> list[ProcessView]:
    """Processes the visibility store finds (newest first); ``query`` is a visibility filter.

    Needs a server with visibility (the dev server or a real one); the
    time-skipping test server cannot list.
    """
    found: list[ProcessView] = []
    try:
        async for execution in client.list_workflows(query or None, limit=limit):
            found.append(_view(execution))
    except RPCError as exc:
        if exc.status == RPCStatusCode.INVALID_ARGUMENT and query:
            raise InvalidVisibilityQueryError(query, exc.message) from None
        raise
    return found
