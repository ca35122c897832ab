"""A whole system in one process, on simulated time: the real coordinator app (HTTP
through httpx's ASGI transport), the real database, the worker and the local
integrations, against Temporal's time-skipping server.

``raw.clock`` follows the server's clock (an :class:`~raw.clock.OffsetClock` reset
after every jump), so webhook timestamps and signatures, the database's times,
booking times and ``--date today`` all agree with simulated time. Time moves only
when told to (:meth:`SimulatedSystem.advance`), after the system has settled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from raw import clock
from raw.coordinator.sender import encode_body, signed_delivery
from raw.coordinator.verify import secrets_for
from raw.errors import RawError
from raw.project import Project
from raw.up.local_env import new_secret, secret_settings
from raw.workflow.runner import run_workflow_async

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI
    from temporalio.client import WorkflowHandle
    from temporalio.testing import WorkflowEnvironment

    from raw.config.coordinator import WebhookConfig
    from raw.coordinator.db.database import Database
    from raw.integrations.services import LocalServices

log = logging.getLogger("raw.simulate")

__all__ = ["BASE_URL", "Answer", "ProcessSnapshot", "SimulatedSystem", "SimulationError"]

BASE_URL = "http://simulated.raw"
"""The coordinator's public URL inside a simulation (callbacks and signatures use it)."""

T = TypeVar("T")

_TERMINAL_INBOX = ("done", "dead")
_STATUS = {
    1: "running",
    2: "completed",
    3: "failed",
    4: "canceled",
    5: "terminated",
    6: "continued_as_new",
    7: "timed_out",
}


class SimulationError(RawError):
    """The simulated system could not be started or driven."""


RPC_TIMEOUT_SECONDS = 15.0
"""The longest a simulation waits, in real seconds, for one call into the system to answer."""

QUERY_TIMEOUT_SECONDS = 5.0
"""A state query unanswered this long is given up; the expectation polling it asks again."""


async def _bounded(call: Awaitable[T], what: str, seconds: float = RPC_TIMEOUT_SECONDS) -> T:
    """``call``'s answer, or a :class:`SimulationError` naming ``what`` once ``seconds`` pass.

    Simulated time moves only when told to, so nothing the harness waits for takes long
    in real time; one that does is a system stuck, said so rather than waited on forever.
    """
    try:
        return await asyncio.wait_for(call, seconds)
    except TimeoutError:
        log.warning(
            "%s did not answer within %g s; the tasks now waiting:\n%s",
            what,
            seconds,
            _waiting_tasks(),
        )
        raise SimulationError(f"{what} did not answer within {seconds:g} s.") from None


def _waiting_tasks(frames: int = 6) -> str:
    """Each pending task of the running loop and where it waits (for a stuck system's log)."""
    lines = []
    for task in asyncio.all_tasks():
        stack = task.get_stack(limit=frames)
        where = " <- ".join(
            f"{f.f_code.co_name} ({Path(f.f_code.co_filename).name}:{f.f_lineno})"
            for f in reversed(stack)
        )
        lines.append(f"  {task.get_name()}: {where or 'not started'}")
    return "\n".join(sorted(lines))


@dataclass
class Answer:
    """What the coordinator answered a delivery."""

    status_code: int
    body: Any
    delivery_id: str

    def saved(self, entity_key: str | None) -> dict[str, Any]:
        """What ``save_as`` keeps (the fields named in ``scenario.DELIVER_SAVED_FIELDS``)."""
        body = self.body if isinstance(self.body, dict) else {}
        return {
            "status": self.status_code,
            "response": self.body,
            "delivery_id": self.delivery_id,
            "correlation_id": body.get("correlation_id"),
            "target": body.get("target"),
            "delivery": body.get("delivery"),
            "entity_key": entity_key,
        }


@dataclass
class ProcessSnapshot:
    process_id: str
    status: str | None  # None: no such process
    step: str | None = None
    waiting_for: str | None = None
    result: Any = None
    state_error: str | None = None


@dataclass
class _Environment:
    """Environment variables set for the run, put back as they were at the end."""

    values: dict[str, str]
    saved: dict[str, str | None] = field(default_factory=dict)

    def __enter__(self) -> None:
        for name, value in self.values.items():
            self.saved[name] = os.environ.get(name)
            os.environ[name] = value

    def __exit__(self, *exc: object) -> None:
        for name, value in self.saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class SimulatedSystem:
    """Start with ``async with SimulatedSystem(project, workdir=...) as system:``."""

    def __init__(
        self,
        project: Project,
        *,
        workdir: Path,
        settings: Mapping[str, str] | None = None,
        database_url: str | None = None,
    ) -> None:
        self.project = project
        self.workdir = workdir
        self.settings = dict(settings or {})
        self.database_url = database_url
        self.processes: list[str] = []
        """Process ids the simulation has reached (they are settled before time moves)."""
        self.env: WorkflowEnvironment | None = None
        self.http: httpx.AsyncClient | None = None
        self.app: FastAPI | None = None
        self.services: LocalServices | None = None
        self.clock = clock.OffsetClock()
        self._stack = contextlib.AsyncExitStack()

    # -- start and stop

    def _environment(self) -> dict[str, str]:
        values = {
            "DATABASE_URL": self.database_url
            or f"sqlite+aiosqlite:///{self.workdir / 'system.db'}",
            "RAW_RUNS_DIR": str(self.workdir / "runs"),
            "RAW_LOCAL_STATE_DIR": str(self.workdir / "local"),
            "RAW_PUBLIC_BASE_URL": BASE_URL,
            "RAW_DISPATCHER": "on",
            "RAW_ENV": "development",
            "RAW_LLM_MODE": os.environ.get("RAW_LLM_MODE") or "auto",
        }
        for name, scheme in secret_settings(self.project).items():
            if not os.environ.get(name):  # fresh development secrets for this run only
                values[name] = new_secret(scheme)
        values.update(self.settings)
        return values

    async def __aenter__(self) -> SimulatedSystem:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def _start(self) -> None:
        # Lazy: needs the coordinator and orchestrator extras, which may be missing.
        import httpx

        from raw.coordinator.app import load_app
        from raw.integrations.services import LocalServices
        from raw.orchestrator.connect import orchestrator_config
        from raw.orchestrator.worker import build_worker, plan_worker
        from raw.testing.temporal import start_time_skipping_env

        self.workdir.mkdir(parents=True, exist_ok=True)
        # The time-skipping server is older than the SDK expects and says so on every start.
        core = logging.getLogger("temporalio.core")
        self._stack.callback(core.setLevel, core.level)
        core.setLevel(logging.ERROR)
        self._stack.enter_context(_Environment(self._environment()))
        env = await start_time_skipping_env()
        self._stack.push_async_callback(env.shutdown)
        # Time moves only in advance(). The SDK would otherwise unlock time skipping
        # while any handle's result() is awaited (a scheduled run's, a finished
        # process's), and the server would skip to whatever timer is due next: an
        # activity's timeout, a week-long wait, years ahead.
        self._stack.enter_context(env.auto_time_skipping_disabled())
        self.env = env
        self._stack.enter_context(
            _Environment({"TEMPORAL_ADDRESS": env.client.service_client.config.target_host})
        )
        await self._server_time()
        previous = clock.set_clock(self.clock)
        self._stack.callback(clock.set_clock, previous)

        config = self.project.config.system
        # Callbacks come from the scenario, on simulated time, not after real seconds.
        if config.integrations.telephony is not None:
            config.integrations.telephony.simulator.callback_delay_seconds = None
        config.coordinator.dispatcher.poll_interval_seconds = 0.02
        config.coordinator.dispatcher.base_delay_seconds = 0.05
        config.coordinator.dispatcher.max_delay_seconds = 0.5

        # Started in this order, stopped in reverse: the coordinator stops dispatching
        # first, then the worker (its activities still reach the local integrations),
        # then the integrations.
        app = load_app(self.project)
        self.app = app
        transport = httpx.ASGITransport(app=app)
        if config.integrations.configured():  # the SMTP catcher and phone simulator
            self.services = await self._stack.enter_async_context(
                LocalServices.start(
                    self.project.root, config.integrations, callback_transport=transport
                )
            )
        plan = plan_worker(self.project, orchestrator_config(self.project))
        await self._stack.enter_async_context(build_worker(env.client, plan))
        await self._stack.enter_async_context(app.router.lifespan_context(app))
        self.http = await self._stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url=BASE_URL, timeout=30)
        )

    @property
    def db(self) -> Database:
        assert self.app is not None
        database: Database = self.app.state.raw_coordinator.db
        return database

    def now(self) -> datetime:
        return clock.now()

    # -- acting

    def route(self, name_or_path: str) -> WebhookConfig:
        hooks = self.project.config.system.coordinator.webhooks
        for hook in hooks:
            if name_or_path in (hook.name, hook.path):
                return hook
        known = ", ".join(f"{h.name} ({h.path})" for h in hooks) or "none"
        raise SimulationError(f"No webhook route '{name_or_path}'. Known routes: {known}.")

    async def deliver(
        self,
        route_ref: str,
        body: Mapping[str, Any],
        *,
        query: Mapping[str, str] | None = None,
        delivery_id: str | None = None,
        repeat: int = 1,
    ) -> list[Answer]:
        """Post ``body`` to the route, signed for real; the same delivery ``repeat`` times."""

        assert self.http is not None
        route = self.route(route_ref)
        content, form = encode_body(dict(body), as_form=route.content_type == "form")
        delivery = signed_delivery(
            route,
            content,
            form,
            base_url=BASE_URL,
            secret=secrets_for(route.secrets[:1])[0],
            now=clock.now(),
            public_base_url=BASE_URL,
            query=list((query or {}).items()),
            delivery_id=delivery_id,
            user_agent="raw simulate",
        )
        answers: list[Answer] = []
        for _ in range(repeat):
            response = await _bounded(
                self.http.post(delivery.url, content=delivery.body, headers=delivery.headers),
                f"The coordinator's route {route.path}",
            )
            try:
                answer_body: Any = response.json()
            except ValueError:
                answer_body = response.text
            answers.append(Answer(response.status_code, answer_body, delivery.delivery_id))
        target = answers[-1].body.get("target") if isinstance(answers[-1].body, dict) else None
        if route.action.process is not None and target and target not in self.processes:
            self.processes.append(target)
        return answers

    async def entity_key(self, correlation_id: str | None) -> str | None:
        """The entity the delivery's handler named (the delivery's ``entity_key``)."""
        if not correlation_id:
            return None
        # Lazy: needs the coordinator extra, which may be missing.
        from sqlalchemy import select

        from raw.coordinator.db.models import Delivery

        async with self.db.read() as session:
            key: str | None = await session.scalar(
                select(Delivery.entity_key).where(Delivery.correlation_id == correlation_id)
            )
        return key

    async def run_workflow(self, workflow: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Run a RAW workflow in-process, as the dispatcher does (recorded, indexed)."""

        result = await run_workflow_async(workflow, dict(params), project_dir=self.project.root)
        return result.to_json_dict()

    async def fire_schedule(self, schedule_id: str) -> dict[str, Any]:
        """Start the schedule's workflow once, as the Schedule would, and wait for it."""
        # Lazy: needs the orchestrator extra, which may be missing.
        from raw.orchestrator.connect import orchestrator_config
        from raw.orchestrator.scheduled import SCHEDULED_RUN, ScheduledRunInput

        assert self.env is not None
        config = orchestrator_config(self.project)
        found = [s for s in config.schedules if s.id == schedule_id]
        if not found:
            known = ", ".join(s.id for s in config.schedules) or "none"
            raise SimulationError(f"No schedule '{schedule_id}'. Known schedules: {known}.")
        schedule = found[0]
        run = ScheduledRunInput(
            schedule_id=schedule.id,
            workflow=schedule.workflow,
            args=schedule.args,
            params=schedule.params,
        )
        handle: WorkflowHandle[Any, Any] = await self.env.client.start_workflow(
            SCHEDULED_RUN,
            run,
            id=f"{schedule.id}-{clock.now().strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}",
            task_queue=config.task_queue,
            result_type=dict,
        )
        result: dict[str, Any] = await _bounded(  # the kit's own workflow: not recorded
            handle.result(), f"The scheduled run {handle.id}", seconds=60
        )
        return result

    async def signal(
        self,
        process_id: str,
        name: str,
        payload: Any = None,
        *,
        idempotency_key: str | None = None,
    ) -> str:
        """Send signal ``name`` to a process, as ``raw process signal`` does; returns its key."""
        # Lazy: needs the orchestrator extra, which may be missing.
        from raw.orchestrator.client import signal

        assert self.env is not None
        key = await _bounded(
            signal(self.env.client, process_id, name, payload, idempotency_key=idempotency_key),
            f"Signal '{name}' to process {process_id}",
        )
        if process_id not in self.processes:
            self.processes.append(process_id)
        return key

    async def record_histories(self, label: str) -> list[Path]:
        """Save the history of every process the run reached, for the replay gate."""
        # Lazy: needs the orchestrator extra, which may be missing.
        from raw.orchestrator.replay import save_history

        assert self.env is not None
        saved = []
        for pid in self.processes:
            handle = self.env.client.get_workflow_handle(pid)
            saved.append(await save_history(self.project, handle, name=f"{label}--{pid}"))
        return saved

    # -- time

    async def settle(self, *, timeout_seconds: float = 30.0) -> None:
        """Wait until the inbox is drained and no process has work in flight."""
        deadline = asyncio.get_running_loop().time() + timeout_seconds
        while True:
            busy = await self._busy()
            if not busy:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise SimulationError(
                    f"The system did not settle within {timeout_seconds:g} s: {busy}."
                )
            await asyncio.sleep(0.02)

    async def _busy(self) -> str | None:
        # Lazy: needs the coordinator extra, which may be missing.
        from sqlalchemy import func, select

        from raw.coordinator.db.models import InboxRecord

        async with self.db.read() as session:
            waiting = await session.scalar(
                select(func.count()).where(InboxRecord.status.not_in(_TERMINAL_INBOX))
            )
        if waiting:
            return f"{waiting} inbox record(s) not yet done"
        for pid in self.processes:
            description = await self._describe(pid)
            if description is None:
                continue
            info = description.workflow_execution_info
            if info.status != 1:
                continue
            if description.pending_activities or description.HasField("pending_workflow_task"):
                return f"process {pid} has work in flight"
        return None

    async def _describe(self, pid: str) -> Any:
        # Lazy: needs the orchestrator extra, which may be missing.
        from temporalio.api.common.v1 import WorkflowExecution
        from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
        from temporalio.service import RPCError, RPCStatusCode

        assert self.env is not None
        client = self.env.client
        try:
            return await client.workflow_service.describe_workflow_execution(
                DescribeWorkflowExecutionRequest(
                    namespace=client.namespace, execution=WorkflowExecution(workflow_id=pid)
                ),
                timeout=timedelta(seconds=RPC_TIMEOUT_SECONDS),
            )
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None
            raise

    async def advance(self, by: timedelta | datetime) -> tuple[datetime, datetime]:
        """Settle, then move simulated time on by exactly ``by`` (or to the time ``by``).

        Returns the server's time just before the jump and just after it (they differ by
        the distance asked and the few real milliseconds of the call itself).
        """
        assert self.env is not None
        await self.settle()
        before = await self._server_time()
        delta = by if isinstance(by, timedelta) else max(by - before, timedelta(0))
        try:
            await _bounded(self.env.sleep(delta), "Temporal's time-skipping server", seconds=60)
        except SimulationError as exc:
            busy = await self._busy()
            raise SimulationError(
                f"Time could not be moved on by {delta}: {exc}"
                + (f" The system is busy: {busy}." if busy else "")
            ) from None
        return before, await self._server_time()

    async def _server_time(self) -> datetime:
        """The time-skipping server's clock, which ``raw.clock`` is set to follow."""
        assert self.env is not None
        now = await _bounded(self.env.get_current_time(), "Temporal's time-skipping server")
        self.clock.set(now)
        return now

    # -- looking

    async def process(self, pid: str) -> ProcessSnapshot:
        # Lazy: needs the orchestrator extra, which may be missing.
        from temporalio.client import WorkflowFailureError
        from temporalio.service import RPCError

        from raw.orchestrator.client import ProcessQueryError, query
        from raw.orchestrator.search_attributes import RAW_STATE_QUERY

        assert self.env is not None
        description = await self._describe(pid)
        if description is None:
            return ProcessSnapshot(pid, None)
        status = _STATUS.get(description.workflow_execution_info.status, "unknown")
        snapshot = ProcessSnapshot(pid, status)
        handle = self.env.client.get_workflow_handle(pid, result_type=dict)
        if status == "running" and description.HasField("pending_workflow_task"):
            # Its state is changing: the caller looks again once the task is answered.
            snapshot.state_error = "a workflow task is in flight"
            return snapshot
        try:
            state = await query(
                self.env.client, pid, RAW_STATE_QUERY, timeout_seconds=QUERY_TIMEOUT_SECONDS
            )
            snapshot.step = state.get("step")
            snapshot.waiting_for = state.get("waiting_for")
        except (ProcessQueryError, RPCError) as exc:  # not a RawProcess: no raw_state
            snapshot.state_error = str(exc)
        if status == "completed":
            with contextlib.suppress(WorkflowFailureError):
                result = await _bounded(handle.result(), f"The result of process {pid}")
                snapshot.result = json.loads(json.dumps(result, default=str))
        return snapshot
