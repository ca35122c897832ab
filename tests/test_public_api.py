"""The public API: what each part exports, what `raw_runtime` offers, errors across processes."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import pickle
import pkgutil
import subprocess
import sys
import types
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import raw
import raw_runtime
from raw.config.coordinator import WebhookConfig
from raw.errors import FieldError, RawError
from raw.up_state import UpState

if TYPE_CHECKING:
    from conftest import Project


@pytest.mark.parametrize(
    "name",
    ["BaseWorkflow", "step", "retry", "cache", "cache_step", "conditional", "run_workflow"],
)
def test_raw_runtime_exports_the_kit_s_own_objects(name: str) -> None:
    assert name in raw_runtime.__all__
    assert getattr(raw_runtime, name) is getattr(raw, name)


RAW_RUNTIME_EXPORTS = {
    # the kit's own objects, under the same names as in `raw`
    "BaseWorkflow": raw.BaseWorkflow,
    "RunResult": raw.RunResult,
    "cache": raw.cache,
    "cache_step": raw.cache_step,
    "conditional": raw.conditional,
    "retry": raw.retry,
    "run_workflow": raw.run_workflow,
    "step": raw.step,
    "raw_step": raw.step,
    "__version__": raw.__version__,
}


def test_raw_runtime_exports_exactly_the_names_the_original_s_files_use() -> None:
    assert sorted(raw_runtime.__all__) == sorted(
        [
            *RAW_RUNTIME_EXPORTS,
            "AgenticStepError",
            "CostLimitExceededError",
            "EventSeverity",
            "ResponseParsingError",
            "Tool",
            "ToolEvent",
            "ToolEventType",
            "ToolRegistry",
            "ToolResult",
            "TriggerEvent",
            "WorkflowContext",
            "agentic",
            "clear_trigger_registry",
            "ensure_env_loaded",
            "get_secret",
            "get_tool",
            "get_tool_registry",
            "get_workflow_context",
            "get_workflows_for_event",
            "list_trigger_types",
            "load_dotenv",
            "log_event",
            "log_metric",
            "on_event",
            "register_tool",
            "require_secret",
            "set_tool_registry",
            "set_workflow_context",
            "tool",
            "wait_for_approval",
            "wait_for_webhook",
        ]
    )
    for name, obj in RAW_RUNTIME_EXPORTS.items():
        assert getattr(raw_runtime, name) is obj, name


def test_raw_runtime_is_built_on_the_kit_s_own_objects() -> None:
    from raw.workflow import tools, workflow_context

    assert raw_runtime.WorkflowContext is workflow_context.WorkflowContext
    assert raw_runtime.get_workflow_context is workflow_context.get_workflow_context
    assert raw_runtime.tool is tools.tool
    assert raw_runtime.Tool is tools.Tool


def test_original_style_workflow_runs_unchanged(project: Project) -> None:
    project.add_workflow(
        "count-lines",
        """
        #!/usr/bin/env python3
        # /// script
        # requires-python = ">=3.10"
        # dependencies = ["pydantic>=2"]
        # ///
        from pathlib import Path

        from pydantic import BaseModel, Field
        from raw_runtime import BaseWorkflow, cache_step, retry, step

        class Params(BaseModel):
            input_file: str = Field(..., description="Input file path")

        class CountLines(BaseWorkflow[Params]):
            @step("process")
            @retry(retries=3, backoff="exponential")
            @cache_step
            def process(self) -> dict:
                text = Path(self.params.input_file).read_text()
                return {"lines": len(text.splitlines())}

            def run(self) -> int:
                result = self.process()
                self.save("summary.json", result)
                self.log(f"counted {result['lines']} lines")
                return 0

        if __name__ == "__main__":
            CountLines.main()
        """,
    )
    data = project.root / "input.txt"
    data.write_text("a\nb\nc\n", encoding="utf-8")

    result = raw.run_workflow("count-lines", {"input_file": str(data)}, project_dir=project.root)

    assert result.status == "succeeded", result.error
    assert result.return_code == 0
    assert result.steps[0].result == {"lines": 3}
    assert [a.name for a in result.artifacts] == ["summary.json"]


# --- each part's public surface: exactly these names, each the object its home module defines
#
# Like httpx's test_exported_members: a name added to or dropped from a part's __all__,
# or moved to another module, fails here until this list says so too.

_WORKFLOW = {
    "raw.workflow.base": ["BaseWorkflow", "NoParams"],
    "raw.workflow.result": ["RunResult", "StepResult"],
    "raw.workflow.runner": ["run_workflow", "run_workflow_async"],
    "raw.workflow.steps": ["cache", "cache_step", "conditional", "retry", "step"],
}

EXPORTED: dict[str, dict[str, list[str]]] = {
    "raw": {
        **_WORKFLOW,
        "raw": ["__version__"],
        "raw.clock": ["clock"],  # the module itself
        "raw.errors": ["RawError"],
    },
    "raw.workflow": _WORKFLOW,
    "raw.coordinator": {
        "raw.coordinator.api": ["require_api_token"],
        "raw.coordinator.app": ["Coordinator", "create_app", "load_app", "mount_coordinator"],
        "raw.coordinator.db.database": ["Database", "database_url", "normalize_url", "upgrade"],
        "raw.coordinator.db.models": ["Delivery", "UTCDateTime"],
        "raw.coordinator.db.retention": ["erase_entity"],
        "raw.coordinator.db.system_migrations": ["upgrade_system"],
        "raw.coordinator.errors": ["ResourceNotFoundError"],
        "raw.coordinator.ingest": ["Ignored"],
        "raw.coordinator.sender": ["encode_body", "load_schemes", "signed_delivery"],
        "raw.coordinator.verify": [
            "SignatureError",
            "SignedRequest",
            "public_base_url",
            "register_scheme",
        ],
    },
    # raw.orchestrator is split as temporalio is: workflow (sandbox-safe, for process
    # code), client (from outside) and activity. The package itself exports nothing;
    # its old names answer for one release with a DeprecationWarning
    # (tests/orchestrator/test_imports.py).
    "raw.orchestrator": {},
    "raw.orchestrator.workflow": {
        "raw.orchestrator.workflow": [
            "SIGNAL_IDEMPOTENCY_FIELD",
            "FirstSignal",
            "RawEvent",
            "RawProcess",
            "RawState",
            "RawWorkflowCall",
            "RawWorkflowResult",
            "SignalEnvelope",
            "execute_activity",
            "execute_raw",
            "first_signal",
            "set_step",
            "sleep_until",
            "wait_for",
        ],
    },
    "raw.orchestrator.client": {
        "raw.orchestrator.client": [
            "InvalidProcessIdError",
            "InvalidVisibilityQueryError",
            "ProcessClosedError",
            "ProcessInfo",
            "ProcessNotFoundError",
            "ProcessQueryError",
            "SignalEnvelope",
            "SignalWithStartResult",
            "StartResult",
            "TemporalUnavailableError",
            "cancel",
            "connect",
            "describe",
            "list_processes",
            "process_id",
            "process_type",
            "query",
            "signal",
            "signal_received",
            "signal_with_start",
            "start_process",
            "workflow_type_name",
        ],
    },
    "raw.orchestrator.activity": {
        "raw.orchestrator.activity": [
            "ERROR_TYPES",
            "IDEMPOTENCY_ENV",
            "RUN_RAW_WORKFLOW",
            "RUN_RAW_WORKFLOW_CALL",
            "ActivityMode",
            "OutageInterceptor",
            "RawActivities",
            "RawWorkflowCall",
            "RawWorkflowResult",
            "run_raw_workflow",
            "run_raw_workflow_call",
        ],
    },
    "raw.testing": {
        "raw.testing.histories": ["RECORD_SETTING", "keep_history"],
        "raw.testing.openai_server": ["OpenAIServer", "RecordedRequest", "Reply", "ScriptedReply"],
        "raw.testing.postgres": ["PostgresServer", "embedded_postgres", "postgres_server"],
        "raw.testing.projects": ["LOCAL_STATE", "copy_project"],
        "raw.testing.temporal": [
            "DEV_SERVER_TUNING",
            "TemporalBinaryNotFoundError",
            "find_binary",
            "register_search_attributes",
            "run_worker",
            "sandbox_runner",
            "start_dev_server_env",
            "start_time_skipping_env",
            "unique_task_queue",
        ],
    },
    "raw.deploy": {
        "raw.deploy.check": ["check_deployment"],
        "raw.deploy.config": ["DeployConfig"],
        "raw.deploy.findings": ["CheckReport", "Finding", "ToolMissingError"],
        "raw.deploy.rendering": ["Rendered", "render"],
    },
    "raw.gates": {
        "raw.gates.runner": ["GateResult", "GatesRun", "run_gates"],
        "raw.gates.spec": ["GateSpec", "select_gates"],
    },
    "raw.simulate": {
        "raw.simulate.harness": ["SimulatedSystem", "SimulationError"],
        "raw.simulate.runner": ["ScenarioResult", "StepOutcome", "run_scenario"],
        "raw.simulate.scenario": [
            "Scenario",
            "ScenarioError",
            "load_scenario",
            "scenario_json_schema",
        ],
    },
    "raw.integrations": {
        "raw.integrations.chat": ["Chat", "Notification"],
        "raw.integrations.config": [
            "ChatConfig",
            "EmailConfig",
            "IntegrationsConfig",
            "PhoneSimulatorConfig",
            "StorageConfig",
            "TelephonyConfig",
        ],
        "raw.integrations.email": ["Email", "EmailMessage", "SentEmail"],
        "raw.integrations.errors": [
            "ChatError",
            "EmailError",
            "IntegrationError",
            "IntegrationNotConfiguredError",
            "InvalidObjectKeyError",
            "LocalServicesNotRunningError",
            "ObjectNotFoundError",
            "SettingMissingError",
            "StorageError",
            "TelephonyError",
        ],
        "raw.integrations.factory": ["Integrations", "for_project", "from_config"],
        "raw.integrations.folder": ["FolderStorage"],
        "raw.integrations.mail_catcher": ["CapturedEmail", "MailStore"],
        "raw.integrations.outbox": ["OutboxChat"],
        "raw.integrations.phone_simulator": [
            "CallLog",
            "CallbackAttempt",
            "PhoneSimulator",
            "SimulatedCall",
        ],
        "raw.integrations.s3": ["S3Storage"],
        "raw.integrations.services": ["LocalServices", "read_state"],
        "raw.integrations.slack": ["SlackChat"],
        "raw.integrations.smtp": ["SmtpEmail", "SmtpServer"],
        "raw.integrations.storage": ["Storage", "StoredObject"],
        "raw.integrations.sync": ["run_sync"],
        "raw.integrations.telephony": ["CallRef", "PlaceCallRequest", "Telephony"],
        "raw.integrations.twilio_voice": ["TwilioAccount", "TwilioTelephony"],
    },
}

LAZY_PARTS = ["raw.coordinator", "raw.testing", "raw.deploy", "raw.integrations"]


@pytest.mark.parametrize("part", EXPORTED)
def test_exported_members(part: str) -> None:
    module = importlib.import_module(part)
    expected = {name: home for home, names in EXPORTED[part].items() for name in names}

    assert sorted(module.__all__) == sorted(expected)
    assert len(module.__all__) == len(set(module.__all__))
    for name, home in expected.items():
        value = getattr(module, name)
        if isinstance(value, types.ModuleType):
            assert value.__name__ == home, name
        else:
            assert value is getattr(importlib.import_module(home), name), name


@pytest.mark.parametrize("part", EXPORTED)
def test_nothing_public_is_left_out_of_all(part: str) -> None:
    module = importlib.import_module(part)
    for name in module.__all__:
        getattr(module, name)  # a lazy part holds its names once they are used
    if hasattr(module, "__path__"):  # a package: whatever it holds is exported
        public = {
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and not isinstance(value, types.ModuleType)
            and name != "TYPE_CHECKING"
            and type(value).__module__ != "__future__"  # `from __future__ import annotations`
        }
    else:  # a module: the classes and functions it defines
        public = {
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and isinstance(value, type | types.FunctionType)
            and value.__module__ == part
        }

    assert public - set(module.__all__) == set()
    assert set(module.__all__) <= set(dir(module))


@pytest.mark.parametrize("part", LAZY_PARTS)
def test_a_lazy_part_tells_type_checkers_what_it_exports(part: str) -> None:
    """Type checkers read the imports under TYPE_CHECKING; they name what the part loads."""
    module = importlib.import_module(part)
    tree = ast.parse(Path(inspect.getfile(module)).read_text(encoding="utf-8"))
    (block,) = (
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    )
    imported = {
        alias.asname: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.asname == alias.name  # `X as X`: re-exported, for strict type checkers
    }

    assert imported == module._EXPORTS
    assert len(block.body) == len(imported)


HEAVY = [
    "fastapi",
    "sqlalchemy",
    "temporalio",
    "uvicorn",
    "httpx",
    "aiosmtplib",
    "mcp",
    "mcp_types",
]


def test_importing_a_part_loads_no_server_library() -> None:
    parts = [part for part in EXPORTED if not part.startswith("raw.orchestrator")]
    code = (
        f"import sys\nfor part in {parts!r}:\n    __import__(part)\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "[]", out.stderr


def test_raw_run_loads_no_server_library(project: Project) -> None:
    project.add_workflow(
        "hi",
        """
        from raw import BaseWorkflow, step

        class Hi(BaseWorkflow):
            @step("hi")
            def hi(self) -> str:
                return "hi"
        """,
    )
    code = (
        "import sys\nfrom raw.cli.main import main\ntry:\n    main(['run', 'hi', '--json'])\n"
        f"except SystemExit:\n    pass\nprint([m for m in {HEAVY!r} if m in sys.modules])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_") and k != "DATABASE_URL"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=project.root, capture_output=True, text=True, env=env
    )

    *document, loaded = out.stdout.strip().splitlines()
    assert json.loads("\n".join(document))["status"] == "succeeded", out.stderr
    assert loaded == "[]"


def test_raw_help_loads_no_server_library() -> None:
    """`raw --help` imports every command's module for its parser, and none of their servers."""
    code = (
        "import sys\nfrom raw.cli.main import main\ntry:\n    main(['--help'])\n"
        f"except SystemExit:\n    pass\nprint([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    *usage, loaded = out.stdout.strip().splitlines()
    assert any(line.split()[:1] == ["serve"] for line in usage), out.stdout
    assert loaded == "[]"


# Errors cross process boundaries: a worker's or a subprocess's error is pickled to
# its parent. Each class is built from its constructor's signature; an annotation
# missing below fails the test and names itself, so a new error gets checked too.
_ARGUMENT_FOR_ANNOTATION: dict[str, Callable[[str], object]] = {
    "str": lambda name: f"the {name}",
    "str | None": lambda name: f"the {name}",
    "int": lambda name: 7,
    "int | None": lambda name: 503,
    "str | int": lambda name: 42,
    "float": lambda name: 2.5,
    "Path": lambda name: Path("/srv/hiring") / name,
    "Path | str": lambda name: Path("/srv/hiring") / name,
    "Path | None": lambda name: Path("/srv/hiring") / name,
    "Any": lambda name: f"the {name}",
    "Sequence[str]": lambda name: [f"{name}-a", f"{name}-b"],
    "list[str]": lambda name: [f"{name}-a", f"{name}-b"],
    "Mapping[str, str]": lambda name: {"database": "connection refused"},
    "Sequence[FieldError]": lambda name: [FieldError("email", "not an email address")],
    "list[tuple[Path, str]]": lambda name: [(Path("/srv/hiring/runs/r-1"), "permission denied")],
    "list[WebhookConfig]": lambda name: [
        WebhookConfig(name="cv", path="/webhooks/cv", scheme="bearer", secrets=["CV_SECRET"])
    ],
    "UpState": lambda name: UpState(
        pid=4242,
        started_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
        host="127.0.0.1",
        port=8000,
        api_url="http://127.0.0.1:8000",
    ),
}


def _all_raw_errors() -> list[type[RawError]]:
    for module in pkgutil.walk_packages(raw.__path__, "raw."):
        importlib.import_module(module.name)
    found: list[type[RawError]] = []
    pending = [RawError]
    while pending:
        for subclass in pending.pop().__subclasses__():
            if subclass not in found:
                found.append(subclass)
                pending.append(subclass)
    return found


def _build(cls: type[RawError]) -> RawError:
    args: list[object] = []
    kwargs: dict[str, object] = {}
    for parameter in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            return cls("Something went wrong: fix it and try again.")
        make = _ARGUMENT_FOR_ANNOTATION.get(str(parameter.annotation))
        if make is None:
            raise LookupError(f"no argument for {parameter.name}: {parameter.annotation}")
        if parameter.kind is parameter.KEYWORD_ONLY:
            kwargs[parameter.name] = make(parameter.name)
        else:
            args.append(make(parameter.name))
    return cls(*args, **kwargs)


def test_every_raw_error_survives_pickle_with_its_message_and_fields() -> None:
    errors = _all_raw_errors()
    failures: dict[str, str] = {}
    for cls in errors:
        name = f"{cls.__module__}.{cls.__qualname__}"
        try:
            error = _build(cls)
            copy = pickle.loads(pickle.dumps(error))
        except Exception as exc:  # reported with the others below
            failures[name] = f"{type(exc).__name__}: {exc}"
            continue
        if type(copy) is not cls or str(copy) != str(error) or vars(copy) != vars(error):
            failures[name] = f"came back as {type(copy).__name__}({str(copy)!r}, {vars(copy)})"

    assert failures == {}
    assert len(errors) > 80  # the walk reached every part, not just raw.errors
