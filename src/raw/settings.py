"""Settings read from the environment (``RAW_*``), through pydantic-settings.

Importing pydantic-settings costs ~130 ms, so nothing on ``raw run``'s start-up
path imports this module: it loads when a setting is first needed (the LLM
client's first call, the coordinator's start).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

StructuredOutput = Literal["json_schema", "json_object", "prompt"]


class LLMSettings(BaseSettings):
    """The LLM provider, read from ``RAW_LLM_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="RAW_LLM_", env_ignore_empty=True)

    base_url: str | None = None
    """Any OpenAI-compatible endpoint, e.g. https://api.openai.com/v1 or http://localhost:11434/v1."""
    api_key: SecretStr | None = None
    """Optional: local servers (Ollama, vLLM) need none."""
    model: str | None = None
    timeout_seconds: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=2, ge=0)
    structured_output: StructuredOutput = "json_schema"
