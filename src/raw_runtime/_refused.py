"""What the original runtime exported that this package does not, and what to use instead.

The original's ``raw_runtime`` exported about 150 names. The ones its templates,
docs, skills and examples use are here and work; the rest are refused by name,
never faked: importing one raises :class:`RefusedImportError` (an ``ImportError``)
whose message names the replacement. Unknown names and modules are refused the
same way, pointing at docs/migrating.md.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import NoReturn

__all__ = ["ADVICE", "RefusedImportError", "install_finder", "refuse"]

_RUNS = (
    "the runner records every run itself (manifest.json and run.log in the run's folder; "
    "`raw runs`, `raw show <id>`); to keep a record elsewhere, register a mirror with "
    "raw.workflow.recorder.register_mirror_factory"
)
_EVENTS = (
    "a run's record is its manifest (`raw show <id>`); record your own events with "
    "get_workflow_context().emit(obj) or log_event(name, ...), which write into the run's log"
)
_WAIT = (
    "a wait that survives restarts is a process that waits for a signal: "
    "raw.orchestrator.workflow.wait_for (docs/migrating.md, 'Approvals and webhooks'); "
    "in a plain run, wait_for_approval / wait_for_webhook wait in-process"
)
_MODELS = "use raw.RunResult and raw.StepResult (raw.workflow.result), what every run returns"

_GROUPS: dict[str, tuple[Sequence[str], str]] = {
    "events": (
        (
            "Event",
            "EventType",
            "BaseEvent",
            "WorkflowTriggeredEvent",
            "WorkflowStartedEvent",
            "WorkflowProvenanceEvent",
            "WorkflowCompletedEvent",
            "WorkflowFailedEvent",
            "StepStartedEvent",
            "StepCompletedEvent",
            "StepFailedEvent",
            "StepSkippedEvent",
            "StepRetryEvent",
            "ApprovalRequestedEvent",
            "ApprovalReceivedEvent",
            "ApprovalTimeoutEvent",
            "ArtifactCreatedEvent",
            "CacheHitEvent",
            "CacheMissEvent",
            "ConsoleEventHandler",
            "JournalEventHandler",
        ),
        _EVENTS,
    ),
    "bus": (
        ("EventBus", "LocalEventBus", "AsyncEventBus", "NullEventBus", "ApprovalRegistry"),
        "there is no in-process event bus: " + _EVENTS + "; " + _WAIT,
    ),
    "manifest": (
        (
            "ManifestBuilder",
            "ManifestWriter",
            "LocalManifestWriter",
            "get_manifest_writer",
            "set_manifest_writer",
            "JournalWriter",
            "LocalJournalWriter",
            "JournalReader",
            "ManifestReducer",
            "ReconciliationResult",
            "reconcile_run",
            "scan_and_reconcile",
        ),
        _RUNS,
    ),
    "provenance": (
        (
            "capture_provenance",
            "get_git_info",
            "get_workflow_hash",
            "get_tool_versions",
            "get_environment_info",
            "get_config_snapshot",
        ),
        "each run's manifest has an environment block (Python, raw version, host, pid, "
        "entry point); `raw show <id>` prints it",
    ),
    "models": (
        (
            "Artifact",
            "EnvironmentInfo",
            "LogsInfo",
            "Manifest",
            "ProvenanceInfo",
            "RunInfo",
            "RunStatus",
            "StepResult",
            "StepStatus",
            "ToolMetadata",
            "WorkflowInfo",
        ),
        _MODELS,
    ),
    "approval": (
        (
            "ApprovalHandler",
            "ConsoleApprovalHandler",
            "AutoApprovalHandler",
            "get_approval_handler",
            "set_approval_handler",
            "get_approval_registry",
            "set_approval_registry",
            "wait_for_approval_async",
        ),
        _WAIT,
    ),
    "env": (
        (
            "get_available_providers",
            "get_available_llm_providers",
            "get_preferred_llm_provider",
            "require_provider",
            "get_settings",
            "RawSettings",
        ),
        "the LLM provider is configured by RAW_LLM_BASE_URL, RAW_LLM_MODEL and "
        "RAW_LLM_API_KEY (docs/config.md); read any other key with get_secret",
    ),
    "connection": (
        ("ServerConnection", "get_connection", "set_connection", "init_connection"),
        "there is no RAW_SERVER_URL connected mode: `raw up` runs the coordinator (webhooks, "
        "API) and Temporal (processes that wait for signals); " + _WAIT,
    ),
    "storage": (
        ("StorageBackend", "FileSystemStorage", "MemoryStorage", "get_storage", "set_storage"),
        "self.save(name, data) writes into the run's results folder and records it; object "
        "storage is raw.integrations.storage",
    ),
    "orchestrator": (
        (
            "Orchestrator",
            "LocalOrchestrator",
            "HttpOrchestrator",
            "OrchestratorRunInfo",
            "OrchestratorRunStatus",
            "get_orchestrator",
            "set_orchestrator",
        ),
        "start a workflow with raw.run_workflow(...) or `raw run`; a durable process of "
        "several workflows is raw.orchestrator",
    ),
    "secrets": (
        (
            "SecretProvider",
            "EnvVarSecretProvider",
            "DotEnvSecretProvider",
            "ChainedSecretProvider",
            "CachingSecretProvider",
            "get_secret_provider",
            "set_secret_provider",
        ),
        "get_secret / require_secret read the environment, then .env; a deployment gives "
        "the worker its secrets as environment variables",
    ),
    "telemetry": (
        (
            "TelemetrySink",
            "NullSink",
            "ConsoleSink",
            "JsonFileSink",
            "MemorySink",
            "CompositeSink",
            "MetricPoint",
            "TelemetryEvent",
            "get_telemetry_sink",
            "set_telemetry_sink",
        ),
        "log_metric / log_event write into the run's log (and the `raw.telemetry` logger); "
        "to export them, attach a logging handler to that logger",
    ),
    "logger": (
        (
            "WorkflowLogger",
            "RichConsoleLogger",
            "NullLogger",
            "ListLogger",
            "get_logger",
            "set_logger",
        ),
        "self.log(message) writes the run's log (and stderr under `raw run`); elsewhere use "
        "the logging module",
    ),
    "tools": (
        ("register_builtin_tools", "discover_tools"),
        "the original's built-in tools (email, sms, crm, converse, summarize, ...) were never "
        "implemented (they raised NotImplementedError); use raw.integrations for email, "
        "telephony, storage and chat, or write your own with @tool in tools/<name>/tool.py "
        "(self.tool(name) finds it)",
    ),
}

ADVICE: dict[str, str] = {name: advice for names, advice in _GROUPS.values() for name in names}
"""Refused name -> what to use instead."""

_MODULES: dict[str, str] = {
    "events": _EVENTS,
    "bus": _GROUPS["bus"][1],
    "handlers": _EVENTS,
    "journal": _RUNS,
    "reducer": _RUNS,
    "reconcile": _RUNS,
    "manifest": _RUNS,
    "index": _RUNS,
    "resume": _RUNS,
    "provenance": _GROUPS["provenance"][1],
    "models": _MODELS,
    "connection": _GROUPS["connection"][1],
    "storage": _GROUPS["storage"][1],
    "orchestrator": _GROUPS["orchestrator"][1],
    "protocols": "its protocols have no counterpart here; docs/migrating.md lists what does",
    "drivers": "its drivers have no counterpart here; docs/migrating.md lists what does",
    "container": "its service container has no counterpart here; docs/migrating.md lists what does",
    "entrypoint": "Workflow.main() (python run.py) and `raw run <id>` are the entry points",
    "capability": "the original renamed capabilities to tools: import from raw_runtime.tools "
    "(ToolEventType, Tool, tool)",
    "capabilities": _GROUPS["tools"][1],
    "agentic_cache": "@agentic caches its answers itself (cache=True, cache_ttl=...)",
    "agentic_cost": "@agentic prices its calls itself (cost_limit=...; the step's cost_usd)",
    "agentic_parser": "@agentic parses the answer into the step's return type itself",
    "config": "the LLM provider is configured by RAW_LLM_BASE_URL, RAW_LLM_MODEL and "
    "RAW_LLM_API_KEY (docs/config.md)",
}

_GENERIC = (
    "docs/migrating.md lists what this compatibility package provides and what replaces the "
    "rest of the original runtime"
)


class RefusedImportError(ImportError):
    """A name or module of the original runtime that this package does not provide."""


def _refusal(module: str, name: str) -> RefusedImportError:
    advice = ADVICE.get(name)
    if advice is not None:
        return RefusedImportError(
            f"'{name}' from the original RAW runtime is not provided by {module}: {advice}.",
            name=module,
        )
    return RefusedImportError(
        f"{module} has no '{name}': {_GENERIC}.",
        name=module,
    )


def refuse(module: str) -> Callable[[str], NoReturn]:
    """A module ``__getattr__`` that refuses public names with advice.

    It raises ``ImportError`` (not ``AttributeError``) so that ``from module import
    name`` shows the advice instead of Python's bare "cannot import name"; private and
    dunder names get a plain ``AttributeError``, which ``hasattr`` and tools expect.
    """

    def __getattr__(name: str) -> NoReturn:
        if name.startswith("_"):
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        raise _refusal(module, name)

    return __getattr__


class _RefusedModules(importlib.abc.MetaPathFinder):
    """Refuses ``raw_runtime.<x>`` / ``raw_ai.<x>`` modules this kit does not ship, with advice.

    It sits last on ``sys.meta_path``, so it only answers for modules nothing else found.
    """

    def __init__(self, packages: Sequence[str]) -> None:
        self.packages = tuple(packages)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        package, _, rest = fullname.partition(".")
        if package not in self.packages or not rest:
            return None
        first = rest.split(".")[0]
        advice = _MODULES.get(first, _GENERIC)
        raise RefusedImportError(
            f"'{fullname}' is a module of the original RAW runtime that this compatibility "
            f"package does not provide: {advice}.",
            name=fullname,
        )

    def __repr__(self) -> str:
        return f"<refused modules of {', '.join(self.packages)}>"


def install_finder(*packages: str) -> None:
    """Refuse unknown submodules of ``packages`` with advice (once per process)."""
    for finder in sys.meta_path:
        if isinstance(finder, _RefusedModules):
            finder.packages = tuple(dict.fromkeys((*finder.packages, *packages)))
            return
    sys.meta_path.append(_RefusedModules(packages))
