"""`raw skill install [--dir PATH]`: write the project's skills for coding agents.

Each skill is ``<dir>/<name>/SKILL.md``: YAML front matter (name, description), then
the text. Exit codes: 0 written; 2 a bad flag.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from raw import console as output
from raw.cli.process import action_adder

EXAMPLES = """\
examples:
  raw skill install                      (.claude/skills/ here)
  raw skill install --dir ~/.config/agent/skills --json"""

DEFAULT_DIR = Path(".claude") / "skills"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    action = action_adder(parser)
    p = action("install", "Write the skills as SKILL.md files (default: .claude/skills/).")
    p.add_argument("--dir", metavar="PATH", help="the skills folder (default: .claude/skills)")
    p.set_defaults(handler=cmd_install)


def cmd_install(args: argparse.Namespace) -> int:
    # Lazy: raw --help imports this module; only raw skill install needs the skills.
    from raw.mcp.skills import SKILLS, install

    base = Path(args.project_dir) if args.project_dir else Path.cwd()
    directory = Path(args.dir).expanduser() if args.dir else base / DEFAULT_DIR
    written = install(directory.resolve())
    if args.json:
        output.emit_json(
            {
                "directory": str(directory.resolve()),
                "skills": [
                    {"name": s.name, "description": s.description, "path": str(p)}
                    for s, p in zip(SKILLS, written, strict=True)
                ],
            }
        )
        return output.OK
    for path in written:
        output.err(f"Wrote {path}")
    return output.OK
