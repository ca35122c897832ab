"""Outbound calls: the reference to a placed call, and the interface every adapter implements.

A call's outcome arrives later as a status callback (Twilio's form post, signed
with the account's auth token) to ``status_callback_url``: declare that URL as a
coordinator webhook route with ``scheme: twilio`` and the same token setting.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from raw.integrations.sync import sync_twin

__all__ = ["CALL_EVENTS", "CallRef", "PlaceCallRequest", "Telephony"]

CALL_EVENTS = ("initiated", "ringing", "answered", "completed")
"""Twilio's StatusCallbackEvent values; with none given, only ``completed`` is posted."""


class CallRef(BaseModel):
    """A placed call, as the provider answered."""

    model_config = ConfigDict(populate_by_name=True)

    sid: str = Field(description="The provider's call id, 'CA...'; CallSid in callbacks.")
    status: str = Field(description="queued, ringing, in-progress, completed, busy, ...")
    to: str
    from_: str = Field(alias="from")


class PlaceCallRequest(BaseModel):
    """A call to place: whom, from which number, what it does and where its outcome goes.

    What the call does is ``twiml`` (TwiML instructions) or ``url`` (where the
    provider fetches them); give one. The outcome is posted to
    ``status_callback_url``; ``status_callback_events`` asks for intermediate
    events too (:data:`CALL_EVENTS`). ``idempotency_key`` is the same on every
    retry of one logical call: a provider that honours it (the local simulator
    does) places the call once.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    to: str = Field(description="The number to call (E.164).")
    from_: str | None = Field(
        default=None, description="The caller id (default: telephony.from_number)."
    )
    status_callback_url: str
    idempotency_key: str | None = None
    twiml: str | None = None
    url: str | None = None
    status_callback_events: tuple[str, ...] = ()
    timeout_seconds: int | None = None


class Telephony(abc.ABC):
    """Places calls. ``await telephony.place_call(...)``, or ``place_call_sync`` in sync code.

    An adapter implements :meth:`place`, which takes the one :class:`PlaceCallRequest`.
    """

    @abc.abstractmethod
    async def place(self, call: PlaceCallRequest) -> CallRef:
        """Place ``call``; raises :class:`~raw.integrations.errors.TelephonyError` if refused."""

    async def place_call(
        self,
        to: str,
        from_: str | None = None,
        *,
        status_callback_url: str,
        idempotency_key: str | None = None,
        twiml: str | None = None,
        url: str | None = None,
        status_callback_events: Sequence[str] = (),
        timeout_seconds: int | None = None,
    ) -> CallRef:
        """Place a call to ``to`` (E.164) from ``from_``: :class:`PlaceCallRequest`'s fields."""
        call = PlaceCallRequest(
            to=to,
            from_=from_,
            status_callback_url=status_callback_url,
            idempotency_key=idempotency_key,
            twiml=twiml,
            url=url,
            status_callback_events=tuple(status_callback_events),
            timeout_seconds=timeout_seconds,
        )
        return await self.place(call)

    place_call_sync = sync_twin(place_call)
