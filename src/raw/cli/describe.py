"""`raw describe system`: the system as configured, drawn as text, Mermaid or SVG.

Reads .raw/config.yaml and the process and activity code (nothing runs, nothing
connects). Exit codes: 0 drawn (or, with --check, the README's drawing is current);
1 with --check, the README's drawing differs from the system; 2 the config is
invalid or the README has no drawing markers; 3 no project here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from raw import console as output
from raw.cli.process import action_adder
from raw.errors import UsageError
from raw.project import find_project

EXAMPLES = """\
examples:
  raw describe system                        (text)
  raw describe system --format mermaid       (a Mermaid flowchart)
  raw describe system --format svg > system.svg
  raw describe system --json                 (nodes and edges)
  raw describe system --readme README.md     (redraw the README's drawing)
  raw describe system --readme README.md --check

exit codes: 0 drawn or current, 1 the README's drawing is out of date (--check),
2 invalid config or no drawing markers in the README, 3 no project"""

FORMATS = ("text", "mermaid", "svg")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    action = action_adder(parser)
    p = action("system", "Draw the system: routes, processes, workflows, schedules, integrations.")
    p.epilog = EXAMPLES
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--format", choices=FORMATS, default="text", help="how to draw it (text)")
    p.add_argument("--output", metavar="FILE", help="write the drawing to FILE, not stdout")
    p.add_argument(
        "--readme",
        metavar="FILE",
        help="replace the Mermaid drawing between the markers in FILE (a generated README)",
    )
    p.add_argument(
        "--check", action="store_true", help="with --readme: only say whether it is current"
    )
    p.set_defaults(handler=cmd_describe_system)


def cmd_describe_system(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw describe reads code and draws.
    from raw.describe import build_system_map, to_mermaid, to_svg, to_text

    project = find_project(args.project_dir)
    system = build_system_map(project)
    if args.readme:
        return _readme(args, system)
    if args.check:
        raise UsageError("--check needs --readme FILE: the README whose drawing to check.")
    if args.json:
        output.emit_json(system.model_dump(mode="json"))
        return output.OK
    drawn = {"text": to_text, "mermaid": to_mermaid, "svg": to_svg}[args.format](system)
    if args.output:
        Path(args.output).write_text(drawn, encoding="utf-8")
        output.err(f"Wrote the {args.format} drawing of '{system.name}' to {args.output}.")
    else:
        sys.stdout.write(drawn)
    return output.OK


def _readme(args: argparse.Namespace, system: object) -> int:
    # Lazy: as above.
    from raw.describe.model import SystemMap
    from raw.describe.readme import BEGIN, END, replace_block

    assert isinstance(system, SystemMap)
    path = Path(args.readme)
    text = path.read_text(encoding="utf-8")
    updated = replace_block(text, system)
    if updated is None:
        raise UsageError(
            f"{path} has no drawing to replace: put the lines '{BEGIN}' and '{END}' where the "
            "drawing goes, then run this again."
        )
    current = updated == text
    if args.check:
        if args.json:
            output.emit_json({"readme": str(path), "current": current})
        else:
            output.err(
                f"{path}: the drawing is current."
                if current
                else f"{path}: the drawing differs from the system; "
                f"`raw describe system --readme {args.readme}` redraws it."
            )
        return output.OK if current else output.FAILED
    if not current:
        path.write_text(updated, encoding="utf-8")
    if args.json:
        output.emit_json({"readme": str(path), "changed": not current})
    else:
        output.err(f"{path}: " + ("drawing already current." if current else "drawing redrawn."))
    return output.OK
