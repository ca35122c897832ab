"""Tracing (raw.tracing): off unless the OTEL_* settings ask, and then real spans over OTLP.

Every traced process here is a real `raw run` in a subprocess exporting over OTLP/HTTP to
a receiver in the test (:mod:`tests.otlp_receiver`); the end-to-end trace of a hiring
application across `raw up`'s processes is tests/examples/test_hiring_trace.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from tests.otlp_receiver import OtlpGrpcReceiver, OtlpReceiver, Span

from raw import tracing
from raw.testing.openai_server import OpenAIServer, Reply

if TYPE_CHECKING:
    from conftest import Project

RAW_BIN = Path(sys.executable).with_name("raw")

FLAKY = """
from pydantic import BaseModel
from raw import BaseWorkflow, retry, step


class Params(BaseModel):
    name: str = "world"


class Flaky(BaseWorkflow[Params]):
    tries = 0

    @step("flaky")
    @retry(max_attempts=3, base_delay_seconds=0.01)
    def flaky(self) -> int:
        Flaky.tries += 1
        if Flaky.tries < 2:
            raise ValueError("not yet")
        return Flaky.tries

    @step("greet")
    def greet(self) -> str:
        return f"hello {self.params.name}"
"""

ASK = """
from pydantic import BaseModel
from raw import BaseWorkflow, step


class Params(BaseModel):
    question: str


class Ask(BaseWorkflow[Params]):
    @step("ask")
    def ask(self) -> str:
        return self.llm.complete(self.params.question)
"""

PROMPT = "What is the candidate's secret salary expectation, in words?"
API_KEY = "sk-test-0123456789abcdef0123456789"


def _env(**settings: str) -> dict[str, str]:
    """The environment without any OTEL_* or RAW_* from the host, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "RAW_"))}
    env.update(settings)
    return env


def _raw(project: Project, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RAW_BIN), *args],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _imported(
    project: Project,
    env: dict[str, str],
    *,
    block_otel: bool = False,
    block: str = "opentelemetry",
) -> Any:
    """A real `raw run flaky --json` (the CLI's main); the modules it imported, its output.

    ``block_otel``: modules named ``block`` or under it cannot be imported (not installed).
    """
    blocker = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name == {block!r} or name.startswith({block + '.'!r}):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        if block_otel
        else ""
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            blocker + "from raw.cli.main import main; main()",
            "run",
            "flaky",
            "--json",
        ],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    return proc, modules


def _otel(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] == "opentelemetry"}


@pytest.mark.parametrize(
    ("settings", "on"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "x", "OTEL_TRACES_SAMPLER": "always_on"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "  "}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "TRUE"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "false"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "otlp"}, True),
    ],
)
def test_tracing_is_wanted_only_when_the_standard_settings_ask(
    settings: dict[str, str], on: bool
) -> None:
    assert tracing.wanted(settings) is on


def test_trace_id_is_read_from_a_traceparent() -> None:
    tid = "4bf92f3577b34da6a3ce929d0e0e4736"
    assert tracing.trace_id_of(f"00-{tid}-00f067aa0ba902b7-01") == tid
    assert tracing.trace_id_of(None) is None
    assert tracing.trace_id_of("00-" + "0" * 32 + "-00f067aa0ba902b7-01") is None
    assert tracing.trace_id_of("garbage") is None


def test_off_means_no_opentelemetry_module_is_loaded_by_raw_run(project: Project) -> None:
    project.add_workflow("flaky", FLAKY)
    proc, modules = _imported(project, _env())
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["status"] == "succeeded"
    assert "raw.workflow.execution" in modules  # the probe sees the run's own imports
    assert "raw.tracing" in modules
    assert _otel(modules) == set()
    # Switched off by the standard settings, with an endpoint set: still nothing loaded.
    for off in ({"OTEL_SDK_DISABLED": "true"}, {"OTEL_TRACES_EXPORTER": "none"}):
        env = _env(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9", **off)
        proc, modules = _imported(project, env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert _otel(modules) == set(), off


def test_without_the_extra_a_traced_run_warns_once_and_runs_untraced(project: Project) -> None:
    project.add_workflow("flaky", FLAKY)
    env = _env(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9")
    proc, modules = _imported(project, env, block_otel=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    assert doc["status"] == "succeeded"
    warnings = [line for line in proc.stderr.splitlines() if "observability extra" in line]
    assert len(warnings) == 1, proc.stderr[-2000:]
    assert "pip install 'raw-systems[observability]'" in warnings[0]
    assert "Traceback" not in proc.stderr
    manifest = json.loads((Path(doc["run_dir"]) / "manifest.json").read_text())
    assert "trace_id" not in manifest


@pytest.mark.parametrize(
    ("settings", "asked"),
    [
        ({}, ("http/protobuf", "")),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": " GRPC "}, ("grpc", "OTEL_EXPORTER_OTLP_PROTOCOL")),
        (
            {
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json",
            },
            ("http/json", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"),
        ),
        ({"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": ""}, ("http/protobuf", "")),
    ],
)
def test_the_protocol_is_read_from_the_standard_settings_traces_first(
    settings: dict[str, str], asked: tuple[str, str]
) -> None:
    assert tracing.protocol(settings) == asked


def _run_span(spans: list[Span]) -> Span | None:
    return next((s for s in spans if s.name == "raw run flaky"), None)


@pytest.mark.parametrize(
    "settings",
    [
        {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
        {
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc",
        },
    ],
)
def test_grpc_asked_for_exports_over_otlp_grpc(project: Project, settings: dict[str, str]) -> None:
    project.add_workflow("flaky", FLAKY)
    with OtlpGrpcReceiver() as receiver:
        env = _env(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, **settings)
        done = _raw(project, "run", "flaky", "--json", env=env)
        assert done.returncode == 0, done.stderr
        run: Span = receiver.wait_for(_run_span, what="the run's span over gRPC")
        spans = receiver.trace(run.trace_id)
    assert run.parent_id == "" and run.service == "raw-run"
    assert {s.name for s in spans if s.parent_id == run.span_id} == {"step flaky", "step greet"}
    assert "PROTOCOL" not in done.stderr  # nothing to warn about


def test_an_unsupported_protocol_is_named_once_and_spans_go_over_http(project: Project) -> None:
    project.add_workflow("flaky", FLAKY)
    with OtlpReceiver() as receiver:
        env = _env(
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
            OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="http/json",
        )
        done = _raw(project, "run", "flaky", "--json", env=env)
        assert done.returncode == 0, done.stderr
        receiver.wait_for(_run_span, what="the run's span over HTTP")
    warnings = [line for line in done.stderr.splitlines() if "PROTOCOL" in line]
    assert len(warnings) == 1, done.stderr[-2000:]
    assert "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json is not supported" in warnings[0]
    assert "OTLP/HTTP" in warnings[0]


def test_grpc_without_its_exporter_is_named_once_and_spans_go_over_http(
    project: Project,
) -> None:
    project.add_workflow("flaky", FLAKY)
    with OtlpReceiver() as receiver:
        env = _env(
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL="grpc"
        )
        proc, modules = _imported(
            project, env, block_otel=True, block="opentelemetry.exporter.otlp.proto.grpc"
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        receiver.wait_for(_run_span, what="the run's span over HTTP")
    assert "opentelemetry.exporter.otlp.proto.http.trace_exporter" in modules
    warnings = [line for line in proc.stderr.splitlines() if "OTLP/gRPC exporter" in line]
    assert len(warnings) == 1, proc.stderr[-2000:]
    assert warnings[0].count("OTEL_EXPORTER_OTLP_PROTOCOL=grpc") == 1
    assert "exporting over OTLP/HTTP instead" in warnings[0]
    assert "Traceback" not in proc.stderr


def test_a_raw_run_is_a_trace_of_its_own_with_a_span_per_step(project: Project) -> None:
    project.add_workflow("flaky", FLAKY)
    with OtlpReceiver() as receiver:
        env = _env(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint)
        done = _raw(project, "run", "flaky", "--json", env=env)
        assert done.returncode == 0, done.stderr
        doc = json.loads(done.stdout)
        run: Span = receiver.wait_for(
            lambda spans: next((s for s in spans if s.name == "raw run flaky"), None)
        )
        spans = receiver.trace(run.trace_id)
    assert run.parent_id == ""  # a root: a run from the terminal is a trace of its own
    assert run.service == "raw-run" and run.resource["raw.process"] == "run"
    assert run.attributes["raw.run_id"] == doc["run_id"]
    assert run.attributes["raw.status"] == "succeeded"
    assert run.attributes["raw.entry_point"] == "cli"
    steps = {s.name: s for s in spans if s.parent_id == run.span_id}
    assert set(steps) == {"step flaky", "step greet"}
    flaky = steps["step flaky"].attributes
    assert flaky["raw.step.status"] == "succeeded" and flaky["raw.step.attempts"] == 2
    assert flaky["raw.step.duration_ms"] == doc["steps"][0]["duration_ms"]
    assert steps["step greet"].attributes["raw.step.attempts"] == 1
    # The run's record keeps the trace id, and `raw logs` prints it.
    manifest = json.loads((Path(doc["run_dir"]) / "manifest.json").read_text())
    assert manifest["trace_id"] == run.trace_id
    logs = _raw(project, "logs", "flaky", env=_env())
    assert logs.stdout.splitlines()[0] == f"trace id: {run.trace_id}"
    assert json.loads(_raw(project, "logs", "flaky", "--json", env=_env()).stdout)["trace_id"] == (
        run.trace_id
    )


def test_a_failed_run_and_step_are_marked_as_errors(project: Project) -> None:
    project.add_workflow("flaky", FLAKY.replace("Flaky.tries < 2", "Flaky.tries < 9"))
    with OtlpReceiver() as receiver:
        env = _env(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint)
        done = _raw(project, "run", "flaky", "--json", env=env)
        assert done.returncode == 1, done.stderr
        run: Span = receiver.wait_for(
            lambda spans: next((s for s in spans if s.name == "raw run flaky"), None)
        )
        spans = receiver.trace(run.trace_id)
    error = 2  # OTLP's STATUS_CODE_ERROR
    assert run.status_code == error and run.attributes["raw.status"] == "failed"
    (step,) = [s for s in spans if s.name == "step flaky"]
    assert step.status_code == error
    assert step.attributes["error.type"] == "ValueError"
    assert step.attributes["raw.step.attempts"] == 3
    assert "not yet" not in json.dumps(step.attributes)  # the type, never the message


def test_a_run_started_for_a_traced_caller_joins_its_trace(project: Project) -> None:
    project.add_workflow("flaky", FLAKY)
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    with OtlpReceiver() as receiver:
        env = _env(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, TRACEPARENT=parent)
        assert _raw(project, "run", "flaky", env=env).returncode == 0
        run: Span = receiver.wait_for(
            lambda spans: next((s for s in spans if s.name == "raw run flaky"), None)
        )
    assert run.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert run.parent_id == "00f067aa0ba902b7"


def test_an_llm_request_is_a_span_with_model_and_tokens_never_the_prompt(
    project: Project,
) -> None:
    project.add_workflow("ask", ASK)
    reply = Reply(content="forty", usage={"prompt_tokens": 12, "completion_tokens": 3})
    with OpenAIServer(reply, api_key=API_KEY) as llm, OtlpReceiver() as receiver:
        env = _env(
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
            RAW_LLM_BASE_URL=llm.base_url,
            RAW_LLM_API_KEY=API_KEY,
            RAW_LLM_MODEL="test-model",
        )
        done = _raw(project, "run", "ask", "--question", PROMPT, "--json", env=env)
        assert done.returncode == 0, done.stderr
        run: Span = receiver.wait_for(
            lambda spans: next((s for s in spans if s.name == "raw run ask"), None)
        )
        spans = receiver.trace(run.trace_id)
    by_name = {s.name: s for s in spans}
    call = by_name["llm complete"]
    assert call.parent_id == by_name["step ask"].span_id
    assert call.attributes["gen_ai.request.model"] == "test-model"
    assert call.attributes["gen_ai.usage.input_tokens"] == 12
    assert call.attributes["gen_ai.usage.output_tokens"] == 3
    # httpx's own instrumentation traces the HTTP request under the step.
    client = 3  # OTLP's SPAN_KIND_CLIENT
    assert by_name["POST"].kind == client, by_name
    assert by_name["POST"].parent_id == by_name["step ask"].span_id
    for span in spans:
        text = json.dumps([span.name, span.attributes, span.resource])
        assert PROMPT not in text and "salary" not in text
        assert API_KEY not in text


def test_sqlalchemys_instrumentation_traces_the_statements_but_not_the_dispatchers_polls(
    project: Project,
) -> None:
    assert _raw(project, "db", "upgrade", env=_env()).returncode == 0  # its UPDATE untraced
    with OtlpReceiver() as receiver:
        env = _env(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint)
        done = _raw(project, "dispatcher", "--once", "--json", env=env)
        assert done.returncode == 0, done.stderr
        assert "SQLAlchemyInstrumentor" not in done.stderr  # no version warning either
        spans = receiver.wait_for(
            lambda spans: [s for s in spans if s.name.startswith("SELECT")] and spans
        )
    statements = [s for s in spans if s.name.split()[0] in ("SELECT", "UPDATE", "INSERT")]
    assert statements and all(s.service == "raw-dispatcher" for s in statements)
    assert not [s for s in statements if s.name.startswith("UPDATE")]  # the claim's poll
