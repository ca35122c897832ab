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

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from raw import tracing
from raw.config.coordinator import CoordinatorConfig
from raw.coordinator.api import api_router, health_router
from raw.coordinator.db.database import Database, database_url
from raw.coordinator.errors import install_error_handlers
from raw.coordinator.operator import mount_operator
from raw.coordinator.runtime import Coordinator
from raw.coordinator.sender import load_schemes
from raw.coordinator.settings import CoordinatorSettings, check_webhook_secrets, load_settings
from raw.coordinator.webhooks import build_route, import_object, mount_webhooks
from raw.errors import ConfigError
from raw.project import Project
from raw.version import __version__

__all__ = ["Coordinator", "create_app", "load_app", "mount_coordinator"]

log = logging.getLogger("raw.coordinator")


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
    if getattr(app.state, "raw_coordinator", None) is not None:
        raise ConfigError("This app already has the coordinator mounted on it; mount it once.")
    config = project.config.system.coordinator
    settings = load_settings(config)
    if not settings.development:
        check_webhook_secrets(config.webhooks, environment=settings.env)
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
    app.include_router(health_router)
    app.include_router(api_router)
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
    reference = project.config.system.coordinator.app
    if reference is None:
        app = create_app(project)
        tracing.instrument_fastapi(app)  # tracing on: a server span per request
        return app
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
    tracing.instrument_fastapi(app)  # tracing on: a server span per request
    return app
