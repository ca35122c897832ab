"""One hiring application, one trace: `raw up`'s real processes export to a local OTLP receiver.

The hiring system runs under `raw up` with ``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at
an OTLP/HTTP receiver in this test (:mod:`tests.otlp_receiver`), and the dispatcher in
a process of its own (``dispatcher.enabled: false``). One application goes from the
CV webhook to the stored call summary. The spans that arrive must form one trace from
the webhook route's span (the API process) through the dispatcher's action span (its
own process) and Temporal's spans to the worker's activity and the summary's RAW run,
with no secret and no CV text in any attribute.

``pytest -s`` prints the trace as a tree (span, service and process, duration).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.otlp_receiver import OtlpReceiver, Span, render

from .conftest import copy_hiring
from .hiring_up import HiringUp, booking, candidate_id, cv
from .test_hiring_up import until_status

CV_TEXT = cv("ada@example.com", "Ada")["cv_text"]
SUMMARY_RUN = "raw run generate-call-summary"
DISPATCHER_APART = "    migrations: hiring/migrations\n    dispatcher: {enabled: false}\n"


def _chain(span: Span, by_id: dict[str, Span]) -> list[Span]:
    """``span`` and its ancestors, up to the root of what arrived."""
    chain = [span]
    while chain[-1].parent_id in by_id:
        chain.append(by_id[chain[-1].parent_id])
    return chain


def _summary_trace(spans: list[Span]) -> list[Span] | None:
    """The trace holding the summary's finished run span, once its webhook span is there."""
    runs = [s for s in spans if s.name == SUMMARY_RUN]
    if not runs:
        return None
    trace = [s for s in spans if s.trace_id == runs[0].trace_id]
    by_id = {s.span_id: s for s in trace}
    chain = _chain(runs[0], by_id)
    return trace if chain[-1].parent_id == "" else None  # connected up to its root


def _values(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [v for item in value.values() for v in _values(item)]
    if isinstance(value, list):
        return [v for item in value for v in _values(item)]
    return [str(value)]


@pytest.mark.slow
@pytest.mark.usefixtures("clean_env")
@pytest.mark.timeout(300)
def test_one_application_is_one_trace_across_the_api_dispatcher_and_worker(
    tmp_path: Path,
) -> None:
    with OtlpReceiver() as receiver:
        up = HiringUp(
            copy_hiring(tmp_path / "hiring"),
            config_changes={
                "callback_delay_seconds: 3": "callback_delay_seconds: 0.5",
                "    migrations: hiring/migrations\n": DISPATCHER_APART,
            },
        )
        for name in [n for n in up.env if n.startswith("OTEL_")]:
            del up.env[name]
        up.env["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.endpoint
        up.env["OTEL_BSP_SCHEDULE_DELAY"] = "200"  # export every 200 ms, not every 5 s
        try:
            up.start()
            accepted = up.send("cv-submission", cv("ada@example.com", "Ada Lovelace"))
            cid = accepted["response"]["target"].split("/", 1)[1]
            assert cid == candidate_id("ada@example.com")
            until_status(up, cid, "awaiting-booking")
            call_time = datetime.now(UTC) + timedelta(seconds=2)
            token = accepted["response"]["correlation_id"]
            end = (call_time + timedelta(minutes=20)).isoformat()
            up.send(
                "calendar-booking", booking("ada@example.com", call_time.isoformat(), end, token)
            )
            done = until_status(up, cid, "completed", within=90)
            assert done["summary"]["recommendation"] == "advance"

            trace = receiver.wait_for(_summary_trace, within=60, what="summary trace")
            headers = {"Authorization": f"Bearer {up.token}"}
            inbox = httpx.get(f"{up.base}/api/inbox", headers=headers, timeout=10).json()
            runs = httpx.get(
                f"{up.base}/api/runs",
                params={"workflow": "generate-call-summary"},
                headers=headers,
                timeout=10,
            ).json()["runs"]
            logs = up.raw("logs", "generate-call-summary", "--json")
        finally:
            up.stop()
        assert up.process is not None and up.process.returncode == 0, up.log()
        everything = list(receiver.spans)
    sys.stdout.write("\n" + render(trace) + "\n")  # the tree, with pytest -s
    # The booking is a delivery, so a trace of its own: its route, the dispatcher's span
    # and the signal it sends, received by the worker's process.
    booked = next(s for s in everything if s.name == "POST /webhooks/calendar")
    signal_trace = [s for s in everything if s.trace_id == booked.trace_id]
    sys.stdout.write("\n" + render(signal_trace) + "\n")
    signal = next(s for s in signal_trace if s.name == "dispatch signal")
    assert signal.parent_id == booked.span_id and signal.resource["raw.process"] == "dispatcher"
    sent = next(s for s in signal_trace if s.name.startswith("SignalWorkflow:booked"))
    assert sent.parent_id == signal.span_id

    trace_id = trace[0].trace_id
    by_id = {s.span_id: s for s in trace}
    summary = next(s for s in trace if s.name == SUMMARY_RUN)
    chain = _chain(summary, by_id)
    root = chain[-1]
    # The root is the CV webhook's route span, in the API process (FastAPI's instrumentation).
    assert root.name == "POST /webhooks/cv-submission", [s.name for s in chain]
    assert root.resource["raw.process"] == "coordinator"
    assert root.service == "raw-coordinator"
    # Down the chain: the dispatcher's action span in its own process, the Temporal start,
    # the worker's workflow and activity spans, the RAW run of the summary.
    roles = [s.resource["raw.process"] for s in reversed(chain)]
    assert roles[0] == "coordinator" and roles[-1] == "worker", roles
    assert "dispatcher" in roles, roles
    assert roles.index("dispatcher") < roles.index("worker")
    pids = {s.resource["raw.process"]: s.resource["process.pid"] for s in chain}
    assert len(set(pids.values())) == 3, pids  # three processes
    names = [s.name for s in reversed(chain)]
    dispatch = next(s for s in chain if s.name == "dispatch start_process")
    assert by_id[dispatch.parent_id].resource["raw.process"] == "coordinator"
    assert dispatch.attributes["raw.action.outcome"] == "done"
    assert any(n.startswith("StartWorkflow:HiringProcess") for n in names), names
    start = next(s for s in chain if s.name.startswith("StartWorkflow:HiringProcess"))
    assert start.resource["raw.process"] == "dispatcher"
    # Temporal's workflow spans (the interceptor's, zero-length) hang off the start too.
    run_workflow = [s for s in trace if s.name.startswith("RunWorkflow:HiringProcess")]
    assert run_workflow and run_workflow[0].parent_id == start.span_id
    assert run_workflow[0].resource["raw.process"] == "worker"
    assert any(n.startswith("RunActivity:") for n in names), names
    assert summary.attributes["raw.status"] == "succeeded"
    # The steps of the summary's run are its children, with their attributes.
    steps = [s for s in trace if s.parent_id == summary.span_id and s.name.startswith("step ")]
    assert steps and all(s.attributes["raw.step.status"] == "succeeded" for s in steps)
    assert all(s.attributes["raw.step.attempts"] >= 1 for s in steps)
    # The CV's analysis and the scheduling email are in the same trace, from the worker.
    assert any(s.name == "raw run analyze-cv" for s in trace)
    assert any(s.name == "email send" and s.resource["raw.process"] == "worker" for s in trace)

    # The route's write transaction is a child of the route's span with its SQL inside;
    # the dispatcher's write of the attempt's end joins the delivery's trace too (read
    # from everything: the processes flushed their last spans when they stopped).
    full = [s for s in everything if s.trace_id == trace_id]
    store = next(s for s in full if s.name == "store deliveries")
    assert store.parent_id == root.span_id and store.resource["raw.process"] == "coordinator"
    assert any(s.parent_id == store.span_id and s.name.startswith("INSERT") for s in full)
    ends = [s for s in full if s.name == "store action ends"]
    assert ends and all(s.parent_id == root.span_id for s in ends), [s.parent_id for s in ends]
    assert {s.resource["raw.process"] for s in ends} == {"dispatcher"}

    # SQLAlchemy's instrumentation: the coordinator's statements (the API's reads here).
    sql = [
        s for s in everything if s.attributes.get("db.system", s.attributes.get("db.system.name"))
    ]
    assert any(s.resource["raw.process"] == "coordinator" for s in sql)

    # The records keep the trace id: the CV's inbox record, the summary's run, `raw logs`.
    cv_record = next(r for r in inbox["records"] if r["route"] == "cv-submission")
    assert cv_record["trace_id"] == trace_id
    assert [r["trace_id"] for r in runs] == [trace_id]
    assert logs.returncode == 0 and json.loads(logs.stdout)["trace_id"] == trace_id

    # No secret and no CV text anywhere: attributes, resources, span names.
    secrets = [s for s in up.secrets() if len(s) >= 8]
    assert secrets  # the webhook secrets and the API token raw up wrote
    secrets += [v for k, v in os.environ.items() if k.endswith(("_KEY", "_TOKEN", "_SECRET")) and v]
    for span in everything:
        texts = [span.name, *_values(span.attributes), *_values(span.resource)]
        for text in texts:
            assert CV_TEXT not in text, (span.name, text)
            for secret in secrets:
                assert secret not in text, (span.name, "a secret in an attribute")
