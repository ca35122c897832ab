"""The terminal edge: exit codes, the error printer, JSON and human output.

Shared by ``raw`` (:mod:`raw.cli`) and ``python run.py`` (``BaseWorkflow.main()``), the
two entry points that print; nothing else in the kit prints or exits the process.

Exit codes (the README's table; later commands extend it, never change it):

    0    success
    1    the workflow failed (or a check such as ``raw validate`` found errors)
    2    invalid input or usage (also: a workflow name that fits several workflows)
    3    not found: no such workflow, run or project
    4    could not reach a service: the coordinator, Temporal, the local SMTP catcher
         or phone simulator, or a database is not running or does not answer (or
         Temporal refuses the connection's TLS or API key settings)
    124  timed out
    130  interrupted (Ctrl-C, SIGTERM)
    141  stdout was closed early (a reader such as ``head`` stopped reading)
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import sys
from collections.abc import Iterator
from typing import Any, NoReturn, TextIO

from raw import tracing
from raw.errors import (
    AmbiguousWorkflowError,
    ConfigError,
    InvalidParamsError,
    InvalidWorkflowIdError,
    ProjectError,
    RawError,
    RunTimedOutError,
    ServiceUnreachableError,
    UsageError,
    WorkflowNotFoundError,
    WorkflowOutsideProjectError,
)
from raw.redact import redact_urls

OK = 0
FAILED = 1
USAGE = 2
NOT_FOUND = 3
UNREACHABLE = 4
TIMED_OUT = 124
INTERRUPTED = 130
CLOSED_OUTPUT = 141
"""128 + SIGPIPE: what a shell reports for a writer whose reader went away."""


class NotFoundError(RawError):
    """Something the user named (a run, a file) does not exist."""


def exit_code_for(exc: BaseException) -> int:
    if isinstance(exc, ConfigError):
        return USAGE
    if isinstance(exc, WorkflowNotFoundError | ProjectError | NotFoundError):
        return NOT_FOUND
    if isinstance(
        exc,
        InvalidParamsError
        | InvalidWorkflowIdError
        | UsageError
        | WorkflowOutsideProjectError
        | AmbiguousWorkflowError,
    ):
        return USAGE
    if isinstance(exc, RunTimedOutError):
        return TIMED_OUT
    if isinstance(exc, ServiceUnreachableError):
        return UNREACHABLE
    return FAILED


def stdout_closed() -> bool:
    """Whether stdout is a pipe whose reader has gone (not some other pipe or socket)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll(), or no real stdout
        return False


def drop_closed_stdout() -> None:
    """Point stdout at /dev/null once its reader has gone (``| head``): Python's recipe.

    (The ``signal`` module's "Note on SIGPIPE".) What is left unwritten is dropped, and
    the interpreter's last flush has nowhere to fail, so no traceback follows.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def leave(code: int) -> NoReturn:
    """Flush and exit without the interpreter's teardown.

    For commands that used a Temporal client: its runtime can abort at interpreter
    exit (temporalio#300, NOTES.md). A closed stdout exits 141, as in ``raw.cli.main``.
    """
    tracing.shutdown()  # os._exit skips atexit: the last spans are exported first
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        drop_closed_stdout()
        code = CLOSED_OUTPUT
    sys.stderr.flush()
    os._exit(code)


def _structured_logs() -> Any:
    """:mod:`raw.logs` when the command logs JSON, else None.

    Only :func:`raw.logs.configure` chooses JSON, so a process that never imported
    :mod:`raw.logs` logs plain lines: a run does not load it (nor :mod:`logging`).
    """
    logs: Any = sys.modules.get("raw.logs")
    return logs if logs is not None and logs.structured() else None


def _use_color() -> bool:
    return sys.stderr.isatty() and not os.environ.get("NO_COLOR")


def style(text: str, code: str) -> str:
    return f"\033[{code}m{text}\033[0m" if _use_color() else text


def err(message: str = "") -> None:
    """A human line on stderr; a JSON log record when the command logs JSON (:mod:`raw.logs`)."""
    logs = _structured_logs()
    if logs is not None:
        logs.say(message)
        return
    print(message, file=sys.stderr)


def emit_json(document: Any, *, stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    out.write(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")
    out.flush()


@contextlib.contextmanager
def stdout_to_stderr(active: bool = True) -> Iterator[TextIO]:
    """Send stray output (a workflow's, on import or in a step) to stderr; yield the real stdout.

    With ``--json`` the command's stdout holds its one JSON document and nothing else.
    The process's file descriptor 1 is pointed at stderr too, so output that bypasses
    ``sys.stdout`` (``os.write(1, ...)``, a subprocess, C code) cannot corrupt it either.
    """
    real = sys.stdout
    if not active:
        yield real
        return
    real.flush()
    try:
        fd, err_fd = real.fileno(), sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # no descriptors (captured): Python's only
        fd = err_fd = -1
    if fd < 0:
        sys.stdout = sys.stderr
        try:
            yield real
        finally:
            sys.stdout = real
        return
    saved = os.dup(fd)
    os.dup2(err_fd, fd)
    document = open(  # noqa: SIM115 - closed below, after the descriptor is put back
        saved, "w", encoding=real.encoding or "utf-8", errors="replace", closefd=False
    )
    sys.stdout = sys.stderr
    try:
        yield document
    finally:
        document.flush()
        sys.stderr.flush()
        real.flush()  # anything written to sys.__stdout__ meanwhile goes to stderr, not after
        sys.stdout = real
        os.dup2(saved, fd)
        document.close()
        os.close(saved)


def error_document(exc: BaseException, code: int) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "error": {"type": type(exc).__name__, "message": redact_urls(str(exc))},
        "exit_code": code,
    }
    if isinstance(exc, InvalidParamsError):
        doc["error"]["fields"] = [e.to_dict() for e in exc.errors]
    return doc


def _print_error(exc: BaseException, *, as_json: bool) -> int:
    code = exit_code_for(exc)
    if as_json:
        emit_json(error_document(exc, code))
    elif (logs := _structured_logs()) is not None:
        logs.say("Error: " + redact_urls(str(exc)), level=40)  # logging.ERROR
    else:
        err(style("Error: ", "1;31") + redact_urls(str(exc)))
    return code


def fail(exc: BaseException, *, as_json: bool) -> NoReturn:
    """Print an expected error (no traceback) and exit with its code."""
    raise SystemExit(_print_error(exc, as_json=as_json))


def fail_and_leave(exc: BaseException, *, as_json: bool) -> NoReturn:
    """:func:`fail`, leaving as :func:`leave` does: for commands that used a Temporal client."""
    leave(_print_error(exc, as_json=as_json))
