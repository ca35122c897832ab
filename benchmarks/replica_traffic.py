"""The senders of the replicas run: the careers form and Cal.com, retrying as real providers do.

A delivery is signed once and posted again, byte for byte (same webhook id), after a
connection error or a 5xx, until it is answered 2xx (accepted) or 4xx (refused). The
phone simulator (``raw integrations serve``) posts Twilio's call-status callbacks
itself, with its own retries.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from raw import clock
from raw.coordinator.sender import encode_body, signed_delivery
from raw.project import Project

AFTER_SCREENING = {
    "awaiting-booking",
    "call-scheduled",
    "calling",
    "call-retry",
    "summarising",
    "completed",
}


@dataclass
class Accepted:
    route: str
    correlation_id: str
    target: str


@dataclass
class Senders:
    """Signs and sends the system's webhooks through the front; counts what happened."""

    project: Project
    base_url: str
    secrets: dict[str, str]
    client: httpx.AsyncClient
    accepted: list[Accepted] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    retries: Counter[str] = field(default_factory=Counter)
    """Posts sent again, by why: 'connection' or the 5xx status."""

    async def deliver(self, route_name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Post until a 2xx (returned) or a 4xx (raised); the same signed bytes every time."""
        route = next(
            r for r in self.project.config.system.coordinator.webhooks if r.name == route_name
        )
        content, form = encode_body(body, as_form=route.content_type == "form")
        signed = signed_delivery(
            route,
            content,
            form,
            base_url=self.base_url,
            secret=self.secrets[route.secrets[0]],
            now=clock.now(),
            public_base_url=self.base_url,
        )
        wait = 0.1
        deadline = time.monotonic() + 300
        while True:
            try:
                answer = await self.client.post(
                    signed.url, content=signed.body, headers=signed.headers
                )
            except httpx.TransportError:
                self.retries["connection"] += 1
            else:
                if answer.is_success:
                    document: dict[str, Any] = answer.json()
                    self.accepted.append(
                        Accepted(route_name, document["correlation_id"], document.get("target", ""))
                    )
                    return document
                if answer.status_code < 500 and answer.status_code != 429:
                    self.refused.append(f"{route_name}: {answer.status_code} {answer.text[:200]}")
                    raise RuntimeError(self.refused[-1])
                self.retries[str(answer.status_code)] += 1
            if time.monotonic() > deadline:
                raise TimeoutError(f"{route_name} was not accepted in 300 s")
            await asyncio.sleep(wait)
            wait = min(wait * 2, 2.0)


def cv(index: int, run: str) -> dict[str, str]:
    """Application ``index``: its own email and phone, so every effect names its candidate."""
    return {
        "submission_id": f"form-{run}-{index}",
        "name": f"Candidate {index}",
        "email": f"candidate-{run}-{index}@example.com",
        "phone": f"+1555{index:07d}",
        "position": "Backend engineer",
        "cv_text": "Ten years of Python and PostgreSQL; built event-driven systems.",
    }


def booking(
    application: dict[str, str], candidate_id: str, token: str, start: datetime
) -> dict[str, Any]:
    """The candidate's booking through their own link (the token their emails carry)."""
    iso = start.astimezone(UTC).isoformat()
    return {
        "triggerEvent": "BOOKING_CREATED",
        "createdAt": datetime.now(UTC).isoformat(),
        "payload": {
            "uid": f"booking-{application['submission_id']}",
            "title": "Screening call",
            "startTime": iso,
            "endTime": (start + timedelta(minutes=20)).astimezone(UTC).isoformat(),
            "attendees": [{"name": application["name"], "email": application["email"]}],
            "metadata": {"candidate_id": candidate_id, "booking_token": token},
        },
    }


class Statuses:
    """The candidates' statuses, read from the database by one poller; tasks wait on them."""

    def __init__(self) -> None:
        self.status: dict[str, str] = {}
        self._changed = asyncio.Event()

    def update(self, rows: dict[str, str]) -> None:
        if rows != self.status:
            self.status = rows
            self._changed.set()

    async def reached(self, candidate_id: str, statuses: set[str]) -> None:
        while self.status.get(candidate_id) not in statuses:
            self._changed.clear()
            await self._changed.wait()

    def count(self, status: str) -> int:
        return sum(1 for s in self.status.values() if s == status)


async def apply(
    senders: Senders,
    statuses: Statuses,
    index: int,
    run: str,
    *,
    start_at: float,
    call_delay_seconds: float,
) -> str:
    """One application: the CV; once screened, a booking a little ahead; its candidate id."""
    await asyncio.sleep(max(start_at - time.monotonic(), 0.0))
    application = cv(index, run)
    answer = await senders.deliver("cv-submission", application)
    candidate_id = str(answer["target"]).split("/", 1)[1]
    await statuses.reached(candidate_id, AFTER_SCREENING)
    start = datetime.now(UTC) + timedelta(seconds=call_delay_seconds)
    await senders.deliver(
        "calendar-booking", booking(application, candidate_id, answer["correlation_id"], start)
    )
    return candidate_id
