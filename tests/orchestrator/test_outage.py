"""An integration's server away while a process runs a RAW workflow that needs it.

The run fails with the service named (``error.unavailable``); the process waits it out
on durable timers, spending none of its attempts (two here), and runs the workflow
again with the same idempotency key until the server is back: then the email goes,
once, and the process completes.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from temporalio import activity
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from tests.outage_fixtures import NOTIFY, smtp_down

from raw.integrations.errors import EmailUnreachableError
from raw.integrations.mail_catcher import MailStore, start_mail_catcher
from raw.orchestrator.activity import RawActivities
from raw.orchestrator.workflow import RawState
from raw.testing.pytest_plugin import WorkerFactory

from .processes import AwayProcess, NotifyInput, NotifyProcess

if TYPE_CHECKING:
    from conftest import Project


def test_a_process_waits_out_an_smtp_outage_spending_no_attempts(
    project: Project,
    raw_time_skipping_env: WorkflowEnvironment,
    raw_worker: WorkerFactory,
    raw_task_queue: str,
    tmp_path: Path,
) -> None:
    port = smtp_down(project.root)  # nothing listens there yet: the server is away
    project.add_workflow("notify", NOTIFY)
    log = tmp_path / "runs.log"
    client: Client = raw_time_skipping_env.client

    async def scenario() -> tuple[object, RawState, list[str]]:
        async with raw_worker(
            client,
            workflows=[NotifyProcess],
            raw_activities=RawActivities(project_dir=project.root),
        ):
            handle = await client.start_workflow(
                NotifyProcess.run,
                NotifyInput(to="ada@example.com", log=str(log)),
                id=f"notify-{uuid.uuid4()}",
                task_queue=raw_task_queue,
            )
            # result() lets time skip: the waits between tries pass at once
            finished = asyncio.create_task(handle.result())
            deadline = asyncio.get_running_loop().time() + 120
            while not log.exists() or len(log.read_text().splitlines()) < 5:  # > 2 attempts
                assert not finished.done(), finished.result()
                assert asyncio.get_running_loop().time() < deadline, "the runs did not repeat"
                await asyncio.sleep(0.05)
            store = MailStore(tmp_path / "mail")
            server = await start_mail_catcher(store, host="127.0.0.1", port=port)
            try:
                output = await asyncio.wait_for(finished, 120)
            finally:
                server.close()
                await server.wait_closed()
            state = await handle.query(NotifyProcess.raw_state)
            return output, state, [r for m in store.list() for r in m.envelope_to]

    output, state, recipients = asyncio.run(scenario())
    keys = log.read_text().splitlines()
    assert recipients == ["ada@example.com"]  # sent once, when the server was back
    assert isinstance(output, str) and output  # the message id
    assert len(set(keys)) == 1  # every try was the same invocation of the workflow
    waits = [e.name for e in state.history if e.kind == "wait"]
    assert waits and set(waits) == {"email (away)"}


@activity.defn(name="send_when_back")
async def send_when_back(marker: str) -> str:
    """Finds the SMTP server away on its first three runs (a line in ``marker`` per run)."""
    path = Path(marker)
    with path.open("a", encoding="utf-8") as f:
        f.write("run\n")
    runs = len(path.read_text(encoding="utf-8").splitlines())
    if runs <= 3:
        raise EmailUnreachableError("127.0.0.1:2525", "[Errno 111] Connection refused")
    return f"sent on run {runs}"


def test_an_activity_that_finds_its_service_away_is_waited_for_not_retried_to_death(
    raw_time_skipping_env: WorkflowEnvironment,
    raw_worker: WorkerFactory,
    raw_task_queue: str,
    tmp_path: Path,
) -> None:
    """Three outages against a budget of two attempts: the kit's worker turns each into
    RawServiceUnavailable, and execute_activity waits it out instead of failing."""
    client: Client = raw_time_skipping_env.client
    marker = tmp_path / "runs.txt"

    async def scenario() -> tuple[object, RawState]:
        async with raw_worker(
            client,
            workflows=[AwayProcess],
            activities=[send_when_back],
            include_raw_activities=False,
        ):
            handle = await client.start_workflow(
                AwayProcess.run, str(marker), id=f"away-{uuid.uuid4()}", task_queue=raw_task_queue
            )
            output = await asyncio.wait_for(handle.result(), 120)
            return output, await handle.query(AwayProcess.raw_state)

    output, state = asyncio.run(scenario())
    assert output == "sent on run 4"
    waits = [e.name for e in state.history if e.kind == "wait"]
    assert waits == ["email (away)"] * 3
