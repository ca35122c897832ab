"""Webhook handlers: the entity change made in the delivery's own transaction.

Each returns the candidate id, which the coordinator stores as the delivery's
entity key (what ``raw db erase <candidate-id>`` finds).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hiring.models import CalendarBooking, CallStatus, CVSubmission, Withdrawal
from hiring.tables import Candidate
from raw import clock
from raw.coordinator.db.models import Delivery


async def cv_submitted(session: AsyncSession, body: CVSubmission, delivery: Delivery) -> str:
    """A new candidate is ``received``; a second form from the same person changes nothing
    (their process is already running)."""
    if await session.get(Candidate, body.candidate_id) is None:
        now = clock.now()
        session.add(
            Candidate(
                candidate_id=body.candidate_id,
                name=body.name,
                email=body.email,
                phone=body.phone,
                position=body.position,
                cv_text=body.cv_text,
                status="received",
                call_attempts=0,
                correlation_id=delivery.correlation_id,
                submitted_at=now,
                updated_at=now,
            )
        )
    return body.candidate_id


async def booking_received(
    session: AsyncSession, body: CalendarBooking, delivery: Delivery
) -> str | None:
    return body.candidate_id


async def call_status_received(session: AsyncSession, body: CallStatus, delivery: Delivery) -> str:
    return body.candidate_id


async def withdrawal_received(session: AsyncSession, body: Withdrawal, delivery: Delivery) -> str:
    return body.candidate_id
