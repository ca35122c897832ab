"""Operating tools: deliveries and dead letters from the project's database, rerun of a
failed run; each the document of its command (`raw db ...`, `raw rerun`)."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

from tests.agents.conftest import RAW, clean_env, cli_json, stdio_session, text_of


def test_deliveries_and_dead_letters_are_the_databases_documents(workspace: Path) -> None:
    async def build() -> None:
        async with stdio_session(workspace) as session:
            done = await session.call_tool(
                "new_system", {"name": "intake", "pattern": "full", "webhooks": ["submission"]}
            )
            assert not done.is_error, done.content[0].text

    asyncio.run(build())
    project = workspace / "intake"
    upgraded = subprocess.run(
        [RAW, "db", "upgrade"], cwd=project, env=clean_env(), capture_output=True, text=True
    )
    assert upgraded.returncode == 0, upgraded.stderr

    async def look() -> list[Any]:
        async with stdio_session(workspace) as session:
            return [
                await session.call_tool("deliveries", {"project_dir": "intake"}),
                await session.call_tool("dead_letters", {"project_dir": "intake", "limit": 5}),
                await session.call_tool(
                    "retry_dead_letter", {"project_dir": "intake", "record_id": 999}
                ),
            ]

    deliveries, dead, retry = asyncio.run(look())
    assert text_of(deliveries) == cli_json(project, "db", "deliveries") == {"deliveries": []}
    assert text_of(dead) == cli_json(project, "db", "dead-letters", "--limit", "5")
    assert retry.is_error
    assert text_of(retry)["error"] == cli_json(project, "db", "retry", "999")["error"]


def test_rerun_runs_the_failed_runs_params_again(workspace: Path) -> None:
    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        async with stdio_session(workspace) as session:
            await session.call_tool("new_system", {"name": "demo", "pattern": "single"})
            failed = await session.call_tool(  # no model configured: the run fails
                "run_workflow",
                {"workflow_id": "demo", "params": {"text": "hello there"}, "project_dir": "demo"},
            )
            again = await session.call_tool("rerun", {"workflow_id": "demo", "project_dir": "demo"})
            return text_of(failed), text_of(again)

    failed, again = asyncio.run(scenario())
    assert failed["status"] == "failed"
    assert again["rerun_of"] == failed["run_id"]
    assert again["run_id"] != failed["run_id"]
    runs = workspace / "demo" / ".raw" / "workflows" / "demo" / "runs"
    manifest = json.loads((runs / again["run_id"] / "manifest.json").read_text())
    assert manifest["params"]["text"] == "hello there"  # the failed run's params, again
    cli = cli_json(workspace / "demo", "rerun", "demo", "--run", failed["run_id"])
    assert cli["rerun_of"] == failed["run_id"] and set(cli) == set(again)


def test_deploy_render_and_check_give_the_clis_documents(workspace: Path) -> None:
    async def scenario() -> tuple[Any, Any]:
        async with stdio_session(workspace) as session:
            await session.call_tool(
                "new_system", {"name": "shop", "pattern": "full", "webhooks": ["order"]}
            )
            rendered = await session.call_tool(
                "deploy_render", {"project_dir": "shop", "out": "shop/build/deploy"}
            )
            checked = await session.call_tool(
                "deploy_check", {"project_dir": "shop", "directory": "shop/build/deploy"}
            )
            return rendered, checked

    rendered, checked = asyncio.run(scenario())
    assert not rendered.is_error, rendered.content[0].text
    project = workspace / "shop"
    ours = text_of(rendered)
    theirs = cli_json(project, "deploy", "render", "--out", "build/deploy")
    assert ours == theirs  # the same files, written again the same way
    ours_check = text_of(checked)
    theirs_check = cli_json(project, "deploy", "check", "build/deploy")
    assert ours_check == theirs_check
