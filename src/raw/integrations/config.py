"""The integrations section of ``.raw/config.yaml``, from :mod:`raw.config.integrations` (core: the
system schema reads it too); this part keeps reading its own section from here."""

from raw.config.integrations import (
    SECTIONS,
    ChatConfig,
    EmailConfig,
    IntegrationsConfig,
    PhoneSimulatorConfig,
    SettingName,
    StorageConfig,
    TelephonyConfig,
)

__all__ = [
    "SettingName",
    "EmailConfig",
    "PhoneSimulatorConfig",
    "TelephonyConfig",
    "StorageConfig",
    "ChatConfig",
    "SECTIONS",
    "IntegrationsConfig",
]
