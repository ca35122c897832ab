"""``raw build "<what the system must do>"``: a model builds the system through the tools.

The loop drives any OpenAI-compatible chat-completions endpoint (the ``RAW_LLM_*``
settings workflows use) with the same tools ``raw mcp`` serves, called through the same
:class:`~raw.mcp.dispatch.Dispatcher` (policy, audit), plus three file tools confined to
the project (``read_file``, ``write_file``, ``list_files``):

    plan -> new_system -> write/edit workflows and processes -> gates -> read the
    failures -> fix -> gates ...

It ends when a run of the default gates passes (the model's, or the one the loop runs
when the model stops calling tools), or when the step or token budget is spent. Every
step is an event (:class:`BuildEvent`); the last one carries the gate report and
every file the build added, changed or deleted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from raw.errors import LLMError, RawError, ServiceUnreachableError, UsageError
from raw.mcp.dispatch import Dispatcher, api_token
from raw.mcp.skills import SYSTEM_ARCHITECTURE, WORKFLOW_AUTHORING
from raw.mcp.tools import TOOLS, Workspace
from raw.workflow.llm.config import ClientConfig, load_settings

__all__ = ["BuildEvent", "BuildOptions", "BuildResult", "run_build"]

RESULT_CHARS = 12_000
"""How much of a tool's document the model reads back (the rest is cut, and says so)."""
MAX_FILE_BYTES = 512_000
SKIPPED_PARTS = frozenset({"runs", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"})
SKIPPED_STATE = ("gates", "mcp", "simulate", "cache", "histories", "up", "temporal")

SYSTEM_PROMPT = """\
You build a RAW system in the project folder you work in (".", the current folder),
calling the tools you are given. Rules:
- Paths are relative to the project folder; you cannot write outside it.
- If the folder has no .raw/config.yaml yet, call plan, then new_system with
  directory "." and force true (the folder is yours).
- Edit files with write_file (the whole new content); read them with read_file.
- Run gates (no "only") after each change; read each failure's output and fix it.
- You are done when every default gate passes.

{architecture}

{authoring}
"""


class ModelUnreachableError(ServiceUnreachableError):
    """The model's endpoint did not answer."""

    def __init__(self, url: str, problem: str) -> None:
        self.url = url
        self.problem = problem
        super().__init__(f"The model at {url} did not answer ({problem}). Check RAW_LLM_BASE_URL.")


class ModelReplyError(LLMError):
    """The model's endpoint answered something that is not a chat completion."""


@dataclass(frozen=True)
class BuildOptions:
    requirement: str
    max_steps: int = 30
    """Model calls the loop may make."""
    max_tokens: int = 400_000
    """Tokens (prompt + completion, as the endpoint reports them) it may spend."""


@dataclass(frozen=True)
class BuildEvent:
    kind: str
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.kind, **self.data}


@dataclass
class BuildResult:
    outcome: str
    """``passed``, or ``budget_spent`` (steps or tokens)."""
    steps: int
    tokens: int
    gates: dict[str, Any] | None
    changed: dict[str, list[str]]
    events: list[BuildEvent] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 0 if self.outcome == "passed" else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "steps": self.steps,
            "tokens": self.tokens,
            "gates": self.gates,
            "changed": self.changed,
            "exit_code": self.exit_code,
        }


# --- the files the build changed -----------------------------------------------------------


def _tracked(root: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        relative = path.relative_to(root)
        parts = relative.parts
        if SKIPPED_PARTS.intersection(parts):
            continue
        if parts[0] == ".raw" and len(parts) > 1 and parts[1] in SKIPPED_STATE:
            continue
        found[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _changes(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    return {
        "added": sorted(set(after) - set(before)),
        "modified": sorted(p for p in set(before) & set(after) if before[p] != after[p]),
        "deleted": sorted(set(before) - set(after)),
    }


# --- the file tools ---------------------------------------------------------------------------

FILE_TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a text file of the project.",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string"}},
                "required": ["path"],
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "write_file",
            "description": "Write a text file of the project (its whole content).",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
                "required": ["path", "content"],
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "list_files",
            "description": "List the project's files under a folder (default: all).",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string"}},
                "additionalProperties": False,
            },
        },
    },
]


def _file_tool(workspace: Workspace, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    if name == "list_files":
        base = workspace.path(arguments.get("path"))
        files = sorted(
            p for p in _tracked(workspace.root) if (workspace.root / p).is_relative_to(base)
        )
        return {"files": files}
    path_arg = arguments.get("path")
    if not isinstance(path_arg, str) or not path_arg:
        raise UsageError(f"{name} needs a 'path'.")
    path = workspace.path(path_arg)
    if name == "read_file":
        if not path.is_file():
            raise UsageError(f"There is no file '{path_arg}' in the project.")
        return {"path": path_arg, "content": path.read_text("utf-8", errors="replace")}
    content = arguments.get("content")
    if not isinstance(content, str):
        raise UsageError("write_file needs 'content', the file's whole text.")
    if len(content.encode()) > MAX_FILE_BYTES:
        raise UsageError(f"write_file: '{path_arg}' is larger than {MAX_FILE_BYTES} bytes.")
    path.parent.mkdir(parents=True, exist_ok=True)
    existed = path.exists()
    path.write_text(content, encoding="utf-8")
    return {"path": path_arg, "written": len(content.encode()), "created": not existed}


# --- the model ----------------------------------------------------------------------------------


def _client_config() -> ClientConfig:
    settings = load_settings()
    missing = [
        name
        for name, value in (
            ("RAW_LLM_BASE_URL", settings.base_url),
            ("RAW_LLM_MODEL", settings.model),
        )
        if not value
    ]
    if missing:
        raise UsageError(
            f"raw build needs a model: set {' and '.join(missing)} (any OpenAI-compatible "
            "endpoint, the same settings workflows use)."
        )
    return ClientConfig(
        base_url=settings.base_url,
        model=settings.model,
        api_key=settings.api_key,
        timeout_seconds=settings.timeout_seconds,
        max_retries=settings.max_retries,
        structured_output=settings.structured_output,
    )


async def _complete(
    client: httpx.AsyncClient, config: ClientConfig, body: dict[str, Any]
) -> dict[str, Any]:
    try:
        response = await client.post(
            config.url, json=body, headers=config.headers(), timeout=config.timeout_seconds
        )
    except httpx.TransportError as exc:
        raise ModelUnreachableError(config.shown_url, config.redact(str(exc))) from None
    if not response.is_success:
        raise ModelReplyError(
            f"The model at {config.shown_url} answered HTTP {response.status_code}: "
            + config.redact(response.text[:500])
        )
    try:
        reply: dict[str, Any] = response.json()
        reply["choices"][0]["message"]  # noqa: B018 - the shape, checked once here
    except (ValueError, KeyError, IndexError, TypeError):
        raise ModelReplyError(
            f"The model at {config.shown_url} answered something that is not a chat completion."
        ) from None
    return reply


def _cut(text: str) -> str:
    if len(text) <= RESULT_CHARS:
        return text
    return text[:RESULT_CHARS] + f"\n... ({len(text) - RESULT_CHARS} more characters cut)"


def _summary(name: str, body: dict[str, Any], is_error: bool) -> str:
    if is_error:
        return f"error: {body.get('error', {}).get('message', '')}"
    if name == "gates":
        failed = [f["name"] for f in body.get("failures", [])]
        return "all gates passed" if not failed else f"failed: {', '.join(failed)}"
    if name == "write_file":
        return f"wrote {body.get('path')} ({body.get('written')} bytes)"
    if name == "new_system":
        files = len(body.get("files", []))
        return f"{body.get('pattern')} system '{body.get('system')}', {files} files"
    keys = ", ".join(list(body)[:4])
    return f"ok ({keys})"


def _shown_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    shown = dict(arguments)
    if isinstance(shown.get("content"), str):
        shown["content"] = f"<{len(shown['content'])} characters>"
    return shown


async def run_build(
    options: BuildOptions,
    workspace: Workspace,
    *,
    on_event: Callable[[BuildEvent], None] | None = None,
) -> BuildResult:
    """Drive the model until the default gates pass or the budget is spent."""
    config = _client_config()
    _, token = api_token(workspace.root)
    dispatcher = Dispatcher(workspace, who="raw build", token_presented=token)
    tools = [
        {
            "type": "function",
            "function": {
                "name": t.name,
                "description": t.description,
                "parameters": t.input_schema,
            },
        }
        for t in TOOLS
    ] + FILE_TOOLS
    events: list[BuildEvent] = []

    def emit(kind: str, **data: Any) -> None:
        event = BuildEvent(kind, data)
        events.append(event)
        if on_event is not None:
            on_event(event)

    before = _tracked(workspace.root)
    messages: list[dict[str, Any]] = [
        {
            "role": "system",
            "content": SYSTEM_PROMPT.format(
                architecture=SYSTEM_ARCHITECTURE, authoring=WORKFLOW_AUTHORING
            ),
        },
        {"role": "user", "content": options.requirement},
    ]
    emit(
        "start",
        requirement=options.requirement,
        project=str(workspace.root),
        model=config.model,
        max_steps=options.max_steps,
        max_tokens=options.max_tokens,
    )
    steps = tokens = 0
    last_gates: dict[str, Any] | None = None
    outcome = "budget_spent"

    async def gates_now(step: int) -> dict[str, Any]:
        result = await dispatcher.call("gates", {})
        emit(
            "gates",
            step=step,
            by="raw build",
            ok=result.body.get("ok", False),
            failed=[f["name"] for f in result.body.get("failures", [])],
        )
        return result.body

    async with httpx.AsyncClient() as client:
        while steps < options.max_steps and tokens < options.max_tokens:
            steps += 1
            body = {"model": config.model, "messages": messages, "tools": tools}
            reply = await _complete(client, config, body)
            usage = reply.get("usage") or {}
            tokens += int(usage.get("total_tokens") or 0)
            message = reply["choices"][0]["message"]
            calls = message.get("tool_calls") or []
            emit(
                "model",
                step=steps,
                tokens=tokens,
                text=message.get("content"),
                calls=[c["function"]["name"] for c in calls],
            )
            messages.append(
                {
                    "role": "assistant",
                    "content": message.get("content"),
                    **({"tool_calls": calls} if calls else {}),
                }
            )
            passed = False
            for call in calls:
                name = call["function"]["name"]
                try:
                    arguments = json.loads(call["function"].get("arguments") or "{}")
                    if not isinstance(arguments, dict):
                        raise ValueError("not an object")
                except ValueError:
                    arguments = {}
                    answer = {
                        "error": {
                            "type": "UsageError",
                            "message": "The arguments are not a JSON object.",
                        }
                    }
                    is_error = True
                else:
                    answer, is_error = await _call(dispatcher, workspace, name, arguments)
                emit(
                    "tool",
                    step=steps,
                    tool=name,
                    arguments=_shown_arguments(arguments),
                    ok=not is_error,
                    summary=_summary(name, answer, is_error),
                )
                if name == "gates" and not is_error:
                    last_gates = answer
                    if answer.get("ok") and not arguments.get("only"):
                        passed = True
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": call.get("id", name),
                        "content": _cut(json.dumps(answer, ensure_ascii=False, default=str)),
                    }
                )
            if passed:
                outcome = "passed"
                break
            if not calls:  # the model thinks it is done: the default gates decide
                last_gates = await gates_now(steps)
                if last_gates.get("ok"):
                    outcome = "passed"
                    break
                messages.append(
                    {
                        "role": "user",
                        "content": "Not done: these gates fail. Fix them.\n"
                        + _cut(json.dumps(last_gates.get("failures"), ensure_ascii=False)),
                    }
                )
    changed = _changes(before, _tracked(workspace.root))
    result = BuildResult(outcome, steps, tokens, last_gates, changed, events)
    emit("done", **result.to_dict())
    return result


async def _call(
    dispatcher: Dispatcher, workspace: Workspace, name: str, arguments: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    if name in {t["function"]["name"] for t in FILE_TOOLS}:
        try:
            answer = _file_tool(workspace, name, arguments)
        except RawError as exc:
            answer, is_error = {"error": {"type": type(exc).__name__, "message": str(exc)}}, True
        else:
            is_error = False
        if name == "write_file":  # a change: audited as the tools' changes are
            dispatcher.audit.record(
                who=dispatcher.who,
                tool=name,
                arguments=_shown_arguments(arguments),
                outcome="error" if is_error else "ok",
            )
        return answer, is_error
    outcome = await dispatcher.call(name, arguments)
    return outcome.body, outcome.is_error
