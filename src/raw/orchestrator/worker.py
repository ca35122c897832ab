"""``raw worker``: serve the system's Temporal workflows and activities.

The worker imports the modules named in ``system.orchestrator.workflows`` and
``.activities`` (the project root is on ``sys.path``), registers every
``@workflow.defn`` class and ``@activity.defn`` function it finds there, adds the
kit's own ``run_raw_workflow`` activity and the workflow behind scheduled runs,
and polls the configured task queue until SIGTERM or SIGINT, when it stops
taking work and lets running activities finish (graceful shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import signal
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from types import ModuleType
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from raw import tracing
from raw.config.orchestrator import OrchestratorConfig
from raw.errors import RawError
from raw.orchestrator.activity import OutageInterceptor, RawActivities
from raw.orchestrator.scheduled import RawScheduledRun
from raw.project import Project


class WorkerConfigError(RawError):
    """A module named in the config cannot be imported or holds nothing to serve."""


@dataclass
class WorkerPlan:
    task_queue: str
    workflows: list[type] = field(default_factory=list)
    activities: list[Callable[..., Any]] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {
            "task_queue": self.task_queue,
            "workflows": sorted(_workflow_name(w) for w in self.workflows),
            "activities": sorted(_activity_name(a) for a in self.activities),
        }


def _workflow_name(cls: type) -> str:
    defn = workflow._Definition.from_class(cls)
    return defn.name if defn is not None and defn.name else cls.__name__


def _activity_name(fn: Callable[..., Any]) -> str:
    defn = activity._Definition.from_callable(fn)
    return defn.name if defn is not None and defn.name else getattr(fn, "__name__", repr(fn))


def _import(module_name: str, project: Project) -> ModuleType:
    root = str(project.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        return importlib.import_module(module_name)
    except Exception as exc:
        raise WorkerConfigError(
            f"Cannot import '{module_name}' (listed in system.orchestrator of "
            f"{project.config_path}): {type(exc).__name__}: {exc}"
        ) from exc


def workflows_in(module: ModuleType) -> list[type]:
    return [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and obj.__module__ == module.__name__
        and workflow._Definition.from_class(obj) is not None
    ]


def activities_in(module: ModuleType) -> list[Callable[..., Any]]:
    return [
        obj
        for obj in vars(module).values()
        if callable(obj)
        and getattr(obj, "__module__", None) == module.__name__
        and activity._Definition.from_callable(obj) is not None
    ]


def plan_worker(project: Project, config: OrchestratorConfig) -> WorkerPlan:
    """What the worker will serve: the configured modules plus the kit's own pieces."""
    plan = WorkerPlan(task_queue=config.task_queue)
    for name in config.workflows:
        found = workflows_in(_import(name, project))
        if not found:
            raise WorkerConfigError(f"Module '{name}' holds no @workflow.defn class.")
        plan.workflows += found
    for name in config.activities:
        found_activities = activities_in(_import(name, project))
        if not found_activities:
            raise WorkerConfigError(f"Module '{name}' holds no @activity.defn function.")
        plan.activities += found_activities
    plan.workflows.append(RawScheduledRun)
    raw_activities = RawActivities(mode=config.activity_mode, project_dir=project.root)
    plan.activities += raw_activities.activities()
    return plan


def build_worker(
    client: Client,
    plan: WorkerPlan,
    *,
    max_concurrent_activities: int = 20,
    passthrough_modules: Sequence[str] = (),
) -> Worker:
    restrictions = SandboxRestrictions.default.with_passthrough_modules(
        "raw", "pydantic", "pydantic_core", *tracing.passthrough_modules(), *passthrough_modules
    )
    return Worker(
        client,
        task_queue=plan.task_queue,
        workflows=plan.workflows,
        activities=plan.activities,
        activity_executor=ThreadPoolExecutor(max_workers=max_concurrent_activities),
        interceptors=[OutageInterceptor()],  # an outage spends no activity attempts
        max_concurrent_activities=max_concurrent_activities,
        workflow_runner=SandboxedWorkflowRunner(restrictions=restrictions),
        graceful_shutdown_timeout=timedelta(seconds=30),
        # A process cached by a worker that then dies keeps getting its next task on that
        # worker's sticky queue until this timeout (SDK default 10 s) moves it to the shared
        # queue. Measured in tests/orchestrator/test_crash.py: 3 s takes recovery after a
        # SIGKILL from ~12 s to ~5 s; under load a sticky miss only costs a history replay.
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=3),
    )


async def serve(
    client: Client,
    plan: WorkerPlan,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Run the worker until ``stop`` is set or SIGTERM/SIGINT arrives."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        # Not possible off the main thread (tests run workers there): then `stop` decides.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    worker = build_worker(client, plan)
    async with worker:
        if on_ready is not None:
            on_ready()
        await stop.wait()
