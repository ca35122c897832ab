"""The pieces of a replicated system on one machine: OS processes, a Temporal dev server, a front.

Used by ``hiring_replicas.py`` (and its test). Each part is a real ``raw`` command in a
process (and session) of its own, its output in a log file, started the way the rendered
manifests start it (:func:`raw.deploy.plan.build_plan`'s commands). The front is a
round-robin TCP proxy, as a Kubernetes Service or a load balancer in front of the API
replicas: each connection goes to the next API process that accepts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

RAW_BIN = Path(sys.executable).with_name("raw")


class PartError(RuntimeError):
    """A part did not start, or a one-shot command failed; the message holds its log's tail."""


@dataclass
class Part:
    """One long-running ``raw`` command (``api-1``, ``dispatcher-2``, ...)."""

    name: str
    command: list[str]
    cwd: Path
    env: dict[str, str]
    ready_line: str
    log_dir: Path
    generation: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def log(self) -> Path:
        suffix = f".{self.generation}" if self.generation else ""
        return self.log_dir / f"{self.name}{suffix}.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    async def start(self, *, timeout_seconds: float = 120.0) -> None:
        """Start the command and wait for its ready line (in its log)."""
        with self.log.open("wb") as sink:  # a file, not a pipe: a full pipe would stall it
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: a kill reaches its children too
            )
        deadline = time.monotonic() + timeout_seconds
        while self.ready_line.encode() not in self.log.read_bytes():
            if self.process.poll() is not None:
                raise PartError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                raise PartError(
                    f"{self.name} was not ready in {timeout_seconds:g} s:\n{self.tail()}"
                )
            await asyncio.sleep(0.05)

    def signal(self, signum: int) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signum)

    async def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill; wait until it is gone."""
        self.signal(signal.SIGKILL)
        await self.wait(10)

    async def wait(self, timeout_seconds: float) -> int | None:
        deadline = time.monotonic() + timeout_seconds
        while self.process is not None and self.process.poll() is None:
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.02)
        return None if self.process is None else self.process.returncode

    async def replace(self, *, timeout_seconds: float = 120.0) -> None:
        """Start the same command again (a new pod of the same Deployment)."""
        self.generation += 1
        await self.start(timeout_seconds=timeout_seconds)

    async def stop(self, *, grace_seconds: float = 30.0) -> int | None:
        """SIGTERM, then SIGKILL after the grace period; the exit code (None: killed)."""
        if not self.alive():
            return None if self.process is None else self.process.returncode
        self.signal(signal.SIGTERM)
        code = await self.wait(grace_seconds)
        if code is None:
            await self.kill()
        return code


def run_once(
    name: str, command: Sequence[str], *, cwd: Path, env: Mapping[str, str], log_dir: Path
) -> None:
    """A one-shot part (migrate, temporal-setup, schedules-sync): run it to its end."""
    log = log_dir / f"{name}.log"
    with log.open("wb") as sink:
        done = subprocess.run(
            list(command),
            cwd=cwd,
            env=dict(env),
            stdout=sink,
            stderr=subprocess.STDOUT,
            timeout=180,
        )
    if done.returncode != 0:
        raise PartError(f"{name} exited with {done.returncode}:\n{log.read_text()[-3000:]}")


def part_command(command: Sequence[str], **replace: str) -> list[str]:
    """A rendered command (``["raw", "serve", "--port", "8000"]``) for this machine: the
    venv's ``raw``, and ``--flag value`` pairs replaced (``port="8123"``)."""
    out = [str(RAW_BIN) if command[0] == "raw" else command[0], *command[1:]]
    for flag, value in replace.items():
        out[out.index(f"--{flag}") + 1] = value
    return out


class Front:
    """A round-robin TCP front on 127.0.0.1: each connection to the next live backend."""

    def __init__(self, backends: Sequence[tuple[str, int]]) -> None:
        self.backends = list(backends)
        self._turn = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self.connections: Counter[int] = Counter()
        """Connections forwarded, by backend port."""
        self.refused = 0
        """Connections a backend refused (tried on the next one)."""

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            for _ in self.backends:
                self._turn += 1
                host, port = self.backends[self._turn % len(self.backends)]
                try:
                    up_reader, up_writer = await asyncio.open_connection(host, port)
                except OSError:
                    self.refused += 1
                    continue
                self.connections[port] += 1
                await _splice(reader, writer, up_reader, up_writer)
                return
        finally:
            self._pipes.discard(task)
            writer.close()


async def _splice(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
) -> None:
    """Copy both ways until either side ends; then close both (a dead backend drops its
    client's connection, as a real load balancer does)."""

    async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while chunk := await source.read(65536):
                sink.write(chunk)
                await sink.drain()

    pipes = [
        asyncio.create_task(copy(reader, up_writer)),
        asyncio.create_task(copy(up_reader, writer)),
    ]
    try:
        await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pipe in pipes:
            pipe.cancel()
        await asyncio.gather(*pipes, return_exceptions=True)
        up_writer.close()


def free_ports(count: int) -> list[int]:
    from raw.ports import free_port

    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


async def wait_tcp(host: str, port: int, *, timeout_seconds: float, what: str) -> None:
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            if time.monotonic() > deadline:
                raise PartError(
                    f"{what} did not listen on {host}:{port} in {timeout_seconds:g} s"
                ) from None
            await asyncio.sleep(0.05)
        else:
            writer.close()
            return


@dataclass
class TemporalDevServer:
    """``temporal server start-dev`` in memory, tuned as the embedded engine is."""

    log_dir: Path
    process: subprocess.Popen[bytes] | None = None
    address: str = ""

    async def start(self) -> str:
        from raw.testing.temporal import DEV_SERVER_TUNING, find_binary

        grpc, ui, http, metrics = free_ports(4)
        command = [
            str(find_binary("temporal")), "server", "start-dev",
            "--ip", "127.0.0.1", "--port", str(grpc), "--ui-port", str(ui),
            "--http-port", str(http), "--metrics-port", str(metrics),
            "--headless", "--log-level", "warn", *DEV_SERVER_TUNING,
        ]  # fmt: skip
        with (self.log_dir / "temporal.log").open("wb") as sink:
            self.process = subprocess.Popen(
                command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
            )
        await wait_tcp("127.0.0.1", grpc, timeout_seconds=60, what="the Temporal dev server")
        self.address = f"127.0.0.1:{grpc}"
        return self.address

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


async def until(
    predicate: Callable[[], object], *, what: str, timeout_seconds: float, interval: float = 0.2
) -> None:
    """Wait for an event (``predicate`` true: a sync callable or one returning an awaitable)."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_seconds:g} s waiting for {what}")
        await asyncio.sleep(interval)
