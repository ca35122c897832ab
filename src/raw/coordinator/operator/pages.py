"""The operator page's routes: sign-in, the overview, processes and their timelines,
deliveries, dead letters (with Retry), failed runs.

    GET  /operator                        the overview
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
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from raw import clock
from raw.coordinator.errors import ResourceNotFoundError, database_available
from raw.coordinator.operator import auth
from raw.coordinator.operator.overview import build_overview
from raw.coordinator.operator.records import (
    dead_letters,
    failed_runs,
    recent_deliveries,
    refused_counts,
)
from raw.coordinator.operator.render import SECURITY_HEADERS, PageRoute, Renderer, SignInRequired
from raw.coordinator.operator.temporal import (
    PROCESS_STATES,
    ProcessState,
    list_system_processes,
)
from raw.coordinator.operator.timeline import build_timeline
from raw.coordinator.storable import refuse_unstorable_params
from raw.coordinator.throttle import client_address

if TYPE_CHECKING:
    from raw.coordinator.operator.context import Operator
    from raw.coordinator.runtime import Coordinator

__all__ = ["build_pages_router", "current_session"]

log = logging.getLogger("raw.coordinator.operator")

LIST_LIMIT = 100


async def current_session(request: Request) -> auth.Session:
    """FastAPI dependency: the signed-in session, or the bearer token; else SignInRequired."""
    coordinator: Coordinator = request.app.state.raw_coordinator
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


def build_pages_router(operator: Operator, renderer: Renderer) -> APIRouter:
    base = renderer.base_path
    coordinator = operator.coordinator
    router = APIRouter(prefix=base, route_class=PageRoute, include_in_schema=False)

    def page(
        request: Request,
        name: str,
        signed: auth.Session,
        view: str,
        status_code: int = 200,
        **context: Any,
    ) -> Response:
        return renderer.page(
            request,
            name,
            {"csrf": signed.csrf, "signed_in": not signed.bearer, **context},
            status_code=status_code,
            view=view,
        )

    # -- signing in

    def sign_in_page(
        request: Request, next_path: str, problem: str | None, status_code: int = 200
    ) -> Response:
        return renderer.page(
            request,
            "sign_in.html",
            {
                "next_path": next_path,
                "problem": problem,
                "setting": coordinator.settings.api_token_setting,
                "closed": coordinator.settings.token() is None,
            },
            status_code=status_code,
            view="sign-in",
        )

    @router.get("/sign-in")
    async def sign_in_form(
        request: Request, next: Annotated[str | None, Query(max_length=2000)] = None
    ) -> Response:
        return sign_in_page(request, _safe_next(next, base), None)

    throttle = coordinator.throttle

    @router.post("/sign-in")
    async def sign_in(
        request: Request,
        token: Annotated[str, Form(max_length=4096)] = "",
        next: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        target = _safe_next(next, base)
        expected = coordinator.settings.token()
        if not auth.same_origin(request):
            return sign_in_page(request, target, "Sign-in from another site is refused.", 403)
        if expected is None:
            return sign_in_page(request, target, None, 503)
        client = client_address(request)
        wait = throttle.retry_after(client, token.strip())
        if wait:
            log.warning("Operator sign-in refused from %s: too many failed attempts.", client)
            response = sign_in_page(
                request,
                target,
                f"Too many failed sign-ins from your address or with that token. "
                f"Try again in {wait} s.",
                429,
            )
            response.headers["Retry-After"] = str(wait)
            return response
        if not auth.token_matches(token.strip(), expected):
            throttle.failed(client, token.strip())
            log.warning("Operator sign-in refused from %s: not the API token.", client)
            return sign_in_page(
                request, target, "That is not the API token. Check it and try again.", 401
            )
        throttle.succeeded(client)
        value, _ = auth.issue_session(expected)
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

    @router.post("/sign-out")
    async def sign_out(
        request: Request, signed: Signed, csrf: Annotated[str, Form(max_length=200)] = ""
    ) -> Response:
        check_form(request, signed, csrf)
        response = RedirectResponse(f"{base}/sign-in", status_code=303, headers=SECURITY_HEADERS)
        response.delete_cookie(auth.COOKIE, path=base, httponly=True, samesite="strict")
        return response

    # -- views

    @router.get("")
    @router.get("/")
    async def overview(request: Request, signed: Signed) -> Response:
        data = await build_overview(operator)
        return page(request, "overview.html", signed, "overview", overview=data)

    @router.get("/processes")
    async def processes(
        request: Request, signed: Signed, state: Annotated[str | None, Query()] = None
    ) -> Response:
        chosen: ProcessState | None = None
        for known in PROCESS_STATES:
            if state == known:
                chosen = known
        listed = None
        if operator.has_processes:
            listed = await list_system_processes(operator, state=chosen, limit=LIST_LIMIT)
        return page(
            request,
            "processes.html",
            signed,
            "processes",
            listed=listed,
            state=chosen,
            states=PROCESS_STATES,
        )

    @router.get("/processes/{process_id:path}")
    async def process(request: Request, signed: Signed, process_id: str) -> Response:
        async with database_available(coordinator.db):
            timeline = await build_timeline(operator, process_id)
        return page(request, "process.html", signed, "processes", timeline=timeline)

    @router.get("/deliveries")
    async def deliveries(
        request: Request,
        signed: Signed,
        route: Annotated[str | None, Query(max_length=200)] = None,
    ) -> Response:
        routes = [hook.name for hook in operator.config.webhooks]
        chosen = route if route in routes else None
        async with database_available(coordinator.db):
            found = await recent_deliveries(coordinator.db, route=chosen, limit=LIST_LIMIT)
        return page(
            request,
            "deliveries.html",
            signed,
            "deliveries",
            deliveries=found,
            routes=routes,
            route=chosen,
            refused=refused_counts(coordinator.metrics),
        )

    @router.get("/dead-letters")
    async def dead(
        request: Request,
        signed: Signed,
        retried: Annotated[int | None, Query()] = None,
        stale: Annotated[int | None, Query()] = None,
    ) -> Response:
        async with database_available(coordinator.db):
            found = await dead_letters(coordinator.db, limit=LIST_LIMIT)
        flash = None
        if retried is not None:
            flash = f"Dead letter {retried} went back to the dispatcher."
        elif stale is not None:
            flash = f"Dead letter {stale} was not dead any more: it was retried already."
        return page(
            request, "dead_letters.html", signed, "dead-letters", records=found, flash=flash
        )

    @router.post("/dead-letters/{record_id}/retry")
    async def retry(
        request: Request,
        signed: Signed,
        record_id: int,
        csrf: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        from raw.coordinator.dispatcher import InboxRecordNotDeadError, retry_dead_letter

        check_form(request, signed, csrf)
        try:
            async with database_available(coordinator.db):
                await retry_dead_letter(coordinator.db, record_id)
        except InboxRecordNotDeadError:
            return RedirectResponse(f"{base}/dead-letters?stale={record_id}", status_code=303)
        log.info("Operator retried dead letter %s.", record_id)
        return RedirectResponse(f"{base}/dead-letters?retried={record_id}", status_code=303)

    @router.get("/runs")
    async def runs(request: Request, signed: Signed) -> Response:
        async with database_available(coordinator.db):
            found = await failed_runs(coordinator.db, limit=LIST_LIMIT)
        return page(request, "runs.html", signed, "runs", runs=found, process_of=_process_of)

    @router.get("/runs/{run_id}")
    async def run(request: Request, signed: Signed, run_id: str) -> Response:
        from raw.coordinator.api import redact
        from raw.coordinator.db.run_index import get_run

        async with database_available(coordinator.db):
            found = await get_run(coordinator.db, run_id[:64])
        if found is None:
            raise ResourceNotFoundError("run", run_id, "The failed runs are listed on this page.")
        manifest = found.manifest or {}
        return page(
            request,
            "run.html",
            signed,
            "runs",
            run=found,
            params=redact(manifest.get("params")),
            output=redact(manifest.get("output")),
            steps=manifest.get("steps") or [],
            process_id=_process_of(found.idempotency_key),
        )

    @router.get("/outbox")
    async def outbox(request: Request, signed: Signed) -> Response:
        from raw.coordinator.operator.outbox import read_outbox

        found = read_outbox(coordinator.project, limit=LIST_LIMIT)
        return page(request, "outbox.html", signed, "outbox", outbox=found)

    @router.get("/{rest:path}")
    async def not_found(request: Request, signed: Signed, rest: str) -> Response:
        raise ResourceNotFoundError("page", f"{base}/{rest}", f"The overview is at {base}.")

    return router
