"""`raw mcp --http`: streamable HTTP on 127.0.0.1 behind the API token, with the SDK's client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from tests.agents.conftest import RAW, clean_env, cli_json, text_of

TOKEN = "mcp-test-token-" + "k" * 32


@contextlib.contextmanager
def http_server(root: Path, *args: str) -> Iterator[str]:
    """`raw mcp --http --port 0 --json`; yields its URL once it listens."""
    errors = root.parent / "mcp-http-stderr.log"
    with (
        errors.open("w") as errlog,
        subprocess.Popen(
            [RAW, "mcp", "--http", "--port", "0", "--json", *args],
            cwd=root,
            env=clean_env(RAW_API_TOKEN=TOKEN),
            stdout=subprocess.PIPE,
            stderr=errlog,
            text=True,
        ) as proc,
    ):
        try:
            assert proc.stdout is not None
            lines: list[str] = []
            while True:  # the one JSON document it prints once it listens
                line = proc.stdout.readline()
                assert line, errors.read_text()
                lines.append(line)
                if line.startswith("}"):
                    break
            yield json.loads("".join(lines))["url"]
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    return root


def test_http_refuses_a_request_without_the_token(project: Path) -> None:
    with http_server(project) as url:
        initialize = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        }
        headers = {"Accept": "application/json, text/event-stream"}
        none = httpx.post(url, json=initialize, headers=headers)
        wrong = httpx.post(
            url, json=initialize, headers={**headers, "Authorization": "Bearer nope"}
        )
        right = httpx.post(
            url, json=initialize, headers={**headers, "Authorization": f"Bearer {TOKEN}"}
        )
    assert none.status_code == 401 and wrong.status_code == 401
    assert none.json()["error"]["type"] == "Unauthorized"
    assert right.status_code == 200


def test_http_without_an_api_token_does_not_start(project: Path) -> None:
    done = subprocess.run(
        [RAW, "mcp", "--http", "--port", "0"],
        cwd=project,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "RAW_API_TOKEN" in done.stderr


def test_an_agent_builds_and_checks_a_system_over_http(project: Path) -> None:
    async def scenario(url: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=300) as client,
            streamable_http_client(url, http_client=client) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            names = {t.name for t in (await session.list_tools()).tools}
            await session.call_tool("new_system", {"name": "demo", "pattern": "single"})
            await session.call_tool(
                "create_workflow", {"workflow_id": "greet", "project_dir": "demo"}
            )
            gates = await session.call_tool("gates", {"project_dir": "demo"})
            listed = await session.call_tool("list_workflows", {"project_dir": "demo"})
            return {"names": names, "gates": text_of(gates), "list": text_of(listed)}

    with http_server(project) as url:
        assert url.startswith("http://127.0.0.1:")
        seen = asyncio.run(scenario(url))
    assert {"new_system", "gates", "simulate"} <= seen["names"]
    assert seen["gates"]["ok"] is True, seen["gates"]["failures"]
    assert seen["list"] == cli_json(project / "demo", "list")
    audit = [
        json.loads(line)
        for line in (project / ".raw" / "mcp" / "audit.jsonl").read_text().splitlines()
    ]
    assert [(e["tool"], e["who"]) for e in audit] == [
        ("new_system", "http 127.0.0.1"),
        ("create_workflow", "http 127.0.0.1"),
    ]
