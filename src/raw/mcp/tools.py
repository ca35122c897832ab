"""Every tool an agent can call: its input model (the JSON Schema), whether it changes
anything, and a handler that calls the :mod:`raw.commands` function behind the command.

A tool returns the document ``raw <command> --json`` prints, built by the same function.
Nothing here imports the MCP SDK: :mod:`raw.mcp.server` serves these tools over MCP
and :mod:`raw.mcp.build` hands them to a model.

Errors are :class:`~raw.errors.RawError` (``raw.console.exit_code_for`` names their exit
code); arguments that do not fit the schema are :class:`ToolArgumentsError` (usage, 2).
"""

from __future__ import annotations

import asyncio
import difflib
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from raw.commands import Document
from raw.console import stdout_to_stderr
from raw.errors import RawError, UsageError
from raw.mcp import docs

__all__ = [
    "DevelopmentOnlyError",
    "TOOLS",
    "Tool",
    "ToolArgumentsError",
    "ToolContext",
    "UnknownToolError",
    "Workspace",
    "WorkspaceError",
    "tool_named",
]

Progress = Callable[[float, float | None, str], None]
"""``progress(done, total, message)``: callable from any thread."""


class ToolArgumentsError(UsageError):
    """A tool's arguments do not match its schema; names each field and what is wrong."""

    def __init__(self, tool: str, problems: str) -> None:
        self.tool = tool
        self.problems = problems
        super().__init__(f"Tool '{tool}' got arguments it cannot use: {problems}.")

    @classmethod
    def from_validation(cls, tool: str, exc: ValidationError) -> ToolArgumentsError:
        return cls(
            tool,
            "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(arguments)'}: {e['msg']}"
                for e in exc.errors()
            ),
        )


class WorkspaceError(UsageError):
    """A path an agent gave points outside the folder the server works in."""

    def __init__(self, path: str, root: Path) -> None:
        self.path = path
        self.root = root
        super().__init__(
            f"'{path}' is outside the workspace {root}; give a path inside it "
            "(relative paths are read from the workspace)."
        )


@dataclass(frozen=True)
class Workspace:
    """The folder an agent may write in; every path it names resolves inside it."""

    root: Path

    def path(self, value: str | None, *, default: Path | None = None) -> Path:
        if value is None or value == "":
            return default if default is not None else self.root
        candidate = Path(value)
        resolved = (candidate if candidate.is_absolute() else self.root / candidate).resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise WorkspaceError(value, self.root)
        return resolved


@dataclass
class ToolContext:
    """What a handler knows about its call: where, and how to report progress."""

    workspace: Workspace
    progress: Progress = field(default=lambda done, total, message: None)

    def project(self, value: str | None) -> Path:
        return self.workspace.path(value)


Handler = Callable[[Any, ToolContext], Awaitable[Document]]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    model: type[BaseModel]
    handler: Handler
    changes: bool = False
    """Changes files, runs code with effects or a running system: refused by --read-only,
    audited, and needs the API token outside development."""
    command: str = ""
    """The ``raw`` command whose --json document the tool returns."""

    @property
    def input_schema(self) -> dict[str, Any]:
        schema = self.model.model_json_schema()
        schema.pop("title", None)
        return schema

    def parse(self, arguments: dict[str, Any] | None) -> BaseModel:
        try:
            return self.model.model_validate(arguments or {})
        except ValidationError as exc:
            raise ToolArgumentsError.from_validation(self.name, exc) from None

    async def call(self, arguments: dict[str, Any] | None, context: ToolContext) -> Document:
        return await self.handler(self.parse(arguments), context)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _InProject(_Input):
    project_dir: str | None = Field(
        default=None,
        description="the project folder, relative to the workspace (default: the workspace)",
    )


async def _thread(func: Callable[[], Document]) -> Document:
    """Run blocking work off the event loop; stray prints go to stderr, never the protocol."""

    def guarded() -> Document:
        with stdout_to_stderr():
            return func()

    return await asyncio.to_thread(guarded)


# --- designing ---------------------------------------------------------------------------


class PlanInput(_Input):
    state_across_days: bool = Field(
        description="does it keep state across days (wait for events, sleep until a date)?"
    )
    webhooks: bool = Field(default=False, description="does it receive webhooks?")
    webhook_names: list[str] = Field(
        default_factory=list, description="webhooks by name; the first starts the process"
    )
    schedules: list[str] = Field(
        default_factory=list,
        description="'CRON' or 'CRON:WORKFLOW', e.g. '0 8 * * *:daily-report'",
    )
    name: str = Field(default="my-system", description="the system's name, for the command")


async def _plan(args: PlanInput, ctx: ToolContext) -> Document:
    from raw.commands.design import plan_document  # Lazy: scaffolding loads PyYAML.

    return plan_document(
        state_across_days=args.state_across_days,
        webhooks=args.webhooks,
        webhook_names=args.webhook_names,
        schedules=args.schedules,
        name=args.name,
    )


class NewSystemInput(_Input):
    name: str = Field(description="a lowercase name, e.g. onboarding")
    pattern: Literal["single", "temporal", "full"] = Field(
        description="the decision tree's branch (the plan tool says which)"
    )
    directory: str | None = Field(
        default=None, description="where to write it, in the workspace (default: ./NAME)"
    )
    webhooks: list[str] = Field(
        default_factory=list,
        description="full: NAME[:SCHEME] routes; the first starts the process, others signal "
        "it. SCHEME: standard-webhooks (default), github, twilio, bearer",
    )
    schedules: list[str] = Field(
        default_factory=list, description="temporal/full: 'CRON:WORKFLOW' report schedules"
    )
    force: bool = Field(default=False, description="write into an existing, non-empty folder")


async def _new_system(args: NewSystemInput, ctx: ToolContext) -> Document:
    from raw.commands.design import new_system_document  # Lazy: scaffolding loads PyYAML.

    directory = ctx.workspace.path(args.directory, default=ctx.workspace.root / args.name)
    return await _thread(
        lambda: new_system_document(
            args.name,
            pattern=args.pattern,
            directory=directory,
            webhooks=args.webhooks,
            schedules=args.schedules,
            force=args.force,
        )
    )


class CreateWorkflowInput(_InProject):
    workflow_id: str = Field(description="a lowercase slug, e.g. analyze-cv")
    intent: str | None = Field(default=None, description="what it should do, in a sentence")
    force: bool = Field(default=False, description="overwrite an existing workflow")


async def _create_workflow(args: CreateWorkflowInput, ctx: ToolContext) -> Document:
    from raw.commands.design import create_workflow_document  # Lazy: loads PyYAML.

    done = create_workflow_document(
        args.workflow_id,
        project_dir=ctx.project(args.project_dir),
        intent=args.intent,
        force=args.force,
    )
    return Document(done.body, done.exit_code)


async def _list_workflows(args: _InProject, ctx: ToolContext) -> Document:
    from raw.commands.inspect import list_document  # Lazy: loads the workflow runtime.

    root = ctx.project(args.project_dir)
    done = await _thread(lambda: list_document(root))
    return Document(done.body, done.exit_code)


class DescribeInput(_InProject):
    workflow_id: str
    runs: int = Field(default=5, ge=0, description="how many recent runs")


async def _describe_workflow(args: DescribeInput, ctx: ToolContext) -> Document:
    from raw.commands.inspect import show_document  # Lazy: loads the workflow runtime.

    root = ctx.project(args.project_dir)
    done = await _thread(lambda: show_document(root, args.workflow_id, runs=args.runs))
    return Document(done.body, done.exit_code)


# --- running and checking ----------------------------------------------------------------


class RunInput(_InProject):
    workflow_id: str
    params: dict[str, Any] = Field(default_factory=dict, description="the workflow's Params")
    dry: bool = Field(default=False, description="use the workflow's mocks; no network")
    timeout_seconds: float | None = Field(default=None, gt=0)


async def _run_workflow(args: RunInput, ctx: ToolContext) -> Document:
    # Lazy: the workflow runtime loads only for runs.
    from raw.commands.runs import run_document

    root = ctx.project(args.project_dir)
    return await _thread(
        lambda: run_document(
            root,
            args.workflow_id,
            params=args.params or None,
            dry=args.dry,
            timeout_seconds=args.timeout_seconds,
        )
    )


class ValidateInput(_InProject):
    workflow_id: str | None = Field(default=None, description="one workflow (default: all)")


async def _validate(args: ValidateInput, ctx: ToolContext) -> Document:
    from raw.commands.checks import validate_document  # Lazy: loads the gates.

    root = ctx.project(args.project_dir)
    done = await _thread(lambda: validate_document(root, args.workflow_id))
    return Document(done.body, done.exit_code)


class GatesInput(_InProject):
    only: list[str] | None = Field(
        default=None, description="run only these gates (default: builder.gates)"
    )


async def _gates(args: GatesInput, ctx: ToolContext) -> Document:
    from raw.commands.checks import gates_document  # Lazy: loads the gates.

    root = ctx.project(args.project_dir)

    def started(index: int, spec: Any) -> None:
        ctx.progress(index, None, f"{spec.name}: running (limit {spec.timeout_seconds:g} s)")

    def finished(index: int, result: Any) -> None:
        ctx.progress(index + 1, None, f"{result.name}: {result.status.replace('_', ' ')}")

    done = await _thread(
        lambda: gates_document(root, args.only, on_start=started, on_finish=finished)
    )
    return Document(done.body, done.exit_code)


async def _config_check(args: _InProject, ctx: ToolContext) -> Document:
    from raw.commands.checks import config_check_document  # Lazy: loads the gates.

    done = config_check_document(ctx.project(args.project_dir))
    return Document(done.body, done.exit_code)


class SimulateInput(_InProject):
    scenario: str | None = Field(
        default=None, description="a scenario given inline, as YAML or JSON text"
    )
    paths: list[str] = Field(
        default_factory=list, description="scenario files, relative to the project"
    )
    record: bool = Field(default=False, description="save histories for temporal replay")
    keep: bool = Field(default=False, description="keep each run's folder under .raw/simulate/")


async def _simulate(args: SimulateInput, ctx: ToolContext) -> Document:
    # Lazy: the simulator loads Temporal and the coordinator.
    from raw.commands.simulate import inline_scenario_path, simulate_document
    from raw.project import find_project
    from raw.simulate.runner import stamp

    root = ctx.project(args.project_dir)
    project = find_project(root)
    paths = [str(Workspace(project.root).path(p)) for p in args.paths]
    if args.scenario is not None:
        paths.append(str(inline_scenario_path(project, args.scenario)))
    steps = [0]

    def on_step(outcome: Any) -> None:
        steps[0] += 1
        mark = "ok" if outcome.ok else "FAIL"
        ctx.progress(steps[0], None, f"[{stamp(outcome.at)}] {mark} {outcome.summary}")

    with stdout_to_stderr():
        done = await simulate_document(
            project.root, paths, record=args.record, keep=args.keep, on_step=on_step
        )
    return Document(done.body, done.exit_code)


class DeployRenderInput(_InProject):
    out: str | None = Field(default=None, description="where to write (default: deploy/)")


async def _deploy_render(args: DeployRenderInput, ctx: ToolContext) -> Document:
    from raw.commands.deploy import deploy_render_document  # Lazy: loads the deploy kit.

    root = ctx.project(args.project_dir)
    out = ctx.workspace.path(args.out) if args.out else None
    done = await _thread(lambda: deploy_render_document(root, out))
    return Document(done.body, done.exit_code)


class DeployCheckInput(_InProject):
    directory: str | None = Field(default=None, description="the folder (default: deploy/)")
    kubernetes_version: str | None = Field(default=None, description="X.Y.Z")


async def _deploy_check(args: DeployCheckInput, ctx: ToolContext) -> Document:
    from raw.commands.deploy import deploy_check_document  # Lazy: loads the deploy kit.

    root = ctx.project(args.project_dir)
    directory = ctx.workspace.path(args.directory) if args.directory else None
    done = await _thread(
        lambda: deploy_check_document(root, directory, kubernetes_version=args.kubernetes_version)
    )
    return Document(done.body, done.exit_code)


# --- operating a running system ----------------------------------------------------------


async def _with_client(root: Path, work: Callable[[Any], Awaitable[Document]]) -> Document:
    # Lazy: Temporal loads only for the process tools.
    from temporalio.service import RPCError

    from raw.orchestrator.connect import connect, resolve_target
    from raw.project import find_project

    project = find_project(root)
    try:
        client = await connect(project, target=resolve_target(project))
        return await work(client)
    except RPCError as exc:
        raise RawError(f"The Temporal server refused the request: {exc}") from None


class ProcessListInput(_InProject):
    query: str | None = Field(default=None, description="a Temporal visibility query")
    limit: int = Field(default=20, ge=1, le=1000)


async def _process_list(args: ProcessListInput, ctx: ToolContext) -> Document:
    from raw.commands.process import process_list_document  # Lazy: loads Temporal.

    return await _with_client(
        ctx.project(args.project_dir),
        lambda client: process_list_document(client, query=args.query, limit=args.limit),
    )


class ProcessInput(_InProject):
    process_id: str = Field(description="e.g. hiring-process/candidate-123")


async def _process_describe(args: ProcessInput, ctx: ToolContext) -> Document:
    from raw.commands.process import process_status_document  # Lazy: loads Temporal.

    async def work(client: Any) -> Document:
        done = await process_status_document(client, args.process_id)
        return Document(done.body, done.exit_code)

    return await _with_client(ctx.project(args.project_dir), work)


class SignalInput(ProcessInput):
    signal: str = Field(description="the signal's name, e.g. interview_booked")
    data: Any = Field(default=None, description="the signal's JSON payload")
    idempotency_key: str | None = None


async def _signal_process(args: SignalInput, ctx: ToolContext) -> Document:
    from raw.commands.process import process_signal_document  # Lazy: loads Temporal.

    return await _with_client(
        ctx.project(args.project_dir),
        lambda client: process_signal_document(
            client, args.process_id, args.signal, args.data, idempotency_key=args.idempotency_key
        ),
    )


class RecordsInput(_InProject):
    route: str | None = Field(default=None, description="only this route's")
    limit: int = Field(default=50, ge=1, le=1000)


async def _deliveries(args: RecordsInput, ctx: ToolContext) -> Document:
    from raw.commands.inbox import deliveries_document, in_database  # Lazy: SQLAlchemy.

    return await in_database(
        ctx.project(args.project_dir),
        lambda db: deliveries_document(db, route=args.route, limit=args.limit),
    )


async def _dead_letters(args: RecordsInput, ctx: ToolContext) -> Document:
    from raw.commands.inbox import dead_letters_document, in_database  # Lazy: SQLAlchemy.

    return await in_database(
        ctx.project(args.project_dir),
        lambda db: dead_letters_document(db, route=args.route, limit=args.limit),
    )


class RetryInput(_InProject):
    record_id: int = Field(description="the dead letter's inbox record id")


async def _retry_dead_letter(args: RetryInput, ctx: ToolContext) -> Document:
    from raw.commands.inbox import in_database, retry_dead_letter_document  # Lazy: SQLAlchemy.

    return await in_database(
        ctx.project(args.project_dir),
        lambda db: retry_dead_letter_document(db, args.record_id),
    )


class RerunInput(_InProject):
    workflow_id: str
    run_id: str | None = Field(
        default=None, description="the run to repeat (default: the latest failed one)"
    )


async def _rerun(args: RerunInput, ctx: ToolContext) -> Document:
    from raw.commands.runs import rerun_document  # Lazy: the workflow runtime.

    root = ctx.project(args.project_dir)
    return await _thread(lambda: rerun_document(root, args.workflow_id, run_id=args.run_id))


class DevelopmentOnlyError(RawError):
    """A tool that signs with the development secrets was called outside development."""

    def __init__(self, tool: str, environment: str) -> None:
        self.tool = tool
        self.environment = environment
        super().__init__(
            f"Tool '{tool}' signs with the project's development secrets and is refused "
            f"outside development (RAW_ENV is '{environment}'). Senders sign real deliveries."
        )


class SendWebhookInput(_InProject):
    route: str = Field(description="the route's path (/webhooks/cv-submission) or name")
    data: Any = Field(description="the JSON body (an object, for a form route its fields)")
    form: bool = Field(default=False, description="send the fields as a form post")
    url: str | None = Field(
        default=None, description="the coordinator's base URL (default: this project's raw up)"
    )
    query: dict[str, str] = Field(default_factory=dict, description="query parameters")
    delivery_id: str | None = None


async def _send_webhook(args: SendWebhookInput, ctx: ToolContext) -> Document:
    env = (os.environ.get("RAW_ENV") or "development").strip().lower()
    if env != "development":
        raise DevelopmentOnlyError("send_webhook", env)
    # Lazy: the signers and httpx load only for this tool.
    from raw.commands.webhook import send_webhook_document

    root = ctx.project(args.project_dir)
    return await _thread(
        lambda: send_webhook_document(
            root,
            args.route,
            json.dumps(args.data).encode(),
            form=args.form,
            url=args.url,
            query=list(args.query.items()),
            delivery_id=args.delivery_id,
            user_agent="raw mcp send_webhook",
        )
    )


# --- knowing ------------------------------------------------------------------------------


class SearchInput(_Input):
    query: str = Field(description="a few words, e.g. 'webhook secret rotation'")
    limit: int = Field(default=8, ge=1, le=50)


async def _search_docs(args: SearchInput, ctx: ToolContext) -> Document:
    return Document(docs.search(args.query, limit=args.limit))


class ReadDocInput(_Input):
    name: str = Field(description="a doc's name from search_docs, e.g. 'simulate' or 'config'")
    section: str | None = Field(default=None, description="one heading's section only")


async def _read_doc(args: ReadDocInput, ctx: ToolContext) -> Document:
    return Document(docs.read(args.name, section=args.section))


TOOLS: tuple[Tool, ...] = (
    Tool(
        "plan",
        "The decision tree: which system to build (single workflow, Temporal + workflows, "
        "or FastAPI + Temporal + workflows + deployment), each branch's reason, and the "
        "`raw new system` command that builds it.",
        PlanInput,
        _plan,
        command="raw plan",
    ),
    Tool(
        "new_system",
        "Generate a working system for a pattern: workflows, process, webhooks, tests, "
        "deployment. It passes its own tests and gates as written.",
        NewSystemInput,
        _new_system,
        changes=True,
        command="raw new system",
    ),
    Tool(
        "create_workflow",
        "Create a runnable RAW workflow (run.py with Params and steps, mocks, a test).",
        CreateWorkflowInput,
        _create_workflow,
        changes=True,
        command="raw create",
    ),
    Tool(
        "list_workflows",
        "The project's workflows, whether each loads, and its last run.",
        _InProject,
        _list_workflows,
        command="raw list",
    ),
    Tool(
        "describe_workflow",
        "A workflow's params (flags and JSON Schema), steps, mocks and recent runs.",
        DescribeInput,
        _describe_workflow,
        command="raw show",
    ),
    Tool(
        "run_workflow",
        "Run a workflow with params; dry=true uses its mocks and no network. Returns the "
        "run's record (status, output, error).",
        RunInput,
        _run_workflow,
        changes=True,
        command="raw run",
    ),
    Tool(
        "validate",
        "Import workflows in a subprocess and check them for real (one, or all).",
        ValidateInput,
        _validate,
        command="raw validate",
    ),
    Tool(
        "gates",
        "Run the quality gates (builder.gates in .raw/config.yaml, or those named). "
        "`failures` carries each failing gate's output. Reports progress per gate.",
        GatesInput,
        _gates,
        command="raw gates",
    ),
    Tool(
        "config_check",
        "Validate .raw/config.yaml strictly and show the effective orchestrator settings.",
        _InProject,
        _config_check,
        command="raw config check",
    ),
    Tool(
        "simulate",
        "Run scenarios (inline YAML/JSON, or files) against the whole system on simulated "
        "time; returns each timeline. Reports progress per step. Schema: resource "
        "raw://scenario.schema.json.",
        SimulateInput,
        _simulate,
        command="raw simulate",
    ),
    Tool(
        "deploy_render",
        "Write the Dockerfile, docker-compose.yml, k8s/ and a Helm chart from the config.",
        DeployRenderInput,
        _deploy_render,
        changes=True,
        command="raw deploy render",
    ),
    Tool(
        "deploy_check",
        "Check deployment files offline with the real schemas and against the system.",
        DeployCheckInput,
        _deploy_check,
        command="raw deploy check",
    ),
    Tool(
        "process_list",
        "List the system's Temporal processes, newest first.",
        ProcessListInput,
        _process_list,
        command="raw process list",
    ),
    Tool(
        "process_describe",
        "A process: status, step, what it waits for and until when, its raw_state.",
        ProcessInput,
        _process_describe,
        command="raw process status",
    ),
    Tool(
        "signal_process",
        "Send a signal (with an idempotency key) to a running process.",
        SignalInput,
        _signal_process,
        changes=True,
        command="raw process signal",
    ),
    Tool(
        "deliveries",
        "Recent webhook deliveries in the project's database, newest first, secrets hidden.",
        RecordsInput,
        _deliveries,
        command="raw db deliveries",
    ),
    Tool(
        "dead_letters",
        "Inbox actions the dispatcher gave up on (dead letters), newest first.",
        RecordsInput,
        _dead_letters,
        command="raw db dead-letters",
    ),
    Tool(
        "retry_dead_letter",
        "Send a dead letter back to the dispatcher, due now, its attempts reset.",
        RetryInput,
        _retry_dead_letter,
        changes=True,
        command="raw db retry",
    ),
    Tool(
        "rerun",
        "Run a workflow again with the params (and dry flag) of its latest failed run, "
        "or of the run named; the new run's record.",
        RerunInput,
        _rerun,
        changes=True,
        command="raw rerun",
    ),
    Tool(
        "send_webhook",
        "Send a correctly signed delivery (the route's scheme, the project's development "
        "secret) to the running coordinator; refused outside development.",
        SendWebhookInput,
        _send_webhook,
        changes=True,
        command="raw webhook send",
    ),
    Tool(
        "search_docs",
        "Search the project's docs and config reference (offline); returns names, headings "
        "and excerpts for read_doc.",
        SearchInput,
        _search_docs,
    ),
    Tool(
        "read_doc",
        "Read one doc (or one section of it) by name; 'config' is the config reference.",
        ReadDocInput,
        _read_doc,
    ),
)


class UnknownToolError(UsageError):
    """No tool has that name (or the server does not serve it, e.g. with --read-only)."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        super().__init__(f"There is no tool '{name}' here.{hint} Tools: {', '.join(known)}.")


def tool_named(name: str, tools: tuple[Tool, ...] = TOOLS) -> Tool:
    for tool in tools:
        if tool.name == name:
            return tool
    raise UnknownToolError(name, [t.name for t in tools])


def document_text(document: Document) -> str:
    """The document as ``raw ... --json`` prints it."""
    return json.dumps(document.body, indent=2, ensure_ascii=False, default=str)
