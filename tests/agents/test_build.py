"""`raw build` end to end: the real command against a local model server that speaks the
chat-completions API with tool calls, scripted to fail a gate first, or to run out."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.agents.conftest import RAW, clean_env

from raw.testing.openai_server import OpenAIServer, Reply

WORKFLOW = Path(".raw/workflows/greeter/run.py")


def build(root: Path, server: OpenAIServer, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    done = subprocess.run(
        [RAW, "build", "Greet whoever asks, by name", "--json", *args],
        cwd=root,
        env=clean_env(RAW_LLM_BASE_URL=server.base_url, RAW_LLM_MODEL="scripted"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return done.returncode, events, done.stderr


class Script:
    """Replies that read the project as the model would: the workflow new_system wrote."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.original = ""
        self.read: list[dict[str, Any]] = []

    def break_it(self, request: Any) -> Reply:
        self.original = (self.root / WORKFLOW).read_text()
        broken = self.original + "\nthis line is not python\n"
        return Reply.calls(("write_file", {"path": str(WORKFLOW), "content": broken}))

    def fix_it(self, request: Any) -> Reply:
        self.read.append(request["messages"][-1])  # what the model reads: the gates' answer
        return Reply.calls(
            ("write_file", {"path": str(WORKFLOW), "content": self.original}),
            content="validate failed on run.py: restoring valid Python.",
        )


def _start(root: Path) -> list[Any]:
    return [
        Reply.calls(("plan", {"state_across_days": False}), content="One stateless workflow."),
        Reply.calls(
            (
                "new_system",
                {"name": "greeter", "pattern": "single", "directory": ".", "force": True},
            )
        ),
    ]


def test_a_failing_gate_is_read_and_fixed_until_every_gate_passes(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    script = Script(root)
    with OpenAIServer(
        *_start(root),
        script.break_it,
        Reply.calls(("gates", {})),
        script.fix_it,
        Reply.calls(("gates", {})),
    ) as server:
        code, events, stderr = build(root, server)
        requests = server.requests

    assert code == 0, stderr
    gates = [e for e in events if e["event"] == "tool" and e["tool"] == "gates"]
    assert gates[0]["summary"].startswith("failed: validate")
    assert gates[1]["summary"] == "all gates passed"
    (read,) = script.read
    assert read["role"] == "tool"
    failures = json.loads(read["content"])["failures"]
    assert failures[0]["name"] == "validate" and failures[0]["output"]
    done = events[-1]
    assert done["event"] == "done" and done["outcome"] == "passed" and done["exit_code"] == 0
    assert done["gates"]["ok"] is True
    assert str(WORKFLOW) in done["changed"]["added"]
    assert ".raw/config.yaml" in done["changed"]["added"]
    # the model was offered every tool, each with its JSON Schema
    offered = {t["function"]["name"]: t for t in requests[0].json["tools"]}
    assert {"plan", "new_system", "gates", "simulate", "write_file"} <= set(offered)
    assert offered["gates"]["function"]["parameters"]["type"] == "object"
    audit = (root / ".raw" / "mcp" / "audit.jsonl").read_text().splitlines()
    assert [json.loads(line)["tool"] for line in audit] == [
        "new_system",
        "write_file",
        "write_file",
    ]


def test_a_spent_budget_exits_1_and_reports_what_was_written(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    script = Script(root)
    with OpenAIServer(*_start(root), script.break_it, default=Reply("unused")) as server:
        code, events, stderr = build(root, server, "--max-steps", "3")
        asked = len(server.requests)

    assert code == 1, stderr
    assert asked == 3  # the budget, not one request more
    done = events[-1]
    assert done["outcome"] == "budget_spent" and done["steps"] == 3
    assert done["gates"] is None  # never run: said so, not invented
    assert str(WORKFLOW) in done["changed"]["added"]
    assert "not python" in (root / WORKFLOW).read_text()  # what was written stays, reported


def test_a_write_outside_the_project_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    with OpenAIServer(
        Reply.calls(("write_file", {"path": "../escape.txt", "content": "x"})),
        default=Reply("unused"),
    ) as server:
        code, events, _ = build(root, server, "--max-steps", "1")

    assert code == 1
    (tool,) = [e for e in events if e["event"] == "tool"]
    assert tool["ok"] is False and "outside the workspace" in tool["summary"]
    assert not (tmp_path / "escape.txt").exists()


def test_without_a_model_it_says_which_settings_to_set(tmp_path: Path) -> None:
    done = subprocess.run(
        [RAW, "build", "anything"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "RAW_LLM_BASE_URL" in done.stderr and "RAW_LLM_MODEL" in done.stderr
