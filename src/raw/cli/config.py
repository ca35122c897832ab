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
import sys

from raw import console as output
from raw.cli.process import action_adder
from raw.config.original import upgraded_text
from raw.config.project import load_config
from raw.errors import UsageError
from raw.files import write_atomic
from raw.project import find_project

EXAMPLES = """\
examples:
  raw config check
  RAW_TASK_QUEUE=hiring-test raw config check --json
  raw config upgrade          (shows the diff, then asks)
  raw config upgrade --yes"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    action = action_adder(parser)
    p = action("check", "Validate .raw/config.yaml and print the effective settings.")
    p.set_defaults(handler=cmd_check)
    p = action("upgrade", "Rewrite an original RAW runtime's config.yaml in this kit's format.")
    p.add_argument("--yes", action="store_true", help="write without asking")
    p.set_defaults(handler=cmd_upgrade)


def cmd_check(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw config check needs it.
    from raw.commands.checks import config_check_document

    done = config_check_document(args.project_dir)
    if args.json:
        output.emit_json(done.body)
        return done.exit_code
    if not done.ok:
        raise done.detail
    path, original = done.detail
    orchestrator = done.body["orchestrator"]
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
