"""`raw config check`: validate .raw/config.yaml strictly and show the effective settings.

Exit 0 when the file is valid, 2 when it is not (the error names the key and
lists what is allowed there), 3 when there is no project.
"""

from __future__ import annotations

import argparse

from raw import console as output
from raw.cli.process import action_adder

EXAMPLES = """\
examples:
  raw config check
  RAW_TASK_QUEUE=hiring-test raw config check --json"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    action = action_adder(parser)
    p = action("check", "Validate .raw/config.yaml and print the effective settings.")
    p.set_defaults(handler=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw config check needs it.
    from raw.commands.checks import config_check_document

    done = config_check_document(args.project_dir)
    if args.json:
        output.emit_json(done.body)
        return done.exit_code
    if not done.ok:
        raise done.detail
    path = done.detail
    orchestrator = done.body["orchestrator"]
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
