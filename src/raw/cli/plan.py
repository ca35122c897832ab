"""`raw plan`: the architecture's decision tree, as a command.

From flags (or, in a terminal without them, questions) it recommends a single
RAW workflow, Temporal + RAW workflows, or FastAPI + Temporal + RAW workflows +
deployment, explains each branch in a sentence, and prints the `raw new system`
command that builds it. Exit codes: 0 a recommendation; 2 an answer is missing
and there is no terminal to ask (the error names the flags).
"""

from __future__ import annotations

import argparse
import sys

from raw import console as output
from raw.errors import UsageError

EXAMPLES = """\
examples:
  raw plan                                             (asks, in a terminal)
  raw plan --no-state-across-days
  raw plan --state-across-days --no-webhooks --schedule "0 8 * * *"
  raw plan --state-across-days --webhook application --webhook interview --name hiring --json

exit codes: 0 a recommendation, 2 an answer is missing (and no terminal to ask)"""

QUESTIONS = {
    "state_across_days": (
        "Does it need state across days (wait for events, sleep until a date, track "
        "something for days)?"
    ),
    "webhooks": "Does it need webhooks (events that arrive from other systems)?",
}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    parser.add_argument(
        "--state-across-days",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="does it keep state across days?",
    )
    parser.add_argument(
        "--webhooks",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="does it receive webhooks?",
    )
    parser.add_argument(
        "--webhook",
        action="append",
        default=[],
        metavar="NAME",
        help="a webhook by name (implies --webhooks); the first starts the process",
    )
    parser.add_argument(
        "--schedule",
        action="append",
        default=[],
        metavar="CRON[:WORKFLOW]",
        help="runs on a schedule, e.g. '0 8 * * *' or '0 8 * * *:daily-report'",
    )
    parser.add_argument("--name", default="my-system", help="the system's name, for the command")
    parser.set_defaults(handler=cmd_plan)


def _ask(question: str) -> bool:
    while True:
        sys.stderr.write(f"{question} [y/n] ")
        sys.stderr.flush()
        answer = sys.stdin.readline()
        if not answer:
            raise EOFError
        answer = answer.strip().lower()
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no"):
            return False


def cmd_plan(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw plan needs it.
    from raw.commands.design import plan_document
    from raw.scaffold.system_plan import check_system_name

    check_system_name(args.name)
    if args.webhook and args.webhooks is False:
        raise UsageError("--webhook names a webhook, but --no-webhooks says there are none.")
    answers = {
        "state_across_days": args.state_across_days,
        "webhooks": True if args.webhook else args.webhooks,
    }
    missing = [key for key, value in answers.items() if value is None]
    if answers["state_across_days"] is False:  # the tree stops at the first question
        missing = [key for key in missing if key != "webhooks"]
        answers["webhooks"] = bool(answers["webhooks"])
    if missing and not sys.stdin.isatty():
        flags = " and ".join(
            f"--{k.replace('_', '-')} or --no-{k.replace('_', '-')}" for k in missing
        )
        raise UsageError(f"Answer the decision tree with {flags} (no terminal to ask in).")
    for key in missing:
        try:
            answers[key] = _ask(QUESTIONS[key])
        except EOFError:
            raise UsageError("No answer: pass the flags instead (raw plan --help).") from None
        if key == "state_across_days" and not answers[key]:
            answers["webhooks"] = bool(answers["webhooks"])
            break
    document = plan_document(
        state_across_days=bool(answers["state_across_days"]),
        webhooks=bool(answers["webhooks"]),
        schedules=list(args.schedule),
        webhook_names=list(args.webhook),
        name=args.name,
    ).body
    if args.json:
        output.emit_json(document)
        return output.OK
    for branch in document["branches"]:
        print(f"{branch['question']} {output.style(branch['answer'], '1')}")
        print(f"  {branch['explanation']}")
    print(f"\nRecommended: {output.style(document['description'], '1')}")
    for component in document["components"]:
        print(f"  - {component}")
    print(f"\nBuild it:\n  {document['command']}")
    return output.OK
