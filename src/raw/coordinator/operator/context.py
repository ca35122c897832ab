"""What the operator page knows about the system it shows: names, links, secrets to hide.

One :class:`Operator` per mounted coordinator. It works out, once, the values that
must never reach a page (the API token, every webhook secret, the database's
password, any setting whose name looks secret) so free text such as a run's log or
a dead letter's error can be scrubbed of them, and it finds the Temporal UI to link
processes into:
``RAW_TEMPORAL_UI_URL`` when set, else the UI of this project's embedded engine
(``raw up``, ``raw engine start``) while it runs.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from raw import clock
from raw.config.observability import trace_link, trace_url_template
from raw.redact import MIN_SETTING_SECRET_LENGTH, SECRET_NAME

if TYPE_CHECKING:
    from raw.config.coordinator import CoordinatorConfig
    from raw.config.orchestrator import OrchestratorConfig
    from raw.coordinator.runtime import Coordinator

__all__ = ["Operator", "TEMPORAL_UI_SETTING"]

TEMPORAL_UI_SETTING = "RAW_TEMPORAL_UI_URL"
_MIN_SECRET_LENGTH = MIN_SETTING_SECRET_LENGTH
_ENGINE_RECHECK_SECONDS = 30.0
SCRUBBED = "***"


class Operator:
    """The operator page's view of one coordinator."""

    def __init__(self, coordinator: Coordinator, *, environ: dict[str, str] | None = None) -> None:
        self.coordinator = coordinator
        env = dict(os.environ if environ is None else environ)
        self._secrets = _secret_values(coordinator, env)
        self._ui_setting = (env.get(TEMPORAL_UI_SETTING) or "").strip().rstrip("/") or None
        self._trace_setting = trace_url_template(None, env)  # a bad RAW_TRACE_URL stops the start
        self._engine_ui: str | None = None
        self._engine_checked = float("-inf")
        self.cache: dict[str, tuple[float, Any]] = {}
        """Short-lived answers (schedules) keyed by name: (monotonic time, value)."""

    # -- names

    @property
    def config(self) -> CoordinatorConfig:
        return self.coordinator.config

    @property
    def orchestrator(self) -> OrchestratorConfig:
        return self.coordinator.project.config.system.orchestrator.effective()

    @property
    def system_name(self) -> str:
        project = self.coordinator.project
        return project.config.system.name or project.config.name or project.root.name

    @property
    def has_processes(self) -> bool:
        return self.coordinator.uses_temporal

    # -- secrets

    def scrub(self, text: str | None) -> str | None:
        """``text`` with every known secret value replaced by ``***``."""
        if not text:
            return text
        for value in self._secrets:
            if value in text:
                text = text.replace(value, SCRUBBED)
        return text

    # -- the trace viewer

    def trace_url(self, trace_id: str | None, span_id: str | None = None) -> str | None:
        """The trace viewer's page of ``trace_id`` (RAW_TRACE_URL or the config's), or None."""
        template = self._trace_setting
        if template is None:
            template = self.coordinator.project.config.system.observability.trace_url
        return trace_link(trace_id, template, span_id)

    # -- the Temporal UI

    def temporal_ui(self) -> str | None:
        """The Temporal UI's base URL, or None when it is not known."""
        if self._ui_setting is not None:
            return self._ui_setting
        now = clock.monotonic()
        if now - self._engine_checked > _ENGINE_RECHECK_SECONDS:
            self._engine_checked = now
            self._engine_ui = _engine_ui(self.coordinator)
        return self._engine_ui

    def temporal_url(self, process_id: str, run_id: str | None = None) -> str | None:
        """The process's page in the Temporal UI (its history), or None."""
        base = self.temporal_ui()
        if base is None:
            return None
        namespace = quote(self.orchestrator.namespace, safe="")
        url = f"{base}/namespaces/{namespace}/workflows/{quote(process_id, safe='')}"
        return f"{url}/{quote(run_id, safe='')}/history" if run_id else url


def _secret_values(coordinator: Coordinator, env: dict[str, str]) -> list[str]:
    names = {coordinator.settings.api_token_setting}
    for hook in coordinator.config.webhooks:
        names.update(hook.secrets)
    names.update(name for name in env if SECRET_NAME.search(name))
    values = {env.get(name, "").strip() for name in names}
    token = coordinator.settings.token()
    if token:
        values.add(token)
    values.add(_database_password(coordinator.db.url) or "")
    # Longest first, so a secret containing another is replaced whole.
    return sorted((v for v in values if len(v) >= _MIN_SECRET_LENGTH), key=len, reverse=True)


def _database_password(url: str) -> str | None:
    # Lazy: needs the coordinator extra, which may be missing.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).password
    except (ArgumentError, ValueError):
        return None


def _engine_ui(coordinator: Coordinator) -> str | None:
    """The UI of this project's embedded engine while it runs (None without temporalio)."""
    try:
        # Lazy: needs the orchestrator extra, which may be missing.
        from raw.orchestrator.engine import Engine
    except ImportError:
        return None
    try:
        info = Engine(coordinator.project).status()
    except Exception:  # an unreadable engine record: no link, nothing worse
        return None
    return info.ui_url.rstrip("/") if info is not None else None
