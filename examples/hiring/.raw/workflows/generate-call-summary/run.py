"""Summarise a screening call from its transcript: summary, recommendation, highlights."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from raw import BaseWorkflow, retry, step


class Params(BaseModel):
    candidate_id: str = Field(..., min_length=1, description="The candidate called.")
    candidate_name: str = Field(default="the candidate", description="Their name.")
    position: str = Field(default="Backend engineer", description="The position applied for.")
    transcript: str = Field(default="", description="The call's transcript, if there is one.")
    call_duration_seconds: int = Field(default=0, ge=0, description="How long the call lasted.")


class CallSummary(BaseModel):
    summary: str = Field(description="Three sentences at most.")
    recommendation: Literal["advance", "hold", "reject"]
    highlights: list[str] = Field(description="Up to three notable points.")


class GenerateCallSummary(BaseWorkflow[Params]):
    """Summarise a screening call from its transcript: summary, recommendation, highlights."""

    @step("summarise")
    @retry(max_attempts=3, backoff="exponential", base_delay_seconds=1.0)
    def summarise(self) -> CallSummary:
        minutes = round(self.params.call_duration_seconds / 60, 1)
        transcript = self.params.transcript.strip() or "(no transcript: summarise from the facts)"
        return self.llm.extract(
            f"Summarise this {minutes}-minute screening call with {self.params.candidate_name} "
            f"for the position '{self.params.position}', and recommend whether to advance "
            f"them.\n\nTranscript:\n{transcript}",
            CallSummary,
        )


if __name__ == "__main__":
    GenerateCallSummary.main()
