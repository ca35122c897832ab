"""Integrations: email, telephony, object storage and chat, each with a production adapter
and a real local one. Install with ``pip install 'raw-systems[integrations]'``.

    from raw.integrations import EmailMessage, for_project

    integrations = for_project()               # the project's system.integrations
    integrations.email.send_sync(EmailMessage(to="ada@example.com", subject="Hi", text="..."))
    await integrations.storage.put("reports/2026-01-05.md", text, "text/markdown")

Names are imported on first use: ``raw.system`` imports ``raw.integrations.config``
and must stay cheap, so this package loads nothing else until asked.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from raw.integrations.chat import Chat, Notification
    from raw.integrations.config import (
        ChatConfig,
        EmailConfig,
        IntegrationsConfig,
        PhoneSimulatorConfig,
        StorageConfig,
        TelephonyConfig,
    )
    from raw.integrations.email import Email, EmailMessage, SentEmail
    from raw.integrations.errors import (
        ChatError,
        EmailError,
        IntegrationError,
        IntegrationNotConfiguredError,
        InvalidObjectKeyError,
        LocalServicesNotRunningError,
        ObjectNotFoundError,
        SettingMissingError,
        StorageError,
        TelephonyError,
    )
    from raw.integrations.factory import Integrations, for_project, from_config
    from raw.integrations.folder import FolderStorage
    from raw.integrations.mail_catcher import CapturedEmail, MailStore
    from raw.integrations.outbox import OutboxChat
    from raw.integrations.phone_simulator import (
        CallbackAttempt,
        CallLog,
        PhoneSimulator,
        SimulatedCall,
    )
    from raw.integrations.s3 import S3Storage
    from raw.integrations.services import LocalServices, read_state
    from raw.integrations.slack import SlackChat
    from raw.integrations.smtp import SmtpEmail, SmtpServer
    from raw.integrations.storage import Storage, StoredObject
    from raw.integrations.sync import run_sync
    from raw.integrations.telephony import CallRef, PlaceCallRequest, Telephony
    from raw.integrations.twilio_voice import TwilioAccount, TwilioTelephony

_WHERE = {
    "raw.integrations.chat": ["Chat", "Notification"],
    "raw.integrations.config": [
        "ChatConfig",
        "EmailConfig",
        "IntegrationsConfig",
        "PhoneSimulatorConfig",
        "StorageConfig",
        "TelephonyConfig",
    ],
    "raw.integrations.email": ["Email", "EmailMessage", "SentEmail"],
    "raw.integrations.errors": [
        "ChatError",
        "EmailError",
        "IntegrationError",
        "IntegrationNotConfiguredError",
        "InvalidObjectKeyError",
        "LocalServicesNotRunningError",
        "ObjectNotFoundError",
        "SettingMissingError",
        "StorageError",
        "TelephonyError",
    ],
    "raw.integrations.factory": ["Integrations", "for_project", "from_config"],
    "raw.integrations.folder": ["FolderStorage"],
    "raw.integrations.mail_catcher": ["CapturedEmail", "MailStore"],
    "raw.integrations.outbox": ["OutboxChat"],
    "raw.integrations.phone_simulator": [
        "CallLog",
        "CallbackAttempt",
        "PhoneSimulator",
        "SimulatedCall",
    ],
    "raw.integrations.s3": ["S3Storage"],
    "raw.integrations.services": ["LocalServices", "read_state"],
    "raw.integrations.slack": ["SlackChat"],
    "raw.integrations.smtp": ["SmtpEmail", "SmtpServer"],
    "raw.integrations.storage": ["Storage", "StoredObject"],
    "raw.integrations.sync": ["run_sync"],
    "raw.integrations.telephony": ["CallRef", "PlaceCallRequest", "Telephony"],
    "raw.integrations.twilio_voice": ["TwilioAccount", "TwilioTelephony"],
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}

__all__ = [
    "CallLog",
    "CallRef",
    "CallbackAttempt",
    "CapturedEmail",
    "Chat",
    "ChatConfig",
    "ChatError",
    "Email",
    "EmailConfig",
    "EmailError",
    "EmailMessage",
    "FolderStorage",
    "IntegrationError",
    "IntegrationNotConfiguredError",
    "Integrations",
    "IntegrationsConfig",
    "InvalidObjectKeyError",
    "LocalServices",
    "LocalServicesNotRunningError",
    "MailStore",
    "Notification",
    "ObjectNotFoundError",
    "OutboxChat",
    "PhoneSimulator",
    "PhoneSimulatorConfig",
    "PlaceCallRequest",
    "S3Storage",
    "SentEmail",
    "SettingMissingError",
    "SimulatedCall",
    "SlackChat",
    "SmtpEmail",
    "SmtpServer",
    "Storage",
    "StorageConfig",
    "StorageError",
    "StoredObject",
    "Telephony",
    "TelephonyConfig",
    "TelephonyError",
    "TwilioAccount",
    "TwilioTelephony",
    "for_project",
    "from_config",
    "read_state",
    "run_sync",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'raw.integrations' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
