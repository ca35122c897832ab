"""The coordinator's settings, read and checked at start (their schema: :mod:`raw.config.settings`).

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

import os
from collections.abc import Sequence

from pydantic import ValidationError

from raw.config.coordinator import CoordinatorConfig, WebhookConfig
from raw.config.settings import CoordinatorSettings
from raw.coordinator.errors import InsecureSettingsError
from raw.coordinator.secret_strength import how_to_generate, weakness
from raw.coordinator.verify import secrets_for
from raw.errors import ConfigError

__all__ = ["CoordinatorSettings", "check_webhook_secrets", "load_settings", "token_problem"]


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
