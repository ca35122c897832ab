"""An MCP client session on the SDK's own client, against a real `raw mcp` process."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

RAW = str(Path(sys.executable).with_name("raw"))


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAW_", "TEMPORAL_"))}
    env.pop("DATABASE_URL", None)
    env.update(extra)
    return env


@contextlib.asynccontextmanager
async def stdio_session(
    root: Path, *args: str, env: Mapping[str, str] | None = None
) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=RAW, args=["mcp", *args], cwd=str(root), env=dict(env or clean_env())
    )
    with (root.parent / f"{root.name}-mcp-stderr.log").open("w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


def cli_json(root: Path, *args: str, env: Mapping[str, str] | None = None) -> Any:
    done = subprocess.run(
        [RAW, *args, "--json"],
        cwd=root,
        env=dict(env or clean_env()),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.stdout, done.stderr
    return json.loads(done.stdout)


def text_of(result: Any) -> Any:
    """The JSON document a tool returned, from its text content."""
    return json.loads(result.content[0].text)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    return root
