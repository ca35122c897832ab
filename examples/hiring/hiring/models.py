"""The bodies of the system's webhooks, as their senders post them.

Each route in ``.raw/config.yaml`` names one of these. Computed fields become part
of the stored payload, so a route can key deliveries and processes on them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE = r"^\+[1-9][0-9]{6,14}$"


def candidate_id_for(email: str) -> str:
    """One candidate per email address, whatever the form or how often it is sent."""
    return "c-" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:12]


class CVSubmission(BaseModel):
    """The careers form (a form post signed with Standard Webhooks)."""

    submission_id: str = Field(min_length=1, max_length=100, description="The form's own id.")
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(pattern=EMAIL, max_length=320)
    phone: str = Field(pattern=PHONE, description="E.164, e.g. +442071838750.")
    position: str = Field(default="Backend engineer", min_length=1, max_length=200)
    cv_text: str = Field(min_length=1, max_length=50_000)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def candidate_id(self) -> str:
        return candidate_id_for(self.email)


class Attendee(BaseModel):
    name: str
    email: str
    timeZone: str = "UTC"  # noqa: N815 (the sender's field name)


class Booking(BaseModel):
    model_config = ConfigDict(extra="allow")

    uid: str = Field(min_length=1, max_length=100)
    title: str = ""
    startTime: datetime  # noqa: N815
    endTime: datetime  # noqa: N815
    attendees: list[Attendee] = Field(default_factory=list)
    metadata: dict[str, str] = Field(default_factory=dict)


class CalendarBooking(BaseModel):
    """A Cal.com booking webhook (``X-Cal-Signature-256``); the booking link carries the
    candidate id and the candidate's booking token in its metadata (Cal.com passes the
    link's ``metadata[...]`` back)."""

    model_config = ConfigDict(extra="allow")

    triggerEvent: Literal["BOOKING_CREATED", "BOOKING_RESCHEDULED"]  # noqa: N815
    createdAt: datetime  # noqa: N815
    payload: Booking

    @computed_field  # type: ignore[prop-decorator]
    @property
    def candidate_id(self) -> str | None:
        return self.payload.metadata.get("candidate_id")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def delivery(self) -> str:
        return f"{self.triggerEvent}:{self.payload.uid}:{self.payload.startTime.isoformat()}"

    @property
    def booking_token(self) -> str:
        """The token of the link it was booked through ('' when there is none)."""
        return self.payload.metadata.get("booking_token", "")


CallState = Literal[
    "queued",
    "initiated",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
]


class CallStatus(BaseModel):
    """Twilio's status callback (a form post signed with ``X-Twilio-Signature``); the
    candidate id comes from the callback URL's query, which Twilio signs too."""

    model_config = ConfigDict(extra="allow")

    CallSid: str = Field(min_length=1, max_length=64)
    AccountSid: str = ""
    From: str = ""
    To: str = ""
    CallStatus: CallState
    CallDuration: int | None = None
    TranscriptionText: str | None = Field(default=None, max_length=100_000)
    candidate_id: str = Field(min_length=1, max_length=40)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def delivery(self) -> str:
        return f"{self.CallSid}:{self.CallStatus}"


class Withdrawal(BaseModel):
    """A candidate withdraws (from the careers portal, Standard Webhooks)."""

    candidate_id: str = Field(min_length=1, max_length=40)
    reason: str = Field(default="", max_length=2_000)
