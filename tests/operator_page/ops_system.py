"""A small system for the operator page's HTTP tests: a signup webhook, a people table.

The coordinator imports the body model and the handler by name
(``operator_page.ops_system:Signup``), as it would a user's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel
from sqlalchemy import String, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from raw.coordinator.app import Coordinator, create_app
from raw.coordinator.db.database import Database
from raw.coordinator.db.models import Delivery, InboxRecord
from raw.project import Project

API_TOKEN = "ops-api-token-0123456789abcdef"
HOOK_SECRET = "ops-hook-secret-value-42"
ENV = {"RAW_API_TOKEN": API_TOKEN, "OPS_HOOK_SECRET": HOOK_SECRET}


class Signup(BaseModel):
    id: str
    email: str
    name: str = ""
    password: str = ""
    plan: str = "free"


class OpsBase(DeclarativeBase):
    pass


class Person(OpsBase):
    __tablename__ = "ops_people"

    email: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(30))


async def save_signup(session: AsyncSession, body: Signup, delivery: Delivery) -> str:
    if await session.get(Person, body.email) is None:
        session.add(Person(email=body.email, name=body.name, state="new"))
    return body.email


def config(*, processes: bool = False, entities: bool = True) -> str:
    """The system's config: a signup route (a signal to a process when ``processes``)."""
    action = (
        "{kind: signal, process: SignalsProcess, business_key: email, signal: booked}"
        if processes
        else "{kind: none}"
    )
    declared = (
        "    entities:\n      - {name: people, table: ops_people, key: email, status: state}\n"
        if entities
        else ""
    )
    return f"""\
version: 1
name: ops
system:
  name: ops
  coordinator:
{declared}    webhooks:
      - name: signup
        path: /webhooks/signup
        body: operator_page.ops_system:Signup
        scheme: bearer
        secrets: [OPS_HOOK_SECRET]
        delivery_key: id
        handler: operator_page.ops_system:save_signup
        action: {action}
"""


@dataclass
class Ops:
    client: httpx.AsyncClient
    coordinator: Coordinator

    @property
    def db(self) -> Database:
        return self.coordinator.db

    def bearer(self, token: str = API_TOKEN) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async def sign_in(self, token: str = API_TOKEN) -> httpx.Response:
        return await self.client.post(
            "/operator/sign-in",
            data={"token": token, "next": "/operator"},
            headers={"Origin": "http://testserver"},
        )

    async def signup(self, key: str, email: str, **fields: Any) -> httpx.Response:
        body = {"id": key, "email": email, **fields}
        answer = await self.client.post(
            "/webhooks/signup",
            json=body,
            headers={"Authorization": f"Bearer {HOOK_SECRET}"},
        )
        assert answer.status_code == 202, answer.text
        return answer

    async def kill(self, key: str, error: str) -> int:
        """Make the inbox record of delivery ``key`` a dead letter; returns its id."""
        async with self.db.write() as session:
            record = (
                await session.execute(
                    update(InboxRecord)
                    .where(InboxRecord.idempotency_key == f"signup:{key}")
                    .values(status="dead", attempts=8, last_error=error)
                    .returning(InboxRecord.id)
                )
            ).scalar_one()
        return int(record)


@asynccontextmanager
async def serve(
    project: Project, db_url: str, *, run_dispatcher: bool = False
) -> AsyncIterator[Ops]:
    """The system's coordinator app through its lifespan, with a client."""
    db = Database(db_url)
    app = create_app(project, db=db, run_dispatcher=run_dispatcher)
    coordinator: Coordinator = app.state.raw_coordinator
    try:
        async with app.router.lifespan_context(app):
            async with db.write_connection() as conn:
                await conn.run_sync(OpsBase.metadata.create_all)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                yield Ops(client, coordinator)
    finally:
        await db.dispose()


async def eventually(check: Any, timeout_seconds: float = 20.0) -> Any:
    """Call the async ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, "the condition did not hold in time"
        await asyncio.sleep(0.1)
