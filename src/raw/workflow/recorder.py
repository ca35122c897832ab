"""Where runs are recorded.

Every run, from any entry point, goes through one :class:`Recorder`. The
default, :class:`FileRecorder`, writes ``<runs>/<run-id>/manifest.json`` (the
result document plus params and an environment block), ``run.log`` and the
artifacts a workflow saves under ``results/``. Later parts add an index beside
the files by wrapping it (:class:`MultiRecorder`), never by replacing it: the
runner's :func:`default_recorder` mirrors every manifest to :func:`default_mirrors`,
the sinks of the factories given to :func:`register_mirror_factory`. The runtime
knows no mirror by name: the coordinator's run index is registered from outside
(``raw/__init__.py`` registers :func:`raw.coordinator.run_mirror.run_index_mirror`).
A mirror that fails is logged, never fatal.

Run ids (:func:`raw.ids.new_run_id`) sort by time and never collide; the folder is
created exclusively.

When the record is written, for a run recorded in files only (a plain
:class:`FileRecorder`): the run folder at once (it is the run's working folder and the
proof it started); the log's lines and the ``running`` manifest only once the run has
lasted :data:`START_RECORD_AFTER_SECONDS` (:func:`defer`), then the log line by line as
before; the final manifest at the end. A run shorter than that (most runs a worker
makes) writes its log once and its manifest once. With mirrors (the coordinator's run
index, which shows running runs and finds those a killed worker left) or a caller's own
recorder, the ``running`` manifest is written as the run starts. A run folder without a manifest is
a run that started and has not written its record yet, or died before it could:
:func:`list_run_dirs` lists it and :func:`run_summary` reports it ``running``, as the
``running`` manifest of a run that died later does.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic_core import to_jsonable_python

from raw._loggers import logger
from raw.errors import RawError
from raw.files import append_file, write_atomic
from raw.workflow.result import Artifact

if TYPE_CHECKING:
    from raw.project import Project

MANIFEST = "manifest.json"
LOG = "run.log"
RESULTS = "results"
OUTPUT_LOG = "output.log"
"""The original runtime's log of ``self.log`` lines, written in the run folder too."""
STDOUT_LOG = "stdout.log"
STDERR_LOG = "stderr.log"
"""A plain script's output (raw.workflow.script)."""
RECORD_FILES = frozenset({MANIFEST, LOG, OUTPUT_LOG, STDOUT_LOG, STDERR_LOG})
"""Files of a run folder that are its record, not what the workflow wrote."""
RUN_ID = re.compile(r"^(\d{8}T\d{12})Z-[0-9a-f]+$")
"""A run folder's name (:func:`raw.ids.new_run_id`): a UTC time to the microsecond, random hex."""
START_RECORD_AFTER_SECONDS = 0.25
"""A run still going after this (up to twice this) writes its log and ``running`` manifest."""
_BUFFERED_LINES = 1000
"""A run that logs more before its record is written opens its log file at once."""


class InvalidArtifactNameError(RawError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"Cannot save '{name}': artifact names are relative paths inside the run's "
            "results folder (no '..', no absolute paths)."
        )


class RunHandle(Protocol):
    """One run being recorded."""

    run_id: str
    run_dir: Path | None
    results_dir: Path | None
    log_path: Path | None

    def log(self, line: str) -> None: ...

    def save(self, name: str, data: Any) -> Artifact: ...

    def write_manifest(self, manifest: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


def flush_log(handle: RunHandle) -> None:
    """Write the log lines ``handle`` holds and write each next line as it comes.

    A handle may keep a run's first lines in memory (:class:`FileRunHandle` does); one
    without a ``flush`` (a caller's own recorder) writes them as they come.
    """
    flush = getattr(handle, "flush", None)
    if flush is not None:
        flush()


class Recorder(Protocol):
    def start(self, workflow_id: str, run_id: str, *, workflow_dir: Path | None) -> RunHandle: ...


def _encode_artifact(data: Any) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    if isinstance(data, str):
        return data.encode()

    try:
        return json.dumps(to_jsonable_python(data), indent=2, ensure_ascii=False).encode()
    except Exception:  # not JSON-like: the original runtime saved str(data)
        return str(data).encode()


def save_into(results_dir: Path, name: str, data: Any) -> Artifact:
    """Write one artifact under ``results_dir``, refusing names that escape it."""
    rel = Path(name)
    if not name or rel.is_absolute() or ".." in rel.parts:
        raise InvalidArtifactNameError(name)
    path = results_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = _encode_artifact(data)
    write_atomic(path, payload)
    return Artifact(name=rel.as_posix(), path=str(path), size_bytes=len(payload))


class FileRunHandle:
    """A run folder's log and manifest.

    The log's lines stay in memory until :meth:`flush` (the run has lasted a while, or it
    is ending) or :meth:`close`, and are written as they come after that: a short run
    writes its log in one go. No fsync: the record must outlive the process, as it did
    with a line-buffered log; a machine's crash was never covered.
    """

    def __init__(self, run_id: str, run_dir: Path) -> None:
        self.run_id = run_id
        self.run_dir: Path | None = run_dir
        self.results_dir: Path | None = run_dir / RESULTS
        self.log_path: Path | None = run_dir / LOG
        # Written later, perhaps from another thread while a run has moved into its folder
        # (``chdir_to_run``): a relative runs folder is taken from here and now.
        self._log_file = os.path.abspath(self.log_path)
        self._lines: list[str] = []
        self._file: Any = None
        self._flushed = False
        self._closed = False
        self._lock = threading.Lock()

    def log(self, line: str) -> None:
        with self._lock:
            if self._closed:
                return
            text = line.rstrip("\n") + "\n"
            if self._file is None and self._flushed:
                self._file = open(self._log_file, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
            if self._file is not None:
                self._file.write(text)
                return
            self._lines.append(text)
            if len(self._lines) >= _BUFFERED_LINES:
                self._write_held()

    def _write_held(self) -> None:
        append_file(self._log_file, "".join(self._lines).encode())
        self._lines = []
        self._flushed = True

    def flush(self) -> None:
        """Write the lines held so far; each next line is written as it comes."""
        with self._lock:
            if not self._closed and not self._flushed:
                self._write_held()

    def save(self, name: str, data: Any) -> Artifact:
        assert self.results_dir is not None
        return save_into(self.results_dir, name, data)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        assert self.run_dir is not None
        # Compact: with ``indent`` Python's json encodes in pure Python, several times slower;
        # the commands that show runs parse it.
        text = json.dumps(manifest, ensure_ascii=False, default=str)
        write_atomic(self.run_dir / MANIFEST, text.encode())

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._file is not None:
                self._file.close()
            elif not self._flushed:
                self._write_held()


class FileRecorder:
    """Records runs as folders: ``<workflow_dir>/runs/<run-id>/`` by default.

    ``runs_dir`` (the ``RAW_RUNS_DIR`` setting or ``runs_dir`` in the project
    config) moves them to ``<runs_dir>/<workflow-id>/<run-id>/``.
    """

    def __init__(self, runs_dir: Path | None = None) -> None:
        self.runs_dir = runs_dir

    def runs_root(self, workflow_id: str, workflow_dir: Path | None) -> Path:
        if self.runs_dir is not None:
            return self.runs_dir / workflow_id
        if workflow_dir is None:
            return Path.cwd() / "runs"
        return workflow_dir / "runs"

    def start(self, workflow_id: str, run_id: str, *, workflow_dir: Path | None) -> FileRunHandle:
        root = self.runs_root(workflow_id, workflow_dir)
        while True:
            run_dir = root / run_id
            try:
                os.mkdir(run_dir)
                break
            except FileNotFoundError:  # the first run here: make the runs folder, then again
                root.mkdir(parents=True, exist_ok=True)
            except FileExistsError:  # same microsecond and same random suffix: draw again
                run_id = run_id.rsplit("-", 1)[0] + "-" + secrets.token_hex(3)
        return FileRunHandle(run_id, run_dir)


class MultiRecorder:
    """Records to a primary recorder and mirrors the manifest to others (an index)."""

    def __init__(self, primary: Recorder, *mirrors: ManifestSink) -> None:
        self.primary = primary
        self.mirrors = mirrors

    def start(self, workflow_id: str, run_id: str, *, workflow_dir: Path | None) -> RunHandle:
        return _MirroredHandle(
            self.primary.start(workflow_id, run_id, workflow_dir=workflow_dir), self.mirrors
        )


class ManifestSink(Protocol):
    def write_manifest(self, manifest: dict[str, Any]) -> None: ...


MirrorFactory = Callable[["Project | None"], "ManifestSink | None"]
"""Given a run's project (or None), a sink to mirror its manifests to, or None."""

_mirror_factories: list[MirrorFactory] = []
_log = logger(__name__)


def register_mirror_factory(factory: MirrorFactory) -> None:
    """Mirror every run recorded by the default recorder to the sink ``factory`` returns."""
    if factory not in _mirror_factories:
        _mirror_factories.append(factory)


def default_mirrors(project: Project | None) -> list[ManifestSink]:
    """The sinks every run's manifest is mirrored to beside its files."""
    sinks: list[ManifestSink] = []
    for factory in _mirror_factories:
        try:
            sink = factory(project)
        except Exception as exc:
            _log.warning("Run mirror %r could not start: %s", factory, exc)
            continue
        if sink is not None:
            sinks.append(sink)
    return sinks


def default_recorder(project: Project | None) -> Recorder:
    """The files under the project's runs folder, plus :func:`default_mirrors`."""
    files = FileRecorder(project.runs_dir if project is not None else None)
    mirrors = default_mirrors(project)
    return MultiRecorder(files, *mirrors) if mirrors else files


class _MirroredHandle:
    def __init__(self, inner: RunHandle, mirrors: Sequence[ManifestSink]) -> None:
        self._inner = inner
        self._mirrors = mirrors
        self.run_id = inner.run_id
        self.run_dir = inner.run_dir
        self.results_dir = inner.results_dir
        self.log_path = inner.log_path

    def log(self, line: str) -> None:
        self._inner.log(line)

    def save(self, name: str, data: Any) -> Artifact:
        return self._inner.save(name, data)

    def flush(self) -> None:
        flush_log(self._inner)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        self._inner.write_manifest(manifest)
        for mirror in self._mirrors:
            try:
                mirror.write_manifest(manifest)
            except Exception as exc:  # an index is a copy: the run and its files go on
                _log.warning("Run %s: mirror %r failed: %s", self.run_id, mirror, exc)

    def close(self) -> None:
        self._inner.close()


def written_files(run_dir: Path, known: Sequence[Artifact] = ()) -> list[Artifact]:
    """Files the workflow wrote into its run folder itself (relative paths), as artifacts.

    A run's working directory is its run folder (``raw run``), so ``open("out.csv", "w")``
    lands there. Files under ``results/`` are named from that folder, as
    ``self.save`` names them; others from the run folder. The record's own files and
    those already in ``known`` are left out.
    """
    if not _has_written_files(run_dir):
        return []
    seen = {Path(a.path).resolve() for a in known}
    results = run_dir / RESULTS
    found = []
    for path in sorted(run_dir.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.parent == run_dir and path.name in RECORD_FILES:
            continue
        if path.resolve() in seen:
            continue
        base = results if path.is_relative_to(results) else run_dir
        found.append(
            Artifact(
                name=path.relative_to(base).as_posix(),
                path=str(path),
                size_bytes=path.stat().st_size,
            )
        )
    return found


def _has_written_files(run_dir: Path) -> bool:
    """Whether the folder holds anything but its record (one listing; most runs hold none)."""
    try:
        with os.scandir(run_dir) as entries:
            return any(
                not (e.is_file() and (e.name.startswith(".") or e.name in RECORD_FILES))
                for e in entries
            )
    except OSError:
        return False


def read_manifest(run_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def list_run_dirs(root: Path) -> list[Path]:
    """Run folders under ``root``, newest first: those with a manifest, and those named as
    runs that have none yet (a run whose record is not written yet, or that died first)."""
    if not root.is_dir():
        return []
    dirs = [
        p
        for p in root.iterdir()
        if p.is_dir() and (RUN_ID.match(p.name) is not None or (p / MANIFEST).exists())
    ]
    return sorted(dirs, key=lambda p: p.name, reverse=True)


def run_summary(run_dir: Path) -> dict[str, Any] | None:
    """The run's manifest; for a run folder without one, what its name tells: a run that
    started then and is ``running`` (its record not written yet, or it died first)."""
    manifest = read_manifest(run_dir)
    if manifest is not None:
        return manifest
    found = RUN_ID.match(run_dir.name)
    if found is None or (run_dir / MANIFEST).exists():
        return None  # not a run folder, or a manifest that does not parse
    started = datetime.strptime(found.group(1), "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
    runs = run_dir.parent  # <workflow>/runs/<run-id>, or <runs_dir>/<workflow>/<run-id>
    return {
        "run_id": run_dir.name,
        "workflow": (runs.parent if runs.name == "runs" else runs).name,
        "status": "running",
        "timings": {"started_at": started.isoformat(), "ended_at": None, "duration_ms": None},
        "run_dir": str(run_dir),
        "log_path": str(run_dir / LOG),
    }


class Deferred:
    """Calls each function given to :meth:`schedule` once it has waited ``delay`` seconds
    (up to twice that), unless :meth:`cancel` came first. One daemon thread ticks every
    ``delay`` while anything waits, and ends when nothing has for a few ticks; it reads no
    clock: a function scheduled before the last tick has waited a whole tick.
    """

    _IDLE_TICKS = 20

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._waiting: dict[int, tuple[int, Callable[[], None]]] = {}
        self._keys = itertools.count()
        self._tick = 0
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    def schedule(self, fn: Callable[[], None]) -> int:
        key = next(self._keys)
        with self._lock:
            self._waiting[key] = (self._tick, fn)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="raw-run-records", daemon=True
                )
                self._thread.start()
        return key

    def cancel(self, key: int) -> None:
        with self._lock:
            self._waiting.pop(key, None)

    def _loop(self) -> None:
        idle = 0
        while True:
            with self._lock:
                self._wake.wait(self.delay)
                self._tick += 1
                due = [k for k, (tick, _) in self._waiting.items() if tick <= self._tick - 2]
                calls = [self._waiting.pop(k)[1] for k in due]
                idle = 0 if self._waiting or calls else idle + 1
                if idle >= self._IDLE_TICKS:
                    self._thread = None
                    return
            for fn in calls:
                try:
                    fn()
                except Exception as exc:  # a record that cannot be written: the run goes on
                    _log.warning("A run's record could not be written: %s", exc)


_start_records: Deferred | None = None
_start_records_lock = threading.Lock()


def _forget_start_records() -> None:
    """In a forked child: the parent's thread is not there; the child starts its own."""
    global _start_records, _start_records_lock
    _start_records, _start_records_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_start_records)


def defer(fn: Callable[[], None]) -> Callable[[], None]:
    """Call ``fn`` (write a run's first record) once the run has lasted
    :data:`START_RECORD_AFTER_SECONDS`; returns the function that cancels it."""
    global _start_records
    with _start_records_lock:
        if _start_records is None or _start_records.delay != START_RECORD_AFTER_SECONDS:
            _start_records = Deferred(START_RECORD_AFTER_SECONDS)
        pending = _start_records
    key = pending.schedule(fn)
    return lambda: pending.cancel(key)
