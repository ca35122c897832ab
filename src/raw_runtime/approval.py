"""``wait_for_approval`` and ``wait_for_webhook``: in-process waits, as the original ran them.

Under ``raw run`` (or ``python run.py``) the original asked on the terminal and
waited in its own process. So do these: the question goes to stderr, the answer
is read from stdin, and the wait ends at ``timeout_seconds`` (default 300 s, the
original's) or at the run's own deadline, with :class:`ApprovalTimeoutError`.
A run whose stdin is closed (a scheduler, a webhook route) cannot be asked and
fails at once with :class:`ApprovalUnavailableError`, instead of hanging.

That wait lives and dies with the process. A wait that survives restarts and
deploys, for hours or days, is a process that waits for a signal: make the step
before the approval a RAW workflow, the approval a webhook route that sends a
signal, and the process ``await first_signal(self, ["approved", "rejected"], ...)``
or ``await wait_for(...)`` (:mod:`raw.orchestrator.workflow`; docs/migrating.md,
"Approvals and webhooks").

In a dry run neither waits: ``wait_for_approval`` answers its first option and
``wait_for_webhook`` the step's ``mocks/webhook_<step_name>.json`` (``{}`` without
one), each noted in the run's log.
"""

from __future__ import annotations

import json
import os
import select
import sys
import threading
from collections.abc import Sequence
from typing import Any

from raw import clock
from raw.errors import RawError
from raw.workflow.context import current_run
from raw_runtime._refused import refuse

__all__ = [
    "ApprovalTimeoutError",
    "ApprovalUnavailableError",
    "wait_for_approval",
    "wait_for_webhook",
]

DEFAULT_TIMEOUT_SECONDS = 300.0
"""The original's wait when none is given."""

_DURABLE = (
    "for a wait that survives restarts, run this as a process that waits for a signal "
    "(raw.orchestrator.workflow.first_signal / wait_for, sent by a webhook route; "
    "docs/migrating.md, 'Approvals and webhooks')"
)


class ApprovalTimeoutError(RawError, TimeoutError):
    def __init__(self, kind: str, step_name: str, timeout_seconds: float) -> None:
        self.kind = kind
        self.step_name = step_name
        self.timeout_seconds = timeout_seconds
        super().__init__(
            f"No {kind} for '{step_name}' arrived within {timeout_seconds:g} seconds on this "
            f"process's stdin. Answer sooner or raise timeout_seconds; {_DURABLE}."
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # TimeoutError is an OSError, whose arguments RawError's pickling cannot restore.
        return (type(self), (self.kind, self.step_name, self.timeout_seconds))


class ApprovalUnavailableError(RawError, RuntimeError):
    def __init__(self, kind: str, step_name: str) -> None:
        self.kind = kind
        self.step_name = step_name
        super().__init__(
            f"Cannot wait for the {kind} '{step_name}': this process's stdin is closed, so "
            f"no one can answer it here (the original needed a terminal or its server too). "
            f"Run it from a terminal with `raw run`, or {_DURABLE}."
        )


class _Stdin:
    """Lines from stdin, read without blocking past a deadline."""

    def __init__(self) -> None:
        self._buffer = b""
        self._lock = threading.Lock()
        self._eof = False

    def readline(self, seconds: float) -> str | None:
        """The next line; None at the deadline; raises EOFError when stdin is closed."""
        deadline = clock.monotonic() + seconds
        with self._lock:
            while True:
                if b"\n" in self._buffer:
                    line, _, self._buffer = self._buffer.partition(b"\n")
                    return line.decode(errors="replace").strip()
                if self._eof:
                    if self._buffer:
                        line, self._buffer = self._buffer, b""
                        return line.decode(errors="replace").strip()
                    raise EOFError
                run = current_run()
                if run is not None:
                    run.check()  # a cancelled or timed-out run stops waiting
                left = deadline - clock.monotonic()
                if left <= 0:
                    return None
                chunk = self._read(min(left, 0.2))
                if chunk == b"":
                    self._eof = True
                elif chunk is not None:
                    self._buffer += chunk

    def _read(self, seconds: float) -> bytes | None:
        """Bytes from stdin, b"" at its end, None when nothing came within ``seconds``."""
        stream = sys.stdin
        if stream is None:
            return b""
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            fd = -1
        if fd < 0:  # replaced by something without a file (a test harness)
            line = stream.readline()
            return line.encode() if line else b""
        ready, _, _ = select.select([fd], [], [], seconds)
        if not ready:
            return None
        return os.read(fd, 4096)


_stdin = _Stdin()


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _log(text: str) -> None:
    run = current_run()
    if run is not None:
        run.handle.log(f"{clock.now().isoformat()} INFO {text}")


def _wait_seconds(timeout_seconds: float | None) -> float:
    seconds = DEFAULT_TIMEOUT_SECONDS if timeout_seconds is None else float(timeout_seconds)
    run = current_run()
    remaining = run.remaining_seconds() if run is not None else None
    return min(seconds, remaining) if remaining is not None else seconds


def _decision(answer: str, options: Sequence[str]) -> str | None:
    text = answer.strip().lower()
    if set(options) == {"approve", "reject"}:
        if text in ("y", "yes", "approve", "approved", "ok"):
            return "approve"
        if text in ("", "n", "no", "reject", "rejected"):
            return "reject"  # the original's Confirm.ask defaulted to no
        return None
    for option in options:
        if text == option.lower():
            return option
    return None


def wait_for_approval(
    prompt: str,
    step_name: str | None = None,
    options: list[str] | None = None,
    context: dict[str, Any] | None = None,
    timeout_seconds: float | None = None,
) -> str:
    """Ask ``prompt`` on the terminal and return the answer, one of ``options``.

    ``options`` defaults to ``["approve", "reject"]`` (answer y/yes or n/no; an empty
    line rejects). Waits at most ``timeout_seconds`` (default 300), then raises
    :class:`ApprovalTimeoutError`. This wait is in-process: for one that survives
    restarts, use a process that waits for a signal (see the module's docstring).
    """
    options = list(options or ("approve", "reject"))
    name = step_name or "approval"
    run = current_run()
    if run is not None and run.dry:
        _log(f"dry run: approval '{name}' answered '{options[0]}' without asking")
        return options[0]
    _log(f"waiting for approval '{name}': {prompt} (options: {', '.join(options)})")
    _say(f"Approval required: {name}")
    _say(f"  {prompt}")
    for key, value in (context or {}).items():
        _say(f"  {key}: {value}")
    seconds = _wait_seconds(timeout_seconds)
    deadline = clock.monotonic() + seconds
    while True:
        _say(f"Decision [{'/'.join(options)}]: ")
        try:
            answer = _stdin.readline(max(deadline - clock.monotonic(), 0.0))
        except EOFError:
            raise ApprovalUnavailableError("approval", name) from None
        if answer is None:
            raise ApprovalTimeoutError("approval", name, seconds)
        decision = _decision(answer, options)
        if decision is not None:
            _log(f"approval '{name}': {decision}")
            return decision
        _say(f"  '{answer}' is not one of: {', '.join(options)}")


def wait_for_webhook(
    step_name: str, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
) -> dict[str, Any]:
    """Wait for a JSON object (one line on stdin) and return it.

    The original received it through its server (``RAW_SERVER_URL``); here the
    process's stdin delivers it, e.g. ``curl ... | raw run <id>``. Waits at most
    ``timeout_seconds``, then raises :class:`ApprovalTimeoutError`. A webhook that
    reaches a waiting workflow days later is a webhook route signalling a process
    (see the module's docstring).
    """
    run = current_run()
    if run is not None and run.dry:
        mock = run.mocks_dir / f"webhook_{step_name}.json" if run.mocks_dir else None
        payload: Any = {}
        if mock is not None and mock.is_file():
            payload = json.loads(mock.read_text(encoding="utf-8"))
        _log(f"dry run: webhook '{step_name}' answered from {mock.name if mock else 'nothing'}")
        return payload if isinstance(payload, dict) else {"payload": payload}
    _log(f"waiting for webhook '{step_name}' on stdin")
    _say(f"Waiting for webhook '{step_name}': send one JSON object on a line to stdin.")
    seconds = _wait_seconds(timeout_seconds)
    deadline = clock.monotonic() + seconds
    while True:
        try:
            line = _stdin.readline(max(deadline - clock.monotonic(), 0.0))
        except EOFError:
            raise ApprovalUnavailableError("webhook", step_name) from None
        if line is None:
            raise ApprovalTimeoutError("webhook", step_name, seconds)
        if not line:
            continue
        try:
            body = json.loads(line)
        except json.JSONDecodeError as exc:
            _say(f"  not JSON ({exc.msg}); send one JSON object on one line")
            continue
        if isinstance(body, dict):
            _log(f"webhook '{step_name}' received ({len(line)} bytes)")
            return body
        _say("  not a JSON object; send {...} on one line")


__getattr__ = refuse(__name__)
