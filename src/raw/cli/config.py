"""`raw config check`: validate .raw/config.yaml strictly and show the effective settings.

Exit 0 when the file is valid, 2 when it is not (the error names the key and
lists what is allowed there), 3 when there is no project.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from raw import console as output
from raw.cli.process import action_adder
from raw.config.project import load_config
from raw.errors import ConfigError
from raw.project import find_project

EXAMPLES = """\
examples:
  raw config check
  RAW_TASK_QUEUE=hiring-test raw config check --json"""

ENV_OVERRIDES = {
    "address": "TEMPORAL_ADDRESS",
    "namespace": "RAW_TEMPORAL_NAMESPACE",
    "task_queue": "RAW_TASK_QUEUE",
}
"""Orchestrator settings the environment overrides, and the variable that does."""
TEMPORAL_CLIENT_SETTINGS = (
    "TEMPORAL_NAMESPACE",
    "TEMPORAL_PROFILE",
    "TEMPORAL_CONFIG_FILE",
    "TEMPORAL_TLS",
    "TEMPORAL_TLS_SERVER_NAME",
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
    "TEMPORAL_TLS_CLIENT_CERT_PATH",
    "TEMPORAL_TLS_CLIENT_KEY_PATH",
)
"""Temporal's own client settings whose values may be shown (names, paths, switches)."""
TEMPORAL_CLIENT_SECRETS = (
    "TEMPORAL_API_KEY",
    "TEMPORAL_TLS_SERVER_CA_CERT_DATA",
    "TEMPORAL_TLS_CLIENT_CERT_DATA",
    "TEMPORAL_TLS_CLIENT_KEY_DATA",
)
"""...and those shown only as set: a key, or a file's content."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    action = action_adder(parser)
    p = action("check", "Validate .raw/config.yaml and print the effective settings.")
    p.set_defaults(handler=cmd_check)


def effective_orchestrator(project_config: Any) -> dict[str, Any]:
    """The orchestrator settings in force, each overridable one with where it came from."""
    configured = project_config.system.orchestrator
    effective = configured.effective()
    fields_set = configured.model_fields_set
    settings: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, env in ENV_OVERRIDES.items():
        settings[key] = getattr(effective, key)
        if os.environ.get(env):
            sources[key] = f"env {env}"
        elif key in fields_set:
            sources[key] = "config"
        else:
            sources[key] = "default"
    if settings["address"] is None:
        sources["address"] = "embedded engine ('raw engine start')"
    settings.update(
        workflows=list(effective.workflows),
        activities=list(effective.activities),
        activity_mode=effective.activity_mode,
        schedules=[s.model_dump(mode="json", exclude_none=True) for s in effective.schedules],
        connection=effective.connection.model_dump(mode="json", exclude_none=True),
        temporal_env={
            **{n: os.environ[n] for n in TEMPORAL_CLIENT_SETTINGS if os.environ.get(n)},
            **{n: "(set)" for n in TEMPORAL_CLIENT_SECRETS if os.environ.get(n)},
        },
        sources=sources,
    )
    return settings


def cmd_check(args: argparse.Namespace) -> int:
    project = find_project(args.project_dir)
    path = project.config_path
    try:
        config = load_config(path)
        config.system  # noqa: B018 - validated on first use; check it here
    except ConfigError as exc:
        if args.json:
            output.emit_json(
                {"config": str(path), "valid": False, **output.error_document(exc, output.USAGE)}
            )
            return output.USAGE
        raise
    orchestrator = effective_orchestrator(config)
    if args.json:
        output.emit_json(
            {
                "config": str(path),
                "exists": path.exists(),
                "valid": True,
                "system": config.system.name,
                "orchestrator": orchestrator,
            }
        )
        return output.OK
    where = str(path) if path.exists() else f"{path} (absent: every setting is its default)"
    sources = orchestrator["sources"]
    lines = [
        f"{where}: valid.",
        "orchestrator (effective):",
        f"  address:        {orchestrator['address'] or '-'}  [{sources['address']}]",
        f"  namespace:      {orchestrator['namespace']}  [{sources['namespace']}]",
        f"  task_queue:     {orchestrator['task_queue']}  [{sources['task_queue']}]",
        f"  workflows:      {', '.join(orchestrator['workflows']) or '-'}",
        f"  activities:     {', '.join(orchestrator['activities']) or '-'}",
        f"  activity_mode:  {orchestrator['activity_mode']}",
        f"  schedules:      {len(orchestrator['schedules']) or '-'}",
    ]
    for s in orchestrator["schedules"]:
        paused = "  (paused)" if s.get("paused") else ""
        lines.append(f"    {s['id']}: '{s['cron']}' {s['timezone']} -> {s['workflow']}{paused}")
    connection = ", ".join(f"{k}={v}" for k, v in orchestrator["connection"].items())
    lines.append(f"  connection:     {connection or '-'}")
    for name, value in orchestrator["temporal_env"].items():
        lines.append(f"    env {name}={value}")
    print("\n".join(lines))
    return output.OK
