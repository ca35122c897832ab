"""The process client helpers and `raw process`, against a real Temporal dev server."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import CancelledError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from raw.orchestrator.client import (
    InvalidProcessIdError,
    InvalidVisibilityQueryError,
    ProcessClosedError,
    ProcessNotFoundError,
    describe,
    list_processes,
    process_id,
    process_type,
    query,
    signal,
    signal_with_start,
    start_process,
)
from raw.orchestrator.client import cancel as cancel_process
from raw.orchestrator.search_attributes import RAW_STEP, RAW_WAIT_UNTIL, RAW_WAITING_FOR

from .client_processes import ClientBooking, ClientEcho, EchoInput

T = TypeVar("T")

TEMPORAL = Path(sys.executable).with_name("temporal")


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def client_env(anyio_backend: str) -> AsyncIterator[WorkflowEnvironment]:
    """One dev server for this module, tuned, with the kit's search attributes."""
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(TEMPORAL),
        dev_server_extra_args=[
            "--dynamic-config-value",
            "history.transferProcessorMaxPollRPS=1000",
        ],
        search_attributes=[RAW_STEP, RAW_WAITING_FOR, RAW_WAIT_UNTIL],
    )
    async with env:
        yield env


@pytest.fixture(scope="module")
async def client_queue(client_env: WorkflowEnvironment) -> AsyncIterator[str]:
    """A worker serving ClientEcho for the whole module; yields its task queue."""
    task_queue = f"client-{uuid.uuid4().hex[:8]}"
    runner = SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(
            "raw", "pydantic", "pydantic_core"
        )
    )
    async with Worker(
        client_env.client,
        task_queue=task_queue,
        workflows=[ClientEcho, ClientBooking],
        workflow_runner=runner,
    ):
        yield task_queue


@pytest.fixture
def client(client_env: WorkflowEnvironment) -> Client:
    return client_env.client


def key() -> str:
    return f"k-{uuid.uuid4().hex[:10]}"


async def eventually(check: Callable[[], Awaitable[T | None]], *, seconds: float = 10) -> T:
    """Poll ``check`` until it returns something truthy (visibility is eventually consistent)."""
    with anyio.fail_after(seconds):
        while True:
            value = await check()
            if value:
                return value
            await anyio.sleep(0.05)


# --- ids ----------------------------------------------------------------------------------


def test_process_id_joins_type_and_business_key() -> None:
    assert process_id("hiring-process", "candidate-123") == "hiring-process/candidate-123"
    assert process_type(ClientEcho) == "client-echo"
    assert process_type("HiringProcess") == "hiring-process"


@pytest.mark.parametrize("bad", ["", "candidate 123", "tab\there"])
def test_process_id_refuses_empty_or_whitespace_keys(bad: str) -> None:
    with pytest.raises(InvalidProcessIdError, match="business key"):
        process_id("hiring-process", bad)


# --- start, signal, query -----------------------------------------------------------------


@pytest.mark.anyio
async def test_second_start_of_a_key_is_reported_not_duplicated(
    client: Client, client_queue: str
) -> None:
    business_key = key()
    first = await start_process(
        client,
        ClientEcho,
        EchoInput(greeting="hi"),
        business_key=business_key,
        task_queue=client_queue,
    )
    second = await start_process(
        client,
        ClientEcho,
        EchoInput(greeting="again"),
        business_key=business_key,
        task_queue=client_queue,
    )
    assert first.id == second.id == f"client-echo/{business_key}"
    assert (first.started, second.started) == (True, False)
    assert second.run_id == first.run_id

    async def executions() -> list[Any]:
        return await list_processes(client, query=f"WorkflowId = '{first.id}'")

    assert [p.run_id for p in await eventually(executions)] == [first.run_id]
    state = await query(client, first.id)
    assert state["greeting"] == "hi"  # the second start's input went nowhere


@pytest.mark.anyio
async def test_signal_reaches_the_process_in_an_envelope_with_its_key(
    client: Client, client_queue: str
) -> None:
    started = await start_process(client, ClientEcho, business_key=key(), task_queue=client_queue)
    sent = await signal(client, started.id, "note", {"text": "first"}, idempotency_key="dup-1")
    again = await signal(client, started.id, "note", {"text": "first"}, idempotency_key="dup-1")
    generated = await signal(client, started.id, "note", {"text": "second"})

    assert sent == again == "dup-1"
    assert generated and generated != "dup-1"
    state = await query(client, started.id)
    assert state["deliveries"] == 3
    assert state["keys"] == ["dup-1", generated]
    assert state["notes"] == [{"text": "first"}, {"text": "second"}]


@pytest.mark.anyio
async def test_a_raw_process_unwraps_the_envelope_and_drops_a_repeated_key(
    client: Client, client_queue: str
) -> None:
    started = await start_process(
        client, ClientBooking, business_key=key(), task_queue=client_queue
    )
    await signal(client, started.id, "booked", {"slot": "09:00"}, idempotency_key="delivery-1")
    await signal(client, started.id, "booked", {"slot": "09:00"}, idempotency_key="delivery-1")
    await signal(client, started.id, "booked", {"slot": "10:00"}, idempotency_key="delivery-2")
    await signal(client, started.id, "done")
    result = await client.get_workflow_handle(started.id).result()
    assert result == {
        "booked": {"slot": "09:00"},
        "signals": {"booked": 2, "done": 1},
        "pending": {"booked": 1},
    }


@pytest.mark.anyio
async def test_signal_with_start_starts_when_absent_and_signals_when_present(
    client: Client, client_queue: str
) -> None:
    business_key = key()
    first = await signal_with_start(
        client,
        ClientEcho,
        EchoInput(greeting="sws"),
        business_key=business_key,
        signal="note",
        payload="one",
        task_queue=client_queue,
    )
    second = await signal_with_start(
        client,
        ClientEcho,
        EchoInput(greeting="ignored"),
        business_key=business_key,
        signal="note",
        payload="two",
        idempotency_key="mine",
        task_queue=client_queue,
    )
    assert (first.started, second.started) == (True, False)
    assert first.run_id == second.run_id
    assert second.idempotency_key == "mine"
    state = await query(client, first.id)
    assert state["greeting"] == "sws"
    assert state["notes"] == ["one", "two"]
    assert state["keys"] == [first.idempotency_key, "mine"]


@pytest.mark.anyio
async def test_describe_reports_status_type_and_search_attributes(
    client: Client, client_queue: str
) -> None:
    started = await start_process(client, ClientEcho, business_key=key(), task_queue=client_queue)

    async def collecting() -> Any:
        info = await describe(client, started.id)
        return info if info.step else None

    info = await eventually(collecting)
    assert (info.type, info.status, info.task_queue) == ("ClientEcho", "running", client_queue)
    assert (info.step, info.waiting_for, info.close_time) == ("collecting", "finish", None)

    await signal(client, started.id, "finish")
    assert await client.get_workflow_handle(started.id).result() == []
    closed = await describe(client, started.id)
    assert closed.status == "completed"
    assert closed.close_time is not None
    with pytest.raises(ProcessClosedError, match="already finished"):
        await signal(client, started.id, "note", "late")


@pytest.mark.anyio
async def test_a_finished_process_restarts_only_if_the_reuse_policy_allows(
    client: Client, client_queue: str
) -> None:
    business_key = key()
    first = await start_process(
        client, ClientEcho, business_key=business_key, task_queue=client_queue
    )
    await signal(client, first.id, "finish")
    await client.get_workflow_handle(first.id).result()

    refused = await start_process(
        client,
        ClientEcho,
        business_key=business_key,
        task_queue=client_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    assert (refused.started, refused.run_id) == (False, first.run_id)
    restarted = await start_process(
        client, ClientEcho, business_key=business_key, task_queue=client_queue
    )
    assert restarted.started and restarted.run_id != first.run_id


@pytest.mark.anyio
async def test_cancel_ends_a_running_process(client: Client, client_queue: str) -> None:
    started = await start_process(client, ClientEcho, business_key=key(), task_queue=client_queue)
    await cancel_process(client, started.id)
    with pytest.raises(WorkflowFailureError) as failure:
        await client.get_workflow_handle(started.id).result()
    assert isinstance(failure.value.cause, CancelledError)
    assert (await describe(client, started.id)).status == "canceled"
    with pytest.raises(ProcessClosedError, match="cannot be cancelled"):
        await cancel_process(client, started.id)


@pytest.mark.anyio
async def test_list_processes_filters_with_a_visibility_query(
    client: Client, client_queue: str
) -> None:
    batch = f"batch-{uuid.uuid4().hex[:8]}"
    ids = {
        (
            await start_process(
                client, ClientEcho, business_key=f"{batch}-{n}", task_queue=client_queue
            )
        ).id
        for n in range(2)
    }
    flt = f"WorkflowType = 'ClientEcho' AND WorkflowId STARTS_WITH 'client-echo/{batch}'"

    async def both() -> list[Any]:
        found = await list_processes(client, query=flt)
        return found if len(found) == 2 else []

    found = await eventually(both)
    assert {p.id for p in found} == ids
    assert {p.status for p in found} == {"running"}
    assert len(await list_processes(client, query=flt, limit=1)) == 1
    with pytest.raises(InvalidVisibilityQueryError, match="refused the list filter"):
        await list_processes(client, query="NoSuchField = 'x' AND AND")


@pytest.mark.anyio
async def test_unknown_process_id_is_process_not_found(client: Client) -> None:
    missing = f"client-echo/{key()}"
    for call in (
        describe(client, missing),
        signal(client, missing, "note"),
        query(client, missing),
        cancel_process(client, missing),
    ):
        with pytest.raises(ProcessNotFoundError, match=missing) as raised:
            await call
        assert raised.value.process_id == missing


# --- raw process --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_raw_process_commands_drive_a_process(
    client_env: WorkflowEnvironment, client_queue: str, raw_cli: Any
) -> None:
    env = {
        "TEMPORAL_ADDRESS": client_env.client.service_client.config.target_host,
        "RAW_TASK_QUEUE": client_queue,
    }

    async def raw(*args: str) -> Any:
        return await anyio.to_thread.run_sync(lambda: raw_cli(*args, env=env))

    business_key = key()
    pid = f"client-echo/{business_key}"
    started = await raw(
        "process",
        "start",
        "ClientEcho",
        "--key",
        business_key,
        "--input",
        '{"greeting": "from the cli"}',
        "--json",
    )
    assert started.code == 0, started.stderr
    assert started.json() == {**started.json(), "id": pid, "started": True, "type": "ClientEcho"}
    again = await raw("process", "start", "ClientEcho", "--key", business_key)
    assert again.code == 0
    assert "Already running" in again.stderr

    sent = await raw(
        "process", "signal", pid, "note", "--data", '{"n": 1}', "--key", "cli-1", "--json"
    )
    assert sent.code == 0, sent.stderr
    assert sent.json() == {"id": pid, "signal": "note", "idempotency_key": "cli-1"}

    status = await raw("process", "status", pid, "--json")
    assert status.code == 0, status.stderr
    doc = status.json()
    assert (doc["status"], doc["type"]) == ("running", "ClientEcho")
    assert doc["state"]["greeting"] == "from the cli"
    assert doc["state"]["notes"] == [{"n": 1}]
    human = await raw("process", "status", pid)
    assert pid in human.stdout and "running" in human.stdout and "from the cli" in human.stdout

    async def listed() -> Any:
        found = await raw("process", "list", "--query", f"WorkflowId = '{pid}'", "--json")
        return found if found.json()["processes"] else None

    assert [p["id"] for p in (await eventually(listed)).json()["processes"]] == [pid]

    cancelled = await raw("process", "cancel", pid, "--json")
    assert cancelled.code == 0, cancelled.stderr
    assert cancelled.json() == {"id": pid, "cancel_requested": True}
    late = await raw("process", "signal", pid, "note")
    assert late.code == 1
    assert "already finished" in late.stderr


@pytest.mark.anyio
async def test_raw_process_unknown_id_exits_3(
    client_env: WorkflowEnvironment, raw_cli: Any
) -> None:
    env = {"TEMPORAL_ADDRESS": client_env.client.service_client.config.target_host}
    missing = f"client-echo/{key()}"

    human = await anyio.to_thread.run_sync(lambda: raw_cli("process", "status", missing, env=env))
    assert human.code == 3
    assert f"Error: No process '{missing}'" in human.stderr
    assert "Traceback" not in human.stderr
    as_json = await anyio.to_thread.run_sync(
        lambda: raw_cli("process", "cancel", missing, "--json", env=env)
    )
    assert as_json.code == 3
    assert as_json.json()["error"]["type"] == "ProcessNotFoundError"
    assert as_json.json()["exit_code"] == 3


@pytest.mark.anyio
async def test_raw_process_start_checks_the_type_against_configured_modules(
    client_env: WorkflowEnvironment, raw_cli: Any, project: Any
) -> None:
    (project.root / "flows.py").write_text(
        "from temporalio import workflow\n\n\n@workflow.defn\nclass ProjFlow:\n"
        "    @workflow.run\n    async def run(self) -> None: ...\n",
        encoding="utf-8",
    )
    (project.root / ".raw" / "config.yaml").write_text(
        "name: t\nsystem:\n  orchestrator:\n    workflows: [flows]\n", encoding="utf-8"
    )
    env = {
        "TEMPORAL_ADDRESS": client_env.client.service_client.config.target_host,
        "RAW_TASK_QUEUE": f"unserved-{key()}",
    }
    business_key = key()
    by_kebab = await anyio.to_thread.run_sync(
        lambda: raw_cli("process", "start", "proj-flow", "--key", business_key, "--json", env=env)
    )
    assert by_kebab.code == 0, by_kebab.stderr
    assert (by_kebab.json()["type"], by_kebab.json()["id"]) == (
        "ProjFlow",
        f"proj-flow/{business_key}",
    )
    status = await anyio.to_thread.run_sync(
        lambda: raw_cli("process", "status", f"proj-flow/{business_key}", "--json", env=env)
    )
    assert status.code == 0, status.stderr
    assert status.json()["state"] is None
    assert "no worker is polling task queue 'unserved-" in status.json()["state_error"]
    unknown = await anyio.to_thread.run_sync(
        lambda: raw_cli("process", "start", "NoSuchFlow", "--key", "x", env=env)
    )
    assert unknown.code == 3
    assert "No process type 'NoSuchFlow'" in unknown.stderr
    assert "Known: ProjFlow" in unknown.stderr


def test_raw_process_without_a_server_says_so(raw_cli: Any) -> None:
    result = raw_cli("process", "list", env={"TEMPORAL_ADDRESS": "127.0.0.1:1"})
    assert result.code == 4  # could not reach a service, not "the workflow failed"
    assert "Cannot reach Temporal at 127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr
    bad_input = raw_cli(
        "process",
        "start",
        "ClientEcho",
        "--key",
        "k",
        "--input",
        "{not json",
        env={"TEMPORAL_ADDRESS": "127.0.0.1:1"},
    )
    assert bad_input.code == 2
    assert "--input is not valid JSON" in bad_input.stderr


# --- the same, through `raw mcp` -------------------------------------------------------------


@pytest.mark.anyio
async def test_mcp_process_tools_answer_what_raw_process_prints(
    client: Client,
    client_env: WorkflowEnvironment,
    client_queue: str,
    raw_cli: Any,
    project: Any,
) -> None:
    # Lazy: the MCP SDK is the agents extra; only this test needs it.
    from tests.agents.conftest import clean_env, stdio_session, text_of

    env = {
        "TEMPORAL_ADDRESS": client_env.client.service_client.config.target_host,
        "RAW_TASK_QUEUE": client_queue,
    }
    started = await start_process(
        client,
        ClientEcho,
        EchoInput(greeting="via mcp"),
        business_key=key(),
        task_queue=client_queue,
    )
    async with stdio_session(project.root, env=clean_env(**env)) as session:
        sent = await session.call_tool(
            "signal_process",
            {
                "process_id": started.id,
                "signal": "note",
                "data": {"n": 7},
                "idempotency_key": "m-1",
            },
        )
        described = await session.call_tool("process_describe", {"process_id": started.id})

        async def listed() -> Any:
            found = await session.call_tool(
                "process_list", {"query": f"WorkflowId = '{started.id}'"}
            )
            return found if text_of(found)["processes"] else None

        found = await eventually(listed)
        missing = await session.call_tool("process_describe", {"process_id": "client-echo/none"})

    assert text_of(sent) == {"id": started.id, "signal": "note", "idempotency_key": "m-1"}
    document = text_of(described)
    assert document["state"]["notes"] == [{"n": 7}]
    cli = await anyio.to_thread.run_sync(
        lambda: raw_cli("process", "status", started.id, "--json", env=env)
    )
    assert document == cli.json()
    assert [p["id"] for p in text_of(found)["processes"]] == [started.id]
    assert missing.is_error and text_of(missing)["exit_code_name"] == "NOT_FOUND"
