"""The ``system.integrations`` section of ``.raw/config.yaml``: which adapter each integration uses.

Validated strictly like the rest of the config: an unknown key is an error naming
it and listing what is allowed. Each section is optional; a section that is
present picks ``adapter: local`` (the default: real local services, see
``docs/integrations.md``) or its production adapter. Secrets are setting NAMES
(environment variables), never values::

    system:
      integrations:
        email:
          adapter: smtp                 # local (default): the project's SMTP catcher
          from_address: Hiring <hiring@example.com>
          host: smtp.example.com
          port: 587
          security: starttls            # tls, none
          username_setting: SMTP_USERNAME
          password_setting: SMTP_PASSWORD
        telephony:
          adapter: twilio               # local (default): the phone simulator
          from_number: "+15005550006"
          account_sid_setting: TWILIO_ACCOUNT_SID
          auth_token_setting: TWILIO_AUTH_TOKEN
          simulator: {callback_delay_seconds: 2, outcome: completed, call_duration_seconds: 60}
        storage:
          adapter: s3                   # local (default): a folder, .raw/storage
          bucket: hiring-reports
          prefix: reports/
          region: eu-west-3
        chat:
          adapter: slack                # local (default): .raw/chat/outbox.jsonl
          webhook_url_setting: SLACK_WEBHOOK_URL

Only pydantic is imported here: ``raw.config.system`` imports this module.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from raw.config._base import Strict
from raw.local_state import CHAT_OUTBOX, STORAGE_DIR

_SETTING = re.compile(r"^[A-Z][A-Z0-9_]*$")
_ADDRESS = re.compile(r"^(?:[^<>]*<)?[^@\s<>]+@[^@\s<>]+(?:>)?$")
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")


def _setting_name(value: str) -> str:
    if not _SETTING.match(value):
        raise ValueError(  # the value is not echoed: it may be the secret itself
            "this is not a setting name: give the NAME of an environment variable such as "
            "'SMTP_PASSWORD' (uppercase letters, digits, underscores), never the secret itself"
        )
    return value


def _address(value: str | None) -> str | None:
    if value is not None and not _ADDRESS.match(value.strip()):
        raise ValueError(f"'{value}' is not an email address such as 'Hiring <hiring@example.com>'")
    return value


def _phone(value: str | None) -> str | None:
    if value is not None and not _PHONE.match(value):
        raise ValueError(f"'{value}' is not an E.164 phone number such as '+15005550006'")
    return value


SettingName = Annotated[str, AfterValidator(_setting_name)]
"""The name of an environment variable holding a secret or an address."""


def _require(section: BaseModel, adapter: str, names: list[str]) -> None:
    missing = [name for name in names if getattr(section, name) is None]
    if missing:
        raise ValueError(f"adapter '{adapter}' needs {', '.join(missing)}")


class EmailConfig(Strict):
    """Outgoing email: SMTP, or the project's local SMTP catcher."""

    adapter: Literal["local", "smtp"] = Field(
        default="local",
        description="local: the SMTP catcher of 'raw integrations serve'; smtp: a real server.",
    )
    from_address: str | None = Field(
        default=None, description="The sender when a message names none, 'Name <a@b.c>'."
    )
    message_id_domain: str | None = Field(
        default=None,
        description="The domain of Message-IDs; default: the sender's domain.",
    )
    host: str | None = Field(default=None, description="smtp: the server's host name.")
    port: int | None = Field(
        default=None,
        gt=0,
        lt=65536,
        description="smtp: the server's port; default 587 (starttls), 465 (tls) or 25 (none).",
    )
    security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="smtp: STARTTLS after connecting, TLS from the start, or plain text.",
    )
    username_setting: SettingName | None = Field(
        default=None, description="smtp: the setting holding the login name."
    )
    password_setting: SettingName | None = Field(
        default=None, description="smtp: the setting holding the password."
    )
    timeout_seconds: float = Field(default=30.0, gt=0, description="Per SMTP operation.")
    catcher_port: int | None = Field(
        default=None,
        ge=0,
        lt=65536,
        description="local: the catcher's port on 127.0.0.1; default: the last one, else free.",
    )

    @model_validator(mode="after")
    def _check(self) -> EmailConfig:
        _address(self.from_address)
        if self.adapter == "smtp":
            _require(self, "smtp", ["host"])
        if (self.username_setting is None) != (self.password_setting is None):
            raise ValueError("give both username_setting and password_setting, or neither")
        return self

    def effective_port(self) -> int:
        """The SMTP server's port: the configured one or the security mode's usual one."""
        return self.port or {"starttls": 587, "tls": 465, "none": 25}[self.security]

    def setting_names(self) -> list[str]:
        if self.adapter != "smtp":
            return []
        return [s for s in (self.username_setting, self.password_setting) if s is not None]


class PhoneSimulatorConfig(Strict):
    """How the local phone simulator behaves once it has 'placed' a call."""

    callback_delay_seconds: float | None = Field(
        default=2.0,
        ge=0,
        description=(
            "Seconds before the status callback is posted; null: never (a test or a "
            "scenario ends the call itself)."
        ),
    )
    outcome: Literal["completed", "no-answer", "busy", "failed"] = Field(
        default="completed", description="The call's final CallStatus."
    )
    call_duration_seconds: int = Field(
        default=60, ge=0, description="CallDuration of a completed call."
    )
    port: int | None = Field(
        default=None,
        ge=0,
        lt=65536,
        description="The simulator's port on 127.0.0.1; default: the last one, else free.",
    )


class TelephonyConfig(Strict):
    """Outbound calls with status callbacks: Twilio, or the local phone simulator."""

    adapter: Literal["local", "twilio"] = Field(
        default="local",
        description="local: the phone simulator (the same Twilio REST shape); twilio: Twilio.",
    )
    from_number: str | None = Field(
        default=None, description="The caller id when a call names none, E.164."
    )
    account_sid_setting: SettingName = Field(
        default="TWILIO_ACCOUNT_SID",
        description="twilio: the setting holding the account SID (local uses a fixed test SID).",
    )
    auth_token_setting: SettingName = Field(
        default="TWILIO_AUTH_TOKEN",
        description=(
            "The setting holding the auth token; status callbacks are signed with it, so "
            "the coordinator's twilio route lists the same setting."
        ),
    )
    base_url: str | None = Field(
        default=None,
        description="twilio: the API's base URL; default https://api.twilio.com (tests, proxies).",
    )
    timeout_seconds: float = Field(default=30.0, gt=0, description="Per API request.")
    simulator: PhoneSimulatorConfig = Field(
        default_factory=PhoneSimulatorConfig, description="local: the simulator's behaviour."
    )

    @model_validator(mode="after")
    def _check(self) -> TelephonyConfig:
        _phone(self.from_number)
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url '{self.base_url}' is not an http(s) URL")
        return self

    def setting_names(self) -> list[str]:
        if self.adapter == "twilio":
            return [self.account_sid_setting, self.auth_token_setting]
        return [self.auth_token_setting]


class StorageConfig(Strict):
    """Object storage: S3 (or any S3-compatible store), or a local folder."""

    adapter: Literal["local", "s3"] = Field(
        default="local", description="local: a folder in the project; s3: a bucket."
    )
    path: str = Field(
        default=str(STORAGE_DIR), description="local: the folder, relative to the project."
    )
    bucket: str | None = Field(default=None, description="s3: the bucket.")
    prefix: str = Field(default="", description="s3: prepended to every key, e.g. 'reports/'.")
    region: str | None = Field(default=None, description="s3: the region; default: boto3's.")
    endpoint_url: str | None = Field(
        default=None, description="s3: an S3-compatible endpoint (MinIO, R2, ...); default AWS."
    )
    access_key_id_setting: SettingName | None = Field(
        default=None,
        description="s3: the setting holding the access key id; default: boto3's credential chain.",
    )
    secret_access_key_setting: SettingName | None = Field(
        default=None, description="s3: the setting holding the secret access key."
    )

    @model_validator(mode="after")
    def _check(self) -> StorageConfig:
        if self.adapter == "s3":
            _require(self, "s3", ["bucket"])
        if (self.access_key_id_setting is None) != (self.secret_access_key_setting is None):
            raise ValueError(
                "give both access_key_id_setting and secret_access_key_setting, or neither "
                "(boto3's default credential chain)"
            )
        if self.prefix.startswith("/"):
            raise ValueError(f"prefix '{self.prefix}' must not start with '/'")
        return self

    def setting_names(self) -> list[str]:
        if self.adapter != "s3":
            return []
        names = (self.access_key_id_setting, self.secret_access_key_setting)
        return [s for s in names if s is not None]


class ChatConfig(Strict):
    """Chat notifications: a Slack incoming webhook, or a local outbox file."""

    adapter: Literal["local", "slack"] = Field(
        default="local", description="local: an outbox file; slack: an incoming webhook."
    )
    webhook_url_setting: SettingName = Field(
        default="SLACK_WEBHOOK_URL",
        description="slack: the setting holding the webhook URL (a secret).",
    )
    outbox: str = Field(
        default=str(CHAT_OUTBOX), description="local: the file, relative to the project."
    )
    timeout_seconds: float = Field(default=10.0, gt=0, description="slack: per request.")

    def setting_names(self) -> list[str]:
        return [self.webhook_url_setting] if self.adapter == "slack" else []


SECTIONS = ("email", "telephony", "storage", "chat")


class IntegrationsConfig(Strict):
    """Email, telephony, object storage and chat; a section left out is not available."""

    email: EmailConfig | None = Field(default=None, description="Outgoing email.")
    telephony: TelephonyConfig | None = Field(
        default=None, description="Outbound calls and their status callbacks."
    )
    storage: StorageConfig | None = Field(default=None, description="Object storage.")
    chat: ChatConfig | None = Field(default=None, description="Chat notifications.")

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        """``email:`` with nothing under it means the section with its defaults (local)."""
        if isinstance(data, dict):
            return {k: ({} if k in SECTIONS and v is None else v) for k, v in data.items()}
        return data

    def configured(self) -> bool:
        """Whether any section is configured (else nothing local needs to run)."""
        return any(s is not None for s in (self.email, self.telephony, self.storage, self.chat))

    def setting_names(self) -> list[str]:
        """Every environment setting the configured adapters read, sorted, each once."""
        names: set[str] = set()
        for section in (self.email, self.telephony, self.storage, self.chat):
            if section is not None:
                names.update(section.setting_names())
        return sorted(names)
