"""The integrations' errors: every one names the integration, and none ever holds a secret.

A setting's *name* may appear in a message (``SMTP_PASSWORD``), its value never:
adapters build these messages from what the server answered, not from what was sent.

    RawError
    └── IntegrationError                 an integration failed or cannot be used
        ├── IntegrationNotConfiguredError no system.integrations.<name> section
        ├── SettingMissingError           a setting (env var) an adapter reads is unset
        ├── LocalServicesNotRunningError  the local SMTP catcher and phone simulator are not up
        ├── LocalServiceNoAnswerError     one of them is recorded as running but did not answer
        ├── EmailError                    the SMTP server refused the message or was unreachable
        │   └── EmailUnreachableError     ... unreachable (also a ServiceUnreachableError)
        ├── TelephonyError                the call provider refused the call or was unreachable
        │   └── TelephonyUnreachableError ... unreachable (also a ServiceUnreachableError)
        ├── StorageError                  the object store failed
        │   ├── InvalidObjectKeyError     a key that is not a clean relative path
        │   └── ObjectNotFoundError       no object under that key
        └── ChatError                     the chat webhook refused the message or was unreachable
            └── ChatUnreachableError      ... unreachable (also a ServiceUnreachableError)

An *unreachable* error says the service is away (no connection, a dropped one, or a
502/503/504 answer), not that it refused this request: a run that fails with one
records ``error.unavailable``, and the coordinator's dispatcher waits for the
service to come back instead of spending the delivery's attempts.
"""

from __future__ import annotations

from pathlib import Path

from raw.errors import RawError, ServiceUnreachableError

__all__ = [
    "UNAVAILABLE_HTTP_STATUSES",
    "ChatError",
    "ChatUnreachableError",
    "EmailError",
    "EmailUnreachableError",
    "IntegrationError",
    "IntegrationNotConfiguredError",
    "InvalidObjectKeyError",
    "LocalServiceNoAnswerError",
    "LocalServicesNotRunningError",
    "ObjectNotFoundError",
    "SettingMissingError",
    "StorageError",
    "TelephonyError",
    "TelephonyUnreachableError",
]


class IntegrationError(RawError):
    """An integration (email, telephony, storage, chat) failed or cannot be used."""


class IntegrationNotConfiguredError(IntegrationError):
    def __init__(self, integration: str) -> None:
        self.integration = integration
        super().__init__(
            f"No {integration} integration is configured: add a "
            f"'system.integrations.{integration}' section to .raw/config.yaml "
            f"(for example '{integration}: {{adapter: local}}')."
        )


class SettingMissingError(IntegrationError):
    def __init__(self, setting: str, *, key: str) -> None:
        self.setting = setting
        self.key = key
        super().__init__(
            f"The setting {setting} is not set: export it (system.integrations.{key} "
            "names it; secrets live in the environment, never in the config file)."
        )


class LocalServicesNotRunningError(IntegrationError, ServiceUnreachableError):
    def __init__(self, project_dir: Path, service: str) -> None:
        self.project_dir = project_dir
        self.service = service
        super().__init__(
            f"The local {service} is not running for the project {project_dir}: start the "
            "local integrations with 'raw integrations serve' (or 'raw up')."
        )


class LocalServiceNoAnswerError(IntegrationError, ServiceUnreachableError):
    def __init__(self, service: str, url: str, reason: str) -> None:
        self.service = service
        self.url = url
        self.reason = reason
        super().__init__(
            f"The local {service} at {url} did not answer ({reason}): start the local "
            "integrations again with 'raw integrations serve' (or 'raw up')."
        )


class EmailError(IntegrationError):
    def __init__(self, server: str, reason: str) -> None:
        self.server = server
        self.reason = reason
        super().__init__(f"Sending email through the SMTP server {server} failed: {reason}")


class TelephonyError(IntegrationError):
    def __init__(self, reason: str, *, status_code: int | None = None) -> None:
        self.reason = reason
        self.status_code = status_code
        super().__init__(f"Placing the call failed: {reason}")


class StorageError(IntegrationError):
    def __init__(self, operation: str, key: str, reason: str) -> None:
        self.operation = operation
        self.key = key
        self.reason = reason
        super().__init__(f"Object storage could not {operation} '{key}': {reason}")


class InvalidObjectKeyError(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(
            "use",
            key,
            "keys are relative paths such as 'reports/2026-01-05.md' (no '..', no leading "
            "'/', no backslashes, no empty parts)",
        )


class ObjectNotFoundError(StorageError):
    def __init__(self, key: str, where: str) -> None:
        self.where = where
        super().__init__("get", key, f"there is no object under that key in {where}")


class ChatError(IntegrationError):
    def __init__(self, reason: str, *, status_code: int | None = None) -> None:
        self.reason = reason
        self.status_code = status_code
        super().__init__(f"Sending the chat notification failed: {reason}")


UNAVAILABLE_HTTP_STATUSES = frozenset({502, 503, 504})
"""A provider's answers that say it is away, not that it refused the request."""


class EmailUnreachableError(EmailError, ServiceUnreachableError):
    """The SMTP server could not be reached, dropped the connection, or said 421."""

    service = "email"


class TelephonyUnreachableError(TelephonyError, ServiceUnreachableError):
    """The call provider did not answer, or answered 502, 503 or 504."""

    service = "telephony"


class ChatUnreachableError(ChatError, ServiceUnreachableError):
    """The chat webhook did not answer, or answered 502, 503 or 504."""

    service = "chat"
