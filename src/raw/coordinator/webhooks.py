"""Webhook routes, each built from its declaration in ``system.coordinator.webhooks``.

A delivery is checked in this order, and a refused one stores nothing:

1. content type (415): a ``json`` route takes ``application/json`` (or ``*+json``),
   a ``form`` route ``application/x-www-form-urlencoded``;
2. size (413): a declared ``Content-Length`` over the limit is refused before a
   byte is read, and a body that turns out longer is refused as soon as it passes
   the limit, never read whole;
3. signature (401), by the route's scheme against every active secret;
4. the body against the route's Pydantic model (422, with field paths); before it,
   text no database could keep as sent (422 naming the field): U+0000 in any
   string or key, nested or not, and a form that is not UTF-8 (lone surrogates
   included), which would otherwise be stored with U+FFFD in its place;
5. the idempotency key (400 when there is none): the route's ``delivery_key`` body
   field, else the scheme's delivery id.

Then, in one write transaction (:mod:`raw.coordinator.ingest`), the delivery
row, the user's handler (its entity change) and the inbox record are stored, with
the 202 answer computed before the commit and kept on the delivery; the answer
goes out only after the commit. A repeat of a delivery (the unique key on route
and delivery key says so, also when copies race) gets the first answer back,
status and body, and causes nothing.

The handler is called as ``await handler(session, body, delivery)`` with the
validated body model and the stored delivery row (read it; changes to it are not
saved), and may return the entity's key (kept on the delivery for erasure on
request), or :class:`~raw.coordinator.ingest.Ignored` to take the delivery in
without acting on it (answered 200 ``ignored`` with the reason; no inbox record).
If it raises, the delivery's transaction is rolled back: an unexpected
error answers a generic 500, and a :class:`~raw.errors.RawError` with a
``status_code`` (say 409) answers that status.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl

import pydantic_core
from pydantic import BaseModel, ValidationError
from starlette.requests import (
    ClientDisconnect,
    Request,  # at module level: FastAPI reads the endpoint's hints
)

from raw import clock
from raw.config.coordinator import WebhookConfig
from raw.coordinator.errors import (
    ERROR_RESPONSES,
    BadRequestError,
    BodyValidationError,
    MissingDeliveryKeyError,
    PayloadTooLargeError,
    RouteConfigError,
    UnsupportedMediaTypeError,
)
from raw.coordinator.ingest import KEY_COLUMN, Accepted, Answer, DeliveryStore, Handler, Ignored
from raw.coordinator.storable import form_fields, nul_fields
from raw.coordinator.verify import SignedRequest, get_scheme, verify_request
from raw.errors import FieldError
from raw.tracing import current_traceparent

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.responses import JSONResponse

    from raw.coordinator.db.database import Database
    from raw.coordinator.metrics import CoordinatorMetrics

__all__ = [
    "Handler",
    "Ignored",
    "WebhookAccepted",
    "WebhookRoute",
    "build_route",
    "import_object",
    "mount_webhooks",
]

MEDIA_TYPES = {"json": "application/json", "form": "application/x-www-form-urlencoded"}


class WebhookAccepted(BaseModel):
    """The 202 answer to an accepted delivery (and, unchanged, to each of its repeats)."""

    status: Literal["accepted", "ignored"] = "accepted"
    """``ignored`` (HTTP 200): stored, but its handler decided nothing is to be done."""
    correlation_id: str
    """Follows the delivery to its inbox record, the process and the RAW runs it causes."""
    delivery: str
    """The delivery's idempotency key."""
    action: str
    """What the delivery makes happen: run_workflow, start_process, signal, ... or none."""
    target: str | None = None
    """The workflow it runs, or the id of the process it starts or signals."""
    reason: str | None = None
    """Why an ``ignored`` delivery causes nothing."""


def import_object(reference: str, *, root: Path | None = None) -> Any:
    """The object ``module:attr`` names (``attr`` may be dotted); the project root is importable."""
    if root is not None and str(root) not in sys.path:
        sys.path.insert(0, str(root))
    module_name, _, attr = reference.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass
class WebhookRoute:
    """A declared route, resolved: its model, handler and scheme imported and checked."""

    config: WebhookConfig
    body_model: type[BaseModel] | None
    handler: Handler | None
    limit_bytes: int
    process_type: str | None = None
    """For process actions: the id prefix of the process type (``hiring-process``)."""

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.config.content_type]

    @cached_property
    def action_json(self) -> dict[str, Any]:
        """The action as stored on each inbox record."""
        return self.config.action.model_dump(mode="json", exclude_none=True)

    def answer(
        self, key: str, correlation_id: str, target: str | None, *, ignored: str | None = None
    ) -> dict[str, Any]:
        """The body answering a new delivery (202, or 200 when ``ignored``), kept for repeats."""
        return WebhookAccepted(
            status="accepted" if ignored is None else "ignored",
            correlation_id=correlation_id,
            delivery=key,
            action=self.config.action.kind if ignored is None else "none",
            target=target,
            reason=ignored,
        ).model_dump(mode="json", exclude={"reason"} if ignored is None else None)

    # -- checks, in order

    def check_content_type(self, header: str | None) -> None:
        media = (header or "").split(";", 1)[0].strip().lower()
        if self.config.content_type == "json":
            ok = media == "application/json" or (
                media.startswith("application/") and media.endswith("+json")
            )
        else:
            ok = media == self.media_type
        if not ok:
            raise UnsupportedMediaTypeError(self.name, header or None, self.media_type)

    def check_declared_length(self, header: str | None) -> None:
        if header is None:
            return
        try:
            declared = int(header)
        except ValueError:
            raise BadRequestError(
                f"The request's Content-Length header '{header[:40]}' is not a number of bytes."
            ) from None
        if declared > self.limit_bytes:
            raise PayloadTooLargeError(self.name, self.limit_bytes)

    def parse(self, body: bytes, form: dict[str, str] | None) -> tuple[Any, dict[str, Any]]:
        """The validated body (model instance, or the plain data) and its JSON form."""
        self.check_storable(body, form)
        try:
            if self.body_model is not None:
                if form is not None:
                    model = self.body_model.model_validate(form)
                else:
                    model = self.body_model.model_validate_json(body)
                payload = json.loads(model.model_dump_json(by_alias=True))
                if not isinstance(payload, dict):
                    raise BodyValidationError(
                        self.name, [FieldError("(body)", "the body must be a JSON object")]
                    )
                validated: Any = model
            elif form is not None:
                validated = payload = dict(form)
            else:
                data = pydantic_core.from_json(body, allow_inf_nan=False)
                if not isinstance(data, dict):
                    raise BodyValidationError(
                        self.name, [FieldError("(body)", "the body must be a JSON object")]
                    )
                validated = payload = data
        except ValidationError as exc:
            raise BodyValidationError(self.name, _field_errors(exc)) from None
        except ValueError as exc:  # pydantic_core.from_json
            raise BodyValidationError(self.name, [FieldError("(body)", f"{exc}")]) from None
        try:
            json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
        except (UnicodeEncodeError, ValueError):
            raise BodyValidationError(
                self.name,
                [FieldError("(body)", "the body holds characters or numbers JSON cannot carry")],
            ) from None
        return validated, payload

    def check_storable(self, body: bytes, form: dict[str, str] | None) -> None:
        """Refuse U+0000 anywhere in the body, before the model sees it (paths as sent)."""
        if form is not None:
            problems = nul_fields(form)
        elif b"\\u0000" in body or b"\x00" in body:  # the only ways JSON can carry U+0000
            try:
                problems = nul_fields(pydantic_core.from_json(body, allow_inf_nan=False))
            except ValueError:
                return  # not JSON: parsing it again says so
        else:
            return
        if problems:
            raise BodyValidationError(self.name, problems)

    def delivery_key(self, payload: Mapping[str, Any], delivery_id: str | None) -> str:
        field = self.config.delivery_key
        if field is not None:
            value = _lookup(payload, field)
            if value is None or isinstance(value, dict | list) or str(value) == "":
                raise MissingDeliveryKeyError(
                    self.name, f"its body field '{field}' (the route's delivery_key) is missing"
                )
            key = str(value)
        elif delivery_id:
            key = delivery_id
        else:
            raise MissingDeliveryKeyError(
                self.name,
                f"the request carries no {self.config.scheme} delivery id, and the route has no "
                "delivery_key (a body field that identifies the delivery)",
            )
        room = KEY_COLUMN - len(self.name) - 1
        if len(key) > room:  # keep it exact and unique, within the columns
            key = "sha256:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()
        return key

    def target(self, payload: Mapping[str, Any]) -> str | None:
        action = self.config.action
        if action.kind == "run_workflow":
            return action.workflow
        if self.process_type is None or action.business_key is None:
            return None
        # Lazy: needs the orchestrator extra, which may be missing.
        from raw.orchestrator.client import InvalidProcessIdError, process_id

        value = _lookup(payload, action.business_key)
        if value is None or isinstance(value, dict | list):
            raise BodyValidationError(
                self.name,
                [FieldError(action.business_key, "required: it names the process to reach")],
            )
        try:
            return process_id(self.process_type, str(value))
        except InvalidProcessIdError as exc:
            raise BodyValidationError(
                self.name, [FieldError(action.business_key, str(exc))]
            ) from None

    def read_form(self, body: bytes, query: bytes) -> dict[str, str]:
        """The signed form's fields read strictly as UTF-8 (422 for bytes that are not)."""
        fields, problems = form_fields(body)
        if self.config.query_params:  # signed with the URL (config-checked)
            query_fields, query_problems = form_fields(query)
            fields = {**query_fields, **fields}
            problems = query_problems + problems
        if problems:
            raise BodyValidationError(self.name, problems)
        return fields

    # -- the whole request

    async def read_body(self, request: Request) -> bytes:
        body = bytearray()
        try:
            async for chunk in request.stream():
                body += chunk
                if len(body) > self.limit_bytes:
                    raise PayloadTooLargeError(self.name, self.limit_bytes)
        except ClientDisconnect:
            raise BadRequestError(
                "The client disconnected before it sent the whole body; nothing was stored."
            ) from None
        return bytes(body)

    async def receive(
        self,
        request: Request,
        *,
        store: DeliveryStore,
        public_base_url: str | None,
    ) -> Answer:
        """Check, store and answer one delivery: (status, body, whether it was a repeat)."""
        received_at = clock.now()
        self.check_content_type(request.headers.get("content-type"))
        self.check_declared_length(request.headers.get("content-length"))
        body = await self.read_body(request)
        form = None
        if self.config.content_type == "form":  # as the sender signed it, read leniently
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        signed = SignedRequest.from_http(
            request.method,
            str(request.url),
            request.headers.items(),
            body,
            form=form,
            public_base_url=public_base_url,
        )
        delivery_id = verify_request(self.config, signed)
        if form is not None:
            form = self.read_form(body, request.scope.get("query_string", b""))
        validated, payload = self.parse(body, form)
        key = self.delivery_key(payload, delivery_id)
        target = self.target(payload)
        text = body.decode("utf-8", "replace").replace("\x00", "\ufffd")
        # The route's span (FastAPI's instrumentation, when tracing is on) is captured here,
        # in the request: the inbox record written with the batch's transaction keeps it.
        traceparent = current_traceparent()
        return await store.store(
            Accepted(self, key, validated, payload, text, target, received_at, traceparent)
        )


def _lookup(payload: Mapping[str, Any], path: str) -> Any:
    value: Any = payload
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _field_errors(exc: ValidationError) -> list[FieldError]:
    return [
        FieldError(".".join(str(p) for p in err["loc"]) or "(body)", err["msg"])
        for err in exc.errors(include_url=False)
    ]


def build_route(
    config: WebhookConfig, *, default_limit_bytes: int, root: Path | None = None
) -> WebhookRoute:
    """Resolve a declared route; a model, handler or scheme that cannot be used is an error now."""
    try:
        get_scheme(config.scheme)
    except Exception as exc:
        raise RouteConfigError(config.name, str(exc)) from None
    body_model: type[BaseModel] | None = None
    if config.body is not None:
        obj = _resolve(config, config.body, root, "body model")
        if not (isinstance(obj, type) and issubclass(obj, BaseModel)):
            raise RouteConfigError(config.name, f"'{config.body}' is not a Pydantic model class.")
        body_model = obj
    handler: Handler | None = None
    if config.handler is not None:
        obj = _resolve(config, config.handler, root, "handler")
        if not callable(obj):
            raise RouteConfigError(config.name, f"'{config.handler}' is not a function.")
        handler = obj
    process_type = None
    if config.action.process is not None:
        # Lazy: needs the orchestrator extra, which may be missing.
        from raw.orchestrator.client import process_type as type_prefix

        process_type = type_prefix(config.action.process)
    return WebhookRoute(
        config=config,
        body_model=body_model,
        handler=handler,
        limit_bytes=config.max_body_bytes or default_limit_bytes,
        process_type=process_type,
    )


def _resolve(config: WebhookConfig, reference: str, root: Path | None, what: str) -> Any:
    try:
        return import_object(reference, root=root)
    except ImportError as exc:
        raise RouteConfigError(
            config.name, f"its {what} '{reference}' cannot be imported: {exc}."
        ) from None
    except AttributeError:
        module, _, attr = reference.partition(":")
        raise RouteConfigError(
            config.name, f"its {what} '{reference}': module '{module}' has no '{attr}'."
        ) from None


# --- mounting -----------------------------------------------------------------------------


def openapi_body(route: WebhookRoute) -> tuple[dict[str, Any], dict[str, Any]]:
    """The route's requestBody for OpenAPI and the component schemas it refers to."""
    schema: dict[str, Any] = {"type": "object"}
    defs: dict[str, Any] = {}
    if route.body_model is not None:
        schema = route.body_model.model_json_schema(
            ref_template="#/components/schemas/{model}", by_alias=True
        )
        defs = schema.pop("$defs", {})
        name = route.body_model.__name__
        defs[name] = schema
        schema = {"$ref": f"#/components/schemas/{name}"}
    extra = {
        "requestBody": {"required": True, "content": {route.media_type: {"schema": schema}}},
        "parameters": _signature_headers(route),
    }
    return extra, defs


def _signature_headers(route: WebhookRoute) -> list[dict[str, Any]]:
    names = {
        "standard-webhooks": ["webhook-id", "webhook-timestamp", "webhook-signature"],
        "github": ["X-Hub-Signature-256", "X-GitHub-Delivery"],
        "twilio": ["X-Twilio-Signature"],
        "bearer": ["Authorization"],
    }.get(route.config.scheme, [])
    return [
        {"name": name, "in": "header", "required": False, "schema": {"type": "string"}}
        for name in names
    ]


def mount_webhooks(
    app: FastAPI,
    routes: list[WebhookRoute],
    *,
    db: Callable[[], Database],
    metrics: CoordinatorMetrics,
    public_base_url: str | None,
) -> dict[str, Any]:
    """Add a POST route per webhook to ``app``; returns the schemas OpenAPI must include."""
    components: dict[str, Any] = {}
    store = DeliveryStore(db)  # the routes' deliveries share its transactions
    for route in routes:
        extra, defs = openapi_body(route)
        components.update(defs)
        app.add_api_route(
            route.config.path,
            _endpoint(route, store, metrics, public_base_url),
            methods=["POST"],
            status_code=202,
            response_model=WebhookAccepted,
            responses={
                k: v for k, v in ERROR_RESPONSES.items() if k in (400, 401, 413, 415, 422, 503)
            },
            openapi_extra=extra,
            name=f"webhook-{route.name}",
            summary=f"Webhook '{route.name}' ({route.config.scheme})",
            tags=["webhooks"],
        )
    return components


def _endpoint(
    route: WebhookRoute,
    store: DeliveryStore,
    metrics: CoordinatorMetrics,
    public_base_url: str | None,
) -> Callable[[Request], Awaitable[JSONResponse]]:
    # Lazy: the coordinator's modules that run without the app (dispatcher, CLI) skip FastAPI.
    from starlette.responses import JSONResponse

    from raw.coordinator.metrics import outcome_for

    async def endpoint(request: Request) -> JSONResponse:
        try:
            status, body, repeat = await route.receive(
                request, store=store, public_base_url=public_base_url
            )
        except Exception as exc:
            metrics.delivery(route.name, outcome_for(exc))
            raise
        outcome = "duplicate" if repeat else "accepted"
        if not repeat and body.get("status") == "ignored":
            outcome = "ignored"
        metrics.delivery(route.name, outcome)
        return JSONResponse(body, status_code=status)

    endpoint.__name__ = f"webhook_{route.name.replace('-', '_')}"
    return endpoint
