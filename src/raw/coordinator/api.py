"""The coordinator's REST API: health, readiness, metrics, runs, processes, the inbox, deliveries.

``/health`` and ``/ready`` are open (probes carry no token); everything else needs
``Authorization: Bearer <token>`` with the token from the setting named by
``system.coordinator.api_token_setting`` (compared in constant time). Every
answer has a Pydantic model, so the OpenAPI document is accurate, and every
error the one JSON shape of :mod:`raw.coordinator.errors`.

    GET  /health                      the process lives
    GET  /ready                       the database (and Temporal, if the system has
                                      processes) answer: 200, else 503 naming what is down
    GET  /metrics                     Prometheus text
    GET  /api/runs                    RAW runs, newest first (?workflow=&status=&limit=)
    GET  /api/runs/{run_id}           one run with its manifest and the end of its log
    GET  /api/processes/{process_id}  a Temporal process: its description and raw_state
    GET  /api/inbox                   inbox records (?status=&route=&limit=)
    POST /api/inbox/{id}/retry        a dead letter back to pending
    GET  /api/deliveries              recent webhook deliveries (?route=&limit=), secrets hidden
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, field_validator
from sqlalchemy import func, select

from raw import clock
from raw.coordinator.db.database import DatabaseUnavailableError
from raw.coordinator.db.models import Delivery, InboxRecord
from raw.coordinator.db.run_index import RunRecord, get_run, list_runs
from raw.coordinator.dead_letters import retry_dead_letter
from raw.coordinator.dependencies import CoordinatorDep, DatabaseDep, get_coordinator
from raw.coordinator.errors import (
    ERROR_RESPONSES,
    AuthenticationError,
    NotReadyError,
    ResourceNotFoundError,
    database_available,
)
from raw.coordinator.metrics import CONTENT_TYPE
from raw.coordinator.storable import refuse_unstorable_params
from raw.coordinator.throttle import client_address
from raw.processes import ProcessView

if TYPE_CHECKING:
    from raw.coordinator.db.models import Delivery, InboxRecord
    from raw.coordinator.runtime import Coordinator

logger = logging.getLogger("raw.coordinator")

__all__ = [
    "require_api_token",
    "DeliveryList",
    "DeliveryView",
    "Health",
    "InboxList",
    "InboxRecordView",
    "ProcessView",
    "Readiness",
    "RunList",
    "api_router",
    "health_router",
    "redact",
]

InboxStatus = Literal["pending", "in_progress", "done", "dead"]

_SECRET_KEY = re.compile(
    r"secret|token|passw|pwd|api[-_]?key|auth|signature|credential|private[-_]?key|cookie",
    re.IGNORECASE,
)
REDACTED = "***"

_bearer = HTTPBearer(auto_error=False, description="The API token, as a bearer token.")
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # SQLite hands back naive UTC
    return value


# --- models -------------------------------------------------------------------------------


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    checks: dict[str, str]
    """Each part checked: ``ok``, or ``not used`` when the system does not need it."""


class RunList(BaseModel):
    runs: list[RunRecord]


class InboxRecordView(BaseModel):
    id: int
    delivery_id: int | None
    route: str
    action: dict[str, Any]
    payload: Any
    """The validated body the action works on, with secret-looking fields hidden."""
    idempotency_key: str
    correlation_id: str
    target_process_id: str | None
    status: str
    attempts: int
    next_attempt_at: datetime
    lease_owner: str | None
    lease_expires_at: datetime | None
    last_error: str | None
    result: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    done_at: datetime | None
    trace_id: str | None = None
    """The delivery's trace id when tracing was on (32 hex); the traceparent stays inside."""

    _times = field_validator(
        "next_attempt_at", "lease_expires_at", "created_at", "updated_at", "done_at"
    )(classmethod(lambda cls, v: _utc(v)))

    @classmethod
    def of(cls, record: InboxRecord) -> InboxRecordView:
        data = {name: getattr(record, name) for name in cls.model_fields}
        data["payload"] = redact(record.payload)
        return cls.model_validate(data)


class InboxList(BaseModel):
    records: list[InboxRecordView]


class DeliveryView(BaseModel):
    id: int
    route: str
    delivery_key: str
    correlation_id: str
    received_at: datetime
    scheme: str
    status_code: int
    response: dict[str, Any]
    body: Any
    """The body as received (parsed when it is JSON or a form), secret-looking fields hidden;
    None once purged."""
    body_purged_at: datetime | None
    entity_key: str | None

    _times = field_validator("received_at", "body_purged_at")(classmethod(lambda cls, v: _utc(v)))

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryView:
        data = {name: getattr(delivery, name) for name in cls.model_fields}
        data["body"] = _redact_body(delivery.body)
        return cls.model_validate(data)


class DeliveryList(BaseModel):
    deliveries: list[DeliveryView]


# --- redaction ----------------------------------------------------------------------------


def redact(value: Any) -> Any:
    """``value`` with the values of secret-looking keys (token, password, ...) replaced."""
    if isinstance(value, dict):
        return {
            key: REDACTED if isinstance(key, str) and _SECRET_KEY.search(key) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def _redact_body(body: str | None) -> Any:
    if body is None:
        return None
    try:
        return redact(json.loads(body))
    except ValueError:
        pass
    if "=" in body and " " not in body:
        return redact(dict(parse_qsl(body, keep_blank_values=True)))
    return body


# --- routers ------------------------------------------------------------------------------

health_router = APIRouter(tags=["health"])
"""``/health`` and ``/ready``: open, for probes."""


@health_router.get("/health", response_model=Health, summary="The process lives")
async def health() -> Health:
    return Health()


@health_router.get(
    "/ready",
    response_model=Readiness,
    responses={503: ERROR_RESPONSES[503]},
    summary="The database (and Temporal, when used) answer",
)
async def ready(coordinator: CoordinatorDep) -> Readiness:
    checks: dict[str, str] = {}
    down: dict[str, str] = {}
    try:
        await coordinator.db.ping(timeout_seconds=3.0)
        checks["database"] = "ok"
    except DatabaseUnavailableError as exc:
        down["database"] = exc.reason
    if coordinator.uses_temporal:
        try:
            await coordinator.check_temporal()
            checks["temporal"] = "ok"
        except ImportError:
            down["temporal"] = "temporalio is not installed (pip install 'raw-systems[all]')"
        except Exception as exc:  # TemporalUnavailableError, or the SDK's own
            down["temporal"] = str(exc)
    else:
        checks["temporal"] = "not used"
    if down:
        raise NotReadyError(down)
    return Readiness(checks=checks)


async def require_api_token(request: Request, credentials: BearerCredentials) -> None:
    """FastAPI dependency: the request carries the API token (for a system's own routes too).

    ``APIRouter(dependencies=[Depends(require_api_token)])`` on an app the coordinator is
    mounted on; a missing or wrong token answers 401 in the one error shape.
    """
    coordinator = await get_coordinator(request)
    setting = coordinator.settings.api_token_setting
    expected = coordinator.settings.token()
    if expected is None:
        raise AuthenticationError("The API is closed because no API token is set.", setting=setting)
    if credentials is None:
        raise AuthenticationError("The request has no bearer token.", setting=setting)
    client = client_address(request)
    coordinator.throttle.check(client, credentials.credentials)
    given = credentials.credentials.encode("utf-8", "replace")
    if not hmac.compare_digest(given, expected.encode("utf-8")):
        coordinator.throttle.failed(client, credentials.credentials)
        logger.warning("API request refused from %s: not the API token.", client)
        raise AuthenticationError("The bearer token is not the API token.", setting=setting)
    refuse_unstorable_params(request)


api_router = APIRouter(
    dependencies=[Depends(require_api_token)],
    responses={401: ERROR_RESPONSES[401], 422: ERROR_RESPONSES[422]},
)
"""Everything behind the API token: metrics, runs, processes, inbox, deliveries."""


@api_router.get(
    "/metrics",
    tags=["health"],
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text"}},
    summary="Prometheus metrics",
)
async def metrics(coordinator: CoordinatorDep) -> Response:
    now = clock.now()
    query = select(InboxRecord.status, func.count()).group_by(InboxRecord.status)
    # Along the (status, next_attempt_at) index: the one record at its head.
    due_first = select(func.min(InboxRecord.next_attempt_at)).where(InboxRecord.status == "pending")
    oldest = select(func.min(InboxRecord.created_at)).where(InboxRecord.status == "pending")
    recent = (
        select(func.count())
        .select_from(InboxRecord)
        .where(InboxRecord.status == "done", InboxRecord.done_at >= now - timedelta(minutes=1))
    )
    async with database_available(coordinator.db), coordinator.db.read() as session:
        rows = (await session.execute(query)).all()
        due = (await session.execute(due_first)).scalar_one_or_none()
        first: datetime | None = await session.scalar(oldest)
        done = int(await session.scalar(recent) or 0)
    coordinator.metrics.set_inbox_depth({str(status): int(n) for status, n in rows})
    waited = (now - due.replace(tzinfo=UTC)).total_seconds() if due is not None else 0.0
    coordinator.metrics.set_oldest_due(waited)
    if first is not None and first.tzinfo is None:
        first = first.replace(tzinfo=UTC)
    coordinator.metrics.set_inbox_flow(
        oldest_pending_age_seconds=(now - first).total_seconds() if first else 0.0,
        dispatched_last_minute=done,
    )
    return Response(coordinator.metrics.render(), media_type=CONTENT_TYPE)


@api_router.get("/api/runs", response_model=RunList, tags=["runs"], summary="RAW runs")
async def runs(
    db: DatabaseDep,
    workflow: Annotated[str | None, Query(max_length=100)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> RunList:
    async with database_available(db):
        found = await list_runs(db, workflow=workflow, status=status, limit=limit)
    return RunList(runs=found)


@api_router.get(
    "/api/runs/{run_id}",
    response_model=RunRecord,
    responses={404: ERROR_RESPONSES[404]},
    tags=["runs"],
    summary="One RAW run",
)
async def run(db: DatabaseDep, run_id: Annotated[str, Path(max_length=64)]) -> RunRecord:
    async with database_available(db):
        found = await get_run(db, run_id)
    if found is None:
        raise ResourceNotFoundError("run", run_id, "GET /api/runs lists the runs.")
    return found


@api_router.get(
    "/api/processes/{process_id:path}",
    response_model=ProcessView,
    responses={404: ERROR_RESPONSES[404], 503: ERROR_RESPONSES[503]},
    tags=["processes"],
    summary="A Temporal process and its state",
)
async def process(coordinator: CoordinatorDep, process_id: str) -> ProcessView:
    return await _process_view(coordinator, process_id)


@api_router.get("/api/inbox", response_model=InboxList, tags=["inbox"], summary="Inbox records")
async def inbox(
    db: DatabaseDep,
    status: InboxStatus | None = None,
    route: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> InboxList:
    query = select(InboxRecord).order_by(InboxRecord.id.desc()).limit(limit)
    if status is not None:
        query = query.where(InboxRecord.status == status)
    if route is not None:
        query = query.where(InboxRecord.route == route)
    async with database_available(db), db.read() as session:
        rows = (await session.scalars(query)).all()
        return InboxList(records=[InboxRecordView.of(row) for row in rows])


@api_router.post(
    "/api/inbox/{record_id}/retry",
    response_model=InboxRecordView,
    responses={404: ERROR_RESPONSES[404], 409: ERROR_RESPONSES[409]},
    tags=["inbox"],
    summary="Send a dead letter back to the dispatcher",
)
async def retry(db: DatabaseDep, record_id: int) -> InboxRecordView:
    async with database_available(db):
        record = await retry_dead_letter(db, record_id)
    return InboxRecordView.of(record)


@api_router.get(
    "/api/deliveries",
    response_model=DeliveryList,
    tags=["webhooks"],
    summary="Recent webhook deliveries",
)
async def deliveries(
    db: DatabaseDep,
    route: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> DeliveryList:
    query = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if route is not None:
        query = query.where(Delivery.route == route)
    async with database_available(db), db.read() as session:
        rows = (await session.scalars(query)).all()
        return DeliveryList(deliveries=[DeliveryView.of(row) for row in rows])


async def _process_view(coordinator: Coordinator, process_id: str) -> ProcessView:
    try:
        # Lazy: needs the orchestrator extra, which may be missing.
        from temporalio.service import RPCError
    except ImportError:
        raise NotReadyError(
            {"temporal": "temporalio is not installed (pip install 'raw-systems[all]')"}
        ) from None
    # Lazy: needs the orchestrator extra, which may be missing.
    from raw.orchestrator.client import ProcessQueryError, describe, query
    from raw.orchestrator.connect import TemporalUnavailableError

    client = await coordinator.temporal()
    try:
        info = await describe(client, process_id)
    except RPCError as exc:
        raise TemporalUnavailableError(f"Temporal could not describe the process: {exc}") from None
    view = info
    try:
        view.state = _jsonable(
            await query(client, process_id, timeout_seconds=coordinator.query_timeout_seconds)
        )
    except ProcessQueryError as exc:
        view.state_error = exc.reason
    except RPCError as exc:
        view.state_error = f"the query failed: {exc}"
    return view


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value
