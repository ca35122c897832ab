"""The coordinator's settings, from the environment (pydantic-settings, loaded at start).

- ``RAW_ENV``: ``development`` (default) or ``production``. Outside development
  the app refuses to start without a strong API token and without every webhook
  secret it needs, each strong (:mod:`raw.coordinator.secret_strength`).
- The API token: the setting named by ``system.coordinator.api_token_setting``
  (default ``RAW_API_TOKEN``). It guards everything but signed webhooks,
  ``/health`` and ``/ready``.
- ``RAW_PUBLIC_BASE_URL``: the URL callers use (Twilio signs it); wins over
  ``system.coordinator.public_base_url``.
- ``RAW_TRUSTED_PROXIES``: the reverse proxies (addresses or networks, comma
  separated) whose ``X-Forwarded-For`` and ``X-Forwarded-Proto`` ``raw serve``
  believes; none by default, so a client cannot choose the address the sign-in
  throttle counts by sending the header.
- ``RAW_DISPATCHER``: ``off`` keeps the built-in dispatcher from starting (run
  ``raw dispatcher`` on its own instead).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from raw.coordinator.errors import InsecureSettingsError
from raw.coordinator.secret_strength import how_to_generate, weakness
from raw.coordinator.verify import secrets_for
from raw.errors import ConfigError
from raw.system import CoordinatorConfig, WebhookConfig

__all__ = ["CoordinatorSettings", "check_webhook_secrets", "load_settings", "token_problem"]


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


def token_problem(token: str | None, setting: str) -> str | None:
    """Why ``token`` will not do as an API token outside development, or None."""
    if token is None or not token.strip():
        return f"no API token is set in {setting}"
    weak = weakness(token)
    return f"the API token in {setting} {weak}" if weak else None


def check_webhook_secrets(webhooks: Sequence[WebhookConfig], *, environment: str) -> None:
    """Refuse a missing or weak webhook secret, naming its setting (never its value)."""
    for hook in webhooks:
        values = secrets_for(hook.secrets)  # a route that could verify nothing: refuse to start
        for name, value in zip(hook.secrets, values, strict=True):
            weak = weakness(value)
            if weak:
                problem = f"the secret of webhook route '{hook.name}' in {name} {weak}"
                raise InsecureSettingsError(
                    name, problem, environment=environment, how=how_to_generate(hook.scheme)
                )


def load_settings(config: CoordinatorConfig) -> CoordinatorSettings:
    """The settings in force for ``config``; refuses insecure ones outside development."""
    setting = config.api_token_setting
    token = os.environ.get(setting) or None
    init: dict[str, object] = {"api_token": token, "api_token_setting": setting}
    if not os.environ.get("RAW_PUBLIC_BASE_URL"):
        init["public_base_url"] = config.public_base_url
    try:
        settings = CoordinatorSettings(**init)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"RAW_{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"The coordinator's settings are not valid: {problems}") from None
    if not settings.development:
        problem = token_problem(token, setting)
        if problem is not None:
            raise InsecureSettingsError(setting, problem, environment=settings.env)
    return settings
