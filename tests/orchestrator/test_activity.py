"""run_raw_workflow on a real Temporal server, in both modes and both calling forms.

Activities run in real time on the time-skipping server (only timers skip), so
these tests see real heartbeats, retries and cancellations.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from raw.orchestrator.activity import (
    ActivityMode,
    RawActivities,
    RawWorkflowCall,
    RawWorkflowResult,
)
from raw.testing.pytest_plugin import WorkerFactory

from .processes import CallOutcome, CallRaw, CallRequest

if TYPE_CHECKING:
    from conftest import Project

MODES: list[ActivityMode] = ["in_process", "subprocess"]


async def activity_attempts(handle: WorkflowHandle[Any, Any]) -> list[int]:
    """The attempt number the history records for each activity that ended."""
    return [
        event.activity_task_started_event_attributes.attempt
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]


async def failure_messages(handle: WorkflowHandle[Any, Any]) -> list[str]:
    """Messages of the activity failures recorded in the process's history."""
    return [
        event.activity_task_failed_event_attributes.failure.message
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED
    ]


def call_raw(
    env: WorkflowEnvironment,
    raw_worker: WorkerFactory,
    task_queue: str,
    project: Project,
    mode: ActivityMode,
    *requests: CallRequest,
) -> list[tuple[CallOutcome, list[int], list[str], str]]:
    """Run CallRaw once per request; (outcome, attempts, failure messages, workflow id) each."""
    client = env.client

    async def scenario() -> list[tuple[CallOutcome, list[int], list[str], str]]:
        out = []
        async with raw_worker(
            client,
            workflows=[CallRaw],
            raw_activities=RawActivities(mode=mode, project_dir=project.root),
        ):
            for req in requests:
                handle = await client.start_workflow(
                    CallRaw.run, req, id=f"call-{uuid.uuid4()}", task_queue=task_queue
                )
                outcome = await handle.result()
                out.append(
                    (
                        outcome,
                        await activity_attempts(handle),
                        await failure_messages(handle),
                        handle.id,
                    )
                )
        return out

    return asyncio.run(scenario())


# --- the two calling forms, one contract in both modes ------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_cli_style_args_return_the_output_and_a_typed_call_returns_the_result(
    kit_project: Project,
    raw_time_skipping_env: WorkflowEnvironment,
    raw_worker: WorkerFactory,
    raw_task_queue: str,
    mode: ActivityMode,
) -> None:
    call = RawWorkflowCall(
        workflow="echo", params={"name": "Ada", "tags": ["a"]}, args=["--count=3"]
    )
    results = call_raw(
        raw_time_skipping_env,
        raw_worker,
        raw_task_queue,
        kit_project,
        mode,
        CallRequest(style="cli", args=["echo", "--name=Ada", "--count", "2", "--tags", "x"]),
        CallRequest(style="call", call=call),
        CallRequest(style="call_by_name", call=call),
        CallRequest(style="typed", call=call),
    )
    (cli, _, _, cli_id), (by_reference, _, _, _) = results[:2]

    # the architecture's form: the output itself, so analysis["qualified"] works
    assert cli.result is None
    assert cli.output == {"name": "Ada", "count": 2, "tags": ["x"], "key": cli.output["key"]}
    assert cli.output["key"].startswith(f"{cli_id}:")
    # a RawWorkflowCall: a RawWorkflowResult, as a document through the Any-typed
    # reference, as the model by name with result_type, or from the typed twin
    as_document = RawWorkflowResult.model_validate(by_reference.output)
    typed_results = [outcome.result for outcome, _, _, _ in results[2:]]
    for result in [as_document, *typed_results]:
        assert isinstance(result, RawWorkflowResult)
        assert result.workflow == "echo" and result.status == "succeeded"
        assert result.output == {
            "name": "Ada",
            "count": 3,
            "tags": ["a"],
            "key": result.idempotency_key,
        }
        assert result.error is None
        run_dir = kit_project.root / ".raw" / "workflows" / "echo" / "runs" / result.run_id
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["status"] == "succeeded"
        entry_point = "temporal" if mode == "in_process" else "cli"
        assert manifest["environment"]["entry_point"] == entry_point


# --- bad input fails at once, with RAW's message --------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_unknown_workflow_and_invalid_params_fail_non_retryably_with_the_raw_message(
    kit_project: Project,
    raw_time_skipping_env: WorkflowEnvironment,
    raw_worker: WorkerFactory,
    raw_task_queue: str,
    mode: ActivityMode,
) -> None:
    results = call_raw(
        raw_time_skipping_env,
        raw_worker,
        raw_task_queue,
        kit_project,
        mode,
        CallRequest(style="cli", args=["analyse-cv", "--cv-text=x"], max_attempts=5),
        CallRequest(style="cli", args=["echo", "--nme=Ada", "--count=many"], max_attempts=5),
        CallRequest(
            style="typed", call=RawWorkflowCall(workflow="echo", params={}), max_attempts=5
        ),
    )

    (unknown, unknown_attempts, unknown_history, _) = results[0]
    assert unknown.error_type == "RawWorkflowNotFound" and unknown.non_retryable is True
    assert "No workflow 'analyse-cv'" in (unknown.error_message or "")
    assert "Did you mean 'analyze-cv'?" in (unknown.error_message or "")
    assert unknown_attempts == [1]
    assert unknown_history == [unknown.error_message]  # visible in the process history

    (invalid, invalid_attempts, _, _) = results[1]
    assert invalid.error_type == "RawInvalidInput" and invalid.non_retryable is True
    assert "has no parameter '--nme'. Did you mean '--name'?" in (invalid.error_message or "")
    assert invalid_attempts == [1]
    details = (invalid.error_details or [{}])[0]
    assert {f["field"] for f in details["fields"]} == {"--nme", "count", "name"}

    (missing, missing_attempts, _, _) = results[2]
    assert missing.error_type == "RawInvalidInput" and missing_attempts == [1]
    assert "name: Field required" in (missing.error_message or "")


def test_a_call_that_is_neither_form_is_refused(
    kit_project: Project,
    raw_time_skipping_env: WorkflowEnvironment,
    raw_worker: WorkerFactory,
    raw_task_queue: str,
) -> None:
    [(outcome, attempts, _, _)] = call_raw(
        raw_time_skipping_env,
        raw_worker,
        raw_task_queue,
        kit_project,
        "in_process",
        CallRequest(style="cli", args=[], max_attempts=3),
    )

    assert outcome.error_type == "RawInvalidCall" and outcome.non_retryable is True
    assert "takes CLI-style arguments such as ['analyze-cv', '--id=123']" in (
        outcome.error_message or ""
    )
    assert attempts == [1]


# --- failures are retried, with one idempotency key --------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_failing_workflow_is_retried_under_the_callers_policy_with_one_idempotency_key(
    kit_project: Project,
    raw_time_skipping_env: WorkflowEnvironment,
    raw_worker: WorkerFactory,
    raw_task_queue: str,
    mode: ActivityMode,
    tmp_path: Path,
) -> None:
    recovers, gives_up = tmp_path / "recovers.log", tmp_path / "gives-up.log"
    results = call_raw(
        raw_time_skipping_env,
        raw_worker,
        raw_task_queue,
        kit_project,
        mode,
        CallRequest(
            style="cli", args=["flaky", f"--log={recovers}", "--fail-times=2"], max_attempts=3
        ),
        CallRequest(
            style="cli", args=["flaky", f"--log={gives_up}", "--fail-times=9"], max_attempts=3
        ),
    )

    (ok, ok_attempts, ok_failures, ok_id) = results[0]
    assert ok.output == {"attempts": 3}
    assert ok_attempts == [3]
    assert len(ok_failures) == 0  # failures of retried attempts are not events, only the last
    keys = recovers.read_text(encoding="utf-8").splitlines()
    assert len(keys) == 3 and len(set(keys)) == 1
    assert keys[0].startswith(f"{ok_id}:")

    (failed, failed_attempts, failed_history, _) = results[1]
    assert failed.error_type == "RawWorkflowFailed" and failed.non_retryable is False
    assert "flaky failure number 3" in (failed.error_message or "")
    assert failed_attempts == [3]
    assert failed_history == [failed.error_message]
    keys = gives_up.read_text(encoding="utf-8").splitlines()
    assert len(keys) == 3 and len(set(keys)) == 1


# --- cancellation ------------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("mode", MODES)
def test_cancelling_the_activity_stops_the_raw_run(
    kit_project: Project,
    raw_time_skipping_env: WorkflowEnvironment,
    raw_worker: WorkerFactory,
    raw_task_queue: str,
    mode: ActivityMode,
    tmp_path: Path,
) -> None:
    marker = tmp_path / "marker.txt"
    client = raw_time_skipping_env.client
    # in-process: the step runs to its end (1 s) and the run stops at the boundary after it;
    # subprocess: SIGTERM interrupts the child at once.
    seconds = 1.0 if mode == "in_process" else 60.0
    req = CallRequest(
        style="cli",
        args=["slow", f"--marker={marker}", f"--seconds={seconds}"],
        heartbeat_timeout_seconds=1.0,
        wait_for_cancel=True,
        max_attempts=1,
    )

    async def scenario() -> CallOutcome:
        async with raw_worker(
            client,
            workflows=[CallRaw],
            raw_activities=RawActivities(mode=mode, project_dir=kit_project.root),
        ):
            handle = await client.start_workflow(
                CallRaw.run, req, id=f"cancel-{uuid.uuid4()}", task_queue=raw_task_queue
            )
            for _ in range(300):
                if marker.exists():
                    break
                await asyncio.sleep(0.02)
            await handle.signal(CallRaw.cancel)
            return await handle.result()

    outcome = asyncio.run(scenario())

    assert outcome.cancelled is True
    lines = marker.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("started ")
    assert "finished" not in lines  # the next step never ran
    runs = sorted((kit_project.root / ".raw" / "workflows" / "slow" / "runs").iterdir())
    manifest = json.loads((runs[-1] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "cancelled"
    assert [s["name"] for s in manifest["steps"]] == ["wait"]
    if mode == "subprocess":
        assert not pid_alive(int(lines[0].split()[1]))


NOOP_RUN = """
from pydantic import BaseModel

from raw import BaseWorkflow, step


class Params(BaseModel):
    n: int = 1


class Noop(BaseWorkflow[Params]):
    @step("noop")
    def noop(self) -> int:
        return self.params.n
"""


def test_a_worker_sees_config_edits_and_new_workflows_between_runs(project: Project) -> None:
    """The activity keeps the project it found, but an edited config.yaml is read again
    (here: runs_dir moves the next run's record) and a workflow added later is found."""
    activities = RawActivities(project_dir=project.root)
    project.add_workflow("first", NOOP_RUN)

    first = asyncio.run(activities.run(RawWorkflowCall(workflow="first", args=["--n=2"])))
    assert (first.status, first.output) == ("succeeded", 2)
    assert len(project.runs("first")) == 1

    config = project.root / ".raw" / "config.yaml"
    config.write_text("version: 1\nname: test\nruns_dir: moved-runs\n", encoding="utf-8")
    stat = config.stat()  # a new modification time even on a coarse clock
    os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    project.add_workflow("second", NOOP_RUN)

    second = asyncio.run(activities.run(RawWorkflowCall(workflow="second", args=["--n=3"])))
    assert (second.status, second.output) == ("succeeded", 3)
    assert [p.name for p in (project.root / "moved-runs" / "second").iterdir()] == [second.run_id]
    assert project.runs("second") == []


def test_a_worker_runs_an_edited_run_py_and_reports_a_removed_one(project: Project) -> None:
    """The activity keeps each workflow it resolved (its load, whether it is a plain
    script), but an edited run.py is loaded again and a removed one is not found."""
    activities = RawActivities(project_dir=project.root)
    path = project.add_workflow("noop", NOOP_RUN) / "run.py"

    first = asyncio.run(activities.run(RawWorkflowCall(workflow="noop", args=["--n=2"])))
    again = asyncio.run(activities.run(RawWorkflowCall(workflow="noop", args=["--n=4"])))
    assert (first.output, again.output) == (2, 4)

    path.write_text(NOOP_RUN.replace("return self.params.n", "return self.params.n * 10"))
    stat = path.stat()  # a new modification time even on a coarse clock
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    edited = asyncio.run(activities.run(RawWorkflowCall(workflow="noop", args=["--n=2"])))
    assert edited.output == 20

    path.write_text("print('a plain script')\n")  # no BaseWorkflow: run as a script
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    script = asyncio.run(activities.run(RawWorkflowCall(workflow="noop")))
    assert script.status == "succeeded"

    path.unlink()
    with pytest.raises(ApplicationError) as raised:
        asyncio.run(activities.run(RawWorkflowCall(workflow="noop", args=["--n=2"])))
    assert raised.value.type == "RawWorkflowNotFound"
