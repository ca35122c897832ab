"""Development settings kept in ``.raw/local.env``, so a system runs on a fresh machine.

A system names the settings holding its secrets (webhook secrets, the API token,
the phone simulator's auth token) but a newcomer has none. In development,
``raw up`` writes a strong random value for each one that is not set into
``.raw/local.env`` (mode 0600, git-ignored) and reuses it on later runs;
``raw webhook send`` reads the same file, so a delivery is signed with the
secret the running coordinator checks. Values in the environment always win,
and outside development (``RAW_ENV`` other than development) nothing is written.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from raw.local_state import LOCAL_ENV
from raw.project import Project

__all__ = [
    "LOCAL_ENV",
    "development",
    "ensure_local_env",
    "load_local_env",
    "new_secret",
    "secret_settings",
]


def development(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get("RAW_ENV", "development").strip().lower() in ("", "development", "dev")


def secret_settings(project: Project) -> dict[str, str]:
    """Each secret setting the system reads, with the scheme its value is used for."""
    system = project.config.system
    wanted: dict[str, str] = {system.coordinator.api_token_setting: "token"}
    for hook in system.coordinator.webhooks:
        for name in hook.secrets:
            wanted.setdefault(name, hook.scheme)
    telephony = system.integrations.telephony
    if telephony is not None and telephony.adapter == "local":
        wanted.setdefault(telephony.auth_token_setting, "twilio")
    return wanted


def new_secret(scheme: str) -> str:
    """A strong development value for a setting used with ``scheme`` (its format)."""
    if scheme == "standard-webhooks":  # the scheme's secrets are base64 with a prefix
        return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    return secrets.token_hex(24)


def _read(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() and not name.lstrip().startswith("#"):
            values[name.strip()] = value.strip()
    return values


def load_local_env(project: Project) -> list[str]:
    """Set the file's settings that the environment lacks; returns their names."""
    loaded = []
    for name, value in _read(project.raw_dir / LOCAL_ENV).items():
        if not os.environ.get(name):
            os.environ[name] = value
            loaded.append(name)
    return loaded


def ensure_local_env(project: Project) -> list[str]:
    """In development: give every unset secret setting a value kept in the file, and load it.

    Returns the names newly written. Outside development, only loads nothing and
    writes nothing (the app then refuses to start without its secrets, naming them).
    """
    if not development():
        return []
    path = project.raw_dir / LOCAL_ENV
    known = _read(path)
    missing = {
        name: scheme
        for name, scheme in secret_settings(project).items()
        if not os.environ.get(name) and name not in known
    }
    if missing:
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"{name}={value}" for name, value in known.items()]
        lines += [f"{name}={new_secret(scheme)}" for name, scheme in missing.items()]
        header = "# Development secrets written by `raw up`; never use them in production.\n"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(header + "\n".join(lines) + "\n")
    load_local_env(project)
    return sorted(missing)
