"""Settings read from the environment (``RAW_*``), through pydantic-settings.

- :class:`LLMSettings`: the LLM provider (``RAW_LLM_*``).
- :class:`CoordinatorSettings`: the coordinator's (``RAW_ENV``, the API token,
  ``RAW_PUBLIC_BASE_URL``, ``RAW_TRUSTED_PROXIES``, ``RAW_DISPATCHER``); the
  coordinator reads and checks them with :func:`raw.coordinator.settings.load_settings`.

Importing pydantic-settings costs ~130 ms, so nothing on ``raw run``'s start-up
path imports this module: it loads when a setting is first needed (the LLM
client's first call, the coordinator's start).
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["CoordinatorSettings", "LLMSettings", "StructuredOutput"]

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


class CoordinatorSettings(BaseSettings):
    """What the coordinator reads from ``RAW_*`` variables, plus the resolved config values."""

    model_config = SettingsConfigDict(env_prefix="RAW_", env_ignore_empty=True, extra="ignore")

    env: Literal["development", "production"] = "development"
    dispatcher: Literal["on", "off"] | None = None
    public_base_url: str | None = None
    api_token: SecretStr | None = None
    """Filled from the setting named by ``api_token_setting``, not from RAW_API_TOKEN itself."""
    api_token_setting: str = Field(default="RAW_API_TOKEN")
    trusted_proxies: str = ""
    """RAW_TRUSTED_PROXIES: the proxies whose ``X-Forwarded-For`` is believed; none by default."""

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        entries = [part for part in value.replace(",", " ").split() if part]
        for entry in entries:
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"'{entry}' is not an IP address or network; list the reverse proxies in "
                    "front of the coordinator, e.g. '10.0.0.5,10.1.0.0/16' ('*': any peer, only "
                    "when nothing but the proxy can reach the server)"
                ) from None
        return ",".join(entries)

    @field_validator("env", mode="before")
    @classmethod
    def _env(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("dispatcher", mode="before")
    @classmethod
    def _switch(cls, value: object) -> object:
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("0", "false", "no", "off", "disabled"):
                return "off"
            if lowered in ("1", "true", "yes", "on", "enabled"):
                return "on"
        return value

    @property
    def development(self) -> bool:
        return self.env == "development"

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [entry for entry in self.trusted_proxies.split(",") if entry]

    def token(self) -> str | None:
        return self.api_token.get_secret_value() if self.api_token is not None else None
