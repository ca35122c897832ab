"""Pattern 1 (Webhook -> RAW -> Database): a system's own entity, its form, its hooks.

A form submission creates the applicant row as ``pending`` in the delivery's
transaction; the dispatcher runs the RAW workflow; ``on_result`` turns the row
``complete`` with the output (or ``failed`` with the error) in the transaction
that finishes the inbox record.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import JSON, String, Text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from raw.coordinator.actions import ActionOutcome, InboxItem
from raw.coordinator.db.models import Delivery


class ApplicationForm(BaseModel):
    submission_id: str = Field(min_length=1, max_length=100)
    email: str = Field(min_length=3, max_length=200)
    cv_text: str = Field(min_length=1, max_length=5000)


class P1Base(DeclarativeBase):
    pass


class Applicant(P1Base):
    __tablename__ = "p1_applicants"

    email: Mapped[str] = mapped_column(String(200), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    output: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


async def save_pending(session: AsyncSession, body: ApplicationForm, delivery: Delivery) -> str:
    session.add(Applicant(email=body.email, status="pending"))
    return body.email


async def save_result(session: AsyncSession, item: InboxItem, outcome: ActionOutcome) -> None:
    row = await session.get(Applicant, item.payload["email"])
    assert row is not None
    if outcome.status == "done":
        row.status = "complete"
        row.output = (outcome.result or {}).get("output")
    else:
        row.status = "failed"
        row.error = outcome.error


SECRET_SETTING = "P1_FORM_SECRET"

CONFIG = """\
version: 1
system:
  coordinator:
    dispatcher: {max_attempts: 3, base_delay_seconds: 0.05, max_delay_seconds: 0.1,
                 poll_interval_seconds: 0.05}
    webhooks:
      - name: application
        path: /webhooks/application
        content_type: form
        body: coordinator.pattern1_fixtures:ApplicationForm
        scheme: standard-webhooks
        secrets: [P1_FORM_SECRET]
        delivery_key: submission_id
        handler: coordinator.pattern1_fixtures:save_pending
        action:
          kind: run_workflow
          workflow: WORKFLOW
          params: {cv_text: cv_text}
          on_result: coordinator.pattern1_fixtures:save_result
"""

ANALYZE = """
    from pydantic import BaseModel

    from raw import BaseWorkflow, step

    class Params(BaseModel):
        cv_text: str

    class AnalyzeCV(BaseWorkflow[Params]):
        @step("score")
        def score(self) -> dict:
            score = 0.9 if "python" in self.params.cv_text.lower() else 0.2
            return {"score": score, "qualified": score > 0.7}
"""

BROKEN = """
    from pydantic import BaseModel

    from raw import BaseWorkflow, step

    class Params(BaseModel):
        cv_text: str

    class Broken(BaseWorkflow[Params]):
        @step("score")
        def score(self) -> dict:
            raise RuntimeError("the scoring model is unavailable")
"""
