"""What both servers of webhook_ingest.py share: the body model and the entity's table.

The baseline (ingest_baseline.py) inserts an ``OrderRow`` itself; our route's
handler, ``save_order``, inserts the same row in the delivery's transaction.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, Integer, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Order(BaseModel):
    order_id: str
    customer: str
    amount_cents: int
    items: list[str]


class Base(DeclarativeBase):
    pass


class OrderRow(Base):
    __tablename__ = "bench_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(100))
    body: Mapped[dict[str, object]] = mapped_column(JSON)


async def save_order(session: AsyncSession, order: Order, delivery: Any) -> str:
    """Our route's entity change: the baseline's insert; the order is the entity."""
    session.add(OrderRow(order_id=order.order_id, body=order.model_dump()))
    return order.order_id
