"""Where a run's ``self.llm`` answers from: the provider or recorded responses."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from raw.errors import LLMError

__all__ = [
    "LLM_MODE_SETTING",
    "LLMMode",
    "Provider",
    "llm_source",
    "provider_configured",
    "provider_for",
]

LLM_MODE_SETTING = "RAW_LLM_MODE"
LLMMode = Literal["provider", "recorded", "auto"]


Provider = Literal["raw", "openai", "anthropic"]
_OPENAI_MODELS = ("gpt", "o1", "o3", "o4", "chatgpt")


def provider_for(environ: Mapping[str, str] | None = None) -> Provider:
    """Which provider answers ``self.llm``.

    ``RAW_LLM_BASE_URL`` (any OpenAI-compatible endpoint) comes first. Otherwise the
    original runtime's keys: ``ANTHROPIC_API_KEY`` (Anthropic's Messages API) or
    ``OPENAI_API_KEY`` (api.openai.com, or ``OPENAI_BASE_URL``). With both, a
    ``RAW_LLM_MODEL`` naming one's models (``claude-...``, ``gpt-...``) decides, else
    Anthropic, as the original preferred it. "raw" with none of them: the call then
    names the settings to set.
    """
    env = os.environ if environ is None else environ
    if env.get("RAW_LLM_BASE_URL", "").strip():
        return "raw"
    anthropic = bool(env.get("ANTHROPIC_API_KEY", "").strip())
    openai = bool(env.get("OPENAI_API_KEY", "").strip())
    model = env.get("RAW_LLM_MODEL", "").strip().lower()
    if anthropic and openai and model.startswith(_OPENAI_MODELS):
        return "openai"
    if anthropic:
        return "anthropic"
    return "openai" if openai else "raw"


def provider_configured(environ: Mapping[str, str] | None = None) -> bool:
    """Whether a provider is configured: ``RAW_LLM_BASE_URL`` and ``RAW_LLM_MODEL``, or a key.

    The keys are the original runtime's ``OPENAI_API_KEY`` and ``ANTHROPIC_API_KEY``.
    """
    env = os.environ if environ is None else environ
    if provider_for(env) != "raw":
        return True
    return bool(env.get("RAW_LLM_BASE_URL", "").strip() and env.get("RAW_LLM_MODEL", "").strip())


def llm_source(environ: Mapping[str, str] | None = None) -> Literal["provider", "recorded"]:
    """Where a (non-dry) run's ``self.llm`` answers from, by ``RAW_LLM_MODE``.

    ``provider`` (the default): the configured provider, an error naming the settings
    if there is none. ``recorded``: the workflow's recorded responses in
    ``mocks/llm.json``. ``auto``: the provider when one is configured, else recorded
    (what ``raw up`` and ``raw simulate`` use, so a fresh machine runs a system).
    """
    env = os.environ if environ is None else environ
    mode = env.get(LLM_MODE_SETTING, "provider").strip().lower() or "provider"
    if mode not in ("provider", "recorded", "auto"):
        raise LLMError(
            f"{LLM_MODE_SETTING}='{mode}' is not a mode: use provider, recorded or auto."
        )
    if mode == "auto":
        return "provider" if provider_configured(env) else "recorded"
    return "recorded" if mode == "recorded" else "provider"
