"""The coordinator's errors, and the one place any error becomes an HTTP answer.

Every refusal answers the same JSON shape, whatever raised it::

    {"error": {"type": "ValidationError", "message": "...",
               "fields": [{"field": "candidate.email", "message": "..."}]}}

``fields`` appears only where there is something per field (schema errors, the
parts of the system that are down). An unexpected exception answers a generic
500 in that shape and its traceback goes to the server's log, never to the client.

Errors (each stores what identifies it and carries its HTTP status):

    RawError
    ├── UnsupportedMediaTypeError   415  the route takes another content type
    ├── PayloadTooLargeError        413  the body is over the route's limit
    ├── BodyValidationError         422  the body does not match the route's model
    ├── MissingDeliveryKeyError     400  no idempotency key in the delivery
    ├── BadRequestError             400  a request that cannot be read at all
    ├── AuthenticationError         401  no or wrong API token
    ├── ResourceNotFoundError       404  no run, process or inbox record with that id
    ├── ConflictError               409  the resource is not in a state that allows it
    ├── NotReadyError               503  the database or Temporal is down
    └── ConfigError
        ├── RouteConfigError        a route's body model or handler cannot be used (at start)
        └── InsecureSettingsError   no or a weak API token or webhook secret outside development

Errors raised elsewhere in the kit map by class (``ProcessNotFoundError`` 404,
``TemporalUnavailableError`` 503, ...) or by their own ``status_code``
(``SignatureError`` 401).
"""

from __future__ import annotations

import http
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from raw.coordinator.secret_strength import GENERATE
from raw.errors import ConfigError, FieldError, InvalidParamsError, RawError

if TYPE_CHECKING:
    from types import TracebackType

    from fastapi import FastAPI
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    from raw.coordinator.db.database import Database

logger = logging.getLogger("raw.coordinator")

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "BodyValidationError",
    "ConflictError",
    "ErrorBody",
    "ErrorDetail",
    "FieldErrorModel",
    "InsecureSettingsError",
    "MissingDeliveryKeyError",
    "NotReadyError",
    "PayloadTooLargeError",
    "ResourceNotFoundError",
    "RouteConfigError",
    "UnsupportedMediaTypeError",
    "database_available",
    "error_body",
    "error_response",
    "install_error_handlers",
    "status_for",
]


# --- the shape --------------------------------------------------------------------------


class FieldErrorModel(BaseModel):
    field: str
    """A dotted path into the body (``candidate.email``), or what is down (``database``)."""
    message: str


class ErrorDetail(BaseModel):
    type: str
    message: str
    fields: list[FieldErrorModel] | None = None


class ErrorBody(BaseModel):
    """Every error answer: ``{"error": {"type", "message", "fields"?}}``."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": http.HTTPStatus(status).phrase}
    for status in (400, 401, 404, 409, 413, 415, 422, 503)
}
"""For ``responses=`` on routes, so OpenAPI shows the error shape."""


# --- the errors -------------------------------------------------------------------------


class UnsupportedMediaTypeError(RawError):
    status_code = 415

    def __init__(self, route: str, received: str | None, expected: str) -> None:
        self.route = route
        self.received = received
        self.expected = expected
        got = f"'{received}'" if received else "no Content-Type"
        super().__init__(
            f"Webhook route '{route}' takes {expected} bodies, but the request has {got}. "
            f"Send the body with 'Content-Type: {expected}'."
        )


class PayloadTooLargeError(RawError):
    status_code = 413

    def __init__(self, route: str, limit_bytes: int) -> None:
        self.route = route
        self.limit_bytes = limit_bytes
        super().__init__(
            f"The body sent to webhook route '{route}' is larger than its limit of "
            f"{limit_bytes} bytes. Send a smaller body, or raise the route's max_body_bytes."
        )


class BodyValidationError(RawError):
    status_code = 422

    def __init__(self, route: str, fields: Sequence[FieldError]) -> None:
        self.route = route
        self.fields = list(fields)
        problems = "; ".join(f"{f.field}: {f.message}" for f in self.fields)
        super().__init__(f"The body sent to webhook route '{route}' is not valid: {problems}")


class MissingDeliveryKeyError(RawError):
    status_code = 400

    def __init__(self, route: str, what: str) -> None:
        self.route = route
        self.what = what
        super().__init__(
            f"The delivery to webhook route '{route}' has no idempotency key: {what}. "
            "Each delivery needs one so a repeat is answered, not acted on twice."
        )


class BadRequestError(RawError):
    status_code = 400


class AuthenticationError(RawError):
    status_code = 401
    headers = {"WWW-Authenticate": "Bearer"}

    def __init__(self, reason: str, *, setting: str) -> None:
        self.reason = reason
        self.setting = setting
        super().__init__(
            f"{reason} Send 'Authorization: Bearer <token>' with the token set in {setting}."
        )


class ResourceNotFoundError(RawError):
    status_code = 404

    def __init__(self, kind: str, identifier: str | int, hint: str = "") -> None:
        self.kind = kind
        self.identifier = identifier
        super().__init__(f"No {kind} '{identifier}'." + (f" {hint}" if hint else ""))


class ConflictError(RawError):
    status_code = 409


class NotReadyError(RawError):
    """Some part the coordinator needs is down; ``down`` maps each part to why."""

    status_code = 503

    def __init__(self, down: Mapping[str, str]) -> None:
        self.down = dict(down)
        parts = "; ".join(f"{name} is unavailable ({why})" for name, why in self.down.items())
        super().__init__(f"Not ready: {parts}.")


class RouteConfigError(ConfigError):
    def __init__(self, route: str, problem: str) -> None:
        self.route = route
        self.problem = problem
        super().__init__(
            f"Webhook route '{route}' in system.coordinator.webhooks cannot be mounted: {problem}"
        )


class InsecureSettingsError(ConfigError):
    def __init__(
        self, setting: str, problem: str, *, environment: str, how: str | None = None
    ) -> None:
        self.setting = setting
        self.problem = problem
        self.environment = environment
        super().__init__(
            f"Refusing to start in the '{environment}' environment: {problem}. Set {setting} "
            f"to a long random value, such as the output of: {how or GENERATE}; or set "
            "RAW_ENV=development on a machine of your own."
        )


class database_available:  # noqa: N801 - used as a context manager, like contextlib's
    """``async with database_available(db):`` a lost connection becomes a 503, not a 500.

    The caller may try again later (a webhook sender retries), which a 500 would not say.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Lazy: raw.coordinator.settings (raw config check) imports these errors without SQLAlchemy.
        from sqlalchemy.exc import InterfaceError, OperationalError

        from raw.coordinator.db.database import DatabaseUnavailableError, failure_reason

        if isinstance(exc, OperationalError | InterfaceError):
            reason = failure_reason(exc, self.db.url)
            if reason.startswith("no such "):  # SQLite's missing table or column: a bug, a 500
                return
            raise DatabaseUnavailableError(self.db.url, reason) from None


# --- errors -> HTTP ---------------------------------------------------------------------

# Errors of other parts of the kit, by class name so this module imports none of them
# (temporalio is an optional extra).
_STATUS_BY_NAME: dict[str, int] = {
    "ProcessNotFoundError": 404,
    "WorkflowNotFoundError": 404,
    "ProcessClosedError": 409,
    "InvalidProcessIdError": 400,
    "InvalidWorkflowIdError": 400,
    "InvalidParamsError": 422,
    "TemporalUnavailableError": 503,
    "DatabaseUnavailableError": 503,
    "MissingSecretError": 503,
    "InvalidSecretError": 503,
    "UnknownSchemeError": 503,
    "ProcessQueryError": 502,
}


def status_for(exc: BaseException) -> int:
    """The HTTP status of an error: its own ``status_code``, else by class, else 500."""
    code = getattr(exc, "status_code", None)
    if isinstance(code, int) and 400 <= code <= 599:
        return code
    for cls in type(exc).__mro__:
        if cls.__name__ in _STATUS_BY_NAME:
            return _STATUS_BY_NAME[cls.__name__]
    return 500


def _type_name(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase.title().replace(" ", "").replace("-", "")
    except ValueError:
        return "HTTPError"


def _dotted(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc) or "(body)"


def error_body(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """The status and JSON body answering ``exc``."""
    # Lazy: raw.coordinator.settings (raw config check) imports these errors without FastAPI.
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    fields: list[FieldError] | None = None
    if isinstance(exc, HTTPException):
        status = exc.status_code
        kind = _type_name(status)
        message = exc.detail if isinstance(exc.detail, str) else http.HTTPStatus(status).phrase
    elif isinstance(exc, RequestValidationError):
        status, kind = 422, "ValidationError"
        fields = [FieldError(_dotted(e.get("loc", ())), str(e.get("msg"))) for e in exc.errors()]
        message = "The request is not valid: " + "; ".join(
            f"{f.field}: {f.message}" for f in fields
        )
    elif isinstance(exc, RawError):
        status = status_for(exc)
        kind = "ValidationError" if isinstance(exc, BodyValidationError) else type(exc).__name__
        message = str(exc)
        if isinstance(exc, BodyValidationError):
            fields = exc.fields
        elif isinstance(exc, InvalidParamsError):
            fields = exc.errors
        elif isinstance(exc, NotReadyError):
            fields = [FieldError(name, why) for name, why in exc.down.items()]
    else:
        status, kind = 500, "InternalServerError"
        message = (
            "The server failed while handling the request; nothing was stored. "
            "The details are in the server's log."
        )
    detail = ErrorDetail(
        type=kind,
        message=message,
        fields=[FieldErrorModel(field=f.field, message=f.message) for f in fields]
        if fields is not None
        else None,
    )
    return status, ErrorBody(error=detail).model_dump(exclude_none=True)


def error_response(exc: BaseException) -> JSONResponse:
    """The JSON answer to ``exc``; 5xx are logged with their traceback."""
    # Lazy: raw.coordinator.settings (raw config check) imports these errors without FastAPI.
    from starlette.responses import JSONResponse

    status, body = error_body(exc)
    if status >= 500 and not isinstance(exc, RawError):
        logger.error("Unhandled error while answering a request", exc_info=exc)
    elif status >= 500:
        logger.warning("%s: %s", type(exc).__name__, exc)
    headers = getattr(exc, "headers", None)
    return JSONResponse(body, status_code=status, headers=dict(headers) if headers else None)


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class CatchAllMiddleware:
    """Answers an exception no handler took with the generic 500 JSON body.

    Starlette's own catch-all handler re-raises after answering; this one keeps
    the error inside the server (logged with its traceback).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if started:
                raise
            await error_response(exc)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` answer the one JSON shape (idempotent)."""
    if getattr(app.state, "raw_error_handlers", False):
        return
    # Lazy: raw.coordinator.settings (raw config check) imports these errors without FastAPI.
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        return error_response(exc)

    for cls in (RawError, HTTPException, RequestValidationError):
        app.add_exception_handler(cls, handle)
    app.add_middleware(CatchAllMiddleware)
    app.state.raw_error_handlers = True
