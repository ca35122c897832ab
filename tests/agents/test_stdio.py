"""An agent builds and checks a system through `raw mcp` alone, over stdio, with the SDK's
own ClientSession; each tool answers the document the matching command prints."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from tests.agents.conftest import clean_env, cli_json, stdio_session, text_of
from tests.examples.conftest import copy_hiring

from raw.mcp.tools import TOOLS

EXPECTED_TOOLS = {
    "plan",
    "new_system",
    "create_workflow",
    "list_workflows",
    "describe_workflow",
    "run_workflow",
    "validate",
    "gates",
    "config_check",
    "simulate",
    "deploy_render",
    "deploy_check",
    "process_list",
    "process_describe",
    "signal_process",
    "search_docs",
    "read_doc",
}


def test_an_agent_builds_a_system_and_sees_the_clis_documents(workspace: Path) -> None:
    async def scenario() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        async with stdio_session(workspace) as session:
            listed = await session.list_tools()
            seen["tools"] = {t.name: t for t in listed.tools}
            seen["plan"] = text_of(await session.call_tool("plan", {"state_across_days": False}))
            built = await session.call_tool("new_system", {"name": "demo", "pattern": "single"})
            assert not built.is_error, built.content[0].text
            created = await session.call_tool(
                "create_workflow",
                {"workflow_id": "greet", "intent": "Greet someone", "project_dir": "demo"},
            )
            assert not created.is_error, created.content[0].text
            seen["run"] = text_of(
                await session.call_tool(
                    "run_workflow", {"workflow_id": "greet", "dry": True, "project_dir": "demo"}
                )
            )
            progress: list[str] = []

            async def on_progress(done: float, total: float | None, message: str | None) -> None:
                progress.append(message or "")

            gates = await session.call_tool(
                "gates", {"project_dir": "demo"}, progress_callback=on_progress
            )
            seen["gates"], seen["gates_progress"] = text_of(gates), progress
            seen["gates_structured"] = gates.structured_content
            # after every run, so that the CLI below sees the same last runs
            seen["list"] = text_of(
                await session.call_tool("list_workflows", {"project_dir": "demo"})
            )
            seen["show"] = text_of(
                await session.call_tool(
                    "describe_workflow", {"workflow_id": "greet", "project_dir": "demo"}
                )
            )
            seen["config"] = text_of(
                await session.call_tool("config_check", {"project_dir": "demo"})
            )
        return seen

    seen = asyncio.run(scenario())
    assert set(seen["tools"]) >= EXPECTED_TOOLS
    for tool in seen["tools"].values():
        assert tool.input_schema["type"] == "object"
    assert seen["tools"]["run_workflow"].input_schema["properties"]["dry"]["type"] == "boolean"

    demo = workspace / "demo"
    assert seen["plan"] == cli_json(workspace, "plan", "--no-state-across-days")
    assert seen["list"] == cli_json(demo, "list")
    assert seen["show"] == cli_json(demo, "show", "greet")
    assert seen["config"] == cli_json(demo, "config", "check")
    assert seen["run"]["status"] == "succeeded" and seen["run"]["dry"] is True

    gates = seen["gates"]
    assert gates == seen["gates_structured"]
    assert gates["ok"] is True, json.dumps(gates["failures"], indent=2)
    cli_gates = cli_json(demo, "gates")
    assert [(g["name"], g["status"]) for g in gates["gates"]] == [
        (g["name"], g["status"]) for g in cli_gates["gates"]
    ]
    assert set(gates) == set(cli_gates)
    assert any(m.startswith("validate") for m in seen["gates_progress"])


def test_a_failing_gate_comes_back_with_its_output(workspace: Path) -> None:
    async def scenario() -> dict[str, Any]:
        async with stdio_session(workspace) as session:
            await session.call_tool("new_system", {"name": "demo", "pattern": "single"})
            run_py = workspace / "demo" / ".raw" / "workflows" / "demo" / "run.py"
            run_py.write_text(run_py.read_text() + "\nthis is not python\n")
            result = await session.call_tool("gates", {"project_dir": "demo", "only": ["validate"]})
            assert not result.is_error  # a check that fails is a document, not an error
            return text_of(result)

    gates = asyncio.run(scenario())
    assert gates["ok"] is False and gates["exit_code"] == 1
    (failure,) = gates["failures"]
    assert failure["name"] == "validate"
    assert any("run.py" in line for line in failure["output"])


def test_wrong_arguments_and_errors_are_tool_errors_with_the_exit_code_name(
    workspace: Path,
) -> None:
    async def scenario() -> list[Any]:
        async with stdio_session(workspace) as session:
            answers = [
                await session.call_tool("plan", {"state_across_days": "perhaps"}),
                await session.call_tool("describe_workflow", {"workflow_id": "nope"}),
                await session.call_tool("new_system", {"name": "Bad Name", "pattern": "single"}),
                await session.call_tool(
                    "create_workflow", {"workflow_id": "x", "project_dir": "../.."}
                ),
                await session.call_tool("no_such_tool", {}),
            ]
            # the server is still there after every one of them
            answers.append(await session.call_tool("read_doc", {"name": "simulate"}))
            return answers

    *errors, still_alive = asyncio.run(scenario())
    assert all(e.is_error for e in errors)
    documents = [text_of(e) for e in errors]
    assert [d["exit_code_name"] for d in documents] == [
        "USAGE",
        "NOT_FOUND",
        "USAGE",
        "USAGE",
        "USAGE",
    ]
    assert "state_across_days" in documents[0]["error"]["message"]
    cli = cli_json(workspace, "new", "system", "Bad Name", "--pattern", "single")
    assert documents[2]["error"] == cli["error"]
    assert "outside the workspace" in documents[3]["error"]["message"]
    assert not still_alive.is_error and "simulate" in text_of(still_alive)["text"]


def test_simulate_runs_an_inline_scenario_with_its_timeline_and_progress(tmp_path: Path) -> None:
    hiring = copy_hiring(tmp_path / "hiring")
    scenario_text = (hiring / "scenarios" / "rejected.yaml").read_text()

    async def scenario() -> tuple[dict[str, Any], list[str]]:
        steps: list[str] = []

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            steps.append(message or "")

        async with stdio_session(hiring) as session:
            result = await session.call_tool(
                "simulate", {"scenario": scenario_text}, progress_callback=on_progress
            )
            assert not result.is_error, result.content[0].text
            return text_of(result), steps

    document, steps = asyncio.run(scenario())
    cli = cli_json(hiring, "simulate", "scenarios/rejected.yaml")
    assert document["passed"] is True and cli["passed"] is True
    (ours,) = document["scenarios"]
    (theirs,) = cli["scenarios"]
    assert [s["summary"].split(":")[0] for s in ours["steps"]] == [
        s["summary"].split(":")[0] for s in theirs["steps"]
    ]
    assert set(ours) == set(theirs)
    assert any("advance 29d" in s for s in steps)


def test_read_only_serves_only_inspecting_tools_and_changes_are_audited(
    workspace: Path,
) -> None:
    async def scenario() -> tuple[set[str], Any]:
        async with stdio_session(workspace, "--read-only") as session:
            names = {t.name for t in (await session.list_tools()).tools}
            refused = await session.call_tool("new_system", {"name": "demo", "pattern": "single"})
            return names, refused

    names, refused = asyncio.run(scenario())
    assert names == {t.name for t in TOOLS if not t.changes}
    assert refused.is_error and "read-only" in text_of(refused)["error"]["message"]

    async def changing() -> None:
        async with stdio_session(workspace) as session:
            await session.call_tool(
                "new_system", {"name": "demo", "pattern": "single", "directory": "demo"}
            )
            await session.call_tool("plan", {"state_across_days": True, "webhooks": True})

    asyncio.run(changing())
    lines = (workspace / ".raw" / "mcp" / "audit.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [(e["tool"], e["outcome"], e["who"]) for e in entries] == [
        ("new_system", "refused", "stdio"),
        ("new_system", "ok", "stdio"),
    ]
    assert entries[1]["arguments"]["name"] == "demo" and entries[1]["at"]


def test_outside_development_changing_tools_need_the_api_token(workspace: Path) -> None:
    token = "t0ken-" + "x" * 40
    env = clean_env(RAW_ENV="production", RAW_API_TOKEN=token)

    async def scenario(server_env: dict[str, str]) -> tuple[Any, Any]:
        async with stdio_session(workspace, env=server_env) as session:
            built = await session.call_tool("new_system", {"name": "demo", "pattern": "single"})
            sent = await session.call_tool(
                "send_webhook", {"route": "x", "data": {}, "project_dir": "demo"}
            )
            return built, sent

    refused, _ = asyncio.run(scenario(env))
    assert refused.is_error
    assert "RAW_API_TOKEN" in text_of(refused)["error"]["message"]
    allowed, webhook = asyncio.run(scenario({**env, "RAW_MCP_TOKEN": token}))
    assert not allowed.is_error, allowed.content[0].text
    assert webhook.is_error  # signed with development secrets: never outside development
    assert text_of(webhook)["error"]["type"] == "DevelopmentOnlyError"
    audit = (workspace / ".raw" / "mcp" / "audit.jsonl").read_text()
    assert token not in audit


def test_resources_and_prompts(workspace: Path) -> None:
    async def scenario() -> dict[str, Any]:
        async with stdio_session(workspace) as session:
            await session.call_tool("new_system", {"name": "demo", "pattern": "single"})
        async with stdio_session(workspace / "demo") as session:
            uris = [str(r.uri) for r in (await session.list_resources()).resources]
            schema = await session.read_resource("raw://scenario.schema.json")
            reference = await session.read_resource("raw://config-reference")
            source = await session.read_resource("raw://workflows/demo/source")
            doc = await session.read_resource("raw://docs/agents")
            prompts = [p.name for p in (await session.list_prompts()).prompts]
            design = await session.get_prompt(
                "design-system", {"requirements": "Approve expenses within 3 days"}
            )
            return {
                "uris": uris,
                "schema": schema.contents[0].text,
                "reference": reference.contents[0].text,
                "source": source.contents[0].text,
                "doc": doc.contents[0].text,
                "prompts": prompts,
                "design": design.messages[0].content.text,
            }

    seen = asyncio.run(scenario())
    assert {
        "raw://docs/simulate",
        "raw://config-reference",
        "raw://scenario.schema.json",
        "raw://workflows/demo/source",
        "raw://workflows/demo/last-run",
    } <= set(seen["uris"])
    assert json.loads(seen["schema"]) == cli_json(workspace, "simulate", "--schema")
    assert "system.orchestrator" in seen["reference"]
    assert "class Demo" in seen["source"]
    assert "raw mcp" in seen["doc"]
    assert seen["prompts"] == ["design-system", "add-webhook", "add-process", "add-schedule"]
    assert "Approve expenses within 3 days" in seen["design"]
    assert "raw plan" in seen["design"] and "[gates]" in seen["design"]
