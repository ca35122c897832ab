"""A schedule's run is a trace of its own: a real `raw worker` exports to a local receiver.

The project has one schedule; `raw schedules sync` creates it on the session's dev
server and `raw schedules trigger` runs it now (twice), rather than waiting for its
cron. The `raw worker` subprocess exports to :mod:`tests.otlp_receiver`. Each run must
arrive as one trace rooted in the worker (Temporal starts a schedule's workflow itself,
so no client span precedes it and the activity's span is the root), holding the RAW
run's span and its step's span, with a trace id of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from typing import TYPE_CHECKING

import pytest
from temporalio.testing import WorkflowEnvironment
from tests.otlp_receiver import OtlpReceiver, Span, render

if TYPE_CHECKING:
    from conftest import Project, RunCli

from conftest import RAW_BIN

GREET = """
    from pydantic import BaseModel

    from raw import BaseWorkflow, step


    class Params(BaseModel):
        name: str = "world"


    class Greet(BaseWorkflow[Params]):
        @step("greet")
        def greet(self) -> dict:
            return {"greeting": f"hello {self.params.name}"}
"""

RUN = "raw run greet"


def _rooted_runs(spans: list[Span]) -> list[list[Span]]:
    """The traces holding a finished run span whose chain reaches a root that arrived."""
    traces = []
    for run in [s for s in spans if s.name == RUN]:
        trace = [s for s in spans if s.trace_id == run.trace_id]
        by_id = {s.span_id: s for s in trace}
        node = run
        while node.parent_id in by_id:
            node = by_id[node.parent_id]
        if node.parent_id == "" and any(s.name == "step greet" for s in trace):
            traces.append(trace)
    return traces


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_schedules_run_is_a_trace_of_its_own_rooted_in_the_worker(
    raw_dev_server_env: WorkflowEnvironment, project: Project, raw_cli: RunCli
) -> None:
    project.add_workflow("greet", GREET)
    name, schedule = f"proj-{uuid.uuid4().hex[:8]}", f"nightly-{uuid.uuid4().hex[:8]}"
    (project.root / ".raw" / "config.yaml").write_text(
        textwrap.dedent(f"""
        version: 1
        name: {name}
        system:
          orchestrator:
            task_queue: sched-trace-{uuid.uuid4().hex[:8]}
            schedules:
              - {{id: {schedule}, cron: '0 3 * * *', workflow: greet, params: {{name: Ada}}}}
        """),
        encoding="utf-8",
    )
    address = raw_dev_server_env.client.service_client.config.target_host
    plain = {k: v for k, v in os.environ.items() if not k.startswith(("RAW_", "OTEL_"))}
    plain["TEMPORAL_ADDRESS"] = address
    plain.pop("TRACEPARENT", None)
    with OtlpReceiver() as receiver:
        env = dict(plain)
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.endpoint
        env["OTEL_BSP_SCHEDULE_DELAY"] = "100"  # export every 100 ms, not every 5 s
        log = project.root / "worker.log"
        with log.open("wb") as sink:
            worker = subprocess.Popen(
                [str(RAW_BIN), "worker"], cwd=project.root, env=env, stdout=sink, stderr=sink
            )
        try:
            deadline = time.monotonic() + 60
            while b"raw worker: polling" not in log.read_bytes():
                assert worker.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            synced = raw_cli("schedules", "sync", env={"TEMPORAL_ADDRESS": address})
            assert synced.code == 0, synced.stderr
            # The trigger runs with the endpoint set too (a terminal command): whatever it
            # traces must stay apart from the runs it causes.
            for count in (1, 2):  # one at a time: a schedule skips a trigger while it runs
                triggered = raw_cli("schedules", "trigger", schedule, env=env)
                assert triggered.code == 0, triggered.stderr
                traces = receiver.wait_for(
                    lambda spans, n=count: len(found := _rooted_runs(spans)) >= n and found,
                    within=90,
                    what=f"scheduled run {count}",
                )
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        everything = list(receiver.spans)
    for trace in traces:
        sys.stdout.write("\n" + render(trace) + "\n")  # the trees, with pytest -s

    ids = [trace[0].trace_id for trace in traces]
    assert len(set(ids)) == 2, ids  # two runs, two traces
    for trace in traces:
        roots = [s for s in trace if s.parent_id == ""]
        assert len(roots) == 1, [s.name for s in roots]
        root = roots[0]
        # Rooted in the worker: Temporal starts a schedule's workflow with no client span,
        # so its interceptor makes no workflow span, and the activity's span is the root.
        assert root.resource["raw.process"] == "worker", root.resource
        assert root.service == "raw-worker"
        assert root.name == "RunActivity:run_raw_workflow", root.name
        assert root.attributes["temporalWorkflowID"].startswith(f"raw-schedule-{schedule}")
        assert all(s.resource["raw.process"] == "worker" for s in trace)
        run = next(s for s in trace if s.name == RUN)
        assert run.attributes["raw.status"] == "succeeded"
        assert run.parent_id == root.span_id
        step = next(s for s in trace if s.name == "step greet")
        assert step.parent_id == run.span_id
        assert step.attributes["raw.step.status"] == "succeeded"
    # The trigger commands' spans, if any, are not in the runs' traces.
    trigger_spans = [s for s in everything if s.resource.get("raw.process") != "worker"]
    assert not {s.trace_id for s in trigger_spans} & set(ids)
    assert len(project.runs("greet")) == 2
