"""What the hiring process and its activities pass each other: one model per call.

Kept free of I/O imports, so the process module (deterministic, sandboxed) can use
them; the activities live in ``hiring.activities``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

EmailKind = Literal["rejection", "scheduling", "reminder", "no-booking", "withdrawn", "unreachable"]


class CandidateUpdate(BaseModel):
    """Fields of the candidate's row to set (None: leave as is)."""

    candidate_id: str
    status: str | None = None
    score: float | None = None
    qualified: bool | None = None
    analysis: dict[str, Any] | None = None
    llm: str | None = None
    call_time: datetime | None = None
    call_sid: str | None = None
    call_attempts: int | None = None
    summary: dict[str, Any] | None = None


class EmailRequest(BaseModel):
    candidate_id: str
    kind: EmailKind


class CallRequest(BaseModel):
    candidate_id: str
    attempt: int = Field(ge=1)


class PlacedCall(BaseModel):
    call_sid: str
    status: str


class SummaryRecord(BaseModel):
    candidate_id: str
    summary: dict[str, Any]


Outcome = Literal["rejected", "no-booking", "withdrawn", "unreachable", "completed"]


class HiringOutcome(BaseModel):
    """What the process ended with."""

    candidate_id: str
    outcome: Outcome
    cv_erased: bool = False
    call_attempts: int = 0
