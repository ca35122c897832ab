"""Integrations: email, telephony, object storage and chat, each with a production adapter
and a real local one. Install with ``pip install 'raw-systems[integrations]'``.

    from raw.integrations import EmailMessage, for_project

    integrations = for_project()               # the project's system.integrations
    integrations.email.send_sync(EmailMessage(to="ada@example.com", subject="Hi", text="..."))
    await integrations.storage.put("reports/2026-01-05.md", text, "text/markdown")

Names are imported on first use: ``raw.config.system`` imports ``raw.integrations.config``
and must stay cheap, so this package loads nothing else until asked (:mod:`raw._lazy`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from raw._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from raw.integrations.chat import Chat as Chat
    from raw.integrations.chat import Notification as Notification
    from raw.integrations.config import ChatConfig as ChatConfig
    from raw.integrations.config import EmailConfig as EmailConfig
    from raw.integrations.config import IntegrationsConfig as IntegrationsConfig
    from raw.integrations.config import PhoneSimulatorConfig as PhoneSimulatorConfig
    from raw.integrations.config import StorageConfig as StorageConfig
    from raw.integrations.config import TelephonyConfig as TelephonyConfig
    from raw.integrations.email import Email as Email
    from raw.integrations.email import EmailMessage as EmailMessage
    from raw.integrations.email import SentEmail as SentEmail
    from raw.integrations.errors import ChatError as ChatError
    from raw.integrations.errors import EmailError as EmailError
    from raw.integrations.errors import IntegrationError as IntegrationError
    from raw.integrations.errors import (
        IntegrationNotConfiguredError as IntegrationNotConfiguredError,
    )
    from raw.integrations.errors import InvalidObjectKeyError as InvalidObjectKeyError
    from raw.integrations.errors import LocalServicesNotRunningError as LocalServicesNotRunningError
    from raw.integrations.errors import ObjectNotFoundError as ObjectNotFoundError
    from raw.integrations.errors import SettingMissingError as SettingMissingError
    from raw.integrations.errors import StorageError as StorageError
    from raw.integrations.errors import TelephonyError as TelephonyError
    from raw.integrations.factory import Integrations as Integrations
    from raw.integrations.factory import for_project as for_project
    from raw.integrations.factory import from_config as from_config
    from raw.integrations.folder import FolderStorage as FolderStorage
    from raw.integrations.mail_catcher import CapturedEmail as CapturedEmail
    from raw.integrations.mail_catcher import MailStore as MailStore
    from raw.integrations.outbox import OutboxChat as OutboxChat
    from raw.integrations.phone_simulator import CallbackAttempt as CallbackAttempt
    from raw.integrations.phone_simulator import CallLog as CallLog
    from raw.integrations.phone_simulator import PhoneSimulator as PhoneSimulator
    from raw.integrations.phone_simulator import SimulatedCall as SimulatedCall
    from raw.integrations.s3 import S3Storage as S3Storage
    from raw.integrations.services import LocalServices as LocalServices
    from raw.integrations.services import read_state as read_state
    from raw.integrations.slack import SlackChat as SlackChat
    from raw.integrations.smtp import SmtpEmail as SmtpEmail
    from raw.integrations.smtp import SmtpServer as SmtpServer
    from raw.integrations.storage import Storage as Storage
    from raw.integrations.storage import StoredObject as StoredObject
    from raw.integrations.sync import run_sync as run_sync
    from raw.integrations.telephony import CallRef as CallRef
    from raw.integrations.telephony import PlaceCallRequest as PlaceCallRequest
    from raw.integrations.telephony import Telephony as Telephony
    from raw.integrations.twilio_voice import TwilioAccount as TwilioAccount
    from raw.integrations.twilio_voice import TwilioTelephony as TwilioTelephony

_EXPORTS = {
    "CallbackAttempt": "raw.integrations.phone_simulator",
    "CallLog": "raw.integrations.phone_simulator",
    "CallRef": "raw.integrations.telephony",
    "CapturedEmail": "raw.integrations.mail_catcher",
    "Chat": "raw.integrations.chat",
    "ChatConfig": "raw.integrations.config",
    "ChatError": "raw.integrations.errors",
    "Email": "raw.integrations.email",
    "EmailConfig": "raw.integrations.config",
    "EmailError": "raw.integrations.errors",
    "EmailMessage": "raw.integrations.email",
    "FolderStorage": "raw.integrations.folder",
    "for_project": "raw.integrations.factory",
    "from_config": "raw.integrations.factory",
    "IntegrationError": "raw.integrations.errors",
    "IntegrationNotConfiguredError": "raw.integrations.errors",
    "Integrations": "raw.integrations.factory",
    "IntegrationsConfig": "raw.integrations.config",
    "InvalidObjectKeyError": "raw.integrations.errors",
    "LocalServices": "raw.integrations.services",
    "LocalServicesNotRunningError": "raw.integrations.errors",
    "MailStore": "raw.integrations.mail_catcher",
    "Notification": "raw.integrations.chat",
    "ObjectNotFoundError": "raw.integrations.errors",
    "OutboxChat": "raw.integrations.outbox",
    "PhoneSimulator": "raw.integrations.phone_simulator",
    "PhoneSimulatorConfig": "raw.integrations.config",
    "PlaceCallRequest": "raw.integrations.telephony",
    "read_state": "raw.integrations.services",
    "run_sync": "raw.integrations.sync",
    "S3Storage": "raw.integrations.s3",
    "SentEmail": "raw.integrations.email",
    "SettingMissingError": "raw.integrations.errors",
    "SimulatedCall": "raw.integrations.phone_simulator",
    "SlackChat": "raw.integrations.slack",
    "SmtpEmail": "raw.integrations.smtp",
    "SmtpServer": "raw.integrations.smtp",
    "Storage": "raw.integrations.storage",
    "StorageConfig": "raw.integrations.config",
    "StorageError": "raw.integrations.errors",
    "StoredObject": "raw.integrations.storage",
    "Telephony": "raw.integrations.telephony",
    "TelephonyConfig": "raw.integrations.config",
    "TelephonyError": "raw.integrations.errors",
    "TwilioAccount": "raw.integrations.twilio_voice",
    "TwilioTelephony": "raw.integrations.twilio_voice",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
