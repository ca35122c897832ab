"""The honest baseline for webhook_ingest.py: the route a careful engineer writes by hand.

    BENCH_DATABASE_URL=... BENCH_SECRET=whsec_... uvicorn ingest_handwritten:app

Built on nothing of ours: FastAPI, the Standard Webhooks reference library
(``standardwebhooks``) for the signature, the same Pydantic body model (``Order``,
whose module imports nothing of ours either), and SQLAlchemy Core. In ONE transaction
per request: the order row (``order_id`` unique, a repeat is answered 202 without a
second row: the same idempotency on the body's key as our route) and an outbox row.
A minimal outbox poller in the same process marks the rows done, as our built-in
dispatcher does with an action of kind ``none``: in one transaction it takes up to
``HW_BATCH`` pending rows (on PostgreSQL ``FOR UPDATE SKIP LOCKED``), "performs"
them (nothing) and sets ``status='done'`` and ``done_at``; it polls every 20 ms
while it finds nothing, and again at once after a full batch.

The database, as each is best used (``webhook_ingest.py --hw-pool`` tries others):

- SQLite (``sqlite...:///path``): a synchronous engine on ONE connection in WAL mode
  (``synchronous`` left at its default, FULL, as the kit leaves it); the routes run
  their transaction in the thread pool, serialised on a lock with the poller.
  ``HW_POOL=N`` instead gives N connections and a 10 s busy timeout (writers queue in
  SQLite's lock, not ours).
- PostgreSQL (``postgresql...://``): an async engine on psycopg 3 with a pool of
  ``HW_POOL`` connections (default 8, no overflow; 8, 16 and 32 tried); the poller uses one of them.

``HW_GC_FREEZE=1`` freezes the heap once the app has started (``gc.collect(); gc.freeze()``,
as ``raw serve`` does since issue 20), for the stricter comparison: a route whose author
also knew that trick (``webhook_ingest.py --hw-gc default,freeze``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, HTTPException, Request
from ingest_models import Order
from pydantic import ValidationError
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import StaticPool
from standardwebhooks import Webhook, WebhookVerificationError

metadata = MetaData()
orders = Table(
    "hw_orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", String(100), nullable=False, unique=True),
    Column("body", JSON, nullable=False),
)
outbox = Table(
    "hw_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", String(100), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(20), nullable=False, default="pending"),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("done_at", DateTime(timezone=True), nullable=True),
    Index("ix_hw_outbox_pending", "status", "id"),
)

URL = make_url(os.environ["BENCH_DATABASE_URL"])
SQLITE = URL.get_backend_name() == "sqlite"
WEBHOOK = Webhook(os.environ["BENCH_SECRET"])
BATCH = int(os.environ.get("HW_BATCH", "100"))
IDLE_POLL_SECONDS = 0.02
POOL = os.environ.get("HW_POOL", "1" if SQLITE else "8")
GC_FREEZE = os.environ.get("HW_GC_FREEZE", "") == "1"

_insert = (sqlite if SQLITE else postgresql).insert
INSERT_ORDER = _insert(orders).on_conflict_do_nothing(index_elements=["order_id"])
INSERT_ORDER = INSERT_ORDER.returning(orders.c.id)
INSERT_OUTBOX = outbox.insert()
PENDING = select(outbox.c.id, outbox.c.payload).where(outbox.c.status == "pending")
PENDING = PENDING.order_by(outbox.c.id).limit(BATCH)
if not SQLITE:
    PENDING = PENDING.with_for_update(skip_locked=True)


def perform(payload: dict[str, Any]) -> None:
    """The outbox row's effect: nothing, as our route's action of kind ``none``."""


def _rows(order: Order, received_at: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    body = order.model_dump()
    return (
        {"order_id": order.order_id, "body": body},
        {
            "order_id": order.order_id,
            "payload": body,
            "status": "pending",
            "received_at": received_at,
        },
    )


async def verified_order(request: Request) -> Order:
    body = await request.body()
    try:
        WEBHOOK.verify(body, dict(request.headers), json_parse=False)
    except WebhookVerificationError as exc:
        raise HTTPException(401, "invalid signature") from exc
    try:
        return Order.model_validate_json(body)
    except ValidationError as exc:
        raise HTTPException(422, exc.errors(include_url=False)) from exc


def build_sqlite_app() -> FastAPI:
    sync_url = URL.set(drivername="sqlite")
    if POOL == "1":
        engine = create_engine(
            sync_url, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
        lock: threading.Lock | None = threading.Lock()
    else:
        engine = create_engine(
            sync_url,
            pool_size=int(POOL),
            max_overflow=0,
            connect_args={"check_same_thread": False, "timeout": 10},
        )
        lock = None

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.close()

    def serialised() -> Any:
        return lock if lock is not None else contextlib.nullcontext()

    def write(order: Order, received_at: datetime) -> bool:
        order_row, outbox_row = _rows(order, received_at)
        with serialised(), engine.begin() as conn:
            if conn.execute(INSERT_ORDER, order_row).first() is None:
                return False  # a repeat: the first delivery's rows stand
            conn.execute(INSERT_OUTBOX, outbox_row)
            return True

    def poll_once() -> int:
        with serialised(), engine.begin() as conn:
            rows = conn.execute(PENDING).all()
            if not rows:
                return 0
            for row in rows:
                perform(row.payload)
            conn.execute(
                update(outbox)
                .where(outbox.c.id.in_([row.id for row in rows]))
                .values(status="done", done_at=datetime.now(UTC))
            )
            return len(rows)

    stop = threading.Event()

    def poller() -> None:
        while not stop.is_set():
            if poll_once() < BATCH:
                stop.wait(IDLE_POLL_SECONDS)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        metadata.create_all(engine)
        thread = threading.Thread(target=poller, name="outbox-poller", daemon=True)
        thread.start()
        freeze_heap()
        yield
        stop.set()
        thread.join()
        engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.post("/webhooks/order", status_code=202)
    async def ingest(request: Request) -> dict[str, str]:
        received_at = datetime.now(UTC)
        order = await verified_order(request)
        await anyio.to_thread.run_sync(write, order, received_at)
        return {"status": "accepted"}

    return app


def freeze_heap() -> None:
    """With ``HW_GC_FREEZE=1``: the started app's objects out of the collector's walks."""
    if GC_FREEZE:
        gc.collect()
        gc.freeze()


def build_postgresql_app() -> FastAPI:
    engine = create_async_engine(
        URL.set(drivername="postgresql+psycopg"), pool_size=int(POOL), max_overflow=0
    )

    async def poll_once() -> int:
        async with engine.begin() as conn:
            rows = (await conn.execute(PENDING)).all()
            if not rows:
                return 0
            for row in rows:
                perform(row.payload)
            await conn.execute(
                update(outbox)
                .where(outbox.c.id.in_([row.id for row in rows]))
                .values(status="done", done_at=datetime.now(UTC))
            )
            return len(rows)

    async def poller() -> None:
        while True:
            if await poll_once() < BATCH:
                await asyncio.sleep(IDLE_POLL_SECONDS)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        task = asyncio.create_task(poller())
        freeze_heap()
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.post("/webhooks/order", status_code=202)
    async def ingest(request: Request) -> dict[str, str]:
        received_at = datetime.now(UTC)
        order = await verified_order(request)
        order_row, outbox_row = _rows(order, received_at)
        async with engine.begin() as conn:
            if (await conn.execute(INSERT_ORDER, order_row)).first() is not None:
                await conn.execute(INSERT_OUTBOX, outbox_row)
        return {"status": "accepted"}

    return app


app = build_sqlite_app() if SQLITE else build_postgresql_app()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
