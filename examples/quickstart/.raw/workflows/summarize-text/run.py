"""Summarise a text in a few words and extract its key points with the LLM."""

from __future__ import annotations

from pydantic import BaseModel, Field

from raw import BaseWorkflow, retry, step


class Params(BaseModel):
    text: str = Field(..., min_length=1, description="The text to summarise.")
    max_words: int = Field(default=30, ge=5, description="Longest summary, in words.")


class KeyPoints(BaseModel):
    points: list[str] = Field(description="Three or fewer key points, one sentence each.")
    tone: str = Field(description="The text's tone in one word.")


class Summary(BaseModel):
    summary: str
    key_points: KeyPoints


class SummarizeText(BaseWorkflow[Params]):
    """Summarise a text in a few words and extract its key points with the LLM."""

    @step("summarise")
    @retry(max_attempts=3, backoff="exponential", base_delay_seconds=1.0)
    def summarise(self) -> str:
        return self.llm.complete(
            f"Summarise in at most {self.params.max_words} words:\n\n{self.params.text}"
        )

    @step("key-points")
    @retry(max_attempts=2)
    def key_points(self) -> KeyPoints:
        return self.llm.extract(f"List the key points of:\n\n{self.params.text}", KeyPoints)

    def run(self) -> Summary:
        result = Summary(summary=self.summarise(), key_points=self.key_points())
        self.save("summary.json", result)
        return result
