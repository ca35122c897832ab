"""Compose's TLS files: top-level ``secrets:`` from files under ``secrets/``, beside the file.

With an external Temporal or PostgreSQL, Compose reaches it the way Kubernetes
does, with the files each connection needs mounted read-only into exactly the
services that connect, and the settings that name the files pointing there:

    secret                  file (from docker-compose.yml)   setting
    temporal-ca             ./secrets/temporal-ca.pem        TEMPORAL_TLS_SERVER_CA_CERT_PATH
    temporal-client-cert    ./secrets/temporal-client.pem    TEMPORAL_TLS_CLIENT_CERT_PATH
    temporal-client-key     ./secrets/temporal-client.key    TEMPORAL_TLS_CLIENT_KEY_PATH
    database-ca             ./secrets/database-ca.pem        PGSSLROOTCERT
    database-client-cert    ./secrets/database-client.pem    PGSSLCERT
    database-client-key     ./secrets/database-client.key    PGSSLKEY

Temporal's files are those ``system.orchestrator.connection`` names; the
database's follow ``system.deploy.database.tls_secret`` (the CA) and
``client_cert`` (the pair), as in Kubernetes. Compose mounts a secret at
``/run/secrets/<name>``. Secret *values* (the API key, ``DATABASE_URL``) are not
files: they come from ``.env`` as required ``${NAME:?...}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from raw.deploy.database_tls import DATABASE_ROLES, sslmode
from raw.deploy.plan import APP_UID, TEMPORAL_ROLES

if TYPE_CHECKING:
    from raw.deploy.plan import Plan

__all__ = [
    "SECRETS_DIR",
    "ComposeSecret",
    "compose_secrets",
    "gitignore",
    "secret_notes",
    "secret_settings",
    "top_level_secrets",
]

SECRETS_DIR = "secrets"
"""Beside docker-compose.yml; kept out of the image and of version control."""
RUN_SECRETS = "/run/secrets"
_TEMPORAL = (
    ("server_ca_cert", "temporal-ca", "temporal-ca.pem", "TEMPORAL_TLS_SERVER_CA_CERT_PATH"),
    ("client_cert", "temporal-client-cert", "temporal-client.pem", "TEMPORAL_TLS_CLIENT_CERT_PATH"),
    ("client_key", "temporal-client-key", "temporal-client.key", "TEMPORAL_TLS_CLIENT_KEY_PATH"),
)
_WHAT = {
    "temporal-ca": "the CA certificate that signed Temporal's (PEM)",
    "temporal-client-cert": "the client certificate for Temporal's mutual TLS (PEM)",
    "temporal-client-key": "its private key (PEM)",
    "database-ca": "the CA certificate that signed PostgreSQL's (PEM)",
    "database-client-cert": "the client certificate PostgreSQL asks for (PEM)",
    "database-client-key": "its private key (PEM)",
}


@dataclass(frozen=True)
class ComposeSecret:
    """One TLS file, as a Compose secret: where it lies, who mounts it, what points at it."""

    name: str
    filename: str
    setting: str
    roles: tuple[str, ...]

    @property
    def file(self) -> str:
        """The ``file:`` of the top-level secret, from the compose file's folder."""
        return f"./{SECRETS_DIR}/{self.filename}"

    @property
    def path(self) -> str:
        """Where the service finds it: Compose mounts a secret at /run/secrets/<name>."""
        return f"{RUN_SECRETS}/{self.name}"

    @property
    def what(self) -> str:
        return _WHAT[self.name]


def compose_secrets(plan: Plan) -> list[ComposeSecret]:
    """The TLS files Compose mounts, in order: Temporal's, then the database's."""
    found: list[ComposeSecret] = []
    if not plan.in_cluster_temporal:
        connection = plan.system.orchestrator.connection
        for attr, name, filename, setting in _TEMPORAL:
            if getattr(connection, attr):
                found.append(ComposeSecret(name, filename, setting, TEMPORAL_ROLES))
    database = plan.deploy.database
    if not plan.in_cluster_database and database.tls_secret:
        roles = DATABASE_ROLES
        found.append(ComposeSecret("database-ca", "database-ca.pem", "PGSSLROOTCERT", roles))
        if database.client_cert:
            found += [
                ComposeSecret("database-client-cert", "database-client.pem", "PGSSLCERT", roles),
                ComposeSecret("database-client-key", "database-client.key", "PGSSLKEY", roles),
            ]
    return found


def secret_settings(plan: Plan, role: str) -> dict[str, str]:
    """The settings of ``role`` that point at its mounted files (and libpq's sslmode)."""
    mine = [s for s in compose_secrets(plan) if role in s.roles]
    env = {s.setting: s.path for s in mine}
    if any(s.setting == "PGSSLROOTCERT" for s in mine):
        env = {"PGSSLMODE": sslmode(plan), **env}
    return env


def top_level_secrets(plan: Plan) -> dict[str, dict[str, str]]:
    return {s.name: {"file": s.file} for s in compose_secrets(plan)}


def secret_notes(plan: Plan) -> list[str]:
    """``.env.example``'s lines on the files: where each goes and who must read it."""
    secrets = compose_secrets(plan)
    if not secrets:
        return []
    lines = [
        "#",
        f"# Files, not settings: docker-compose.yml mounts each from {SECRETS_DIR}/ beside it",
        "# (read-only, at /run/secrets/<name>) into the services that connect. Never commit",
        f"# them: {SECRETS_DIR}/.gitignore keeps them out of git, Dockerfile.dockerignore out",
        "# of the image.",
    ]
    width = max(len(s.file) for s in secrets)
    lines += [f"#   {s.file:<{width}}  {s.what}" for s in secrets]
    if any(s.filename.endswith(".key") for s in secrets):
        lines.append(
            f"# The services run as uid {APP_UID}: chown {APP_UID} {SECRETS_DIR}/*.key && "
            f"chmod 0600 {SECRETS_DIR}/*.key"
        )
    return lines


def gitignore() -> str:
    """``secrets/.gitignore``: every file there but itself stays out of git."""
    return "# TLS files docker-compose.yml mounts: never committed.\n*\n!.gitignore\n"
