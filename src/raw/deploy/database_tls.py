"""PostgreSQL over TLS in a deployment: the CA (and client certificate) from a Secret, and checks.

With ``system.deploy.database.tls_secret`` set, every pod that connects to the
database (api, worker, dispatcher, migrate, the CronJobs) mounts that Secret
read-only at :data:`MOUNT_PATH` and gets libpq's own variables pointing at it:
``PGSSLMODE`` (the config's ``database_tls.sslmode``, else ``verify-full``),
``PGSSLROOTCERT`` (``ca.crt``), ``PGSSLCERT`` / ``PGSSLKEY`` (``tls.crt`` / ``tls.key``,
used when the Secret holds them). ``DATABASE_URL`` still comes from the secret
settings' Secret by ``secretKeyRef``. A Secret of type ``kubernetes.io/tls`` made by
cert-manager has these keys already.

``raw deploy check`` refuses, from the config alone: a database password written in
``system.coordinator.database_url``, and a PostgreSQL on another host that may be
reached unencrypted (sslmode below ``require``), unless
``system.coordinator.database_tls.allow_unencrypted`` says the network is trusted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raw.config.database import (
    DatabaseTLSConfig,
    effective_sslmode,
    encrypts,
    is_local_database,
    url_password,
    with_tls,
)
from raw.deploy.findings import Finding

if TYPE_CHECKING:
    from raw.deploy.plan import Plan
    from raw.deploy.values import Values

__all__ = [
    "DATABASE_ROLES",
    "MOUNT_PATH",
    "check_database_security",
    "sslmode",
    "tls_env",
    "tls_mount",
    "tls_volume",
]

DATABASE_ROLES = ("api", "worker", "dispatcher", "migrate", "cron")
"""The roles that open the database (the same as DATABASE_URL's readers)."""
MOUNT_PATH = "/etc/raw/database-tls"
VOLUME = "database-tls"
_READ_BY_OWNER_AND_GROUP = 0o440  # libpq takes a root-owned key with group read (fsGroup)


def _secret(plan: Plan) -> str | None:
    return plan.deploy.database.tls_secret if not plan.in_cluster_database else None


def _tls(plan: Plan) -> DatabaseTLSConfig:
    return plan.system.coordinator.database_tls


def tls_volume(plan: Plan, v: Values) -> dict[str, Any] | None:
    """The pod volume of the database's TLS Secret, or None when there is none."""
    secret = _secret(plan)
    if secret is None:
        return None
    name = v.scalar(
        "database.tlsSecret",
        secret,
        "The Secret holding the database's CA (ca.crt) and any client certificate "
        "(tls.crt, tls.key).",
    )
    return {
        "name": VOLUME,
        "secret": {"secretName": name, "defaultMode": _READ_BY_OWNER_AND_GROUP},
    }


def tls_mount(plan: Plan, role: str) -> dict[str, Any] | None:
    if _secret(plan) is None or role not in DATABASE_ROLES:
        return None
    return {"name": VOLUME, "mountPath": MOUNT_PATH, "readOnly": True}


def sslmode(plan: Plan) -> str:
    """libpq's sslmode where the deployment mounts the CA: the config's if it encrypts."""
    mode = _tls(plan).sslmode
    return mode if mode is not None and encrypts(mode) else "verify-full"


def tls_env(plan: Plan, role: str) -> list[dict[str, Any]]:
    """libpq's variables for a role that connects, pointing at the mounted Secret."""
    if _secret(plan) is None or role not in DATABASE_ROLES:
        return []
    values = {
        "PGSSLMODE": sslmode(plan),
        "PGSSLROOTCERT": f"{MOUNT_PATH}/ca.crt",
        "PGSSLCERT": f"{MOUNT_PATH}/tls.crt",
        "PGSSLKEY": f"{MOUNT_PATH}/tls.key",
    }
    return [{"name": name, "value": value} for name, value in values.items()]


def check_database_security(plan: Plan) -> list[Finding]:
    """What the config says about the database that a deployment must not ship."""
    coordinator = plan.system.coordinator
    where = ".raw/config.yaml"
    findings: list[Finding] = []
    url = coordinator.database_url or ""
    if url and url_password(url):
        findings.append(
            Finding(
                where,
                "system.coordinator.database_url",
                "holds the database's password: the config file is in the image and in "
                "version control.",
                "Remove database_url from the config and put the whole URL in the "
                "DATABASE_URL secret setting (the Secret, or the environment for Compose).",
                "system",
            )
        )
    tls = coordinator.database_tls
    if plan.in_cluster_database or tls.allow_unencrypted:
        return findings
    mode: str | None = tls.sslmode
    if url and url.lower().startswith("postgres"):
        if is_local_database(url):
            return findings
        try:
            mode = effective_sslmode(with_tls(url, tls), environ={})
        except ValueError:
            mode = tls.sslmode
    elif plan.deploy.database.tls_secret:
        mode = mode or "verify-full"  # PGSSLMODE from the rendered pods
    if mode is None or not encrypts(mode):
        findings.append(
            Finding(
                where,
                "system.coordinator.database_tls.sslmode",
                f"is {mode or 'not set (libpq prefers TLS but falls back to plain text)'} "
                "for an external PostgreSQL: its connections may cross the network "
                "unencrypted.",
                "Set system.coordinator.database_tls.sslmode: verify-full with the CA in "
                "system.deploy.database.tls_secret (or sslrootcert), or sslmode: require; "
                "on a network you trust, set database_tls.allow_unencrypted: true.",
                "system",
            )
        )
    return findings
