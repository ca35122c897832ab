"""Rendering the operator page: Jinja2 templates, their filters, HTML errors, safe headers.

Pages are rendered whole on navigation; a request with ``X-Operator-Fragment: 1``
(the page's own refresh script) gets only the view's ``live`` block, which the
script swaps in place. Every answer carries a strict Content-Security-Policy (no
inline script or style, nothing from other origins), is never cached, and cannot
be framed. Errors on these routes answer an HTML page, not the API's JSON.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from raw import clock
from raw.coordinator.errors import error_body

if TYPE_CHECKING:
    from jinja2 import Environment

    from raw.coordinator.operator.context import Operator

__all__ = [
    "FRAGMENT_HEADER",
    "PageRoute",
    "SignInRequired",
    "Renderer",
    "relative",
    "timestamp",
]

FRAGMENT_HEADER = "x-operator-fragment"
LIVE_BLOCK = "live"
REFRESH_SECONDS = 3
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Not no-referrer: under it Chrome sends "Origin: null" on the page's own form posts,
    # which the same-origin check must refuse. Nothing goes to other sites either way.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

log = logging.getLogger("raw.coordinator.operator")


class SignInRequired(Exception):
    """The request has neither a valid session cookie nor the bearer token."""


def timestamp(value: datetime | None) -> str:
    """``2026-03-02 18:00:05 UTC``."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def relative(value: datetime | None, now: datetime | None = None) -> str:
    """``in 6 d 23 h``, ``3 min ago``, ``just now``."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    seconds = (value - (now or clock.now())).total_seconds()
    span = abs(seconds)
    if span < 5:
        return "just now"
    units = [("d", 86400), ("h", 3600), ("min", 60), ("s", 1)]
    parts: list[str] = []
    for name, size in units:
        if span >= size:
            parts.append(f"{int(span // size)} {name}")
            span %= size
        if len(parts) == 2 or (parts and name in ("min", "s")):
            break
    text = " ".join(parts)
    return f"in {text}" if seconds > 0 else f"{text} ago"


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False)


def _path(value: str) -> str:
    return quote(value, safe="/")


class Renderer:
    """The templates of the operator page, bound to one :class:`Operator`."""

    def __init__(self, operator: Operator, *, base_path: str) -> None:
        # Lazy: needs the operator extra, which may be missing.
        from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

        folder = resources.files("raw.coordinator.operator") / "templates"
        self.operator = operator
        self.base_path = base_path
        self.env: Environment = Environment(
            loader=FileSystemLoader(str(folder)),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            when=timestamp,
            ago=relative,
            pretty=_pretty,
            path=_path,
            scrub=operator.scrub,
        )
        self.env.globals.update(
            base=base_path,
            system=operator.system_name,
            refresh_seconds=REFRESH_SECONDS,
            temporal_url=operator.temporal_url,
            trace_url=operator.trace_url,
        )
        # The macros are globals, not imports: a view's live block is rendered on its own
        # for a refresh, and a template's top-level imports do not run then.
        macros = self.env.get_template("macros.html").make_module()
        self.env.globals.update(
            {name: getattr(macros, name) for name in dir(macros) if not name.startswith("_")}
        )

    def page(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any],
        *,
        status_code: int = 200,
        view: str | None = None,
    ) -> HTMLResponse:
        """The whole page, or only its ``live`` block for the refresh script."""
        template = self.env.get_template(name)
        values = {
            "view": view,
            "csrf": "",
            "signed_in": False,
            "flash": None,
            **context,
        }
        if request.headers.get(FRAGMENT_HEADER) == "1" and LIVE_BLOCK in template.blocks:
            body = "".join(template.blocks[LIVE_BLOCK](template.new_context(values)))
        else:
            body = template.render(values)
        return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)

    def error(self, request: Request, status_code: int, message: str) -> HTMLResponse:
        return self.page(
            request,
            "error.html",
            {"status_code": status_code, "message": message},
            status_code=status_code,
        )


def _renderer(request: Request) -> Renderer | None:
    renderer = getattr(request.app.state, "raw_operator_renderer", None)
    return renderer if isinstance(renderer, Renderer) else None


class PageRoute(APIRoute):
    """A route answering errors as HTML pages (and sign-in as a redirect), with safe headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await original(request)
            except SignInRequired:
                return _sign_in_required(request)
            except Exception as exc:
                status, body = error_body(exc)
                if status >= 500:
                    log.error("The operator page failed on %s", request.url.path, exc_info=exc)
                renderer = _renderer(request)
                message = str(body["error"]["message"])
                if renderer is None:
                    return HTMLResponse(message, status_code=status, headers=SECURITY_HEADERS)
                return renderer.error(request, status, renderer.operator.scrub(message) or "")
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return handler


def _sign_in_required(request: Request) -> Response:
    renderer = _renderer(request)
    base = renderer.base_path if renderer is not None else "/operator"
    fragment = request.headers.get(FRAGMENT_HEADER) == "1"
    if request.method == "GET" and not fragment:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(
            f"{base}/sign-in?next={quote(target, safe='')}",
            status_code=303,
            headers=SECURITY_HEADERS,
        )
    message = "Your session has ended or was never started: sign in again."
    if renderer is None:
        return HTMLResponse(message, status_code=401, headers=SECURITY_HEADERS)
    return renderer.error(request, 401, message)
