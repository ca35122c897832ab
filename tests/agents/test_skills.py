"""`raw skill install` writes SKILL.md files whose every command, flag and tool exists."""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from tests.agents.conftest import RAW, clean_env

from raw.cli.main import build_parser
from raw.mcp.skills import PROMPTS, SKILLS
from raw.mcp.tools import TOOLS

_COMMAND = re.compile(r"`(raw [^`\n]+)`")
_BLOCK = re.compile(r"```[a-z]*\n(.*?)```", re.S)
_TOOL = re.compile(r"\[([a-z_]+)(?: with [a-z_]+)?\]")


def _mentions(text: str) -> list[str]:
    found = _COMMAND.findall(text)
    for block in _BLOCK.findall(text):
        found += [line.strip() for line in block.splitlines() if line.strip().startswith("raw ")]
    return found


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def check_command(line: str) -> list[str]:
    """What in ``line`` the argparse tree lacks: a command, an action or a flag."""
    tokens = shlex.split(line.split("  (")[0])[1:]
    parser = build_parser()
    problems: list[str] = []
    path = ["raw"]
    while tokens and not tokens[0].startswith("-"):
        choices = _subparsers(parser)
        if not choices:
            break
        word = tokens.pop(0)
        if word not in choices:
            problems.append(f"'{' '.join(path)} {word}' is not a command")
            return problems
        parser, path = choices[word], [*path, word]
    for token in tokens:
        if token.startswith("--"):
            flag = token.split("=", 1)[0]
            if flag not in parser._option_string_actions:
                problems.append(f"'{' '.join(path)}' has no flag {flag}")
    return problems


def test_every_command_and_flag_the_skills_mention_exists() -> None:
    mentioned = [line for skill in SKILLS for line in _mentions(skill.text)]
    assert len(mentioned) > 30  # the walk found the skills' commands
    problems = {line: p for line in mentioned if (p := check_command(line))}
    assert problems == {}


def test_the_check_catches_a_command_or_flag_that_does_not_exist() -> None:
    assert check_command("raw gates --bogus") == ["'raw gates' has no flag --bogus"]
    assert check_command("raw deploy publish") == ["'raw deploy publish' is not a command"]
    assert check_command("raw deploy check build/deploy --kubernetes-version 1.33.0") == []


def test_every_tool_the_skills_and_prompts_name_is_served() -> None:
    names = {t.name for t in TOOLS}
    texts = [s.text for s in SKILLS] + [p.template for p in PROMPTS]
    named = {name for text in texts for name in _TOOL.findall(text)}
    assert named and named <= names, named - names


@pytest.mark.parametrize("where", [None, "agent-skills"])
def test_install_writes_skill_files_with_front_matter(tmp_path: Path, where: str | None) -> None:
    args = ["--dir", str(tmp_path / where)] if where else []
    done = subprocess.run(
        [RAW, "skill", "install", *args],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    folder = tmp_path / (where or ".claude/skills")
    files = sorted(folder.glob("*/SKILL.md"))
    assert [f.parent.name for f in files] == sorted(s.name for s in SKILLS)
    for path in files:
        text = path.read_text()
        _, front, body = text.split("---\n", 2)
        meta = yaml.safe_load(front)
        assert meta["name"] == path.parent.name
        assert len(meta["description"]) > 40
        assert body.strip().startswith("# ")
