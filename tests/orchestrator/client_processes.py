"""Tiny Temporal workflows for the client-helper tests; importing this module does nothing else.

``ClientEcho`` waits for a ``finish`` signal and keeps the ``note`` signals it
receives, deduplicated by the SignalEnvelope's idempotency key, so the tests can
see exactly what the kit delivered. ``ClientBooking`` is built on the kit's
``RawProcess``, which unwraps the envelope and drops repeated keys itself.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from raw.orchestrator.search_attributes import RAW_STEP, RAW_WAITING_FOR
    from raw.orchestrator.workflow import RawProcess, SignalEnvelope, first_signal


class EchoInput(BaseModel):
    greeting: str = "hello"


@workflow.defn(name="ClientEcho")
class ClientEcho:
    def __init__(self) -> None:
        self.greeting = ""
        self.notes: list[Any] = []
        self.keys: list[str] = []
        self.deliveries = 0
        self.done = False

    @workflow.run
    async def run(self, start: EchoInput | None = None) -> list[Any]:
        self.greeting = (start or EchoInput()).greeting
        workflow.upsert_search_attributes(
            [RAW_STEP.value_set("collecting"), RAW_WAITING_FOR.value_set("finish")]
        )
        await workflow.wait_condition(lambda: self.done)
        return self.notes

    @workflow.signal(name="note")
    def note(self, envelope: SignalEnvelope) -> None:
        self.deliveries += 1
        if envelope.idempotency_key in self.keys:
            return
        self.keys.append(envelope.idempotency_key)
        self.notes.append(envelope.payload)

    @workflow.signal(name="finish")
    def finish(self, envelope: SignalEnvelope) -> None:
        self.done = True

    @workflow.query(name="raw_state")
    def raw_state(self) -> dict[str, Any]:
        return {
            "greeting": self.greeting,
            "notes": self.notes,
            "keys": self.keys,
            "deliveries": self.deliveries,
        }


@workflow.defn(name="ClientBooking")
class ClientBooking(RawProcess):
    @workflow.run
    async def run(self) -> dict[str, Any]:
        booked = await first_signal(self, ["booked"])
        await first_signal(self, ["done"])
        return {
            "booked": booked.payload if booked else None,
            "signals": self.raw_state().signals,
            "pending": self.raw_state().pending_signals,
        }
