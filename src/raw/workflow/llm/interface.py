"""The interface a workflow's ``self.llm`` offers: :class:`LLM`."""

from __future__ import annotations

from typing import Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

__all__ = ["LLM", "M"]

M = TypeVar("M", bound=BaseModel)


@runtime_checkable
class LLM(Protocol):
    """What a workflow can ask of its LLM."""

    def complete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> str:
        """The model's text answer to ``prompt``."""
        ...

    def extract(self, prompt: str, model: type[M], *, system: str | None = None) -> M:
        """The model's answer to ``prompt`` as a validated instance of ``model``."""
        ...

    async def acomplete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> str:
        """Async twin of :meth:`complete`."""
        ...

    async def aextract(self, prompt: str, model: type[M], *, system: str | None = None) -> M:
        """Async twin of :meth:`extract`."""
        ...
