"""One tool call, whatever asked for it: the policy (read-only, the API token outside
development), the audit record, and errors shaped as the CLI shapes them.

Shared by the MCP server and ``raw build``, so both refuse, record and report alike.
"""

from __future__ import annotations

import hmac
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from raw.commands import Document
from raw.commands.exit_codes import exit_code
from raw.console import (
    CLOSED_OUTPUT,
    FAILED,
    INTERRUPTED,
    NOT_FOUND,
    OK,
    TIMED_OUT,
    UNREACHABLE,
    USAGE,
    error_document,
)
from raw.errors import RawError
from raw.mcp.audit import AuditLog
from raw.mcp.tools import TOOLS, Progress, Tool, ToolContext, Workspace, tool_named

__all__ = [
    "EXIT_CODE_NAMES",
    "CallOutcome",
    "Dispatcher",
    "ReadOnlyError",
    "TokenRequiredError",
    "api_token",
]

logger = logging.getLogger(__name__)

EXIT_CODE_NAMES = {
    OK: "OK",
    FAILED: "FAILED",
    USAGE: "USAGE",
    NOT_FOUND: "NOT_FOUND",
    UNREACHABLE: "UNREACHABLE",
    TIMED_OUT: "TIMED_OUT",
    INTERRUPTED: "INTERRUPTED",
    CLOSED_OUTPUT: "CLOSED_OUTPUT",
}
"""The README's exit codes by name, as tool errors carry them."""

PERMISSION = USAGE
STDIO_TOKEN_SETTING = "RAW_MCP_TOKEN"
"""Over stdio, where no request carries a header, the agent's MCP config gives the server
the API token in this variable; outside development changing tools need it."""


class ReadOnlyError(RawError):
    """The server runs with --read-only and the tool changes something."""

    def __init__(self, tool: str) -> None:
        self.tool = tool
        super().__init__(
            f"Tool '{tool}' changes the project or the running system, and this server runs "
            "with --read-only. Restart it without --read-only to allow it."
        )


class TokenRequiredError(RawError):
    """Outside development a changing tool needs the API token, and the caller has none."""

    def __init__(self, tool: str, setting: str, environment: str) -> None:
        self.tool = tool
        self.setting = setting
        super().__init__(
            f"Tool '{tool}' changes something, and RAW_ENV is '{environment}': it needs the "
            f"API token ({setting}). Over HTTP send it as 'Authorization: Bearer <token>'; "
            f"over stdio give the server {STDIO_TOKEN_SETTING} with the same value."
        )


def environment() -> str:
    return (os.environ.get("RAW_ENV") or "development").strip().lower()


def api_token(root: Path) -> tuple[str, str | None]:
    """The API token's setting (system.coordinator.api_token_setting) and its value, if set."""
    setting = "RAW_API_TOKEN"
    try:
        # Lazy: a workspace without a project still serves design tools.
        from raw.project import find_project

        project = find_project(root)
        setting = project.config.system.coordinator.api_token_setting
    except RawError:
        pass
    return setting, (os.environ.get(setting) or None)


@dataclass
class CallOutcome:
    """A tool's answer: the document (or the error's document) and whether it is an error."""

    tool: str
    body: dict[str, Any]
    is_error: bool
    exit_code: int

    @property
    def exit_code_name(self) -> str:
        return EXIT_CODE_NAMES.get(self.exit_code, str(self.exit_code))


@dataclass
class Dispatcher:
    """Calls tools in ``workspace`` for one caller (``who``), under the server's policy."""

    workspace: Workspace
    who: str
    read_only: bool = False
    token_presented: str | None = None
    """The token the caller presented (HTTP bearer, or RAW_MCP_TOKEN over stdio)."""
    tools: tuple[Tool, ...] = field(default=TOOLS)

    def __post_init__(self) -> None:
        self.audit = AuditLog(self.workspace.root, extra_secrets=[self.token_presented or ""])

    @property
    def served(self) -> tuple[Tool, ...]:
        return tuple(t for t in self.tools if not (self.read_only and t.changes))

    def _authorize(self, tool: Tool) -> None:
        if not tool.changes:
            return
        if self.read_only:
            raise ReadOnlyError(tool.name)
        env = environment()
        if env == "development":
            return
        setting, expected = api_token(self.workspace.root)
        given = self.token_presented or ""
        if expected is None or not hmac.compare_digest(given.encode(), expected.encode()):
            raise TokenRequiredError(tool.name, setting, env)

    async def call(
        self,
        name: str,
        arguments: dict[str, Any] | None,
        *,
        progress: Progress | None = None,
        who: str | None = None,
    ) -> CallOutcome:
        """Call ``name``; ``who`` names this call's caller when it differs (an HTTP client)."""
        caller = who or self.who
        tool: Tool | None = None
        try:
            tool = tool_named(name, self.tools)
            try:
                self._authorize(tool)
            except RawError as exc:
                self._record(caller, tool, arguments, "refused", PERMISSION, exc)
                return self._error(name, exc, PERMISSION)
            context = ToolContext(self.workspace)
            if progress is not None:
                context.progress = progress
            document = await tool.call(arguments, context)
        except RawError as exc:
            code = exit_code(exc)
            if tool is not None:
                self._record(caller, tool, arguments, "error", code, exc)
            return self._error(name, exc, code)
        except Exception as exc:  # a bug, not the caller's fault: an error, never a crash
            logger.exception("Tool '%s' failed unexpectedly.", name)
            if tool is not None:
                self._record(caller, tool, arguments, "error", FAILED, exc)
            return self._error(name, exc, FAILED)
        outcome = "ok" if document.ok else "failed"
        self._record(caller, tool, arguments, outcome, document.exit_code)
        return self._document(name, document)

    def _record(
        self,
        who: str,
        tool: Tool,
        arguments: dict[str, Any] | None,
        outcome: str,
        code: int,
        exc: BaseException | None = None,
    ) -> None:
        if not tool.changes:
            return
        self.audit.record(
            who=who,
            tool=tool.name,
            arguments=arguments,
            outcome=outcome,
            exit_code=code,
            error=f"{type(exc).__name__}: {exc}" if exc is not None else None,
        )

    @staticmethod
    def _document(name: str, document: Document) -> CallOutcome:
        return CallOutcome(name, document.body, False, document.exit_code)

    @staticmethod
    def _error(name: str, exc: BaseException, code: int) -> CallOutcome:
        body = error_document(exc, code)
        body["exit_code_name"] = EXIT_CODE_NAMES.get(code, str(code))
        return CallOutcome(name, body, True, code)
