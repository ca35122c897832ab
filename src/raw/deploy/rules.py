"""What the consistency checks share: roles recognised by command, secrets recognised by name.

Hand-written files are checked too, so a role is found by what a container
runs (``raw worker``), not by what it is called; a secret by its setting's name
(the system's own secret settings, or a name such as ``*_PASSWORD``).
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING, Any

from raw.deploy.config import looks_secret
from raw.deploy.plan import schedule_command

if TYPE_CHECKING:
    from raw.deploy.plan import Plan

__all__ = [
    "ROLE_COMMANDS",
    "command_words",
    "leaks",
    "role_of",
    "schedule_of",
    "secret_names",
    "service_roles",
]

ROLE_COMMANDS = {
    "api": ["raw", "serve"],
    "worker": ["raw", "worker"],
    "dispatcher": ["raw", "dispatcher"],
    "migrate": ["raw", "db", "upgrade"],
    "temporal-setup": ["raw", "engine", "start"],
    "schedules-sync": ["raw", "schedules", "sync"],
    "cron": ["raw", "run"],
}
LONG_RUNNING = ("api", "worker", "dispatcher")
_URL_PASSWORD = re.compile(r"://[^:/@\s]*:([^@\s]*)@")


def command_words(command: Any, args: Any = None) -> list[str]:
    """A command as words, from a list or a shell string (Compose allows both)."""
    words: list[str] = []
    for part in (command, args):
        if isinstance(part, str):
            words += shlex.split(part)
        elif isinstance(part, list):
            words += [str(word) for word in part]
    return words


def role_of(words: list[str]) -> str | None:
    """The role a command plays (``api`` for ``raw serve ...``), None for anything else."""
    if words and words[0].endswith("/raw"):
        words = ["raw", *words[1:]]
    for role, prefix in ROLE_COMMANDS.items():
        if words[: len(prefix)] == prefix:
            return role
    return None


def schedule_of(plan: Plan, words: list[str]) -> str | None:
    """The id of the configured schedule this command runs (``raw run <workflow> <args>``)."""
    for schedule in plan.schedules:
        if words == schedule_command(schedule):
            return schedule.id
    return None


def option(words: list[str], flag: str) -> str | None:
    """The value of ``--flag VALUE`` or ``--flag=VALUE``."""
    for index, word in enumerate(words):
        if word == flag and index + 1 < len(words):
            return words[index + 1]
        if word.startswith(flag + "="):
            return word.split("=", 1)[1]
    return None


def secret_names(plan: Plan) -> set[str]:
    """Every setting whose value must never be written in a file."""
    return {s.name for s in plan.secret_keys()} | {s.name for s in plan.secret_settings()}


def _is_reference(value: str) -> bool:
    return "${" in value or "$(" in value


def leaks(name: str, value: Any, secrets: set[str]) -> bool:
    """Whether ``name=value`` writes a secret in plain text (a reference is fine)."""
    if value is None or not isinstance(value, str | int | float):
        return False
    text = str(value)
    if "PRIVATE KEY-----" in text:  # key material pasted where a path or a reference belongs
        return True
    match = _URL_PASSWORD.search(text)
    if match and match.group(1) and not _is_reference(match.group(1)):
        return True
    if not text or _is_reference(text):
        return False
    return name in secrets or looks_secret(name)


def service_roles(services: dict[str, Any]) -> dict[str, list[str]]:
    """Compose services by role: ``{"worker": ["worker"], ...}``."""
    roles: dict[str, list[str]] = {}
    for name, service in services.items():
        if not isinstance(service, dict):
            continue
        role = role_of(command_words(service.get("entrypoint"), service.get("command")))
        if role is not None:
            roles.setdefault(role, []).append(name)
    return roles
