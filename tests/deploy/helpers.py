"""Helpers of the deployment tests: the test system, the real `raw` command, YAML edits."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from raw.project import Project

SYSTEM = Path(__file__).parent / "system"
"""A system with webhooks, a process and a schedule (tests/deploy/system/.raw/config.yaml)."""
RAW_BIN = Path(sys.executable).with_name("raw")


@dataclass
class Cli:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def raw(*args: str, cwd: Path) -> Cli:
    """The installed `raw` command, as a user runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_")}
    proc = subprocess.run(
        [str(RAW_BIN), *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env
    )
    return Cli(proc.returncode, proc.stdout, proc.stderr)


def copy_system(target: Path, **deploy: Any) -> Project:
    """The test system in ``target``, its ``system.deploy`` section updated with ``deploy``."""
    shutil.copytree(SYSTEM, target, ignore=shutil.ignore_patterns("cache"))
    path = target / ".raw" / "config.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["system"]["deploy"].update(deploy)
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return Project(target)


def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def dump_all(path: Path, documents: list[dict[str, Any]]) -> None:
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")


def edit_yaml(path: Path, change: Callable[[list[dict[str, Any]]], None]) -> None:
    documents = load_all(path)
    change(documents)
    dump_all(path, documents)


def find(documents: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name)
