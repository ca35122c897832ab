"""The hiring process's side effects: the candidate's row, emails, calls, the summary.

Each activity may run more than once (Temporal retries it): each effect is keyed
on the activity's idempotency key, and row updates set values rather than add.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from hiring import emails, outbound
from hiring.contracts import CallRequest, CandidateUpdate, EmailRequest, PlacedCall, SummaryRecord
from hiring.state import database, public_base_url
from hiring.tables import Candidate, booking_token
from raw import clock


def _key() -> str:
    info = activity.info()
    return f"{info.workflow_id}:{info.workflow_run_id}:{info.activity_id}"


async def _candidate(candidate_id: str) -> Candidate:
    async with database().read() as session:
        row = await session.get(Candidate, candidate_id)
        if row is None:
            raise ApplicationError(
                f"No candidate '{candidate_id}' in the database.", non_retryable=True
            )
        session.expunge(row)
        return row


@activity.defn
async def update_candidate(update: CandidateUpdate) -> None:
    values = update.model_dump(exclude_none=True, exclude={"candidate_id"})
    async with database().write() as session:
        row = await session.get(Candidate, update.candidate_id)
        if row is None:
            raise ApplicationError(
                f"No candidate '{update.candidate_id}' in the database.", non_retryable=True
            )
        for name in values:
            setattr(row, name, getattr(update, name))  # models, not their JSON dump
        row.updated_at = clock.now()


@activity.defn
async def send_email(request: EmailRequest) -> str:
    row = await _candidate(request.candidate_id)
    subject, text = emails.render(
        request.kind,
        candidate_id=row.candidate_id,
        name=row.name,
        email=row.email,
        position=row.position,
        booking_token=booking_token(row),
    )
    return await outbound.email(row.email, subject, text, idempotency_key=_key())


@activity.defn
async def place_call(request: CallRequest) -> PlacedCall:
    row = await _candidate(request.candidate_id)
    callback = f"{public_base_url()}/webhooks/call-status?candidate_id={row.candidate_id}"
    sid, status = await outbound.call(row.phone, callback, idempotency_key=_key())
    return PlacedCall(call_sid=sid, status=status)


@activity.defn
async def store_summary(record: SummaryRecord) -> None:
    await outbound.store_json(f"summaries/{record.candidate_id}.json", record.summary)
    await update_candidate(
        CandidateUpdate(candidate_id=record.candidate_id, summary=record.summary)
    )


@activity.defn
async def erase_cv(candidate_id: str) -> int:
    """The retention period is over: erase the CV and the deliveries' personal data."""
    from raw.coordinator.db.retention import erase_entity

    db = database()
    async with db.write() as session:
        row = await session.get(Candidate, candidate_id)
        if row is not None and row.cv_text is not None:
            row.cv_text = None
            row.cv_erased_at = row.updated_at = clock.now()
    return await erase_entity(db, candidate_id)
