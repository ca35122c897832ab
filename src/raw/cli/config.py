"""`raw config check` and `raw config upgrade`.

``check`` validates .raw/config.yaml strictly and shows the effective settings: exit 0
when the file is valid, 2 when it is not (the error names the key and lists what is
allowed there), 3 when there is no project.

``upgrade`` rewrites a config of the original RAW runtime (``version: 0.2.0``) in this
kit's format (:mod:`raw.config.original`). It prints the diff first, then writes with
``--yes``, or after asking in a terminal; with neither it writes nothing and exits 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from raw import console as output
from raw.cli.process import action_adder
from raw.config.original import upgraded_text
from raw.config.project import load_config
from raw.errors import ConfigError, UsageError
from raw.files import write_atomic
from raw.project import find_project

EXAMPLES = """\
examples:
  raw config check
  RAW_TASK_QUEUE=hiring-test raw config check --json
  raw config upgrade          (shows the diff, then asks)
  raw config upgrade --yes"""

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
    p = action("upgrade", "Rewrite an original RAW runtime's config.yaml in this kit's format.")
    p.add_argument("--yes", action="store_true", help="write without asking")
    p.set_defaults(handler=cmd_upgrade)


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
    original = config.original
    if args.json:
        output.emit_json(
            {
                "config": str(path),
                "exists": path.exists(),
                "valid": True,
                "original_format": None
                if original is None
                else {"version": original.version, "set_aside": list(original.set_aside)},
                "system": config.system.name,
                "orchestrator": orchestrator,
            }
        )
        return output.OK
    where = str(path) if path.exists() else f"{path} (absent: every setting is its default)"
    if original is not None:
        where += f" ({original.summary()}; 'raw config upgrade' rewrites it)"
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


def _ask(question: str) -> bool:
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def cmd_upgrade(args: argparse.Namespace) -> int:
    project = find_project(args.project_dir)
    path = project.config_path
    config = load_config(path)  # an invalid file is reported (exit 2), never rewritten
    original = config.original
    if original is None:
        message = f"{path} is already in this kit's format: nothing to upgrade."
        if args.json:
            output.emit_json({"config": str(path), "upgraded": False, "diff": "", "written": False})
        else:
            output.err(message)
        return output.OK
    # Lazy: only the upgrade diffs.
    import difflib

    info = original
    before = path.read_text(encoding="utf-8")
    after = upgraded_text(info)
    diff = "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"{path} (original runtime, version {info.version})",
            tofile=f"{path} (upgraded)",
        )
    )
    if args.json:
        if not args.yes:
            output.emit_json(
                {
                    "config": str(path),
                    "upgraded": False,
                    "diff": diff,
                    "written": False,
                    **output.error_document(_confirm_error(path), output.USAGE),
                }
            )
            return output.USAGE
        write_atomic(path, after.encode())
        output.emit_json({"config": str(path), "upgraded": True, "diff": diff, "written": True})
        return output.OK
    sys.stdout.write(diff)
    sys.stdout.flush()
    if not args.yes:
        if not sys.stdin.isatty():
            raise _confirm_error(path)
        if not _ask(f"Rewrite {path}?"):
            output.err("Not written.")
            return output.OK
    write_atomic(path, after.encode())
    output.err(f"{path} rewritten in this kit's format (version 1).")
    return output.OK


def _confirm_error(path: object) -> UsageError:
    return UsageError(
        f"{path} was not rewritten: pass --yes to write the upgrade shown above "
        "(raw config upgrade asks only in a terminal)."
    )
