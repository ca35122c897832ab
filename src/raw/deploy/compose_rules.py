"""The Compose file held against the system: services, health gates, settings, secrets.

With an external Temporal or PostgreSQL (``system.deploy.*.mode: external``) the
file runs none of its own: each service that connects points at the external
one and mounts the TLS files it needs as Compose secrets (files, never values).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raw.config.database import encrypts
from raw.deploy.compose import temporal_address
from raw.deploy.compose_secrets import compose_secrets, secret_settings
from raw.deploy.findings import Finding
from raw.deploy.plan import TEMPORAL_ROLES
from raw.deploy.rules import (
    LONG_RUNNING,
    command_words,
    leaks,
    option,
    secret_names,
    service_roles,
)

if TYPE_CHECKING:
    from raw.deploy.findings import Finding
    from raw.deploy.plan import Plan

__all__ = ["check_compose"]

GATES = ("service_healthy", "service_completed_successfully")
INFRA = {
    "postgres": ("postgres", "PostgreSQL (image postgres, a volume, a healthcheck)", "database"),
    "temporal": ("temporalio/server", "Temporal (image temporalio/server)", "temporal"),
    "temporal-ui": ("temporalio/ui", "Temporal's UI (image temporalio/ui)", "temporal"),
}
"""The services Compose runs itself, unless system.deploy.<database|temporal> is external."""


def _environment(service: dict[str, Any]) -> dict[str, Any]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (str(item).split("=", 1) for item in env)
        return {pair[0]: (pair[1] if len(pair) > 1 else None) for pair in pairs}
    return dict(env) if isinstance(env, dict) else {}


def _depends(service: dict[str, Any]) -> dict[str, Any]:
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return {name: {} for name in depends}
    return dict(depends) if isinstance(depends, dict) else {}


def _silent(name: str, value: Any) -> bool:
    """``${NAME}`` or ``${NAME:-}``: an unset setting becomes an empty string."""
    return isinstance(value, str) and (f"${{{name}}}" in value or f"${{{name}:-" in value)


def _has_health(service: dict[str, Any]) -> bool:
    check = service.get("healthcheck")
    return isinstance(check, dict) and bool(check.get("test")) and not check.get("disable")


class _Checker:
    def __init__(self, plan: Plan, data: dict[str, Any], file: str) -> None:
        self.plan = plan
        self.file = file
        self.services: dict[str, Any] = {
            k: v for k, v in (data.get("services") or {}).items() if isinstance(v, dict)
        }
        self.findings: list[Finding] = []
        self.secrets = secret_names(plan) | {"POSTGRES_PASSWORD"}
        top = data.get("secrets")
        self.top_secrets: dict[str, Any] = dict(top) if isinstance(top, dict) else {}

    def add(self, obj: str, problem: str, fix: str) -> None:

        self.findings.append(Finding(self.file, obj, problem, fix, "system"))

    def roles(self, roles: dict[str, list[str]]) -> None:
        needed = [*LONG_RUNNING, "migrate", "temporal-setup"]
        if self.plan.syncs_schedules:
            needed.append("schedules-sync")
        for role in needed:
            if role not in roles:
                command = self.plan.commands[role]
                self.add(
                    "services",
                    f"no service runs `{' '.join(command)}` (the {role}).",
                    f"Add a service '{role}' with image {self.plan.image} and command {command}.",
                )
        for key, (image, what, part) in INFRA.items():
            if getattr(self.plan.deploy, part).mode == "external":
                continue
            if not any(str(s.get("image", "")).startswith(image) for s in self.services.values()):
                self.add(
                    "services",
                    f"no service runs {what}.",
                    f"Add the service '{key}' (raw deploy render writes it).",
                )
        for name, service in self.services.items():
            if str(service.get("image", "")).startswith("postgres"):
                if not service.get("volumes"):
                    self.add(
                        f"services.{name}",
                        "PostgreSQL keeps its data in the container: it is lost on removal.",
                        "Mount a named volume at /var/lib/postgresql/data.",
                    )
                if not _has_health(service):
                    self.add(
                        f"services.{name}",
                        "PostgreSQL has no healthcheck, so nothing can wait for it.",
                        "Add healthcheck: {test: [CMD-SHELL, pg_isready -U raw -d raw]}.",
                    )

    def depends_on(self) -> None:
        for name, service in self.services.items():
            for target, spec in _depends(service).items():
                where = f"services.{name}.depends_on.{target}"
                if target not in self.services:
                    self.add(where, f"'{target}' is not a service.", "Add it, or remove the line.")
                    continue
                condition = (spec or {}).get("condition", "service_started")
                if condition not in GATES:
                    self.add(
                        where,
                        f"waits only for '{target}' to start ({condition}), not to be ready.",
                        "Use condition: service_healthy (or service_completed_successfully "
                        "for a one-shot service).",
                    )
                elif condition == "service_healthy" and not _has_health(self.services[target]):
                    self.add(
                        where,
                        f"waits for '{target}' to be healthy, but '{target}' has no healthcheck.",
                        f"Add a healthcheck to '{target}'.",
                    )

    def app(self, role: str, name: str, roles: dict[str, list[str]]) -> None:
        plan = self.plan
        service = self.services[name]
        where = f"services.{name}"
        if service.get("image") != plan.image:
            self.add(
                where,
                f"runs the image {service.get('image')}, not the system's {plan.image}.",
                f"Use {plan.image} (system.deploy.image) in every file.",
            )
        env = _environment(service)
        settings_role = "temporal-setup" if role == "schedules-sync" else role
        files = secret_settings(plan, settings_role)
        for setting in plan.compose_settings_for(settings_role):
            value = env.get(setting.name)
            if setting.name not in env and not service.get("env_file"):
                self.add(
                    where,
                    f"does not provide {setting.name} ({setting.why}).",
                    f"Add environment {setting.name}: "
                    + (
                        files.get(setting.name)
                        or setting.value
                        or f"${{{setting.name}:?{setting.name} is required}}"
                    ),
                )
            elif _silent(setting.name, value) and setting.from_secret and setting.required:
                self.add(
                    f"{where}.environment.{setting.name}",
                    f"{setting.name} is required but silently empty when unset.",
                    f"Write ${{{setting.name}:?{setting.name} is required}}.",
                )
        self.connections(settings_role, where, service, env)
        if role != "api":
            return
        if str(env.get("RAW_DISPATCHER", "")).lower() != "off":
            self.add(
                where,
                "runs the built-in dispatcher beside the dispatcher service.",
                "Set environment RAW_DISPATCHER: 'off' on the api.",
            )
        if not _has_health(service):
            self.add(
                where,
                "has no healthcheck (the api serves /health).",
                'Add healthcheck: {test: [CMD, python, -c, "import urllib.request; '
                f"urllib.request.urlopen('http://127.0.0.1:{plan.port}/health')\"]}}.",
            )
        port = option(command_words(service.get("command")), "--port") or str(plan.port)
        published = [str(p).rsplit(":", 1)[-1].split("/")[0] for p in service.get("ports") or []]
        if port not in published:
            self.add(
                where,
                f"listens on {port} (--port) but publishes no port {port}.",
                f'Add ports: ["{port}:{port}"].',
            )
        migrate = roles.get("migrate", [])
        gates = _depends(service)
        if migrate and not any(
            (gates.get(m) or {}).get("condition") == "service_completed_successfully"
            for m in migrate
        ):
            self.add(
                where,
                "may start before the migrations have run.",
                f"Add depends_on: {{{migrate[0]}: {{condition: service_completed_successfully}}}}.",
            )

    def connections(
        self, role: str, where: str, service: dict[str, Any], env: dict[str, Any]
    ) -> None:
        """Temporal's address, and each TLS file mounted where its setting points."""
        plan = self.plan
        address = temporal_address(plan)
        if role in TEMPORAL_ROLES and env.get("TEMPORAL_ADDRESS", address) != address:
            self.add(
                f"{where}.environment.TEMPORAL_ADDRESS",
                f"points at {env['TEMPORAL_ADDRESS']}, not at the system's Temporal {address}.",
                f"Set TEMPORAL_ADDRESS: {address}.",
            )
        # A setting left to an env_file cannot be read here: only what the file says is held.
        unread = bool(service.get("env_file"))
        mounted = {
            str(item.get("source") if isinstance(item, dict) else item): item
            for item in service.get("secrets") or []
        }
        for secret in compose_secrets(plan):
            if role not in secret.roles:
                continue
            target = secret.name
            item = mounted.get(secret.name)
            if isinstance(item, dict) and item.get("target"):
                target = str(item["target"])
            path = target if target.startswith("/") else f"/run/secrets/{target}"
            if item is None or secret.name not in self.top_secrets:
                self.add(
                    where,
                    f"does not mount {secret.what} (the Compose secret {secret.name}).",
                    f"Add secrets: [{secret.name}] to the service and the top-level secret "
                    f"{secret.name}: {{file: {secret.file}}} (raw deploy render writes both).",
                )
            elif env.get(secret.setting, path if unread else None) != path:
                self.add(
                    f"{where}.environment.{secret.setting}",
                    f"{secret.setting} does not point at the mounted file {path}.",
                    f"Set {secret.setting}: {path}.",
                )
        wanted = secret_settings(plan, role).get("PGSSLMODE")
        mode = env.get("PGSSLMODE", wanted if unread else None)
        if wanted and not (isinstance(mode, str) and encrypts(mode)):
            self.add(
                f"{where}.environment.PGSSLMODE",
                f"PGSSLMODE is {mode or 'not set'}: the database may be reached unencrypted.",
                f"Set PGSSLMODE: {wanted}.",
            )

    def secrets_in_plain_text(self) -> None:
        for name, service in self.services.items():
            for key, value in _environment(service).items():
                if leaks(key, value, self.secrets):
                    self.add(
                        f"services.{name}.environment.{key}",
                        f"{key} holds a secret in plain text.",
                        f"Write ${{{key}:?{key} is required}} and put the value in .env "
                        "(never committed).",
                    )

    def schedules(self, roles: dict[str, list[str]]) -> None:
        if self.plan.cronjobs and roles.get("schedules-sync"):
            name = roles["schedules-sync"][0]
            self.add(
                f"services.{name}",
                "syncs Temporal Schedules although system.deploy.schedules is cronjob: the "
                "schedules would run as Temporal Schedules and as CronJobs.",
                "Remove the service (render again), or choose schedules: temporal.",
            )

    def run(self) -> list[Finding]:
        roles = service_roles(self.services)
        self.roles(roles)
        self.depends_on()
        for role, names in roles.items():
            for name in names:
                if role != "cron":
                    self.app(role, name, roles)
        self.secrets_in_plain_text()
        self.schedules(roles)
        return self.findings


def check_compose(plan: Plan, data: dict[str, Any], file: str) -> list[Finding]:
    """The findings of the compose ``data`` (from ``file``) against the system."""
    return _Checker(plan, data, file).run()
