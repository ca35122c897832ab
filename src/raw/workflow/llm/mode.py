"""Where a run's ``self.llm`` answers from: the provider or recorded responses."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from raw.errors import LLMError

__all__ = ["LLM_MODE_SETTING", "LLMMode", "llm_source", "provider_configured"]

LLM_MODE_SETTING = "RAW_LLM_MODE"
LLMMode = Literal["provider", "recorded", "auto"]


def provider_configured(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``RAW_LLM_BASE_URL`` and ``RAW_LLM_MODEL`` name a provider."""
    env = os.environ if environ is None else environ
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
