"""The coordinator on a FastAPI app: declared webhooks, the REST API, health and the dispatcher.

On a system's own app::

    from fastapi import FastAPI
    from raw.coordinator.app import mount_coordinator
    from raw.project import find_project

    app = FastAPI()
    mount_coordinator(app, find_project())     # name it in system.coordinator.app

or, for a system without an app of its own, ``create_app(project)`` (what
``raw serve`` runs). Mounting adds a POST route per ``system.coordinator.webhooks``
entry, ``/health``, ``/ready``, ``/metrics``, ``/api/...`` and the operator page
(``/operator``, :mod:`raw.coordinator.operator`), makes every API error answer the
one JSON shape, and hooks the app's lifespan: the kit's migrations
run at start, then the built-in dispatcher starts unless
``system.coordinator.dispatcher.enabled`` is false or ``RAW_DISPATCHER=off``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from raw.coordinator.db.database import Database, database_url, upgrade
from raw.coordinator.db.system_migrations import upgrade_system
from raw.coordinator.errors import install_error_handlers
from raw.coordinator.metrics import CoordinatorMetrics
from raw.coordinator.settings import CoordinatorSettings, check_webhook_secrets, load_settings
from raw.coordinator.throttle import AuthThrottle
from raw.coordinator.webhooks import WebhookRoute, build_route, import_object, mount_webhooks
from raw.errors import ConfigError
from raw.project import Project
from raw.system import CoordinatorConfig
from raw.version import __version__

if TYPE_CHECKING:
    from fastapi import FastAPI
    from temporalio.client import Client

    from raw.coordinator.dispatcher import Dispatcher

__all__ = ["Coordinator", "create_app", "load_app", "mount_coordinator"]

log = logging.getLogger("raw.coordinator")

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
            from raw.coordinator.actions import ActionRunner
            from raw.coordinator.dispatcher import Dispatcher

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
        from temporalio.service import RPCError

        from raw.orchestrator.connect import TemporalUnavailableError

        client = await self.temporal()
        try:
            await client.service_client.check_health(
                timeout=timedelta(seconds=TEMPORAL_TIMEOUT_SECONDS)
            )
        except RPCError as exc:
            raise TemporalUnavailableError(f"Temporal's health check failed: {exc}") from None


def _dispatcher_wanted(config: CoordinatorConfig, settings: CoordinatorSettings) -> bool:
    if settings.dispatcher is not None:
        return settings.dispatcher == "on"
    return config.dispatcher.enabled


def mount_coordinator(
    app: FastAPI,
    project: Project,
    *,
    db: Database | None = None,
    run_dispatcher: bool | None = None,
) -> Coordinator:
    """Put the project's coordinator on ``app``: webhooks, API, health, errors, lifespan.

    ``db`` is a database to use instead of the project's own (it is then not disposed
    at shutdown). ``run_dispatcher`` overrides the config and ``RAW_DISPATCHER``.
    Raises at once, naming the problem, for an insecure setting outside development,
    a missing webhook secret outside development, or a route that cannot be mounted.
    """
    from raw.coordinator.api import build_api_router, build_health_router

    if getattr(app.state, "raw_coordinator", None) is not None:
        raise ConfigError("This app already has the coordinator mounted on it; mount it once.")
    config = project.config.system.coordinator
    settings = load_settings(config)
    if not settings.development:
        check_webhook_secrets(config.webhooks, environment=settings.env)
    from raw.coordinator.sender import load_schemes

    load_schemes(config, project.root)
    routes = [
        build_route(hook, default_limit_bytes=config.max_body_bytes, root=project.root)
        for hook in config.webhooks
    ]
    owns_db = db is None
    database = db if db is not None else Database(database_url(project))
    coordinator = Coordinator(
        project,
        settings=settings,
        db=database,
        owns_db=owns_db,
        routes=routes,
        run_dispatcher=(
            _dispatcher_wanted(config, settings) if run_dispatcher is None else run_dispatcher
        ),
    )
    install_error_handlers(app)
    components = mount_webhooks(
        app,
        routes,
        db=lambda: coordinator.db,
        metrics=coordinator.metrics,
        public_base_url=settings.public_base_url,
    )
    app.include_router(build_health_router(coordinator))
    app.include_router(build_api_router(coordinator))
    from raw.coordinator.operator import mount_operator

    mount_operator(app, coordinator)
    _add_openapi_components(app, components)
    _hook_lifespan(app, coordinator)
    app.state.raw_coordinator = coordinator
    return coordinator


def _hook_lifespan(app: FastAPI, coordinator: Coordinator) -> None:
    original: Callable[[Any], Any] = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(target: Any) -> AsyncIterator[Any]:
        await coordinator.start()
        try:
            async with original(target) as state:
                yield state
        finally:
            await coordinator.stop()

    app.router.lifespan_context = lifespan


def _add_openapi_components(app: FastAPI, components: dict[str, Any]) -> None:
    """Add the webhook body models' schemas, which FastAPI does not see, to the document."""
    if not components:
        return
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in components.items():
                schemas.setdefault(name, schema)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    project: Project, *, db: Database | None = None, run_dispatcher: bool | None = None
) -> FastAPI:
    """A FastAPI app holding only the coordinator, for systems without an app of their own.

    ``db`` and ``run_dispatcher`` are :func:`mount_coordinator`'s.
    """
    from fastapi import FastAPI

    name = project.config.system.name or project.config.name or project.root.name
    app = FastAPI(
        title=f"{name} coordinator",
        version=__version__,
        description="Webhooks, the inbox and the status API of a RAW system.",
    )
    mount_coordinator(app, project, db=db, run_dispatcher=run_dispatcher)
    return app


def load_app(project: Project) -> FastAPI:
    """The app ``raw serve`` runs: the one ``system.coordinator.app`` names, else ``create_app``.

    A named app gets the coordinator mounted unless it mounted it itself.
    """
    from fastapi import FastAPI

    reference = project.config.system.coordinator.app
    if reference is None:
        return create_app(project)
    try:
        app = import_object(reference, root=project.root)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"system.coordinator.app '{reference}' cannot be imported: {exc}. "
            "Name the module and the FastAPI object in it, e.g. 'hiring.app:app'."
        ) from None
    if not isinstance(app, FastAPI) and callable(app):
        app = app()  # a factory, as `uvicorn --factory` takes
    if not isinstance(app, FastAPI):
        raise ConfigError(
            f"system.coordinator.app '{reference}' is a {type(app).__name__}, not a FastAPI app."
        )
    if getattr(app.state, "raw_coordinator", None) is None:
        mount_coordinator(app, project)
    return app
