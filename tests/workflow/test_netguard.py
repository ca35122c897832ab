"""The dry-run network guard: dry runs reach loopback only; other runs are untouched.

No test here sends a packet beyond this machine: refused connections are refused
before any socket is opened, and the non-dry probes use a numeric address (no DNS)
and 0.0.0.0, which the OS routes to this host.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from raw import RunResult, run_workflow
from raw.ports import free_port
from raw.workflow.netguard import is_loopback

if TYPE_CHECKING:
    from conftest import Project

PUBLIC_IP = "203.0.113.1"  # TEST-NET-3: documentation only, never routed


def run(project: Project, workflow_id: str, params: Any = None, **options: Any) -> RunResult:
    return run_workflow(workflow_id, params, project_dir=project.root, **options)


class _Pong(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        body = b"pong"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    """An HTTP server on 127.0.0.1 answering "pong"; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pong)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_dry_run_tcp_connection_to_a_public_address_fails_the_run(project: Project) -> None:
    project.add_workflow(
        "connects",
        f"""
        import socket

        from raw import BaseWorkflow, step

        class Connects(BaseWorkflow):
            @step("call")
            def call(self) -> None:
                socket.create_connection(("{PUBLIC_IP}", 80), timeout=1).close()
        """,
    )

    result = run(project, "connects", dry=True)

    assert result.status == "failed"
    assert result.error is not None
    assert result.error.type == "DryRunNetworkError"
    assert f"'{PUBLIC_IP}'" in result.error.message
    assert result.steps[0].status == "failed"


def test_dry_run_fails_even_when_the_step_swallows_the_network_error(project: Project) -> None:
    project.add_workflow(
        "swallows",
        """
        import httpx

        from raw import BaseWorkflow, step

        class Swallows(BaseWorkflow):
            @step("fetch")
            def fetch(self) -> str:
                try:
                    return httpx.get("http://example.com/", trust_env=False, timeout=2).text
                except Exception as exc:
                    return f"offline ({type(exc).__name__})"
        """,
    )

    result = run(project, "swallows", dry=True)

    assert result.steps[0].result == "offline (DryRunNetworkError)"
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.type == "DryRunNetworkError"
    assert "'example.com'" in result.error.message


def test_async_dry_run_connection_to_a_public_address_fails_the_run(project: Project) -> None:
    project.add_workflow(
        "async-connects",
        f"""
        import asyncio

        from raw import BaseWorkflow, step

        class AsyncConnects(BaseWorkflow):
            @step("call")
            async def call(self) -> None:
                await asyncio.wait_for(asyncio.open_connection("{PUBLIC_IP}", 80), 2)
        """,
    )

    result = run(project, "async-connects", dry=True)

    assert result.status == "failed"
    assert result.error is not None and result.error.type == "DryRunNetworkError"
    assert PUBLIC_IP in result.error.message


def test_async_dry_run_name_lookup_is_refused_before_the_resolver_is_asked(
    project: Project,
) -> None:
    # asyncio resolves names in an executor thread, outside the run's context.
    project.add_workflow(
        "async-fetch",
        """
        import httpx

        from raw import BaseWorkflow, step

        class AsyncFetch(BaseWorkflow):
            @step("fetch")
            async def fetch(self) -> str:
                async with httpx.AsyncClient(trust_env=False, timeout=2) as client:
                    return (await client.get("http://example.com/")).text
        """,
    )

    result = run(project, "async-fetch", dry=True)

    assert result.status == "failed"
    assert result.error is not None and result.error.type == "DryRunNetworkError"
    assert "'example.com'" in result.error.message


def test_dry_run_may_reach_a_loopback_server(project: Project, local_server: str) -> None:
    project.add_workflow(
        "local-call",
        """
        import httpx
        from pydantic import BaseModel

        from raw import BaseWorkflow, step

        class Params(BaseModel):
            url: str

        class LocalCall(BaseWorkflow[Params]):
            @step("fetch")
            def fetch(self) -> str:
                return httpx.get(self.params.url, trust_env=False, timeout=5).text
        """,
    )

    result = run(project, "local-call", {"url": local_server}, dry=True)

    assert result.status == "succeeded", result.error
    assert result.output == "pong"


PROBE = """
import socket
import time
from pathlib import Path

from pydantic import BaseModel

from raw import BaseWorkflow, step
from raw.ports import free_port

class Params(BaseModel):
    sync_dir: str
    me: str
    other: str
    closed_port: int

def rendezvous(folder: Path, mine: str, theirs: str) -> None:
    (folder / mine).touch()
    deadline = time.monotonic() + 10
    while not (folder / theirs).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{theirs} never arrived")
        time.sleep(0.005)

def outcome(exc: Exception) -> str:
    return type(exc).__name__ + (" (OSError)" if isinstance(exc, OSError) else "")

class Probe(BaseWorkflow[Params]):
    @step("probe")
    def probe(self) -> dict:
        p = self.params
        folder = Path(p.sync_dir)
        rendezvous(folder, p.me + "-in", p.other + "-in")  # both runs are inside their step
        seen = {}
        try:
            socket.getaddrinfo("203.0.113.1", 80, type=socket.SOCK_STREAM)
            seen["resolve"] = "resolved"
        except Exception as exc:
            seen["resolve"] = outcome(exc)
        try:
            socket.create_connection(("0.0.0.0", p.closed_port), timeout=2).close()
            seen["connect"] = "connected"
        except Exception as exc:
            seen["connect"] = outcome(exc)
        rendezvous(folder, p.me + "-out", p.other + "-out")
        return seen
"""


def test_non_dry_run_in_another_thread_is_not_guarded(project: Project, tmp_path: Path) -> None:
    project.add_workflow("probe", PROBE)
    sync = tmp_path / "sync"
    sync.mkdir()
    port = free_port()

    def probe(me: str, other: str, dry: bool) -> RunResult:
        params = {"sync_dir": str(sync), "me": me, "other": other, "closed_port": port}
        return run(project, "probe", params, dry=dry)

    with ThreadPoolExecutor(max_workers=2) as pool:
        dry_future = pool.submit(probe, "dry", "live", True)
        live_future = pool.submit(probe, "live", "dry", False)
        dry, live = dry_future.result(timeout=30), live_future.result(timeout=30)

    assert dry.steps[0].result == {
        "resolve": "DryRunNetworkError",
        "connect": "DryRunNetworkError",
    }
    assert dry.status == "failed"
    assert dry.error is not None and dry.error.type == "DryRunNetworkError"

    assert live.status == "succeeded", live.error
    assert live.output["resolve"] == "resolved"
    assert live.output["connect"].endswith("(OSError)")  # the OS refused, not the guard


@pytest.mark.parametrize(
    "host",
    [None, "127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST", "api.localhost"],
)
def test_loopback_hosts_are_recognised(host: str | None) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host", ["203.0.113.1", "10.0.0.1", "0.0.0.0", "::", "example.com", "localhost.example.com"]
)
def test_other_hosts_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)
