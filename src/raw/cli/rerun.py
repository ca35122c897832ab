"""`raw rerun ID [--run RUN_ID]`: run a workflow again with the params of a recorded run.

The run is --run, else the latest that did not succeed; it runs as recorded (its params,
dry or not) and is recorded anew. Exit codes as `raw run`'s, and 3 when there is no
such workflow or nothing to run again, 2 when the recorded params hide a secret.
"""

from __future__ import annotations

import argparse

from raw import console as output

EXAMPLES = """\
examples:
  raw rerun analyze-cv                       (the latest failed run, again)
  raw rerun analyze-cv --run 20261125T133012123456Z-a1b2c3 --json"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    parser.add_argument("workflow_id", metavar="ID")
    parser.add_argument(
        "--run", metavar="RUN_ID", help="the run to repeat (default: the latest failed one)"
    )
    parser.set_defaults(handler=cmd_rerun)


def cmd_rerun(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw rerun loads the runtime.
    from raw.commands.runs import rerun_document
    from raw.workflow.terminal import RunPrinter

    with output.stdout_to_stderr(args.json) as stdout:
        done = rerun_document(
            args.project_dir, args.workflow_id, run_id=args.run, entry_point="cli"
        )
        if args.json:
            output.emit_json(done.body, stream=stdout)
            return done.exit_code
        output.err(f"Rerun of {done.body['rerun_of']}:")
        return RunPrinter(False, stdout=stdout)(done.detail)
