"""``docker-compose.yml``: the whole system on one machine, PostgreSQL and Temporal included.

Compose runs its own PostgreSQL and Temporal (the official images, on the same
PostgreSQL) unless ``deploy.database`` / ``deploy.temporal`` say ``external``: then
it runs none, the services connect to the external one, and its TLS files are
Compose secrets mounted into the services that connect
(:mod:`raw.deploy.compose_secrets`). Required settings are ``${NAME:?message}`` so
a missing one stops ``docker compose up`` with its name; ``.env.example`` lists
them, values empty. A secret's value is never written here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raw.deploy.compose_secrets import (
    compose_secrets,
    secret_notes,
    secret_settings,
    top_level_secrets,
)
from raw.deploy.dockerfile import health_command
from raw.deploy.observability import (
    COLLECTOR_SERVICE,
    collector_service,
    compose_env,
    env_example_lines,
)
from raw.deploy.plan import (
    POSTGRES_DB,
    POSTGRES_USER,
    TEMPORAL_PORT,
    TEMPORAL_UI_PORT,
    WORKER_METRICS_PORT,
)

if TYPE_CHECKING:
    from raw.deploy.plan import Plan, Setting

__all__ = [
    "namespace_script",
    "render_compose",
    "render_env_example",
    "schema_script",
    "temporal_address",
]

MISSING = "is not set: add it to .env next to docker-compose.yml (see .env.example)"


def required(name: str) -> str:
    return f"${{{name}:?{name} {MISSING}}}"


def schema_script(host: str) -> str:
    """Create Temporal's two databases and bring their schemas up to date (safe to repeat)."""
    lines = ["set -eu"]
    for db, schema in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
        tool = (
            f"temporal-sql-tool --plugin postgres12 --ep {host} -u {POSTGRES_USER} "
            f"-p 5432 --db {db}"
        )
        lines += [
            f"{tool} create || true",
            f"{tool} setup-schema -v 0.0 || true",
            f"{tool} update-schema -d /etc/temporal/schema/postgresql/v12/{schema}/versioned",
        ]
    return "\n".join(lines) + "\n"


def namespace_script(namespace: str) -> str:
    return (
        f"temporal operator namespace describe -n {namespace} "
        f"|| temporal operator namespace create -n {namespace}\n"
    )


def temporal_address(plan: Plan) -> str:
    """Where Compose's services reach Temporal: its own service, or the external address."""
    return f"temporal:{TEMPORAL_PORT}" if plan.in_cluster_temporal else plan.temporal_address


def _value(plan: Plan, setting: Setting) -> str:
    if setting.name == "DATABASE_URL" and setting.value is None and plan.in_cluster_database:
        password = required("POSTGRES_PASSWORD")
        return f"postgresql://{POSTGRES_USER}:{password}@postgres:5432/{POSTGRES_DB}"
    if setting.name == "TEMPORAL_ADDRESS":
        return temporal_address(plan)
    if setting.name == "RAW_PUBLIC_BASE_URL":
        return "${RAW_PUBLIC_BASE_URL:-http://localhost:8000}"
    if setting.value is not None:
        return setting.value
    return required(setting.name) if setting.required else f"${{{setting.name}:-}}"


def compose_environment(plan: Plan, role: str) -> dict[str, str]:
    env = {s.name: _value(plan, s) for s in plan.compose_settings_for(role)}
    # TLS paths: the mounted files, not k8s'; then OpenTelemetry's, when configured.
    return {**env, **secret_settings(plan, role), **compose_env(plan, role)}


def _app(
    plan: Plan, role: str, build: dict[str, str], *, command: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    service: dict[str, Any] = {
        "image": plan.image,
        "build": dict(build),
        "command": command or plan.commands[role],
        "environment": compose_environment(plan, role),
    }
    mounted = [s.name for s in compose_secrets(plan) if role in s.roles]
    if mounted:
        service["secrets"] = mounted
    # An empty depends_on: nothing of Compose's own to wait for (an external server).
    service.update({key: value for key, value in extra.items() if value != {}})
    return service


def _done(*names: str) -> dict[str, dict[str, str]]:
    return {name: {"condition": "service_completed_successfully"} for name in names}


def _healthy(*names: str) -> dict[str, dict[str, str]]:
    return {name: {"condition": "service_healthy"} for name in names}


def _temporal_services(plan: Plan) -> dict[str, Any]:
    temporal = plan.deploy.temporal
    password = required("POSTGRES_PASSWORD")
    admin = f"temporalio/admin-tools:{temporal.version}"
    return {
        "temporal-schema": {
            "image": admin,
            "entrypoint": ["/bin/sh", "-c"],
            "command": [schema_script("postgres")],
            "environment": {"SQL_PASSWORD": password},
            "depends_on": _healthy("postgres"),
        },
        "temporal": {
            "image": f"temporalio/server:{temporal.version}",
            "environment": {
                "DB": "postgres12",
                "DB_PORT": "5432",
                "POSTGRES_USER": POSTGRES_USER,
                "POSTGRES_PWD": password,
                "POSTGRES_SEEDS": "postgres",
                "BIND_ON_IP": "0.0.0.0",
            },
            "ports": [f"{TEMPORAL_PORT}:{TEMPORAL_PORT}"],
            "healthcheck": {
                "test": ["CMD", "nc", "-z", "localhost", str(TEMPORAL_PORT)],
                "interval": "5s",
                "timeout": "3s",
                "retries": 60,
                "start_period": "30s",
            },
            "depends_on": _done("temporal-schema"),
            "restart": "unless-stopped",
        },
        "temporal-namespace": {
            "image": admin,
            "entrypoint": ["/bin/sh", "-c"],
            "command": [namespace_script(plan.system.orchestrator.namespace)],
            "environment": {"TEMPORAL_ADDRESS": f"temporal:{TEMPORAL_PORT}"},
            "depends_on": _healthy("temporal"),
        },
        "temporal-ui": {
            "image": f"temporalio/ui:{temporal.ui_version}",
            "environment": {"TEMPORAL_ADDRESS": f"temporal:{TEMPORAL_PORT}"},
            "ports": [f"{TEMPORAL_UI_PORT}:{TEMPORAL_UI_PORT}"],
            "depends_on": _healthy("temporal"),
            "restart": "unless-stopped",
        },
    }


def render_compose(plan: Plan, *, context: str, dockerfile: str) -> dict[str, Any]:
    """The compose file as data; ``context`` and ``dockerfile`` are from the compose file."""
    build = {"context": context, "dockerfile": dockerfile}
    off = {"disable": True}  # no HTTP to probe: Compose restarts them when they exit
    port = plan.port
    postgres = {
        "image": plan.deploy.database.image,
        "environment": {
            "POSTGRES_USER": POSTGRES_USER,
            "POSTGRES_DB": POSTGRES_DB,
            "POSTGRES_PASSWORD": required("POSTGRES_PASSWORD"),
        },
        "volumes": ["postgres-data:/var/lib/postgresql/data"],
        "healthcheck": {
            "test": ["CMD-SHELL", f"pg_isready -U {POSTGRES_USER} -d {POSTGRES_DB}"],
            "interval": "5s",
            "timeout": "5s",
            "retries": 30,
            "start_period": "10s",
        },
        "restart": "unless-stopped",
    }
    own_database = _healthy("postgres") if plan.in_cluster_database else {}
    own_temporal = _done("temporal-namespace") if plan.in_cluster_temporal else {}
    services: dict[str, Any] = {}
    if plan.in_cluster_database:
        services["postgres"] = postgres
    if plan.in_cluster_temporal:
        services.update(_temporal_services(plan))
    services["migrate"] = _app(plan, "migrate", build, healthcheck=off, depends_on=own_database)
    services["temporal-setup"] = _app(
        plan, "temporal-setup", build, healthcheck=off, depends_on=own_temporal
    )
    if plan.syncs_schedules:
        services["schedules-sync"] = _app(
            plan,
            "temporal-setup",
            build,
            command=plan.commands["schedules-sync"],
            healthcheck=off,
            depends_on=_done("temporal-setup"),
        )
    ready = {**own_database, **_done("migrate", "temporal-setup")}
    services["api"] = _app(
        plan,
        "api",
        build,
        ports=[f"{port}:{port}"],
        healthcheck={
            "test": ["CMD", *health_command(port)],
            "interval": "10s",
            "timeout": "5s",
            "retries": 5,
            "start_period": "30s",
        },
        depends_on=ready,
        restart="unless-stopped",
    )
    for role in ("worker", "dispatcher"):
        services[role] = _app(
            plan, role, build, healthcheck=off, depends_on=dict(ready), restart="unless-stopped"
        )
    services["worker"]["expose"] = [str(WORKER_METRICS_PORT)]  # the SDK's metrics, for Prometheus
    collector = collector_service(plan)
    if collector is not None:
        services[COLLECTOR_SERVICE] = collector
    compose: dict[str, Any] = {"name": plan.name, "services": services}
    if plan.in_cluster_database:
        compose["volumes"] = {"postgres-data": {}}
    secrets = top_level_secrets(plan)
    if secrets:
        compose["secrets"] = secrets
    return compose


def render_env_example(plan: Plan) -> str:
    """The variables docker-compose.yml reads, with empty values: copy to .env and fill in."""
    lines = [
        "# Settings docker-compose.yml reads. Copy to .env (never commit it) and fill in.",
        "# Required ones stop `docker compose up` with their name when missing.",
    ]
    if plan.in_cluster_database:
        lines += [
            "# A URL-safe password for PostgreSQL (it is part of DATABASE_URL): "
            "openssl rand -hex 24",
            "POSTGRES_PASSWORD=",
        ]
    for setting in plan.compose_secret_settings():
        if setting.name == "DATABASE_URL" and plan.in_cluster_database:
            continue
        need = "required" if setting.required else "optional"
        why = setting.why
        if setting.name == "DATABASE_URL":
            why = (
                "the external PostgreSQL, e.g. "
                "postgresql://USER:PASSWORD@HOST:5432/DB?sslmode=verify-full"
            )
        lines.append(f"# {why} ({need})")
        lines.append(f"{setting.name}=")
    return "\n".join([*lines, *env_example_lines(plan), *secret_notes(plan)]) + "\n"
