"""Webhook handlers: the entity change made in the delivery's own transaction.

Each returns the candidate id, which the coordinator stores as the delivery's
entity key (what ``raw db erase <candidate-id>`` finds).
"""

from __future__ import annotations

import hmac

from sqlalchemy.ext.asyncio import AsyncSession

from hiring.models import CalendarBooking, CallStatus, CVSubmission, Withdrawal
from hiring.tables import Candidate, booking_token
from raw import clock
from raw.coordinator.db.models import Delivery
from raw.coordinator.ingest import Ignored


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
) -> str | Ignored | None:
    """A booking moves a candidate's process on only when it came through the candidate's
    own link (its token) and the candidate is among its attendees.

    Anything else is taken in and ignored, not refused: Cal.com retries a delivery
    answered with an error, and retrying cannot make a stranger's booking right. The
    operator page lists it with the reason.
    """
    candidate_id = body.candidate_id
    row = await session.get(Candidate, candidate_id) if candidate_id else None
    if row is None:  # no process to move either: its signal becomes a dead letter to look at
        return candidate_id
    expected = booking_token(row)
    if not expected or not hmac.compare_digest(body.booking_token.encode(), expected.encode()):
        return Ignored(
            f"the booking was not made through candidate {candidate_id}'s booking link "
            "(its booking_token is missing or wrong)",
            entity_key=candidate_id,
        )
    attendees = [attendee.email.strip().lower() for attendee in body.payload.attendees]
    if row.email.strip().lower() not in attendees:
        shown = ", ".join(attendees) or "none"
        return Ignored(
            f"the booking's attendees ({shown}) do not include candidate {candidate_id}",
            entity_key=candidate_id,
        )
    return candidate_id


async def call_status_received(session: AsyncSession, body: CallStatus, delivery: Delivery) -> str:
    return body.candidate_id


async def withdrawal_received(session: AsyncSession, body: Withdrawal, delivery: Delivery) -> str:
    return body.candidate_id
