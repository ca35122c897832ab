"""--log-format json: every long-running part, started as a user starts it, writes JSON lines.

Each part runs as a real subprocess; the test waits for the line that says it is ready,
stops it with SIGTERM (by its pid) and parses everything it wrote to stderr.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from raw.ports import free_port

if TYPE_CHECKING:
    from conftest import Project, RunCli

RAW_BIN = Path(sys.executable).with_name("raw")
TOKEN = "log-format-api-token-0123456789"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAW_", "DATABASE_URL"))}
    env.update(RAW_API_TOKEN=TOKEN, **extra)
    return env


class Part:
    """A `raw` command running in the background, its stderr in a file."""

    def __init__(self, root: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.log = root / f"{args[0]}-{time.monotonic_ns()}.log"
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                [str(RAW_BIN), *args],
                cwd=root,
                env=env or _env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=sink,
            )

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def wait_for(self, marker: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while marker not in self.text():
            assert self.process.poll() is None, self.text()
            assert time.monotonic() < deadline, f"no '{marker}' in:\n{self.text()}"
            time.sleep(0.05)

    def stop(self) -> list[dict[str, Any]]:
        """SIGTERM, wait for the exit, and every line of stderr parsed as JSON."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        lines = self.text().splitlines()
        assert lines, "nothing was logged"
        parsed = []
        for line in lines:
            try:
                parsed.append(json.loads(line))
            except ValueError:
                raise AssertionError(f"not a JSON line: {line!r}\n{self.text()}") from None
        return parsed


def _check(lines: list[dict[str, Any]], part: str) -> None:
    for line in lines:
        assert {"timestamp", "level", "logger", "message", "part"} <= line.keys(), line
        assert line["part"] == part, line
    assert TOKEN not in json.dumps(lines)


def test_raw_serve_writes_json_lines_uvicorns_included(project: Project) -> None:
    port = free_port()
    serve = Part(project.root, "serve", "--port", str(port), "--log-format", "json")
    try:
        serve.wait_for("Uvicorn running on")
        answer = httpx.get(f"http://127.0.0.1:{port}/health?token={TOKEN}", timeout=10)
        assert answer.status_code == 200
        serve.wait_for('"status": 200')
    finally:
        lines = serve.stop()

    _check(lines, "coordinator")
    loggers = {line["logger"] for line in lines}
    assert {"raw.coordinator", "uvicorn.error", "uvicorn.access"} <= loggers
    access = next(line for line in lines if line["logger"] == "uvicorn.access")
    assert access["http"] == {
        "client": access["http"]["client"],
        "method": "GET",
        "path": "/health?token=***",
        "status": 200,
    }
    assert lines[-1]["message"] == "raw serve: stopped."


def test_the_config_chooses_json_and_the_flag_wins_over_it(project: Project) -> None:
    config = project.root / ".raw" / "config.yaml"
    config.write_text(
        "version: 1\nname: test\nsystem:\n  observability:\n    log_format: json\n", "utf-8"
    )
    serve = Part(project.root, "serve", "--port", str(free_port()))
    try:
        serve.wait_for("Uvicorn running on")
    finally:
        _check(serve.stop(), "coordinator")

    text = Part(project.root, "serve", "--port", str(free_port()), "--log-format", "text")
    try:
        text.wait_for("Uvicorn running on")
    finally:
        text.process.send_signal(signal.SIGTERM)
        text.process.wait(timeout=60)
    assert "INFO uvicorn.error: Uvicorn running on" in text.text()
    assert not text.text().startswith("{")


def test_raw_dispatcher_writes_json_lines(project: Project) -> None:
    dispatcher = Part(project.root, "dispatcher", env=_env(RAW_LOG_FORMAT="json"))
    try:
        dispatcher.wait_for("raw dispatcher: polling")
    finally:
        lines = dispatcher.stop()

    _check(lines, "dispatcher")
    assert [line["message"] for line in lines][-1] == "raw dispatcher: stopped."


def test_raw_integrations_serve_writes_json_lines(project: Project) -> None:
    (project.root / ".raw" / "config.yaml").write_text(
        "version: 1\nname: test\nsystem:\n  integrations:\n    email: {adapter: local}\n", "utf-8"
    )
    services = Part(project.root, "integrations", "serve", "--log-format", "json")
    try:
        services.wait_for("raw integrations: ready")
    finally:
        _check(services.stop(), "integrations")


def test_raw_mcp_over_http_writes_json_lines(project: Project) -> None:
    mcp = Part(project.root, "mcp", "--http", "--port", "0", "--log-format", "json")
    try:
        mcp.wait_for("raw mcp: serving")
    finally:
        _check(mcp.stop(), "mcp")


def test_raw_up_passes_the_format_to_every_part(project: Project) -> None:
    (project.root / ".raw" / "config.yaml").write_text(
        "version: 1\nname: test\nsystem:\n  integrations:\n    email: {adapter: local}\n", "utf-8"
    )
    up = Part(project.root, "up", "--port", "0", "--log-format", "json")
    try:
        up.wait_for("Ctrl-C stops everything", seconds=120)
    finally:
        lines = up.stop()

    assert TOKEN not in json.dumps(lines)
    parts = {line["part"] for line in lines}
    assert {"up", "coordinator", "integrations"} <= parts, parts
    coordinator = [line for line in lines if line["part"] == "coordinator"]
    assert any(line["logger"] == "uvicorn.error" for line in coordinator)
    assert any(line["message"].startswith("Ready in") for line in lines)


def test_a_bad_log_format_is_a_usage_error(project: Project, raw_cli: RunCli) -> None:
    flag = raw_cli("serve", "--log-format", "xml")
    setting = raw_cli("dispatcher", env={"RAW_LOG_FORMAT": "yaml"})

    assert flag.code == 2 and "invalid choice: 'xml'" in flag.stderr
    assert setting.code == 2, setting.stderr
    assert "RAW_LOG_FORMAT is 'yaml': give one of text, json" in setting.stderr
    assert "Traceback" not in setting.stderr
