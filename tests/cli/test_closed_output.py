"""`raw ... | head -1`: a reader that stops reading early ends the command quietly.

The command is the installed `raw` in a subprocess whose stdout is a pipe; the test
reads one line and closes its end, as `head -1` does. The rest of the output (far
more than a pipe holds) then has nowhere to go.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from raw.ports import free_port

if TYPE_CHECKING:
    from conftest import Project

RAW = str(Path(sys.executable).with_name("raw"))

BIG_ANSWER = json.dumps({"accepted": True, "echo": ["x" * 100] * 5000}).encode()  # ~0.5 MB


class _BigAnswer(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BIG_ANSWER)))
        self.end_headers()
        self.wfile.write(BIG_ANSWER)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def coordinator_url() -> Iterator[str]:
    """A coordinator stand-in on 127.0.0.1 that accepts any delivery with a long answer."""
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), _BigAnswer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()
    thread.join(10)


def test_a_reader_that_closes_early_gets_no_traceback_and_exit_141(
    project: Project, coordinator_url: str
) -> None:
    project.root.joinpath(".raw", "config.yaml").write_text(
        "version: 1\nname: test\nsystem:\n  coordinator:\n    webhooks:\n"
        "      - {name: calendar, path: /webhooks/calendar, scheme: bearer, "
        "secrets: [RAW_CAL_TOKEN]}\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_")}
    with subprocess.Popen(
        [RAW, "webhook", "send", "calendar", "--data", "{}", "--url", coordinator_url],
        cwd=project.root,
        env={**env, "RAW_CAL_TOKEN": "cal-token-1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as sender:
        assert sender.stdout is not None and sender.stderr is not None
        first = sender.stdout.readline()
        sender.stdout.close()  # as `head -1` does
        errors = sender.stderr.read().decode()
        code = sender.wait(60)
    assert first.startswith(b"POST " + coordinator_url.encode()), first
    assert "Traceback" not in errors and "BrokenPipeError" not in errors, errors
    assert errors == ""
    assert code == 141
