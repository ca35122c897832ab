"""Score a CV against the open position with the LLM: score, qualified, strengths, concerns."""

from __future__ import annotations

from pydantic import BaseModel, Field

from raw import BaseWorkflow, retry, step

QUALIFIED_AT = 0.7
"""The score from which a candidate is invited to a call."""


class Params(BaseModel):
    cv_text: str = Field(..., min_length=1, max_length=50_000, description="The CV, as text.")
    position: str = Field(default="Backend engineer", description="The position applied for.")
    candidate_id: str | None = Field(default=None, description="The candidate, for the log.")


class CVAnalysis(BaseModel):
    score: float = Field(ge=0.0, le=1.0, description="Fit for the position, 0 to 1.")
    qualified: bool = Field(description="Whether to invite the candidate to a call.")
    strengths: list[str] = Field(description="Up to three strengths, one short sentence each.")
    concerns: list[str] = Field(description="Up to three concerns, one short sentence each.")


class AnalyzeCV(BaseWorkflow[Params]):
    """Score a CV against the open position with the LLM: score, qualified, strengths, concerns."""

    @step("score")
    @retry(max_attempts=3, backoff="exponential", base_delay_seconds=1.0)
    def score(self) -> CVAnalysis:
        analysis = self.llm.extract(
            f"You screen candidates for the position '{self.params.position}'. Score this CV "
            "from 0 (no fit) to 1 (excellent fit), and list its strengths and concerns.\n\n"
            f"CV:\n{self.params.cv_text}",
            CVAnalysis,
        )
        # The threshold is ours, not the model's: qualified always agrees with the score.
        qualified = analysis.score >= QUALIFIED_AT
        self.log(f"candidate {self.params.candidate_id or '-'} scored {analysis.score:.2f}")
        return analysis.model_copy(update={"qualified": qualified})


if __name__ == "__main__":
    AnalyzeCV.main()
