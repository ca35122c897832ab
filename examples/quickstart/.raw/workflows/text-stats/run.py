"""Count words and sentences in a text and list its most frequent words."""

from __future__ import annotations

import re
from collections import Counter

from pydantic import BaseModel, Field

from raw import BaseWorkflow, cache, step

STOPWORDS = {"a", "an", "and", "are", "as", "by", "for", "in", "is", "it", "of", "on", "or",
             "that", "the", "they", "this", "to", "with"}


class Params(BaseModel):
    text: str = Field(..., min_length=1, description="The text to analyse.")
    top: int = Field(default=5, ge=1, le=50, description="How many frequent words to list.")
    include_stopwords: bool = Field(default=False, description="Count words like 'the' and 'of'.")


class Stats(BaseModel):
    words: int
    sentences: int
    reading_seconds: int
    top_words: list[tuple[str, int]]


class TextStats(BaseWorkflow[Params]):
    """Count words and sentences in a text and list its most frequent words."""

    @step("tokenise")
    def tokenise(self) -> list[str]:
        return re.findall(r"[a-z0-9']+", self.params.text.lower())

    @step("count")
    @cache
    def count(self, words: list[str]) -> Stats:
        counted = Counter(w for w in words if self.params.include_stopwords or w not in STOPWORDS)
        sentences = len([s for s in re.split(r"[.!?]+", self.params.text) if s.strip()])
        return Stats(
            words=len(words),
            sentences=sentences,
            reading_seconds=round(len(words) / 4),  # ~240 words a minute
            top_words=counted.most_common(self.params.top),
        )

    def run(self) -> Stats:
        stats = self.count(self.tokenise())
        self.save("stats.json", stats)
        self.log(f"{stats.words} words, {stats.sentences} sentences")
        return stats
