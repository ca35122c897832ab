"""Which gates a `raw gates` run runs, read from ``builder.gates`` in ``.raw/config.yaml``.

``builder.gates.default`` lists gate names in order; ``builder.gates.optional``
defines command gates by name. `raw gates` runs the default ones, then every
optional one not already run (``--only NAME ...`` picks a subset, and may name
any built-in gate even when the config does not).

The architecture's own example config names two commands that cannot work
here: ``temporal workflow validate`` is not a command of Temporal's CLI, and
``docker-compose config`` needs Docker's tooling. A gate with one of those
commands runs the built-in gate that does that job offline instead, with a note.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from raw.config.project import BUILTIN_GATES
from raw.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from raw.project import Project

__all__ = [
    "ARCHITECTURE_COMMANDS",
    "BUILTIN_TIMEOUTS",
    "GateSpec",
    "expand_command",
    "select_gates",
]

BUILTIN_TIMEOUTS: dict[str, float] = {
    "validate": 120,
    "dry": 300,
    "temporal-validate": 180,
    "docker-validate": 120,
    "system-check": 120,
}
"""Time limits of the built-in gates when the config gives none."""

BUILTIN_HELP: dict[str, str] = {
    "validate": "import every RAW workflow in a fresh interpreter and check it (raw validate)",
    "dry": "run every RAW workflow on its mocks, with no network (raw run --dry)",
    "temporal-validate": (
        "import the processes in Temporal's sandbox and replay every recorded history "
        "(raw temporal replay)"
    ),
    "docker-validate": "check the deployment files offline (raw deploy check)",
    "system-check": (
        "prove the parts agree: workflows, params, signals, webhook actions, deployment"
    ),
}

ARCHITECTURE_COMMANDS: dict[str, tuple[str, str]] = {
    "temporal workflow validate": (
        "temporal-validate",
        "Temporal's CLI has no `workflow validate`; the built-in temporal-validate gate "
        "replays the recorded histories in the workflow sandbox instead.",
    ),
    "docker-compose config": (
        "docker-validate",
        "`docker-compose config` needs Docker's tooling; the built-in docker-validate gate "
        "checks the Compose file, Kubernetes objects, Helm chart and Dockerfile offline.",
    ),
    "docker compose config": (
        "docker-validate",
        "`docker compose config` needs Docker's tooling; the built-in docker-validate gate "
        "checks the Compose file, Kubernetes objects, Helm chart and Dockerfile offline.",
    ),
}
"""Commands from the architecture's example config -> (built-in gate, the note shown)."""

PLACEHOLDERS = ("workflow_dir", "workflows_dir", "project_dir")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class GateSpec:
    """One gate of a run: a built-in one (run by the kit) or a command."""

    name: str
    kind: Literal["builtin", "command"]
    timeout_seconds: float
    builtin: str | None = None
    """The built-in gate that runs (may differ from ``name``: an architecture command)."""
    command: str | None = None
    """The command as configured (kind ``command``), before placeholders are expanded."""
    note: str | None = None

    def describe(self) -> str:
        if self.kind == "command":
            return str(self.command)
        return f"built-in: {BUILTIN_HELP[str(self.builtin)]}"


def expand_command(command: str, project: Project) -> str:
    """Replace ``{workflow_dir}`` (the workflows folder) and ``{project_dir}`` in a command."""
    values = {
        "workflow_dir": shlex.quote(str(project.workflows_dir)),
        "workflows_dir": shlex.quote(str(project.workflows_dir)),
        "project_dir": shlex.quote(str(project.root)),
    }

    def replace(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    return _PLACEHOLDER.sub(replace, command)


def _check_placeholders(name: str, command: str, project: Project) -> None:
    unknown = sorted({m for m in _PLACEHOLDER.findall(command) if m not in PLACEHOLDERS})
    if unknown:
        raise ConfigError(
            f"{project.config_path}: builder.gates.optional.{name}.command uses the unknown "
            f"placeholder {', '.join('{' + u + '}' for u in unknown)} (allowed: "
            + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            + ")."
        )


def _spec(name: str, project: Project) -> GateSpec:
    gates = project.config.builder.gates
    configured = gates.optional.get(name)
    if configured is None:
        if name not in BUILTIN_GATES:  # config validation makes this unreachable for default
            raise UsageError(f"No gate '{name}'.")
        return GateSpec(name, "builtin", BUILTIN_TIMEOUTS[name], builtin=name)
    if configured.command is None:
        return GateSpec(name, "builtin", configured.timeout_seconds, builtin=name)
    known = ARCHITECTURE_COMMANDS.get(" ".join(configured.command.split()))
    if known is not None:
        builtin, note = known
        return GateSpec(name, "builtin", configured.timeout_seconds, builtin=builtin, note=note)
    _check_placeholders(name, configured.command, project)
    return GateSpec(name, "command", configured.timeout_seconds, command=configured.command)


def select_gates(project: Project, only: list[str] | None = None) -> list[GateSpec]:
    """The gates to run, in order. Raises ConfigError (exit 2) for an unusable config and
    UsageError for an ``--only`` name that is not a gate."""
    gates = project.config.builder.gates
    configured = list(dict.fromkeys([*gates.default, *gates.optional]))
    if only:
        allowed = list(dict.fromkeys([*configured, *BUILTIN_GATES]))
        unknown = [name for name in only if name not in allowed]
        if unknown:
            raise UsageError(
                f"No gate {', '.join(repr(u) for u in unknown)} in {project.config_path}. "
                f"Gates: {', '.join(allowed)}."
            )
        names = list(dict.fromkeys(only))
    else:
        names = configured
    return [_spec(name, project) for name in names]
