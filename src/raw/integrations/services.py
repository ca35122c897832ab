"""The local services (the SMTP catcher and the phone simulator), in-process or as a command.

``async with LocalServices.start(project_dir) as services:`` serves both on
127.0.0.1 on the running event loop; ``raw integrations serve`` does the same
until SIGTERM or Ctrl-C. Either writes ``.raw/integrations/services.json`` (the
ports and the pid) while it runs, so the local adapters in any process of the
project (the Temporal worker, ``raw run``) find them, and removes it at the end.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from raw import clock, local_state, pids
from raw.files import write_atomic
from raw.integrations.config import ChatConfig, IntegrationsConfig, PhoneSimulatorConfig
from raw.integrations.errors import IntegrationError, LocalServicesNotRunningError
from raw.integrations.mail_catcher import MailStore, start_mail_catcher
from raw.integrations.outbox import OutboxChat
from raw.integrations.paths import local_path
from raw.integrations.phone_simulator import CallLog, PhoneSimulator
from raw.project import Project

T = TypeVar("T")

__all__ = ["LocalServices", "ServicesState", "read_state", "running_services"]

STATE_FILE = Path(local_state.SERVICES_FILE)


class ServicesState(BaseModel):
    """What ``services.json`` holds while the local services run."""

    pid: int
    pid_started: int | None = None
    """The process's start time in clock ticks since boot (Linux), so a reused pid is told apart."""
    started_at: datetime
    host: str
    smtp_port: int
    phone_url: str

    @property
    def smtp_url(self) -> str:
        return f"smtp://{self.host}:{self.smtp_port}"


def _read(project_dir: Path) -> ServicesState | None:
    try:
        return ServicesState.model_validate_json(local_path(project_dir, STATE_FILE).read_bytes())
    except (OSError, ValidationError):
        return None


def read_state(project_dir: Path) -> ServicesState | None:
    """The running services of the project, or None (no file, or its process is gone)."""
    state = _read(Path(project_dir))
    return state if state is not None and pids.alive(state.pid, state.pid_started) else None


def running_services(project_dir: Path, service: str) -> ServicesState:
    """The running services; raises :class:`LocalServicesNotRunningError` naming ``service``."""
    state = read_state(project_dir)
    if state is None:
        raise LocalServicesNotRunningError(Path(project_dir), service)
    return state


def _project_config(project_dir: Path) -> IntegrationsConfig:

    return Project(project_dir).config.system.integrations


@dataclass
class LocalServices:
    """The running SMTP catcher and phone simulator, with what they recorded."""

    project_dir: Path
    host: str
    smtp_port: int
    mail: MailStore
    """The messages the catcher kept: ``.mail.list()``."""
    calls: PhoneSimulator
    """The phone simulator: ``.calls.list()``, ``await .calls.end_call(sid, ...)``."""
    chat: OutboxChat
    """The local chat outbox: ``.chat.list()``."""

    @property
    def smtp_url(self) -> str:
        return f"smtp://{self.host}:{self.smtp_port}"

    @property
    def phone_url(self) -> str:
        return self.calls.url

    def urls(self) -> dict[str, str]:
        return {"smtp": self.smtp_url, "phone": self.phone_url}

    def state(self) -> ServicesState:
        return ServicesState(
            pid=os.getpid(),
            pid_started=pids.start_ticks(os.getpid()),
            started_at=clock.now(),
            host=self.host,
            smtp_port=self.smtp_port,
            phone_url=self.phone_url,
        )

    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls,
        project_dir: Path | str,
        config: IntegrationsConfig | None = None,
        *,
        host: str = "127.0.0.1",
        callback_transport: Any = None,
        write_state: bool = True,
    ) -> AsyncIterator[LocalServices]:
        """Serve the SMTP catcher and the phone simulator on ``host`` until the block ends.

        ``config`` defaults to the project's ``system.integrations``. Ports: the
        configured ones (``email.catcher_port``, ``telephony.simulator.port``), else
        the last run's when free, else free ones. ``callback_transport`` (an
        ``httpx.AsyncBaseTransport``) delivers the status callbacks, e.g. to an
        in-process coordinator app; default real HTTP. ``write_state=False`` keeps
        the services private to the caller (no ``services.json``).
        """
        root = Path(project_dir).resolve()
        config = config if config is not None else _project_config(root)
        previous = _read(root)
        if (
            write_state
            and previous is not None
            and previous.pid != os.getpid()
            and pids.alive(previous.pid, previous.pid_started)
        ):
            raise IntegrationError(
                f"The local integrations of {root} already run (pid {previous.pid}, "
                f"{previous.smtp_url}, {previous.phone_url}): stop them first, or pass "
                "write_state=False."
            )
        telephony = config.telephony
        simulator_config = telephony.simulator if telephony else PhoneSimulatorConfig()
        chat_config = config.chat or ChatConfig()
        store = MailStore.for_project(root)
        smtp = await _bind(
            lambda port: start_mail_catcher(store, host=host, port=port),
            config.email.catcher_port if config.email else None,
            previous.smtp_port if previous else None,
        )
        phone = PhoneSimulator(
            CallLog.for_project(root),
            simulator_config,
            auth_token_setting=telephony.auth_token_setting if telephony else None,
            callback_transport=callback_transport,
        )
        try:
            previous_phone = int(previous.phone_url.rsplit(":", 1)[1]) if previous else None
            await _bind(lambda port: phone.start(host, port), simulator_config.port, previous_phone)
            services = cls(
                project_dir=root,
                host=host,
                smtp_port=smtp.sockets[0].getsockname()[1],
                mail=store,
                calls=phone,
                chat=OutboxChat(local_path(root, chat_config.outbox)),
            )
            state_path = local_path(root, STATE_FILE)
            if write_state:
                state_path.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(state_path, services.state().model_dump_json(indent=2).encode())
            try:
                yield services
            finally:
                if write_state:
                    current = _read(root)
                    if current is not None and current.pid == os.getpid():
                        state_path.unlink(missing_ok=True)
        finally:
            await phone.close()
            smtp.close()
            await smtp.wait_closed()


async def _bind(
    start: Callable[[int], Awaitable[T]], configured: int | None, previous: int | None
) -> T:
    """Start on the configured port, else the previous one if it is free, else any free one."""
    if configured is not None:
        return await start(configured)
    if previous:
        try:
            return await start(previous)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
    return await start(0)


def describe(services: LocalServices) -> dict[str, Any]:
    """The JSON document ``raw integrations serve --json`` prints when ready."""
    return {
        "status": "ready",
        "pid": os.getpid(),
        "smtp": services.smtp_url,
        "phone": services.phone_url,
        "mail_dir": str(services.mail.folder),
        "calls_file": str(services.calls.log.path),
        "chat_outbox": str(services.chat.path),
        "state_file": str(local_path(services.project_dir, STATE_FILE)),
    }
