"""The baseline for webhook_ingest.py: a bare FastAPI route doing the same insert.

It validates the same model and inserts one row into the same database through
the same database layer (on SQLite the same serialised writer), with no
signature, no idempotency, no inbox and no dispatcher.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from ingest_models import Base, Order, OrderRow

from raw.coordinator.db.database import Database

db = Database(os.environ["BENCH_DATABASE_URL"])


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield
    await db.dispose()


app = FastAPI(lifespan=lifespan)


@app.post("/webhooks/order", status_code=202)
async def ingest(order: Order) -> dict[str, str]:
    async with db.write() as session:
        session.add(OrderRow(order_id=order.order_id, body=order.model_dump()))
    return {"status": "accepted"}
