"""FastAPI dependencies of the coordinator's routers: what a route needs, read from ``app.state``.

:func:`raw.coordinator.app.mount_coordinator` puts the :class:`Coordinator` on
``app.state.raw_coordinator`` (and the operator page its :class:`Operator` and
:class:`Renderer`); the routers are module-level and ask for what they use by
declaring a parameter::

    @router.get("/api/runs")
    async def runs(db: DatabaseDep) -> RunList: ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

if TYPE_CHECKING:
    from raw.coordinator.db.database import Database
    from raw.coordinator.operator.context import Operator
    from raw.coordinator.operator.render import Renderer
    from raw.coordinator.runtime import Coordinator

__all__ = [
    "CoordinatorDep",
    "DatabaseDep",
    "OperatorDep",
    "RendererDep",
    "get_coordinator",
    "get_database",
    "get_operator",
    "get_renderer",
]


async def get_coordinator(request: Request) -> Coordinator:
    """The coordinator mounted on the app that serves ``request``."""
    coordinator: Coordinator = request.app.state.raw_coordinator
    return coordinator


# The types are strings: this module must not import raw.coordinator.app (app -> routers).
# Dependencies are async so that FastAPI calls them inline, not in its thread pool.
CoordinatorDep = Annotated["Coordinator", Depends(get_coordinator)]


async def get_database(request: Request) -> Database:
    """The coordinator's database."""
    coordinator = await get_coordinator(request)
    return coordinator.db


DatabaseDep = Annotated["Database", Depends(get_database)]


async def get_operator(request: Request) -> Operator:
    """The operator page's view of the coordinator, put there by ``mount_operator``."""
    operator: Operator = request.app.state.raw_operator
    return operator


OperatorDep = Annotated["Operator", Depends(get_operator)]


async def get_renderer(request: Request) -> Renderer:
    """The operator page's templates (mounted only when Jinja2 is installed)."""
    renderer: Renderer = request.app.state.raw_operator_renderer
    return renderer


RendererDep = Annotated["Renderer", Depends(get_renderer)]
