"""The parts of a running system as child processes: started in order, logs prefixed, stopped
together.

Each part is a ``raw`` command (``raw integrations serve``, ``raw worker``, ``raw
serve``) in a process of its own, as in production, so a crash in one is seen, not
hidden. Their output is streamed line by line with the part's name in front. A
part is ready when its ready check passes (a line it prints, or an HTTP probe);
stopping sends SIGTERM to every part, newest first, then SIGKILL after a grace
period.

With ``log_format="json"`` (``raw up --log-format json``) every line is a JSON object:
a part's own JSON lines pass through as they are (they name their part), any other line
of a part is wrapped in one, and the supervisor's lines are records of ``raw.up``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from raw.errors import RawError
from raw.logs import json_line

__all__ = ["Part", "PartFailedError", "Supervisor"]

_COLOURS = ("36", "35", "33", "32", "34", "31")


class PartFailedError(RawError):
    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"The {name} did not start: {reason}.")


@dataclass
class Part:
    """One child process of the system."""

    name: str
    command: Sequence[str]
    ready_line: str | None = None
    """A text the part prints when it is ready; None: ready once started, or by ``probe``."""
    probe: Callable[[], Awaitable[bool]] | None = None
    """Polled until it answers True: the part is ready (e.g. an HTTP health check)."""
    process: asyncio.subprocess.Process | None = field(default=None, init=False)
    ready: asyncio.Event = field(default_factory=asyncio.Event, init=False)


class Supervisor:
    def __init__(
        self,
        *,
        env: Mapping[str, str],
        cwd: str,
        out: TextIO | None = None,
        color: bool = False,
        log_format: str = "text",
    ) -> None:
        self.env = dict(env)
        self.cwd = cwd
        self.out = out or sys.stderr
        self.color = color
        self.json = log_format == "json"
        self.parts: list[Part] = []
        self._pumps: list[asyncio.Task[None]] = []
        self.exited = asyncio.Event()
        """Set when any part exits on its own (the system is then stopped)."""
        self.failed: Part | None = None
        self._stopping = False

    def _prefix(self, name: str) -> str:
        width = max([len(p.name) for p in self.parts] + [len(name), 6])
        label = f"{name:<{width}} |"
        if self.color:
            colour = _COLOURS[[p.name for p in self.parts].index(name) % len(_COLOURS)]
            label = f"\033[{colour}m{label}\033[0m"
        return label

    def say(self, line: str, *, name: str = "raw up") -> None:
        if self.json:
            self.out.write(_json_line(line, name) + "\n")
        else:
            self.out.write(f"{self._prefix(name)} {line}\n")
        self.out.flush()

    async def start(self, part: Part, *, timeout_seconds: float = 60.0) -> None:
        """Start ``part`` and wait until it is ready (raises PartFailedError if it is not)."""
        self.parts.append(part)
        part.process = await asyncio.create_subprocess_exec(
            *part.command,
            cwd=self.cwd,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us; we stop the parts in order
        )
        self._pumps.append(asyncio.create_task(self._pump(part)))
        if part.ready_line is None and part.probe is None:
            part.ready.set()
        waiters = [asyncio.create_task(part.ready.wait()), asyncio.create_task(self._exit(part))]
        if part.probe is not None:
            waiters.append(asyncio.create_task(self._poll(part)))
        done, pending = await asyncio.wait(
            waiters, timeout=timeout_seconds, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        if not part.ready.is_set():
            code = part.process.returncode
            reason = (
                f"it exited with code {code} (its log is above)"
                if code is not None
                else f"it was not ready within {timeout_seconds:g} s"
            )
            raise PartFailedError(part.name, reason)

    async def _exit(self, part: Part) -> None:
        assert part.process is not None
        await part.process.wait()

    async def _poll(self, part: Part) -> None:
        assert part.probe is not None
        while not part.ready.is_set():
            with contextlib.suppress(Exception):
                if await part.probe():
                    part.ready.set()
                    return
            await asyncio.sleep(0.05)

    async def _pump(self, part: Part) -> None:
        assert part.process is not None and part.process.stdout is not None
        while True:
            raw = await part.process.stdout.readline()
            if not raw:
                break
            line = raw.decode("utf-8", "replace").rstrip()
            if part.ready_line and part.ready_line in line:
                part.ready.set()
            self.say(line, name=part.name)
        code = await part.process.wait()
        if not self._stopping:
            self.failed = self.failed or part
            self.say(f"exited with code {code}", name=part.name)
            self.exited.set()

    async def keep_alive(
        self,
        name: str,
        is_alive: Callable[[], Awaitable[bool]],
        restart: Callable[[], Awaitable[str]],
        *,
        interval_seconds: float = 1.0,
        max_backoff_seconds: float = 30.0,
    ) -> None:
        """Watch a service the parts need but do not own (the embedded engine): when it
        dies, say so and start it again, until it is back; runs until cancelled.

        ``restart`` returns a line saying where it is back; a :class:`RawError` it raises
        is said, and the start tried again after a growing wait.
        """
        while True:
            await asyncio.sleep(interval_seconds)
            if self._stopping or await is_alive():
                continue
            self.say("stopped on its own: starting it again (its data is kept)", name=name)
            wait = interval_seconds
            while not self._stopping:
                try:
                    self.say(await restart(), name=name)
                    break
                except RawError as exc:
                    self.say(f"could not be started: {exc} Trying again in {wait:g} s.", name=name)
                    await asyncio.sleep(wait)
                    wait = min(wait * 2, max_backoff_seconds)

    async def stop(self, *, grace_seconds: float = 15.0) -> None:
        """SIGTERM every part, newest first; SIGKILL whatever is left after the grace."""
        self._stopping = True
        for part in reversed(self.parts):
            process = part.process
            if process is None or process.returncode is not None:
                continue
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), grace_seconds)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        for pump in self._pumps:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(pump, 2)


def _json_line(line: str, name: str) -> str:
    """``line`` as it is when a part wrote a JSON object, else wrapped in one."""
    if line.startswith("{"):
        with contextlib.suppress(ValueError):
            if isinstance(json.loads(line), dict):
                return line
    if name == "raw up":
        return json_line(line, part="up", logger="raw.up")
    return json_line(line, part=name, logger=f"raw.up.{name}")
