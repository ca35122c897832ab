"""One object with the project's integrations: ``from_config(...)`` or ``for_project()``.

Adapters are built on first use and read their settings at their first call, so
building ``Integrations`` never fails for a setting a run does not need. The
local adapters look the local services up at each call (``services.json``), so
a worker started before ``raw integrations serve`` still finds them.
"""

from __future__ import annotations

import os
import threading
from functools import cached_property
from pathlib import Path

from raw.integrations.chat import Chat
from raw.integrations.config import IntegrationsConfig
from raw.integrations.email import Email
from raw.integrations.errors import IntegrationNotConfiguredError
from raw.integrations.folder import FolderStorage
from raw.integrations.outbox import OutboxChat
from raw.integrations.paths import LOCAL_STATE_SETTING, local_path
from raw.integrations.s3 import S3Storage
from raw.integrations.settings import read_setting
from raw.integrations.slack import SlackChat
from raw.integrations.smtp import SmtpEmail, SmtpServer
from raw.integrations.storage import Storage
from raw.integrations.telephony import Telephony
from raw.integrations.twilio_voice import LOCAL_ACCOUNT_SID, TwilioAccount, TwilioTelephony
from raw.project import Project, find_project
from raw.workflow.context import current_run

__all__ = ["LOCAL_FROM_NUMBER", "Integrations", "for_project", "from_config"]

LOCAL_FROM_NUMBER = "+15005550006"
"""The caller id the local adapter uses when ``telephony.from_number`` is not set."""


class Integrations:
    """``.email``, ``.telephony``, ``.storage`` and ``.chat`` of one project.

    Reading one that ``system.integrations`` does not configure raises
    :class:`~raw.integrations.errors.IntegrationNotConfiguredError`.
    """

    def __init__(self, config: IntegrationsConfig, project_dir: Path) -> None:
        self.config = config
        self.project_dir = Path(project_dir).resolve()

    def __repr__(self) -> str:
        return f"Integrations({self.project_dir}, {self.adapters()})"

    def adapters(self) -> dict[str, str | None]:
        """Each integration's adapter name, None where none is configured."""
        return {
            "email": self.config.email.adapter if self.config.email else None,
            "telephony": self.config.telephony.adapter if self.config.telephony else None,
            "storage": self.config.storage.adapter if self.config.storage else None,
            "chat": self.config.chat.adapter if self.config.chat else None,
        }

    @cached_property
    def email(self) -> Email:
        config = self.config.email
        if config is None:
            raise IntegrationNotConfiguredError("email")
        if config.adapter == "smtp":
            return SmtpEmail.from_config(config)
        project_dir = self.project_dir

        def catcher() -> SmtpServer:
            # Lazy: the local services' module loads uvicorn; only a local adapter needs it.
            from raw.integrations.services import running_services

            state = running_services(project_dir, "SMTP catcher")
            return SmtpServer(
                host=state.host,
                port=state.smtp_port,
                security="none",
                timeout_seconds=config.timeout_seconds,
            )

        return SmtpEmail(
            catcher, from_address=config.from_address, message_id_domain=config.message_id_domain
        )

    @cached_property
    def telephony(self) -> Telephony:
        config = self.config.telephony
        if config is None:
            raise IntegrationNotConfiguredError("telephony")
        if config.adapter == "twilio":
            return TwilioTelephony.from_config(config)
        project_dir = self.project_dir

        def simulator() -> TwilioAccount:
            # Lazy: the local services' module loads uvicorn; only a local adapter needs it.
            from raw.integrations.services import running_services

            state = running_services(project_dir, "phone simulator")
            return TwilioAccount(
                account_sid=LOCAL_ACCOUNT_SID,
                auth_token=read_setting(
                    config.auth_token_setting, key="telephony.auth_token_setting"
                ),
                base_url=state.phone_url,
                timeout_seconds=config.timeout_seconds,
            )

        return TwilioTelephony(simulator, from_number=config.from_number or LOCAL_FROM_NUMBER)

    @cached_property
    def storage(self) -> Storage:
        config = self.config.storage
        if config is None:
            raise IntegrationNotConfiguredError("storage")
        if config.adapter == "s3":
            return S3Storage.from_config(config)

        return FolderStorage(local_path(self.project_dir, config.path))

    @cached_property
    def chat(self) -> Chat:
        config = self.config.chat
        if config is None:
            raise IntegrationNotConfiguredError("chat")
        if config.adapter == "slack":
            return SlackChat.from_config(config)

        return OutboxChat(local_path(self.project_dir, config.outbox))


def from_config(config: IntegrationsConfig, project_dir: Path | str) -> Integrations:
    """The integrations ``config`` describes, for the project in ``project_dir``."""
    return Integrations(config, Path(project_dir))


_cache: dict[tuple[Path, int, int, str], Integrations] = {}
_cache_lock = threading.Lock()


def for_project(project_dir: Path | str | None = None) -> Integrations:
    """The integrations of a project, from its ``.raw/config.yaml``.

    With no ``project_dir``: inside a RAW run, the run's project; elsewhere
    ``RAW_PROJECT_DIR`` or the current folder (or a parent), as ``raw`` finds it.
    One object per project, version of its config file and ``RAW_LOCAL_STATE_DIR``,
    so calling this in every step costs nothing.
    """

    if project_dir is None:
        run = current_run()
        if run is not None and run.workflow_dir is not None:
            project_dir = run.workflow_dir
    project = find_project(project_dir)
    try:
        stat = project.config_path.stat()
        version = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        version = (0, 0)
    key = (project.root, *version, os.environ.get(LOCAL_STATE_SETTING, ""))
    with _cache_lock:
        found = _cache.get(key)
        if found is None:
            found = _cache[key] = from_config(
                Project(project.root).config.system.integrations, project.root
            )
        return found
