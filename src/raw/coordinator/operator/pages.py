"""The operator page's routes: sign-in, the overview, processes and their timelines,
deliveries, dead letters (with Retry), failed runs.

    GET  /operator                        the overview
    GET  /operator/system                 the system map with live figures, each part a link
    GET  /operator/processes?state=       processes (one visibility query), newest first
    GET  /operator/processes/{id}         one process's timeline
    GET  /operator/deliveries?route=      recent webhook deliveries, bodies redacted
    GET  /operator/dead-letters           dead letters, each with a Retry button
    POST /operator/dead-letters/{id}/retry
    GET  /operator/runs                   failed RAW runs with the end of their logs
    GET  /operator/runs/{run_id}          one run: params, output, error, steps, log
    GET  /operator/sign-in, POST /operator/sign-in, POST /operator/sign-out

Every view but sign-in needs a session (:mod:`raw.coordinator.operator.auth`) or
the bearer token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from raw import clock
from raw.coordinator.api import redact
from raw.coordinator.db.run_index import get_run
from raw.coordinator.dead_letters import InboxRecordNotDeadError, retry_dead_letter
from raw.coordinator.dependencies import CoordinatorDep, DatabaseDep, OperatorDep, RendererDep
from raw.coordinator.errors import ResourceNotFoundError, database_available
from raw.coordinator.operator import auth
from raw.coordinator.operator.outbox import read_outbox
from raw.coordinator.operator.overview import build_overview
from raw.coordinator.operator.records import (
    dead_letters,
    failed_runs,
    recent_deliveries,
    refused_counts,
)
from raw.coordinator.operator.render import SECURITY_HEADERS, PageRoute, Renderer, SignInRequired
from raw.coordinator.operator.system_view import build_system_view, links, system_svg
from raw.coordinator.operator.temporal import (
    PROCESS_STATES,
    ProcessState,
    list_system_processes,
)
from raw.coordinator.operator.timeline import build_timeline
from raw.coordinator.storable import refuse_unstorable_params
from raw.coordinator.throttle import client_address

if TYPE_CHECKING:
    from raw.coordinator.runtime import Coordinator

__all__ = ["Page", "SignedPage", "current_session", "pages_router"]

log = logging.getLogger("raw.coordinator.operator")

LIST_LIMIT = 100


async def current_session(request: Request, coordinator: CoordinatorDep) -> auth.Session:
    """FastAPI dependency: the signed-in session, or the bearer token; else SignInRequired."""
    token = coordinator.settings.token()
    header = request.headers.get("authorization", "")
    found: auth.Session | None = None
    if header[:7].lower() == "bearer " and token is not None:
        presented = header[7:].strip()
        client = client_address(request)
        coordinator.throttle.check(client, presented)
        if auth.token_matches(presented, token):
            found = auth.Session(None, int(clock.now().timestamp()), "")
        else:
            coordinator.throttle.failed(client, presented)
            log.warning("Operator request refused from %s: not the API token.", client)
    if found is None:
        found = auth.read_session(request.cookies.get(auth.COOKIE), token)
    if found is None:
        raise SignInRequired
    refuse_unstorable_params(request)
    return found


Signed = Annotated[auth.Session, Depends(current_session)]


def check_form(request: Request, signed: auth.Session, csrf: str | None) -> None:
    """Refuse a changing form sent from another site or without the session's CSRF token."""
    if signed.bearer:
        return
    if not auth.same_origin(request):
        raise auth.FormRefusedError("it was sent from another site")
    if not auth.csrf_matches(signed, csrf):
        raise auth.FormRefusedError("its CSRF token does not belong to your session")


def _safe_next(value: str | None, base: str) -> str:
    """Where to go after signing in: a path of the operator page, never another site."""
    inside = value is not None and (
        value == base or value.startswith(base + "/") or value.startswith(base + "?")
    )
    if value is not None and inside and "\\" not in value and not value.startswith("//"):
        return value
    return base


def _process_of(idempotency_key: str | None) -> str | None:
    """The process a run was made by: ``<process id>:<run id>:<activity id>``."""
    if not idempotency_key or idempotency_key.count(":") < 2:
        return None
    return idempotency_key.rsplit(":", 2)[0]


pages_router = APIRouter(route_class=PageRoute, include_in_schema=False)
"""The operator page's views; :func:`raw.coordinator.operator.mount_operator` adds its prefix."""


@dataclass(frozen=True)
class Page:
    """What a view renders with: the request, the templates and the signed-in session."""

    request: Request
    renderer: Renderer
    signed: auth.Session

    @property
    def base(self) -> str:
        return self.renderer.base_path

    def render(self, name: str, view: str, **context: Any) -> Response:
        values = {"csrf": self.signed.csrf, "signed_in": not self.signed.bearer, **context}
        return self.renderer.page(self.request, name, values, view=view)


async def signed_page(request: Request, renderer: RendererDep, signed: Signed) -> Page:
    """FastAPI dependency: a view's :class:`Page` (signing in first, see current_session)."""
    return Page(request, renderer, signed)


SignedPage = Annotated[Page, Depends(signed_page)]


# -- signing in


def _sign_in_page(
    request: Request,
    renderer: Renderer,
    coordinator: Coordinator,
    next_path: str,
    problem: str | None,
    status_code: int = 200,
) -> Response:
    context = {
        "next_path": next_path,
        "problem": problem,
        "setting": coordinator.settings.api_token_setting,
        "closed": coordinator.settings.token() is None,
    }
    return renderer.page(request, "sign_in.html", context, status_code=status_code, view="sign-in")


@pages_router.get("/sign-in")
async def sign_in_form(
    request: Request,
    renderer: RendererDep,
    coordinator: CoordinatorDep,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    target = _safe_next(next, renderer.base_path)
    return _sign_in_page(request, renderer, coordinator, target, None)


@pages_router.post("/sign-in")
async def sign_in(
    request: Request,
    renderer: RendererDep,
    coordinator: CoordinatorDep,
    token: Annotated[str, Form(max_length=4096)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    base = renderer.base_path
    target = _safe_next(next, base)
    expected = coordinator.settings.token()
    if not auth.same_origin(request):
        problem = "Sign-in from another site is refused."
        return _sign_in_page(request, renderer, coordinator, target, problem, 403)
    if expected is None:
        return _sign_in_page(request, renderer, coordinator, target, None, 503)
    refused = _refuse_sign_in(request, coordinator, token.strip(), expected)
    if refused is not None:
        problem, status, wait = refused
        response = _sign_in_page(request, renderer, coordinator, target, problem, status)
        if wait:
            response.headers["Retry-After"] = str(wait)
        return response
    return _signed_in(request, coordinator, expected, target, base)


def _signed_in(
    request: Request, coordinator: Coordinator, token: str, target: str, base: str
) -> Response:
    """On to ``target`` with a new session's cookie, ``Secure`` when served over HTTPS."""
    value, _ = auth.issue_session(token)
    response = RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)
    secure = request.url.scheme == "https" or (
        coordinator.settings.public_base_url or ""
    ).startswith("https://")
    response.set_cookie(
        auth.COOKIE,
        value,
        max_age=auth.SESSION_SECONDS,
        path=base,
        httponly=True,
        samesite="strict",
        secure=secure,
    )
    return response


def _refuse_sign_in(
    request: Request, coordinator: Coordinator, token: str, expected: str
) -> tuple[str, int, int | None] | None:
    """Why a sign-in with ``token`` is refused (the problem, the status, the wait), or None."""
    throttle = coordinator.throttle
    client = client_address(request)
    wait = throttle.retry_after(client, token)
    if wait:
        log.warning("Operator sign-in refused from %s: too many failed attempts.", client)
        problem = (
            f"Too many failed sign-ins from your address or with that token. Try again in {wait} s."
        )
        return problem, 429, wait
    if not auth.token_matches(token, expected):
        throttle.failed(client, token)
        log.warning("Operator sign-in refused from %s: not the API token.", client)
        return "That is not the API token. Check it and try again.", 401, None
    throttle.succeeded(client)
    return None


@pages_router.post("/sign-out")
async def sign_out(page: SignedPage, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    check_form(page.request, page.signed, csrf)
    response = RedirectResponse(f"{page.base}/sign-in", status_code=303, headers=SECURITY_HEADERS)
    response.delete_cookie(auth.COOKIE, path=page.base, httponly=True, samesite="strict")
    return response


# -- views


@pages_router.get("")
@pages_router.get("/")
async def overview(page: SignedPage, operator: OperatorDep) -> Response:
    data = await build_overview(operator)
    return page.render("overview.html", "overview", overview=data)


@pages_router.get("/system")
async def system(page: SignedPage, operator: OperatorDep) -> Response:
    # Lazy: Jinja2's Markup, an optional extra the pages already need.
    from markupsafe import Markup

    view = await build_system_view(operator)
    drawing = Markup(system_svg(view, page.base))  # every value in it is escaped by to_svg
    return page.render(
        "system.html", "system", live=view, drawing=drawing, links=links(view, page.base)
    )


@pages_router.get("/processes")
async def processes(
    page: SignedPage, operator: OperatorDep, state: Annotated[str | None, Query()] = None
) -> Response:
    chosen: ProcessState | None = None
    for known in PROCESS_STATES:
        if state == known:
            chosen = known
    listed = None
    if operator.has_processes:
        listed = await list_system_processes(operator, state=chosen, limit=LIST_LIMIT)
    return page.render(
        "processes.html", "processes", listed=listed, state=chosen, states=PROCESS_STATES
    )


@pages_router.get("/processes/{process_id:path}")
async def process(page: SignedPage, operator: OperatorDep, process_id: str) -> Response:
    async with database_available(operator.coordinator.db):
        timeline = await build_timeline(operator, process_id)
    return page.render("process.html", "processes", timeline=timeline)


@pages_router.get("/deliveries")
async def deliveries(
    page: SignedPage,
    coordinator: CoordinatorDep,
    route: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    routes = [hook.name for hook in coordinator.config.webhooks]
    chosen = route if route in routes else None
    async with database_available(coordinator.db):
        found = await recent_deliveries(coordinator.db, route=chosen, limit=LIST_LIMIT)
    return page.render(
        "deliveries.html",
        "deliveries",
        deliveries=found,
        routes=routes,
        route=chosen,
        refused=refused_counts(coordinator.metrics),
    )


@pages_router.get("/dead-letters")
async def dead(
    page: SignedPage,
    db: DatabaseDep,
    retried: Annotated[int | None, Query()] = None,
    stale: Annotated[int | None, Query()] = None,
) -> Response:
    async with database_available(db):
        found = await dead_letters(db, limit=LIST_LIMIT)
    flash = None
    if retried is not None:
        flash = f"Dead letter {retried} went back to the dispatcher."
    elif stale is not None:
        flash = f"Dead letter {stale} was not dead any more: it was retried already."
    return page.render("dead_letters.html", "dead-letters", records=found, flash=flash)


@pages_router.post("/dead-letters/{record_id}/retry")
async def retry(
    page: SignedPage,
    db: DatabaseDep,
    record_id: int,
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_form(page.request, page.signed, csrf)
    try:
        async with database_available(db):
            await retry_dead_letter(db, record_id)
    except InboxRecordNotDeadError:
        return RedirectResponse(f"{page.base}/dead-letters?stale={record_id}", status_code=303)
    log.info("Operator retried dead letter %s.", record_id)
    return RedirectResponse(f"{page.base}/dead-letters?retried={record_id}", status_code=303)


@pages_router.get("/runs")
async def runs(page: SignedPage, db: DatabaseDep) -> Response:
    async with database_available(db):
        found = await failed_runs(db, limit=LIST_LIMIT)
    return page.render("runs.html", "runs", runs=found, process_of=_process_of)


@pages_router.get("/runs/{run_id}")
async def run(page: SignedPage, db: DatabaseDep, run_id: str) -> Response:
    async with database_available(db):
        found = await get_run(db, run_id[:64])
    if found is None:
        raise ResourceNotFoundError("run", run_id, "The failed runs are listed on this page.")
    manifest = found.manifest or {}
    return page.render(
        "run.html",
        "runs",
        run=found,
        params=redact(manifest.get("params")),
        output=redact(manifest.get("output")),
        steps=manifest.get("steps") or [],
        process_id=_process_of(found.idempotency_key),
    )


@pages_router.get("/outbox")
async def outbox(page: SignedPage, coordinator: CoordinatorDep) -> Response:
    found = read_outbox(coordinator.project, limit=LIST_LIMIT)
    return page.render("outbox.html", "outbox", outbox=found)


@pages_router.get("/{rest:path}")
async def not_found(page: SignedPage, rest: str) -> Response:
    raise ResourceNotFoundError("page", f"{page.base}/{rest}", f"The overview is at {page.base}.")
