"""``raw run <id> [--param value ...]``: run a workflow from the terminal.

The command's own options (``--json``, ``--dry``, ``--params``, ``--timeout``,
``--no-cache``) may appear anywhere; every other ``--flag`` belongs to the
workflow's Params. ``--help`` after an id lists that workflow's flags.
"""

from __future__ import annotations

from raw import console as output
from raw.errors import UsageError
from raw.workflow.arguments import split_args
from raw.workflow.terminal import run_and_print


def cmd_run(tokens: list[str], *, project_dir: str | None) -> int:
    as_json = "--json" in tokens
    try:
        args = split_args(tokens)
    except UsageError as exc:
        output.fail(exc, as_json=as_json)
    if args.workflow_id is None:
        output.fail(
            UsageError("Name the workflow to run: raw run <id> [--flag value ...]."),
            as_json=args.as_json,
        )
    return run_and_print(args, project_dir=project_dir, entry_point="cli")
