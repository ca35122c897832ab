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
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic_core import to_jsonable_python

from raw._loggers import logger
from raw.errors import RawError
from raw.files import write_atomic
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
    def __init__(self, run_id: str, run_dir: Path) -> None:
        self.run_id = run_id
        self.run_dir: Path | None = run_dir
        self.results_dir: Path | None = run_dir / RESULTS
        self.log_path: Path | None = run_dir / LOG
        self._log = open(self.log_path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        self._lock = threading.Lock()

    def log(self, line: str) -> None:
        with self._lock:
            if not self._log.closed:
                self._log.write(line.rstrip("\n") + "\n")

    def save(self, name: str, data: Any) -> Artifact:
        assert self.results_dir is not None
        return save_into(self.results_dir, name, data)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        assert self.run_dir is not None
        # Compact: with ``indent`` Python's json encodes in pure Python, several times slower
        # (a run writes its manifest twice); the commands that show runs parse it.
        text = json.dumps(manifest, ensure_ascii=False, default=str)
        write_atomic(self.run_dir / MANIFEST, text.encode())

    def close(self) -> None:
        with self._lock:
            self._log.close()


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
            try:
                (root / run_id).mkdir()
                break
            except FileNotFoundError:  # the first run here: make the runs folder, then again
                root.mkdir(parents=True, exist_ok=True)
            except FileExistsError:  # same microsecond and same random suffix: draw again
                run_id = run_id.rsplit("-", 1)[0] + "-" + secrets.token_hex(3)
        return FileRunHandle(run_id, root / run_id)


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


def read_manifest(run_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def list_run_dirs(root: Path) -> list[Path]:
    """Run folders under ``root``, newest first."""
    if not root.is_dir():
        return []
    dirs = [p for p in root.iterdir() if p.is_dir() and (p / MANIFEST).exists()]
    return sorted(dirs, key=lambda p: p.name, reverse=True)
