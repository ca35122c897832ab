"""Shared fixtures: throwaway projects and the real `raw` command in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

RAW_BIN = Path(sys.executable).with_name("raw")


@dataclass
class Project:
    root: Path

    def add_workflow(
        self, workflow_id: str, source: str, *, mocks: dict[str, Any] | None = None
    ) -> Path:
        """Write ``.raw/workflows/<id>/run.py`` (dedented) and optional ``mocks/<name>.json``."""
        folder = self.root / ".raw" / "workflows" / workflow_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "run.py").write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
        for name, content in (mocks or {}).items():
            (folder / "mocks").mkdir(exist_ok=True)
            text = content if isinstance(content, str) else json.dumps(content)
            (folder / "mocks" / f"{name}.json").write_text(text, encoding="utf-8")
        return folder

    def runs(self, workflow_id: str) -> list[Path]:
        folder = self.root / ".raw" / "workflows" / workflow_id / "runs"
        return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.exists() else []


def exited_pid() -> int:
    """The pid of a process that has run and exited (and been reaped): a stale record's."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture(autouse=True)
def _settings_do_not_leak() -> Iterator[None]:
    """A test leaves os.environ as it found it (monkeypatch does this; direct writes don't).

    A setting left behind changes every later test in the same worker process, which
    makes failures depend on test order: the leak is undone and the leaking test fails.
    """
    before = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    yield
    after = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    if after == before:
        return
    changed = sorted(k for k in {*before, *after} if before.get(k) != after.get(k))
    for name in changed:
        if name in before:
            os.environ[name] = before[name]
        else:
            del os.environ[name]
    pytest.fail(f"the test left environment settings changed: {', '.join(changed)}")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """An empty RAW project in a temp folder; settings that leak from the host are cleared."""
    for name in list(os.environ):
        if name.startswith("RAW_"):
            monkeypatch.delenv(name)
    root = tmp_path / "proj"
    (root / ".raw" / "workflows").mkdir(parents=True)
    (root / ".raw" / "config.yaml").write_text("version: 1\nname: test\n", encoding="utf-8")
    return Project(root)


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


RunCli = Callable[..., CliResult]


@pytest.fixture
def raw_cli(project: Project) -> RunCli:
    """Run the installed `raw` command in the project folder, as a user would."""

    def run(
        *args: str,
        cwd: Path | None = None,
        input: str | None = None,
        timeout: float = 60,
        env: dict[str, str] | None = None,
    ) -> CliResult:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_")}
        full_env.update(env or {})
        proc = subprocess.run(
            [str(RAW_BIN), *args],
            cwd=cwd or project.root,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=full_env,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return run
