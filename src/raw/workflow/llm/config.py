"""An LLM client's settings: ``RAW_LLM_*`` read, and the values one call is made with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import SecretStr, ValidationError

from raw.errors import LLMError
from raw.redact import redact_url, redact_urls

if TYPE_CHECKING:
    from raw.config.settings import LLMSettings, StructuredOutput

__all__ = ["ClientConfig", "load_settings"]


def load_settings() -> LLMSettings:
    """Read the ``RAW_LLM_*`` environment variables."""
    # Lazy: pydantic-settings costs start-up time; only a run that calls an LLM reads it.
    from raw.config.settings import LLMSettings

    try:
        return LLMSettings()
    except ValidationError as exc:
        problems = "; ".join(
            f"RAW_LLM_{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise LLMError(
            f"The LLM settings are invalid: {problems}. Fix these environment variables."
        ) from None


@dataclass(frozen=True)
class ClientConfig:
    """The settings one client calls its provider with."""

    base_url: str | None
    model: str | None
    api_key: SecretStr | None
    timeout_seconds: float
    max_retries: int
    structured_output: StructuredOutput

    @property
    def url(self) -> str:
        assert self.base_url is not None
        return self.base_url.rstrip("/") + "/chat/completions"

    def headers(self) -> dict[str, str]:
        key = self.api_key.get_secret_value() if self.api_key else ""
        return {"Authorization": f"Bearer {key}"} if key else {}

    @property
    def shown_url(self) -> str:
        """The base URL for messages and logs: a password or key in it masked."""
        return redact_url(self.base_url or "")

    def redact(self, text: str) -> str:
        """``text`` with the API key, should a provider echo it, and URL credentials masked."""
        key = self.api_key.get_secret_value() if self.api_key else ""
        return redact_urls(text.replace(key, "***") if key else text)
