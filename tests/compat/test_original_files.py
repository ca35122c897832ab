"""The original RAW runtime's template, quick start and four examples run here unchanged.

Each file (tests/compat/originals.py) sits in a project as ``.raw/workflows/<id>/run.py``
and goes through ``raw validate``, ``raw run --dry``, ``raw run`` (LLM calls answered by
the local OpenAI-compatible server, HTTP by a local server) and ``python run.py``.
Where one fails, it fails for a reason the original fails for too, and says so.
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
from typing import TYPE_CHECKING, Any

import pytest

from compat import originals
from raw.testing.openai_server import OpenAIServer

if TYPE_CHECKING:
    from conftest import CliResult, Project, RunCli

PYTHON = Path(sys.executable)


def script(folder: Path, *args: str, env: dict[str, str] | None = None) -> CliResult:
    """``python run.py ARGS`` in the workflow's folder, as the original's users ran it."""
    from conftest import CliResult

    full_env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_")}
    full_env.update(env or {})
    proc = subprocess.run(
        [str(PYTHON), "run.py", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        env=full_env,
        stdin=subprocess.DEVNULL,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def llm_env(server: OpenAIServer) -> dict[str, str]:
    return {"RAW_LLM_BASE_URL": server.base_url, "RAW_LLM_MODEL": "test-model"}


def manifest(doc: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (Path(doc["run_dir"]) / "manifest.json").read_text(encoding="utf-8")
    )
    return data


def artifact(doc: dict[str, Any], name: str) -> Any:
    (path,) = [a["path"] for a in doc["artifacts"] if a["name"] == name]
    return json.loads(Path(path).read_text(encoding="utf-8"))


def validated(raw_cli: RunCli, workflow_id: str) -> dict[str, Any]:
    result = raw_cli("validate", workflow_id, "--json")
    (entry,) = result.json()["workflows"]
    assert result.code == 0, entry
    entry_: dict[str, Any] = entry
    return entry_


@pytest.fixture
def article_server() -> Iterator[str]:
    """An article on 127.0.0.1: the URL the hybrid example fetches."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = (
                b"<html><script>x()</script><h1>Solar</h1><p>Solar power got cheaper again "
                b"this year.</p></html>"
            )
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/article"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_raw_create_template_runs_unchanged(raw_cli: RunCli, project: Project) -> None:
    folder = project.add_workflow("order-report", originals.TEMPLATE)
    (folder / "dry_run.py").write_text(originals.TEMPLATE_DRY_RUN, encoding="utf-8")
    validated(raw_cli, "order-report")

    for args in (("--json",), ("--dry", "--json"), ("--region", "apac", "--json")):
        result = raw_cli("run", "order-report", *args)
        assert result.code == 0, result.stderr
        doc = result.json()
        assert [(s["name"], s["status"]) for s in doc["steps"]] == [
            ("parse", "succeeded"),
            ("process", "succeeded"),
        ]
        region = "apac" if "apac" in args else "emea"
        # The __init__ override ran: its counter reached the result.
        assert artifact(doc, "result.json") == {"region": region, "total": 240, "parse_calls": 1}

    via_script = script(folder, "--region", "latam", "--json")
    assert via_script.code == 0, via_script.stderr
    assert artifact(via_script.json(), "result.json")["region"] == "latam"


def test_quick_start_workflow_runs_unchanged(raw_cli: RunCli, project: Project) -> None:
    folder = project.add_workflow("hello-world", originals.HELLO)
    validated(raw_cli, "hello-world")
    result = raw_cli("run", "hello-world", "--name", "Ada", "--json")
    assert result.code == 0, result.stderr
    (saved,) = result.json()["artifacts"]
    assert Path(saved["path"]).read_text(encoding="utf-8") == "Hello, Ada!"

    via_script = script(folder, "--name", "Bob", "--json")
    assert via_script.code == 0, via_script.stderr
    assert Path(via_script.json()["artifacts"][0]["path"]).read_text() == "Hello, Bob!"


def test_edge_case_handler_classifies_through_the_project_s_llm(
    raw_cli: RunCli, project: Project
) -> None:
    folder = project.add_workflow(
        "ticket-triage",
        originals.EDGE_CASE,
        mocks={
            "params": {"ticket_id": "TKT-1"},
            "llm": {"responses": [{"step": "classify_urgency", "response": "high"}]},
        },
    )
    validated(raw_cli, "ticket-triage")

    dry = raw_cli("run", "ticket-triage", "--dry", "--json")
    assert dry.code == 0, dry.stderr
    assert artifact(dry.json(), "routing.json")["urgency"] == "high"

    with OpenAIServer("Critical.", default="low") as server:
        env = llm_env(server)
        result = raw_cli("run", "ticket-triage", "--ticket-id", "TKT-9", "--json", env=env)
        assert result.code == 0, result.stderr
        doc = result.json()
        assert artifact(doc, "routing.json") == {
            "ticket_id": "TKT-9",
            "urgency": "critical",
            "assignee": "on-call",
        }
        (request,) = server.requests
        assert request.json["max_tokens"] == 10
        assert "Enterprise Corp (tier enterprise)" in request.json["messages"][-1]["content"]
        steps = {s["name"]: s for s in manifest(doc)["steps"]}
        assert list(steps) == ["fetch_ticket", "classify_urgency", "route"]
        cost = steps["classify_urgency"]["cost_usd"]
        assert 0 < cost < 0.01
        assert f"Total agentic cost: ${cost:.6f}" in Path(doc["log_path"]).read_text()

        # The same prompt again (the ticket id is not in it): @agentic's cache answers.
        via_script = script(folder, "--ticket-id", "TKT-3", "--json", env=llm_env(server))
        assert via_script.code == 0, via_script.stderr
        assert artifact(via_script.json(), "routing.json")["urgency"] == "critical"
        assert len(server.requests) == 1
        no_cache = raw_cli(
            "run",
            "ticket-triage",
            "--ticket-id",
            "TKT-4",
            "--no-cache",
            "--json",
            env=llm_env(server),
        )
        assert artifact(no_cache.json(), "routing.json")["urgency"] == "low"


def test_edge_case_handler_without_a_provider_fails_saying_what_to_set(
    raw_cli: RunCli, project: Project
) -> None:
    project.add_workflow("ticket-triage", originals.EDGE_CASE)
    result = raw_cli("run", "ticket-triage", "--ticket-id", "TKT-1", "--json")
    assert result.code == 1
    error = result.json()["error"]
    assert error["type"] == "LLMNotConfiguredError"
    assert "RAW_LLM_BASE_URL" in error["message"]


def test_hybrid_workflow_fetches_then_answers_its_repeat_from_the_cache(
    raw_cli: RunCli, project: Project, article_server: str
) -> None:
    folder = project.add_workflow(
        "article-analysis", originals.HYBRID, mocks={"params": {"article_url": article_server}}
    )
    validated(raw_cli, "article-analysis")

    dry = raw_cli("run", "article-analysis", "--dry", "--json")
    assert dry.code == 0, dry.stderr
    assert artifact(dry.json(), "analysis.json")["summary"].startswith("[dry run]")

    replies = ["Solar got cheaper.", "energy, solar, prices", "Positive"]
    with OpenAIServer(*replies) as server:
        first = raw_cli(
            "run",
            "article-analysis",
            "--article-url",
            article_server,
            "--json",
            env=llm_env(server),
        )
        assert first.code == 0, first.stderr
        assert artifact(first.json(), "analysis.json") == {
            "summary": "Solar got cheaper.",
            "topics": ["energy", "solar", "prices"],
            "sentiment": "Positive",
        }
        assert "Solar power got cheaper" in server.requests[0].json["messages"][-1]["content"]

        again = script(folder, "--article-url", article_server, "--json", env=llm_env(server))
        assert again.code == 0, again.stderr
        assert len(server.requests) == 3  # all three answers came from the cache
        steps = {s["name"]: s for s in manifest(again.json())["steps"]}
        for name in ("summarize", "extract_topics", "analyze_sentiment"):
            assert (steps[name]["cached"], steps[name]["cost_usd"]) == (True, 0.0)
        assert "cache hits: 3" in Path(again.json()["log_path"]).read_text()


def test_inbound_call_without_the_tools_fails_as_the_original_did(
    raw_cli: RunCli, project: Project
) -> None:
    project.add_workflow("inbound-call", originals.INBOUND)
    validated(raw_cli, "inbound-call")
    result = raw_cli("run", "inbound-call", "--phone", "+15551234567", "--json")
    assert result.code == 1
    error = result.json()["error"]
    assert error["type"] == "ToolNotFoundError"
    assert "No tool named 'crm'" in error["message"]
    assert "were never implemented (they raised NotImplementedError)" in error["message"]


def test_inbound_call_runs_with_the_project_s_own_tools(raw_cli: RunCli, project: Project) -> None:
    folder = project.add_workflow("inbound-call", originals.INBOUND)
    for name, source in originals.INBOUND_TOOLS.items():
        (project.root / "tools" / name).mkdir(parents=True)
        (project.root / "tools" / name / "tool.py").write_text(source, encoding="utf-8")

    result = raw_cli("run", "inbound-call", "--phone", "+15551234567", "--json")
    assert result.code == 0, result.stderr
    doc = result.json()
    assert [s["name"] for s in doc["steps"]] == [
        "load_customer",
        "handle_conversation",
        "summarize_call",
    ]
    assert artifact(doc, "call_result.json") == {
        "customer": {"id": "c-1", "name": "Ada", "phone": "+15551234567", "action": "get_contact"},
        "outcome": "resolved",
        "summary": "caller: My order is late",
    }
    via_script = script(folder, "--phone", "+15550000000", "--json")
    assert via_script.code == 0, via_script.stderr


def test_sentiment_analysis_returns_its_structured_result(
    raw_cli: RunCli, project: Project
) -> None:
    folder = project.add_workflow(
        "sentiment", originals.SENTIMENT, mocks={"params": {"text": "I love it"}}
    )
    validated(raw_cli, "sentiment")

    dry = raw_cli("run", "sentiment", "--dry", "--json")
    assert dry.code == 0, dry.stderr
    assert artifact(dry.json(), "sentiment.json")["label"] == "dry-run"

    answer = {"score": 0.9, "label": "positive", "confidence": 0.8, "reasoning": "love"}
    with OpenAIServer(json.dumps(answer), default=json.dumps(answer)) as server:
        result = raw_cli(
            "run", "sentiment", "--text", "I love this product!", "--json", env=llm_env(server)
        )
        assert result.code == 0, result.stderr
        doc = result.json()
        assert artifact(doc, "sentiment.json") == answer
        assert [s["name"] for s in doc["steps"]] == ["analyze_sentiment"]
        assert "Label: positive" in result.stderr
        messages = server.requests[0].json["messages"]
        assert messages[0]["content"].startswith("You are a sentiment analysis expert.")
        assert messages[-1]["content"] == "I love this product!"

        via_script = script(folder, "--text", "Meh", env=llm_env(server))
        assert via_script.code == 0, via_script.stderr
        assert "Confidence: 80%" in via_script.stderr
