"""What a system needs to run, read from its config: roles, commands, settings, schedules.

``raw deploy render`` writes files from a :class:`Plan`; ``raw deploy check``
holds files against the same plan. Every role runs the one image by command:

    api               raw serve --host 0.0.0.0 --port 8000   (built-in dispatcher off)
    worker            raw worker
    dispatcher        raw dispatcher
    migrate           raw db upgrade                        (one-shot)
    temporal-setup    raw engine start                      (one-shot: search attributes)
    schedules-sync    raw schedules sync                    (one-shot; Temporal Schedules only)
    cron              raw run <workflow> <args>             (one CronJob per schedule)

A setting with a value known at render time (``deploy.env``, the Temporal
address, ``RAW_ENV``) is plain configuration; every other setting the code reads
comes from the Secret (Kubernetes) or the environment (``${NAME:?...}`` in
Compose), and its value never appears in a rendered file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from raw.errors import ConfigError
from raw.version import __version__

if TYPE_CHECKING:
    from raw.config.orchestrator import ScheduleConfig
    from raw.config.system import SystemConfig
    from raw.deploy.config import DeployConfig
    from raw.project import Project

__all__ = ["APP_ROLES", "RUNNER_ROLES", "Plan", "Setting", "build_plan", "schedule_command"]

APP_ROLES = ("api", "worker", "dispatcher", "migrate", "temporal-setup", "cron")
"""Every role that runs the system's image, long-running or one-shot."""
RUNNER_ROLES = ("worker", "dispatcher", "cron")
"""Where RAW workflows run (so where the LLM and integration settings are read)."""
LLM_SETTINGS = ("RAW_LLM_BASE_URL", "RAW_LLM_MODEL", "RAW_LLM_API_KEY")
OTLP_HEADERS = "OTEL_EXPORTER_OTLP_HEADERS"
POSTGRES_USER = "raw"
POSTGRES_DB = "raw"
TEMPORAL_PORT = 7233
TEMPORAL_UI_PORT = 8080
WORKER_METRICS_PORT = 9464
"""Where each worker serves the Temporal SDK's metrics (`raw worker --metrics-port`); 9464 is
the port OpenTelemetry's Prometheus exporter uses by default."""
APP_UID = 10001
TEMPORAL_ROLES = ("api", "worker", "dispatcher", "temporal-setup")
"""The roles that connect to Temporal (``schedules-sync`` runs as ``temporal-setup``)."""
TEMPORAL_TLS_DIR = "/etc/raw/temporal-tls"
"""Where the Secret of Temporal's TLS files is mounted, read-only."""
TEMPORAL_TLS_FILES = (
    ("server_ca_cert", "TEMPORAL_TLS_SERVER_CA_CERT_PATH", "ca.crt"),
    ("client_cert", "TEMPORAL_TLS_CLIENT_CERT_PATH", "tls.crt"),
    ("client_key", "TEMPORAL_TLS_CLIENT_KEY_PATH", "tls.key"),
)
"""system.orchestrator.connection's file, the setting that points at it, its Secret key."""
PLAIN_OWN_TEMPORAL = "the deployment's own Temporal is plain (TLS settings are for another)"


@dataclass(frozen=True)
class Setting:
    """One environment setting the system reads, and where its value comes from."""

    name: str
    roles: tuple[str, ...]
    why: str
    value: str | None = None
    """Known at render time: plain configuration. None: from the Secret / the environment."""
    required: bool = True
    inline: bool = False
    """Written on the container itself (role-specific), not in the shared ConfigMap."""
    external_temporal: bool = False
    """Only to reach an external Temporal (its TLS files, its API key)."""

    @property
    def from_secret(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class Plan:
    """The system's deployment, as render and check both see it."""

    name: str
    deploy: DeployConfig
    system: SystemConfig
    project_root: Path
    python_version: str
    settings: tuple[Setting, ...]
    schedules: tuple[ScheduleConfig, ...]
    temporal_address: str
    commands: dict[str, list[str]] = field(default_factory=dict)

    @property
    def image(self) -> str:
        return f"{self.image_name}:{self.deploy.image.tag}"

    @property
    def image_name(self) -> str:
        return self.deploy.image.name or self.name

    @property
    def secret_name(self) -> str:
        return self.deploy.secret_name or f"{self.name}-secrets"

    @property
    def config_map(self) -> str:
        return f"{self.name}-config"

    @property
    def port(self) -> int:
        return self.deploy.port

    @property
    def cronjobs(self) -> bool:
        """Schedules run as CronJobs (else as Temporal Schedules, synced by a one-shot)."""
        return self.deploy.schedules == "cronjob"

    @property
    def syncs_schedules(self) -> bool:
        return bool(self.schedules) and not self.cronjobs

    @property
    def in_cluster_database(self) -> bool:
        return self.deploy.database.mode == "in_cluster"

    @property
    def in_cluster_temporal(self) -> bool:
        return self.deploy.temporal.mode == "in_cluster"

    def settings_for(self, role: str) -> list[Setting]:
        return [s for s in self.settings if role in s.roles]

    def compose_settings_for(self, role: str) -> list[Setting]:
        """Compose's: the same as Kubernetes', but its own Temporal (if any) is plain."""
        if not self.in_cluster_temporal:
            return self.settings_for(role)
        settings = [s for s in self.settings_for(role) if not s.external_temporal]
        names = {s.name for s in settings}
        if self.temporal_secured and role in TEMPORAL_ROLES and "TEMPORAL_TLS" not in names:
            settings.append(Setting("TEMPORAL_TLS", TEMPORAL_ROLES, PLAIN_OWN_TEMPORAL, "false"))
        return settings

    def compose_secret_settings(self) -> list[Setting]:
        """What Compose reads from .env (its own Temporal, if any, takes no API key)."""
        own = self.in_cluster_temporal
        return [s for s in self.secret_settings() if not (own and s.external_temporal)]

    @property
    def temporal_secured(self) -> bool:
        """Whether system.orchestrator.connection asks for TLS (or an API key)."""
        return self.system.orchestrator.connection.uses_tls

    def temporal_tls_files(self) -> list[tuple[str, str]]:
        """(setting, Secret key) of each TLS file an external Temporal needs, in order."""
        if self.in_cluster_temporal:
            return []
        connection = self.system.orchestrator.connection
        files = TEMPORAL_TLS_FILES
        return [(name, key) for attr, name, key in files if getattr(connection, attr)]

    @property
    def temporal_tls_secret(self) -> str | None:
        """The Secret of Temporal's TLS files, mounted for Temporal's users; None: no files."""
        if not self.temporal_tls_files():
            return None
        return self.deploy.temporal.tls_secret or f"{self.name}-temporal-tls"

    def secret_settings(self) -> list[Setting]:
        """Settings whose values live in the Secret, each once, in order."""
        return [s for s in self.settings if s.from_secret]

    def secret_keys(self) -> list[Setting]:
        """The keys the Kubernetes Secret must hold (in-cluster: a password, not a URL)."""
        keys: list[Setting] = []
        for setting in self.secret_settings():
            if setting.name == "DATABASE_URL" and self.in_cluster_database:
                why = "PostgreSQL's password, URL-safe (DATABASE_URL is built from it)"
                keys.append(Setting("POSTGRES_PASSWORD", setting.roles, why))
            else:
                keys.append(setting)
        return keys

    def local_integrations(self) -> list[str]:
        """Integrations left on their local adapter (a catcher, a simulator, a folder)."""
        integrations = getattr(self.system, "integrations", None)
        sections = ("email", "telephony", "storage", "chat")
        return [
            name
            for name in sections
            if getattr(getattr(integrations, name, None), "adapter", None) == "local"
        ]

    def plain_settings(self) -> dict[str, str]:
        """The shared ConfigMap: plain settings known at render time."""
        return {s.name: s.value for s in self.settings if s.value is not None and not s.inline}


def schedule_command(schedule: ScheduleConfig) -> list[str]:
    """What a CronJob runs for a schedule: the RAW workflow itself, as `raw run` takes it."""
    if schedule.params is not None:
        return ["raw", "run", schedule.workflow, "--params", json.dumps(schedule.params)]
    return ["raw", "run", schedule.workflow, *schedule.args]


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:40].strip("-")
    return slug or "raw-system"


def _integration_settings(system: SystemConfig) -> list[str]:
    # `system.integrations` becomes an IntegrationsConfig with setting_names(); until
    # then it is a reserved dict and contributes nothing.
    integrations = getattr(system, "integrations", None)
    names = getattr(integrations, "setting_names", None)
    return list(names()) if callable(names) else []


def _settings(
    system_name: str, system: SystemConfig, deploy: DeployConfig, temporal_address: str
) -> list[Setting]:
    coordinator = system.coordinator
    everyone = ("api", "worker", "dispatcher", "migrate", "temporal-setup", "cron")
    temporal_users = TEMPORAL_ROLES
    database_users = ("api", "worker", "dispatcher", "migrate", "cron")
    settings: dict[str, Setting] = {}

    def add(setting: Setting) -> None:
        known = settings.get(setting.name)
        if known is None:
            settings[setting.name] = setting
            return  # read by several parts (a webhook's and an integration's token): merge
        roles = tuple(dict.fromkeys((*known.roles, *setting.roles)))
        required = known.required or setting.required
        settings[setting.name] = replace(known, roles=roles, required=required)

    add(Setting("RAW_ENV", everyone, "production refuses weak tokens", value="production"))
    add(Setting("DATABASE_URL", database_users, "the coordinator's database and run index"))
    add(Setting("TEMPORAL_ADDRESS", temporal_users, "Temporal", value=temporal_address))
    connection = system.orchestrator.connection
    if deploy.temporal.mode == "external":
        secret = deploy.temporal.tls_secret or f"{system_name}-temporal-tls"
        for key, setting, filename in TEMPORAL_TLS_FILES:
            if getattr(connection, key):
                why = f"Temporal's TLS file: key {filename} of the Secret {secret}"
                path = f"{TEMPORAL_TLS_DIR}/{filename}"
                add(Setting(setting, temporal_users, why, value=path, external_temporal=True))
        if connection.api_key_setting:
            why = "Temporal's API key"
            add(Setting(connection.api_key_setting, temporal_users, why, external_temporal=True))
    elif connection.uses_tls:
        add(Setting("TEMPORAL_TLS", temporal_users, PLAIN_OWN_TEMPORAL, value="false"))
    add(Setting("RAW_DISPATCHER", ("api",), "the dispatcher runs apart", value="off", inline=True))
    add(Setting(coordinator.api_token_setting, ("api",), "the REST API's bearer token"))
    ingress = deploy.ingress
    if ingress.enabled and ingress.host:
        scheme = "https" if ingress.tls_secret else "http"
        url = f"{scheme}://{ingress.host}"
        add(Setting("RAW_PUBLIC_BASE_URL", ("api",), "the URL senders sign", value=url))
    for webhook in coordinator.webhooks:
        for index, name in enumerate(webhook.secrets):
            why = f"webhook '{webhook.name}' secret" + (" (rotation)" if index else "")
            add(Setting(name, ("api",), why, required=index == 0))
    for name in _integration_settings(system):
        add(Setting(name, ("api", *RUNNER_ROLES), "integrations"))
    for name in deploy.secret_settings:
        add(Setting(name, ("api", *RUNNER_ROLES), "deploy.secret_settings"))
    for name in LLM_SETTINGS:
        add(Setting(name, RUNNER_ROLES, "the LLM client (optional)", required=False))
    if deploy.observability is not None:  # a tracing vendor's API key travels in a header
        why = "OTLP exporter headers, e.g. a tracing vendor's API key"
        add(Setting(OTLP_HEADERS, ("api", *RUNNER_ROLES), why, required=False))
    # deploy.env gives plain values: it overrides where a setting comes from, not who reads it.
    for name, value in deploy.env.items():
        known = settings.get(name)
        if known is not None and known.value is None and known.why.startswith("webhook"):
            raise ConfigError(
                f"system.deploy.env.{name} is a webhook secret: its value belongs in the "
                "Secret, not in the config. Remove it from deploy.env."
            )
        if name == coordinator.api_token_setting:
            raise ConfigError(
                f"system.deploy.env.{name} is the API token: its value belongs in the Secret."
            )
        roles = known.roles if known is not None else ("api", *RUNNER_ROLES)
        why = known.why if known is not None else "deploy.env"
        settings[name] = Setting(name, roles, why, value=value)
    return list(settings.values())


def _temporal_address(name: str, system: SystemConfig, deploy: DeployConfig) -> str:
    if deploy.temporal.mode == "in_cluster":
        return f"{name}-temporal:{TEMPORAL_PORT}"
    address = deploy.temporal.address or system.orchestrator.address
    if not address:
        raise ConfigError(
            "system.deploy.temporal.mode is 'external' but no address is given: set "
            "system.deploy.temporal.address (host:port of the Temporal frontend)."
        )
    return address


def build_plan(project: Project) -> Plan:
    """The deployment of ``project``'s system. Raises ConfigError for an unusable config."""

    config = project.config
    system = config.system
    deploy = system.deploy
    name = _slug(system.name or config.name or project.root.name)
    address = _temporal_address(name, system, deploy)
    schedules = tuple(system.orchestrator.schedules)
    commands = {
        "api": ["raw", "serve", "--host", "0.0.0.0", "--port", str(deploy.port)],
        "worker": ["raw", "worker", "--metrics-port", str(WORKER_METRICS_PORT)],
        "dispatcher": ["raw", "dispatcher"],
        "migrate": ["raw", "db", "upgrade"],
        "temporal-setup": ["raw", "engine", "start"],
        "schedules-sync": ["raw", "schedules", "sync"],
    }
    return Plan(
        name=name,
        deploy=deploy,
        system=system,
        project_root=project.root,
        python_version=deploy.python.version or __version__,
        settings=tuple(_settings(name, system, deploy, address)),
        schedules=schedules,
        temporal_address=address,
        commands=commands,
    )
