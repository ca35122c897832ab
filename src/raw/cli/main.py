"""``raw``: the command-line entry point.

Only what a command needs is imported, and only once it is chosen: ``raw run``
must start fast, so nothing here imports the coordinator, Temporal or a
database driver.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from raw._heap import freeze_imports
from raw.console import CLOSED_OUTPUT, USAGE, drop_closed_stdout, emit_json, fail, stdout_closed
from raw.errors import RawError
from raw.version import __version__

DESCRIPTION = """\
raw: build durable, event-driven systems from small, stateless RAW workflows.

Every command takes --json for one machine-readable document on stdout and
never prompts when it has what it needs.

exit codes:
  0    success
  1    the workflow failed, or a check found errors
  2    invalid input or usage
  3    not found (workflow, run or project)
  4    could not reach a service (coordinator, Temporal, SMTP catcher, database)
  124  timed out
  130  interrupted
  141  output closed early (e.g. piped into head)
"""

EXAMPLES: dict[str, str] = {
    "init": "examples:\n  raw init\n  raw init --name hiring --json",
    "create": (
        "examples:\n  raw create analyze-cv --intent 'Score a CV against a job description'\n"
        "  raw create daily-report --json"
    ),
    "run": (
        "examples:\n  raw run analyze-cv --cv-text 'Ten years of Python'\n"
        "  raw run analyze-cv --params @params.json --json\n"
        "  raw run analyze-cv --dry\n"
        "  raw run analyze-cv --help        (the workflow's own flags)"
    ),
    "validate": "examples:\n  raw validate analyze-cv\n  raw validate --all --json",
    "list": "examples:\n  raw list\n  raw list --json",
    "show": "examples:\n  raw show analyze-cv\n  raw show analyze-cv --runs 20 --json",
    "engine": "examples:\n  raw engine start\n  raw engine status --json\n  raw engine stop",
    "worker": "examples:\n  raw worker\n  raw worker --check --json",
    "temporal": (
        "examples:\n  raw temporal record --query \"WorkflowType = 'HiringProcess'\"\n"
        "  raw temporal replay --json"
    ),
    "logs": (
        "examples:\n  raw logs analyze-cv\n"
        "  raw logs analyze-cv --run 20261125T133012123456Z-a1b2c3"
    ),
}


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 2; with --json they are a JSON document too."""

    def error(self, message: str) -> NoReturn:
        if "--json" in sys.argv[1:]:
            emit_json({"error": {"type": "UsageError", "message": message}, "exit_code": USAGE})
            raise SystemExit(USAGE)
        self.print_usage(sys.stderr)
        print(f"Error: {message}", file=sys.stderr)
        raise SystemExit(USAGE)


def _command(sub: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=EXAMPLES.get(name),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    return parser


def _lazy(module: str, func: str) -> Callable[[argparse.Namespace], int]:
    def call(args: argparse.Namespace) -> int:
        handler: Callable[[argparse.Namespace], int] = getattr(
            importlib.import_module(module), func
        )
        return handler(args)

    return call


EXTENSIONS: tuple[tuple[str, str], ...] = (
    ("engine", "Start, stop or inspect the project's embedded Temporal server."),
    ("worker", "Serve the system's Temporal workflows and activities."),
    ("process", "Start, signal, inspect, list and cancel Temporal processes."),
    ("schedules", "Sync the config's Temporal Schedules; list or trigger them."),
    ("temporal", "Record process histories and replay them against the code."),
    ("serve", "Run the coordinator: webhooks, the inbox dispatcher, the REST API."),
    ("dispatcher", "Perform the coordinator's inbox actions until stopped."),
    ("webhook", "Send a correctly signed webhook delivery to a coordinator."),
    ("db", "Migrate the coordinator's database; purge or erase personal data."),
    ("config", "Check .raw/config.yaml and show the effective settings."),
    ("deploy", "Render Dockerfile, Compose, Kubernetes and Helm files; check them offline."),
    ("simulate", "Run a system's scenarios on simulated time (days in seconds)."),
    ("up", "Start the whole system here: Temporal, worker, coordinator, local integrations."),
    ("integrations", "Run the local SMTP catcher and phone simulator; list what they caught."),
    ("gates", "Run the quality gates (validate, dry, system-check, ...) with time limits."),
    ("plan", "The decision tree: which system to build, and the command that builds it."),
    ("new", "Generate a working system for a pattern: raw new system NAME --pattern ..."),
    ("describe", "Draw the system as configured: raw describe system [--format mermaid|svg]."),
    ("mcp", "Serve the project to coding agents over MCP (stdio, or HTTP with the API token)."),
    ("skill", "Install the project's skills (SKILL.md) for coding agents."),
    ("build", "Let a model build the system through the MCP tools until the gates pass."),
    ("rerun", "Run a workflow again with the params of a failed (or named) run."),
)
"""Commands whose module ``raw.cli.<name>`` configures its own parser (keeping heavy
imports in its handler)."""


def _configure(parser: argparse.ArgumentParser, module: str) -> None:
    """Let a command module add its own arguments (it keeps heavy imports in its handler)."""
    importlib.import_module(module).configure(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="raw",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument(
        "--project-dir",
        metavar="DIR",
        help="the project folder (default: RAW_PROJECT_DIR, else the current folder or a parent)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = _command(sub, "init", "Create .raw/config.yaml and .raw/workflows/ here.")
    p.add_argument("--name", help="the project's name (default: the folder's name)")
    p.set_defaults(handler=_lazy("raw.cli.scaffold", "cmd_init"))

    p = _command(sub, "create", "Create a runnable workflow with Params, steps, mocks and a test.")
    p.add_argument("workflow_id", metavar="ID", help="a lowercase slug, e.g. analyze-cv")
    p.add_argument("--intent", help="what the workflow should do, in a sentence")
    p.add_argument("--force", action="store_true", help="overwrite an existing workflow")
    p.set_defaults(handler=_lazy("raw.cli.scaffold", "cmd_create"))

    # `raw run` parses its own arguments (the workflow's flags); this entry is for --help.
    p = _command(sub, "run", "Run a workflow with flags generated from its Params.")
    p.add_argument("workflow_id", metavar="ID")
    p.add_argument("--dry", action="store_true", help="use the workflow's mocks; no network")
    p.add_argument("--params", metavar="JSON|@FILE|-", help="params as JSON, a file, or stdin")
    p.add_argument("--timeout", metavar="SECONDS", type=float, help="stop a run that overstays")
    p.add_argument("--no-cache", action="store_true", help="ignore and do not write @cache")
    p.add_argument(
        "--no-deps",
        action="store_true",
        help="run in this environment: do not install the PEP 723 header's dependencies",
    )

    p = _command(sub, "validate", "Import workflows in a subprocess and check them for real.")
    p.add_argument("workflow_id", metavar="ID", nargs="?")
    p.add_argument("--all", action="store_true", help="validate every workflow (the default)")
    p.set_defaults(handler=_lazy("raw.cli.validate", "cmd_validate"))

    p = _command(sub, "list", "List the project's workflows and their last runs.")
    p.set_defaults(handler=_lazy("raw.cli.inspect", "cmd_list"))

    p = _command(sub, "show", "Describe a workflow: params, steps and recent runs.")
    p.add_argument("workflow_id", metavar="ID")
    p.add_argument("--runs", type=int, default=5, metavar="N", help="how many recent runs")
    p.set_defaults(handler=_lazy("raw.cli.inspect", "cmd_show"))

    p = _command(sub, "logs", "Print the log of a workflow's latest run, or of --run RUN_ID.")
    p.add_argument("workflow_id", metavar="ID")
    p.add_argument("--run", metavar="RUN_ID", help="a run id from 'raw show' (default: latest)")
    p.set_defaults(handler=_lazy("raw.cli.inspect", "cmd_logs"))
    for name, help_text in EXTENSIONS:  # each module adds its own arguments
        _configure(_command(sub, name, help_text), f"raw.cli.{name}")
    return parser


def _split_globals(argv: list[str]) -> tuple[str | None, list[str]]:
    """Take ``--project-dir DIR`` from before the command."""
    project_dir = None
    rest = list(argv)
    while rest and rest[0].startswith("--project-dir"):
        head = rest.pop(0)
        if "=" in head:
            project_dir = head.split("=", 1)[1]
        elif rest:
            project_dir = rest.pop(0)
    return project_dir, rest


def main(argv: list[str] | None = None) -> NoReturn:
    """Run one command; a reader that stops reading early (``raw ... | head``) ends it quietly."""
    try:
        try:
            _main(argv)
        finally:  # flushed here, where a closed pipe can be caught, not at interpreter exit
            sys.stdout.flush()
    except BrokenPipeError:
        if not stdout_closed():  # another pipe or socket broke: a real error
            raise
        drop_closed_stdout()
        sys.exit(CLOSED_OUTPUT)


def _main(argv: list[str] | None) -> NoReturn:
    args_in = sys.argv[1:] if argv is None else argv
    project_dir, rest = _split_globals(args_in)
    if rest and rest[0] == "run" and not (len(rest) == 1 or rest[1] in ("-h", "--help")):
        # Lazy: per-command module, loaded only when this command runs.
        from raw.cli.run import cmd_run

        if argv is None:  # the process's own command line, not a caller's in-process call
            freeze_imports()  # the run's runtime is imported: not garbage, never walked again
        sys.exit(cmd_run(rest[1:], project_dir=project_dir))
    parser = build_parser()
    args = parser.parse_args(rest)
    if args.project_dir is None:
        args.project_dir = project_dir
    if args.version:
        print(f"raw {__version__}")
        sys.exit(0)
    if args.command is None:
        parser.print_help(sys.stderr)
        sys.exit(2)
    if args.command == "run":  # reached only for `raw run` alone or `raw run --help`
        parser.parse_args([*rest, "--help"])

    try:
        code = args.handler(args)
    except RawError as exc:
        fail(exc, as_json=getattr(args, "json", False))
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code)


if __name__ == "__main__":
    main()
