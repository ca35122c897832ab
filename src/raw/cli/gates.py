"""`raw gates`: run the project's quality gates with time limits, a log each and a journal.

Exit codes: 0 every gate passed; 1 a gate failed or timed out; 2 the gates'
configuration (or the config file) is invalid, or an ``--only`` name is not a
gate; 3 no project.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from raw import console as output
from raw.project import find_project

if TYPE_CHECKING:
    from raw.gates.runner import GateResult
    from raw.gates.spec import GateSpec

EXAMPLES = """\
examples:
  raw gates                              (builder.gates.default, then .optional)
  raw gates --only system-check
  raw gates --only validate --only dry --json

built-in gates: validate, dry, temporal-validate, docker-validate, system-check
(any of them may be named with --only, configured or not). Each run leaves
.raw/gates/<run-id>/: a log per gate, journal.jsonl and summary.json.

exit codes: 0 all passed, 1 a gate failed or timed out, 2 invalid configuration
or usage, 3 no project"""

_MARKS = {"passed": ("✓", "32"), "failed": ("✗", "31"), "timed_out": ("⏱", "33")}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only this gate (repeatable); any built-in gate may be named",
    )
    parser.set_defaults(handler=cmd_gates)


def _shown(path: Path | str) -> str:
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def cmd_gates(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw gates needs it.
    from raw.commands.checks import gates_document
    from raw.gates.spec import select_gates

    project = find_project(args.project_dir)
    project.config.system  # noqa: B018 - an invalid config stops here, with exit 2
    specs = select_gates(project, args.only)  # the names, for the progress lines
    total = len(specs)
    width = max([len(s.name) for s in specs] + [4])

    def started(index: int, spec: GateSpec) -> None:
        limit = f"running (limit {spec.timeout_seconds:g} s)"
        line = f"[{index + 1}/{total}] {spec.name.ljust(width)} {limit}"
        if spec.note:
            output.err(output.style(f"note: {spec.name}: {spec.note}", "2"))
        output.err(line)

    def finished(index: int, result: GateResult) -> None:
        mark, color = _MARKS.get(result.status, ("✗", "31"))
        status = result.status.replace("_", " ")
        output.err(
            f"[{index + 1}/{total}] {result.name.ljust(width)} "
            + output.style(f"{mark} {status}", color)
            + f" in {result.duration_seconds:.1f} s"
        )
        sys.stderr.flush()

    if not specs:
        output.err("No gates configured (builder.gates in .raw/config.yaml).")
    done = gates_document(project.root, args.only, on_start=started, on_finish=finished)
    code, body = done.exit_code, done.body
    if args.json:
        output.emit_json(body)
        return code
    rows = [("gate", "status", "seconds", "log")]
    rows += [
        (g["name"], g["status"], f"{g['duration_seconds']:.1f}", _shown(g["log"]))
        for g in body["gates"]
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    print()
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    for failure in body["failures"]:
        print(output.style(f"\n{failure['name']} ({failure['status'].replace('_', ' ')}):", "1"))
        for line in failure["output"][-12:]:
            print(f"  {line}")
    failed = [f["name"] for f in body["failures"]]
    print()
    if failed:
        print(f"{len(failed)} of {total} gates did not pass: {', '.join(failed)}.")
    else:
        print(f"All {total} gates passed.")
    print(f"Journal and logs: {_shown(body['directory'])}")
    return code
