"""What the webhook and API tests share: a system's models and handlers, its config, signers.

The body models and handlers are imported by the coordinator by name
(``coordinator.webhook_fixtures:CVSubmission``), as a user's would be from their
project. Signatures come from the schemes' reference code where it exists
(PyPI ``standardwebhooks``, ``twilio``'s ``RequestValidator``) and from GitHub's
documented rule otherwise, never from the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, Field
from sqlalchemy import String, create_engine, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from raw.coordinator.app import Coordinator, create_app
from raw.coordinator.db.database import Database
from raw.coordinator.db.models import Delivery, InboxRecord
from raw.coordinator.ingest import Ignored
from raw.ports import free_port
from raw.project import Project

# --- the system's own code ----------------------------------------------------------------


class Candidate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", max_length=200)


class CVSubmission(BaseModel):
    submission_id: str = Field(min_length=1, max_length=100)
    candidate: Candidate
    cv_text: str = Field(max_length=20_000)
    years: int = Field(default=0, ge=0, le=80)


class CallStatus(BaseModel):
    """Twilio's status callback, the fields this system uses (Twilio sends more)."""

    CallSid: str
    CallStatus: str
    candidate: str


class UserBase(DeclarativeBase):
    pass


class CandidateRow(UserBase):
    """The system's own table, changed by the handler in the delivery's transaction."""

    __tablename__ = "hook_candidates"

    email: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    delivery_id: Mapped[int] = mapped_column()


async def record_candidate(session: AsyncSession, body: CVSubmission, delivery: Delivery) -> str:
    """The entity change: upsert the candidate; the entity key is their email."""
    row = await session.get(CandidateRow, body.candidate.email)
    if row is None:
        session.add(
            CandidateRow(
                email=body.candidate.email, name=body.candidate.name, delivery_id=delivery.id
            )
        )
    else:
        row.name = body.candidate.name
    return body.candidate.email


async def record_unless_blocked(
    session: AsyncSession, body: CVSubmission, delivery: Delivery
) -> str | Ignored:
    """Takes in a blocked sender's delivery without acting on it."""
    if body.candidate.email.endswith("@blocked.example"):
        return Ignored("the sender's domain is blocked", entity_key=body.candidate.email)
    return await record_candidate(session, body, delivery)


class HandlerFailed(Exception):
    pass


async def failing_handler(session: AsyncSession, body: CVSubmission, delivery: Delivery) -> str:
    """Changes the entity, then fails: nothing of the delivery may remain."""
    await record_candidate(session, body, delivery)
    await session.flush()
    raise HandlerFailed("the CRM is down")


# --- the system's config -------------------------------------------------------------------

SW_SECRET = "whsec_" + base64.b64encode(b"hook-standard-webhooks-secret-01").decode()
SW_SECRET_OLD = "whsec_" + base64.b64encode(b"hook-standard-webhooks-secret-00").decode()
GITHUB_SECRET = "hook-github-secret"
TWILIO_TOKEN = "hook-twilio-auth-token"
BEARER_SECRET = "hook-bearer-secret-value"
API_TOKEN = "hook-api-token-0123456789abcdef"

ENV = {
    "HOOK_SW_SECRET": SW_SECRET,
    "HOOK_SW_SECRET_OLD": SW_SECRET_OLD,
    "HOOK_GITHUB_SECRET": GITHUB_SECRET,
    "HOOK_TWILIO_TOKEN": TWILIO_TOKEN,
    "HOOK_BEARER_SECRET": BEARER_SECRET,
    "RAW_API_TOKEN": API_TOKEN,
}

MODELS = "coordinator.webhook_fixtures"

CONFIG = f"""\
version: 1
name: hooks
system:
  name: hooks
  coordinator:
    max_body_bytes: 4096
    dispatcher:
      poll_interval_seconds: 0.05
    webhooks:
      - name: cv-submission
        path: /webhooks/cv
        body: {MODELS}:CVSubmission
        scheme: standard-webhooks
        secrets: [HOOK_SW_SECRET, HOOK_SW_SECRET_OLD]
        handler: {MODELS}:record_candidate
        action: {{kind: run_workflow, workflow: analyze-cv}}
      - name: cv-guarded
        path: /webhooks/cv-guarded
        body: {MODELS}:CVSubmission
        scheme: standard-webhooks
        secrets: [HOOK_SW_SECRET]
        handler: {MODELS}:record_unless_blocked
        action: {{kind: start_process, process: HiringProcess, business_key: candidate.email}}
      - name: cv-keyed
        path: /webhooks/cv-keyed
        body: {MODELS}:CVSubmission
        scheme: github
        secrets: [HOOK_GITHUB_SECRET]
        delivery_key: submission_id
        action: {{kind: start_process, process: HiringProcess, business_key: candidate.email}}
      - name: cv-github
        path: /webhooks/cv-github
        body: {MODELS}:CVSubmission
        scheme: github
        secrets: [HOOK_GITHUB_SECRET]
      - name: call-status
        path: /webhooks/call-status
        content_type: form
        body: {MODELS}:CallStatus
        scheme: twilio
        secrets: [HOOK_TWILIO_TOKEN]
        delivery_key: CallSid
        action: {{kind: signal, process: hiring-process, business_key: candidate,
                  signal: call_completed}}
      - name: cv-plain
        path: /webhooks/cv-plain
        body: {MODELS}:CVSubmission
        scheme: standard-webhooks
        secrets: [HOOK_SW_SECRET]
        action: {{kind: start_process, process: HiringProcess, business_key: candidate.email}}
      - name: tiny
        path: /webhooks/tiny
        body: {MODELS}:CVSubmission
        scheme: standard-webhooks
        secrets: [HOOK_SW_SECRET]
        max_body_bytes: 256
      - name: broken
        path: /webhooks/broken
        body: {MODELS}:CVSubmission
        scheme: standard-webhooks
        secrets: [HOOK_SW_SECRET]
        handler: {MODELS}:failing_handler
      - name: free-form
        path: /webhooks/free-form
        scheme: bearer
        secrets: [HOOK_BEARER_SECRET]
        delivery_key: id
"""

PLAIN_CONFIG = """\
version: 1
name: plain
system:
  coordinator:
    webhooks:
      - name: free-form
        path: /webhooks/free-form
        scheme: bearer
        secrets: [HOOK_BEARER_SECRET]
        delivery_key: id
"""
"""A system without processes: Temporal plays no part in its readiness."""


def with_config(project: Project, text: str) -> Project:
    """The project with ``text`` as its config (a fresh Project: the config is cached)."""
    (project.root / ".raw" / "config.yaml").write_text(text, encoding="utf-8")
    return Project(project.root)


def cv_body(
    submission_id: str = "sub-1", email: str = "ada@example.com", **changes: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "submission_id": submission_id,
        "candidate": {"name": "Ada Lovelace", "email": email},
        "cv_text": "Ten years of Python.",
        "years": 10,
    }
    body.update(changes)
    return body


# --- signing, with the reference code -----------------------------------------------------


def standard_headers(
    body: str | bytes,
    *,
    secret: str = SW_SECRET,
    msg_id: str | None = None,
    timestamp: datetime | None = None,
) -> dict[str, str]:
    """Standard Webhooks headers made by the reference library."""
    from standardwebhooks import Webhook

    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    when = timestamp or datetime.now(UTC)
    text = body.decode() if isinstance(body, bytes) else body
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, when, text),
    }


def github_headers(
    body: bytes, *, secret: str = GITHUB_SECRET, delivery: str | None = None
) -> dict[str, str]:
    """GitHub's documented rule: sha256= hex HMAC-SHA256 of the body."""
    headers = {
        "content-type": "application/json",
        "X-Hub-Signature-256": "sha256="
        + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }
    if delivery is not None:
        headers["X-GitHub-Delivery"] = delivery
    return headers


def twilio_headers(
    url: str, params: dict[str, str], *, token: str = TWILIO_TOKEN
) -> dict[str, str]:
    """Twilio's signature from its own RequestValidator."""
    from twilio.request_validator import RequestValidator

    return {
        "content-type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": RequestValidator(token).compute_signature(url, params),
    }


def dumps(body: Any) -> bytes:
    return json.dumps(body).encode()


# --- running the app ----------------------------------------------------------------------


@dataclass
class Running:
    client: httpx.AsyncClient
    coordinator: Coordinator

    @property
    def db(self) -> Database:
        return self.coordinator.db

    async def counts(self) -> tuple[int, int]:
        """(deliveries, inbox records) stored."""
        async with self.db.read() as session:
            deliveries = await session.scalar(select(func.count()).select_from(Delivery))
            inbox = await session.scalar(select(func.count()).select_from(InboxRecord))
        return int(deliveries or 0), int(inbox or 0)

    async def candidates(self) -> list[str]:
        async with self.db.read() as session:
            return list(await session.scalars(select(CandidateRow.email)))

    def auth(self, token: str = API_TOKEN) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def running_app(
    project: Project, *, db_url: str | None = None, run_dispatcher: bool | None = False
) -> AsyncIterator[Running]:
    """The project's coordinator app through its lifespan, with an HTTP client on it."""
    db = Database(db_url) if db_url is not None else None
    app = create_app(project, db=db, run_dispatcher=run_dispatcher)
    coordinator: Coordinator = app.state.raw_coordinator
    try:
        async with app.router.lifespan_context(app):
            async with coordinator.db.write_connection() as conn:
                await conn.run_sync(UserBase.metadata.create_all)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                yield Running(client, coordinator)
    finally:
        if db is not None:
            await db.dispose()


def subprocess_pythonpath() -> str:
    """PYTHONPATH for a subprocess: the tests (the system's models), then the caller's own."""
    parts = [str(Path(__file__).parent.parent), os.environ.get("PYTHONPATH", "")]
    return os.pathsep.join(part for part in parts if part)


@dataclass
class Served:
    """``raw serve`` running in a process of its own, on 127.0.0.1."""

    base_url: str
    port: int
    process: subprocess.Popen[str]


@contextmanager
def raw_serve(project: Project, db_path: Path, **env_changes: str) -> Iterator[Served]:
    """``raw serve`` on the project (its secrets set, RAW_* otherwise unset), stopped with SIGINT.

    Yields once ``/health`` answers; on leaving, the server must exit 0.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_")} | ENV
    env["DATABASE_URL"] = f"sqlite:///{db_path}"
    engine = create_engine(env["DATABASE_URL"])  # the system's own table, its own migration
    UserBase.metadata.create_all(engine)
    engine.dispose()
    env["RAW_DISPATCHER"] = "off"
    env["PYTHONPATH"] = subprocess_pythonpath()  # the system's models
    env.update(env_changes)
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("raw")), "serve", "--port", str(port)]
        + ["--log-level", "warning"],
        cwd=project.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.communicate()[1]
            assert time.monotonic() < deadline, "raw serve did not come up"
            time.sleep(0.1)
        yield Served(base, port, server)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            _, stderr = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            _, stderr = server.communicate()
    assert server.returncode == 0, stderr
