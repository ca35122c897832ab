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
    from raw.commands.design import new_system_document

    directory = Path(args.dir) if args.dir else Path.cwd() / args.name
    if not args.json:
        output.err(f"Writing the {args.pattern} system '{args.name}' to {directory.resolve()} ...")
    document = new_system_document(
        args.name,
        pattern=args.pattern,
        directory=directory,
        webhooks=list(args.webhook),
        schedules=list(args.schedule),
        force=args.force,
    ).body
    if args.json:
        output.emit_json(document)
        return output.OK
    files = document["files"]
    output.err(f"Wrote {len(files)} files:")
    for name in files:
        output.err(f"  {name}")
    for note in document["notes"]:
        output.err(output.style("note: ", "33") + note)
    shown = directory if args.dir else Path(args.name)
    first = "raw up" if document["pattern"] != "single" else f"raw run {document['system']} --dry"
    output.err(f"\nNext:\n  cd {shown}\n  {first}\n  raw gates")
    return output.OK
