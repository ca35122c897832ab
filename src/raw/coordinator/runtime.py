"""What :func:`raw.coordinator.app.mount_coordinator` puts on an app: the :class:`Coordinator`.

Routes, the operator page and the dispatcher reach the app's database, settings,
metrics and Temporal client through it. It lives apart from :mod:`raw.coordinator.app`
(which builds the app from the routers) so the routers can name it without importing
the module that imports them.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from raw.config.coordinator import CoordinatorConfig
from raw.coordinator.actions import ActionRunner
from raw.coordinator.db.database import Database, upgrade
from raw.coordinator.db.system_migrations import upgrade_system
from raw.coordinator.dispatcher import Dispatcher
from raw.coordinator.metrics import CoordinatorMetrics
from raw.coordinator.settings import CoordinatorSettings
from raw.coordinator.throttle import AuthThrottle
from raw.coordinator.webhooks import WebhookRoute
from raw.project import Project

if TYPE_CHECKING:
    from temporalio.client import Client

    from raw.coordinator.dispatcher import Dispatcher

__all__ = ["Coordinator"]

PROCESS_ACTIONS = ("start_process", "signal", "signal_with_start")
TEMPORAL_TIMEOUT_SECONDS = 3.0
QUERY_TIMEOUT_SECONDS = 5.0


class Coordinator:
    """What :func:`mount_coordinator` put on an app: its routes, database, metrics, dispatcher."""

    def __init__(
        self,
        project: Project,
        *,
        settings: CoordinatorSettings,
        db: Database,
        owns_db: bool,
        routes: list[WebhookRoute],
        run_dispatcher: bool,
    ) -> None:
        self.project = project
        self.settings = settings
        self.db = db
        self.routes = routes
        self.metrics = CoordinatorMetrics()
        self.throttle = AuthThrottle()
        """Wrong API tokens, wherever they are tried (sign-in form, /api, /operator)."""
        self.run_dispatcher = run_dispatcher
        self.dispatcher: Dispatcher | None = None
        self.query_timeout_seconds = QUERY_TIMEOUT_SECONDS
        """How long ``/api/processes/{id}`` waits for the process's ``raw_state`` answer."""
        self._owns_db = owns_db
        self._temporal: Client | None = None
        self._temporal_lock: asyncio.Lock | None = None

    @property
    def config(self) -> CoordinatorConfig:
        return self.project.config.system.coordinator

    @property
    def uses_temporal(self) -> bool:
        """Whether the system has processes, so Temporal must be reachable to be ready."""
        orchestrator = self.project.config.system.orchestrator
        return bool(orchestrator.workflows) or any(
            route.config.action.kind in PROCESS_ACTIONS for route in self.routes
        )

    async def start(self) -> None:
        """Migrate the kit's tables and the system's, then start the dispatcher (if it is here)."""
        await upgrade(self.db)
        await upgrade_system(self.db, self.project)
        if self.run_dispatcher:
            self.dispatcher = Dispatcher(
                self.db,
                self.config.dispatcher,
                self.project,
                actions=ActionRunner(self.project, connect_client=self.temporal),
                on_dispatch=self.metrics.observe_dispatch,
            )
            await self.dispatcher.start()

    async def stop(self) -> None:
        if self.dispatcher is not None:
            await self.dispatcher.stop()
            self.dispatcher = None
        if self._owns_db:
            await self.db.dispose()

    async def temporal(self) -> Client:
        """The Temporal client, connected on first use (raises TemporalUnavailableError)."""
        if self._temporal is not None:
            return self._temporal
        if self._temporal_lock is None:
            self._temporal_lock = asyncio.Lock()
        async with self._temporal_lock:
            if self._temporal is None:
                # Lazy: needs the orchestrator extra, which may be missing.
                from raw.orchestrator.connect import TemporalUnavailableError, connect

                try:
                    self._temporal = await asyncio.wait_for(
                        connect(self.project), TEMPORAL_TIMEOUT_SECONDS
                    )
                except TimeoutError:
                    raise TemporalUnavailableError(
                        f"Temporal did not answer within {TEMPORAL_TIMEOUT_SECONDS:g} seconds. "
                        "Is the server running? 'raw engine status' tells for the embedded engine."
                    ) from None
        return self._temporal

    async def process_state(self, process_id: str) -> tuple[dict[str, Any] | None, str | None]:
        """A process's ``raw_state`` answer as JSON, or (None, why it could not be read)."""
        # Lazy: needs the orchestrator extra, which may be missing.
        from temporalio.service import RPCError

        from raw.orchestrator.client import ProcessNotFoundError, ProcessQueryError, query
        from raw.orchestrator.connect import TemporalUnavailableError

        try:
            client = await self.temporal()
            state = await query(client, process_id, timeout_seconds=self.query_timeout_seconds)
        except ProcessNotFoundError:
            return None, "no such process (not started yet, or removed by retention)"
        except ProcessQueryError as exc:
            return None, exc.reason
        except (RPCError, TemporalUnavailableError) as exc:
            return None, f"the query failed: {exc}"
        if isinstance(state, BaseModel):
            return state.model_dump(mode="json"), None
        return (state if isinstance(state, dict) else {"value": state}), None

    async def check_temporal(self) -> None:
        """Raise TemporalUnavailableError unless Temporal answers a health check."""
        # Lazy: needs the orchestrator extra, which may be missing.
        from temporalio.service import RPCError

        from raw.orchestrator.connect import TemporalUnavailableError

        client = await self.temporal()
        try:
            await client.service_client.check_health(
                timeout=timedelta(seconds=TEMPORAL_TIMEOUT_SECONDS)
            )
        except RPCError as exc:
            raise TemporalUnavailableError(f"Temporal's health check failed: {exc}") from None
