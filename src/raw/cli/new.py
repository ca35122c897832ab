"""`raw new system NAME --pattern single|temporal|full`: a working project from the decision tree.

Exit codes: 0 written; 2 a bad name (the error gives the rule), pattern, webhook
or schedule, or the folder exists (pass --force to write over it).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from raw import console as output
from raw.cli.process import action_adder

EXAMPLES = """\
examples:
  raw new system summarize --pattern single
  raw new system onboarding --pattern temporal --schedule "0 8 * * *:daily-report"
  raw new system approvals --pattern full --webhook request --webhook approval
  raw new system shop --pattern full --webhook order --webhook payment:github
  raw plan --state-across-days --webhooks            (which pattern? the decision tree)

Each pattern's project passes its own tests and `raw gates` as written; `full`
runs under `raw up`. exit codes: 0 written, 2 invalid input or the folder exists"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    action = action_adder(parser)
    p = action("system", "Generate a system: workflows, process, webhooks, tests, deployment.")
    p.epilog = EXAMPLES
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("name", metavar="NAME", help="a lowercase name, e.g. onboarding")
    p.add_argument(
        "--pattern",
        required=True,
        choices=["single", "temporal", "full"],
        help="the decision tree's branch (see `raw plan`)",
    )
    p.add_argument(
        "--webhook",
        action="append",
        default=[],
        metavar="NAME[:SCHEME]",
        help=(
            "full: a webhook route; the first starts the process, others signal it. SCHEME "
            "is how its sender signs: standard-webhooks (default), github, twilio, bearer"
        ),
    )
    p.add_argument(
        "--schedule",
        action="append",
        default=[],
        metavar="CRON:WORKFLOW",
        help="temporal/full: a report workflow run on a schedule, e.g. '0 8 * * *:daily-report'",
    )
    p.add_argument("--dir", metavar="DIR", help="where to write it (default: ./NAME)")
    p.add_argument("--force", action="store_true", help="write into an existing, non-empty folder")
    p.set_defaults(handler=cmd_new_system)


def cmd_new_system(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw new loads PyYAML.
    from raw.scaffold.system import write_system
    from raw.scaffold.system_plan import SystemOptions, parse_schedule, plan_system

    directory = Path(args.dir) if args.dir else Path.cwd() / args.name
    options = SystemOptions(
        name=args.name,
        pattern=args.pattern,
        directory=directory.resolve(),
        webhooks=list(args.webhook),
        schedules=[parse_schedule(s) for s in args.schedule],
        force=args.force,
    )
    plan = plan_system(options)  # every check, before any file is touched
    if not args.json:
        output.err(f"Writing the {args.pattern} system '{args.name}' to {options.directory} ...")
    written = write_system(plan)
    files = sorted({str(f.relative_to(written.root)) for f in written.files})
    if args.json:
        output.emit_json(
            {
                "system": plan.name,
                "pattern": plan.pattern,
                "directory": str(written.root),
                "package": plan.package if plan.pattern != "single" else None,
                "webhooks": plan.webhooks,
                "schemes": plan.schemes,
                "schedules": [s.text for s in options.schedules],
                "files": files,
                "notes": written.notes,
            }
        )
        return output.OK
    output.err(f"Wrote {len(files)} files:")
    for name in files:
        output.err(f"  {name}")
    for note in written.notes:
        output.err(output.style("note: ", "33") + note)
    shown = directory if args.dir else Path(args.name)
    first = "raw up" if plan.pattern != "single" else f"raw run {plan.name} --dry"
    output.err(f"\nNext:\n  cd {shown}\n  {first}\n  raw gates")
    return output.OK
