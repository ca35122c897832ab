"""`raw integrations`: the real command in a subprocess, as `raw up` and a user run it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pytest

from conftest import RAW_BIN
from integrations.conftest import FakeSlack
from raw.integrations import EmailMessage, for_project, read_state

if TYPE_CHECKING:
    from conftest import RunCli

TWIML = "<Response><Say>Hi</Say></Response>"


def read_document(stream: IO[str]) -> dict[str, Any]:
    """One JSON document from a stream that goes on (``serve --json`` keeps running)."""
    text = ""
    while True:
        line = stream.readline()
        if not line:
            raise AssertionError(f"the stream ended before a JSON document: {text!r}")
        text += line
        try:
            document: dict[str, Any] = json.loads(text)
        except ValueError:
            continue
        return document


@pytest.fixture
def serving(integ_project: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_")}
    with subprocess.Popen(
        [str(RAW_BIN), "integrations", "serve", "--json"],
        cwd=integ_project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:  # closes the pipes and waits
        try:
            assert proc.stdout is not None
            yield proc, read_document(proc.stdout)
        finally:
            if proc.poll() is None:
                proc.kill()


def test_serve_runs_the_services_that_other_processes_find_and_list(
    integ_project: Path,
    serving: tuple[subprocess.Popen[str], dict[str, Any]],
    raw_cli: RunCli,
    integ_slack: FakeSlack,
) -> None:
    proc, ready = serving
    assert ready["status"] == "ready"
    assert ready["smtp"].startswith("smtp://127.0.0.1:") and ready["phone"].startswith(
        "http://127.0.0.1:"
    )
    state = read_state(integ_project)
    assert state is not None and (state.pid, state.phone_url) == (proc.pid, ready["phone"])

    integrations = for_project(integ_project)  # this test process: a worker, say
    sent = integrations.email.send_sync(
        EmailMessage(
            to="ada@example.com", subject="Book your call", text="https://cal.example.com/ada"
        )
    )
    call = integrations.telephony.place_call_sync(
        "+33612345678", status_callback_url=integ_slack.url + "/webhooks/call-status", twiml=TWIML
    )
    integrations.chat.notify_sync("Ada was invited")

    status = raw_cli("integrations", "status", "--json")
    assert status.code == 0, status.stderr
    assert status.json() == {
        "running": True,
        "pid": proc.pid,
        "smtp": ready["smtp"],
        "phone": ready["phone"],
    }

    mail = raw_cli("integrations", "mail", "--json")
    assert mail.code == 0, mail.stderr
    [message] = mail.json()["messages"]
    assert (message["message_id"], message["subject"]) == (sent.message_id, "Book your call")
    assert "https://cal.example.com/ada" in message["text"] and mail.json()["running"] is True

    human = raw_cli("integrations", "mail")
    assert "Book your call" in human.stdout and "ada@example.com" in human.stdout

    calls = raw_cli("integrations", "calls", "--json")
    assert calls.code == 0, calls.stderr
    [placed] = calls.json()["calls"]
    assert (placed["sid"], placed["status"], placed["to"]) == (call.sid, "queued", "+33612345678")

    ended = raw_cli("integrations", "end-call", call.sid, "--status", "busy", "--json")
    assert ended.code == 1  # the callback was answered 404: nobody listens there
    assert ended.json()["call"]["status"] == "busy"
    assert [(a["call_status"], a["http_status"]) for a in ended.json()["callbacks"]] == [
        ("busy", 404)
    ]

    chat = raw_cli("integrations", "chat", "--json")
    assert [n["text"] for n in chat.json()["notifications"]] == ["Ada was invited"]

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert proc.stderr is not None
    log = proc.stderr.read()
    assert "raw integrations: ready: mail smtp://127.0.0.1:" in log and "stopped." in log
    assert read_state(integ_project) is None
    assert not (integ_project / ".raw" / "integrations" / "services.json").exists()

    after = raw_cli("integrations", "mail", "--json")  # what was caught stays readable
    assert after.code == 0 and after.json()["running"] is False
    assert [m["message_id"] for m in after.json()["messages"]] == [sent.message_id]


def test_listing_with_nothing_running_and_nothing_caught_says_how_to_start(
    integ_project: Path, raw_cli: RunCli
) -> None:
    for command in ("mail", "calls"):
        result = raw_cli("integrations", command)
        assert result.code == 4, result.stderr  # could not reach a service
        assert "is not running" in result.stderr and "raw integrations serve" in result.stderr

    as_json = raw_cli("integrations", "status", "--json")
    assert as_json.code == 4
    assert as_json.json()["exit_code"] == 4
    assert as_json.json()["error"]["type"] == "LocalServicesNotRunningError"

    chat = raw_cli("integrations", "chat", "--json")  # the outbox needs no service
    assert chat.code == 0 and chat.json()["notifications"] == []


def test_serve_refuses_an_invalid_config_naming_the_key(
    integ_project: Path, raw_cli: RunCli
) -> None:
    config = integ_project / ".raw" / "config.yaml"
    config.write_text("system:\n  integrations:\n    email: {adapter: smtp}\n", encoding="utf-8")

    result = raw_cli("integrations", "serve", timeout=30)

    assert result.code == 2
    assert "system.integrations.email" in result.stderr and "needs host" in result.stderr
