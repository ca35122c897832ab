"""``raw process list|status|signal``: Temporal processes, through one client."""

from __future__ import annotations

from typing import Any

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from raw.commands.document import Document
from raw.orchestrator.client import (
    ProcessQueryError,
    describe,
    list_processes,
    query,
    signal,
)

__all__ = ["process_list_document", "process_signal_document", "process_status_document"]


async def _has_workers(client: Client, task_queue: str) -> bool:
    """Whether a worker polled ``task_queue`` for workflow tasks lately (queries need one)."""
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return bool(response.pollers)


async def process_status_document(client: Client, process_id: str) -> Document:
    """A process: its status, step, what it waits for and until when, and its raw_state."""
    info = await describe(client, process_id)
    state: Any = None
    state_error = None
    if await _has_workers(client, info.task_queue):
        try:
            state = await query(client, process_id, timeout_seconds=5)
        except ProcessQueryError as exc:
            state_error = exc.reason
    else:  # a query would wait for a worker that is not there
        state_error = f"no worker is polling task queue '{info.task_queue}' ('raw worker')"
    body = {**info.model_dump(mode="json"), "state": state, "state_error": state_error}
    return Document(body, detail=info)


async def process_list_document(client: Client, *, query: str | None, limit: int) -> Document:
    """Processes, newest first (a Temporal visibility query narrows them)."""
    found = await list_processes(client, query=query, limit=max(limit, 1))
    listed = [p.model_dump(mode="json", exclude={"state", "state_error"}) for p in found]
    return Document({"processes": listed}, detail=found)


async def process_signal_document(
    client: Client, process_id: str, name: str, data: Any, *, idempotency_key: str | None
) -> Document:
    """Send a signal (with an idempotency key, made up when not given) to a running process."""
    key = await signal(client, process_id, name, data, idempotency_key=idempotency_key)
    return Document({"id": process_id, "signal": name, "idempotency_key": key})
