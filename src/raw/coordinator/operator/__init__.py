"""The operator page: one server-rendered web page to see and steer a running system.

:func:`raw.coordinator.app.mount_coordinator` mounts it at ``/operator`` (see
:mod:`raw.coordinator.operator.pages` for the views), with its JSON twins under
``/api`` (:mod:`raw.coordinator.operator.api`). Jinja2 templates and static files
ship in this package; there is no front-end build. Signing in is described in
:mod:`raw.coordinator.operator.auth`. Needs ``jinja2`` (``pip install
'raw-systems[operator]'``); without it ``/operator`` says what to install.
"""

from __future__ import annotations

import logging
from importlib import resources
from typing import TYPE_CHECKING

from raw.coordinator.operator.context import Operator

if TYPE_CHECKING:
    from fastapi import FastAPI

    from raw.coordinator.runtime import Coordinator

__all__ = ["OPERATOR_PATH", "Operator", "mount_operator"]

OPERATOR_PATH = "/operator"

log = logging.getLogger("raw.coordinator.operator")


def mount_operator(
    app: FastAPI, coordinator: Coordinator, *, path: str = OPERATOR_PATH
) -> Operator:
    """Put the operator page at ``path`` and its JSON reads under ``/api`` on ``app``."""
    # Lazy: the operator package loads without Starlette or Jinja2; mounting needs them.
    from starlette.staticfiles import StaticFiles

    from raw.coordinator.operator.api import operator_api_router

    operator = Operator(coordinator)
    app.include_router(operator_api_router)
    app.state.raw_operator = operator
    try:
        # Lazy: the operator package loads without Starlette or Jinja2; mounting needs them.
        import jinja2  # noqa: F401 - only to know whether the page can be rendered
    except ImportError:
        _mount_missing(app, path)
        return operator
    # Lazy: the pages need Jinja2, an optional extra (checked just above).
    from raw.coordinator.operator.pages import pages_router
    from raw.coordinator.operator.render import Renderer

    renderer = Renderer(operator, base_path=path)
    app.state.raw_operator_renderer = renderer
    static = resources.files("raw.coordinator.operator") / "static"
    app.mount(f"{path}/static", StaticFiles(directory=str(static)), name="raw-operator-static")
    app.include_router(pages_router, prefix=path)
    return operator


def _mount_missing(app: FastAPI, path: str) -> None:
    # Lazy: the operator package loads without Starlette or Jinja2; mounting needs them.
    from starlette.responses import PlainTextResponse

    message = (
        "The operator page needs Jinja2, which is not installed: "
        "pip install 'raw-systems[operator]' and restart the coordinator."
    )

    async def missing() -> PlainTextResponse:
        return PlainTextResponse(message, status_code=503)

    app.add_api_route(path, missing, include_in_schema=False)
    log.info("%s", message)
