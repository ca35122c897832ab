"""A RAW project on disk: ``.raw/config.yaml``, ``.raw/workflows/<id>/run.py``, ``tools/``.

The project is found like git finds a repository: the given folder, else the
current one, then each parent, until one holds ``.raw/``.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from raw._patterns import LazyPattern
from raw.config.project import ProjectConfig, load_config
from raw.errors import (
    AmbiguousWorkflowError,
    InvalidWorkflowIdError,
    ProjectError,
    WorkflowNotFoundError,
    WorkflowOutsideProjectError,
)
from raw.local_state import KIT_STATE, LocalState

WORKFLOW_ID = LazyPattern(r"^[a-z0-9][a-z0-9-]{0,63}$")
ORIGINAL_FOLDER = LazyPattern(r"^\d{8}-(?P<name>[a-z0-9][a-z0-9-]*?)-[0-9a-f]{6}$")
"""A folder the original runtime's ``raw create`` named: ``<yyyymmdd>-<name>-<6 hex>``."""
RAW_DIR = ".raw"
CONFIG_FILE = "config.yaml"


def original_name(folder_name: str) -> str | None:
    """``hello-world`` for the original's ``20260110-hello-world-a1b2c3``; None for others."""
    match = ORIGINAL_FOLDER.match(folder_name)
    return match.group("name") if match else None


def check_workflow_id(workflow_id: str) -> str:
    """Return ``workflow_id`` if it is a lowercase slug, else raise before any file is touched."""
    if not isinstance(workflow_id, str) or not WORKFLOW_ID.match(workflow_id):
        raise InvalidWorkflowIdError(str(workflow_id))
    return workflow_id


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    @property
    def raw_dir(self) -> Path:
        return self.root / RAW_DIR

    @property
    def workflows_dir(self) -> Path:
        return self.raw_dir / "workflows"

    @property
    def config_path(self) -> Path:
        return self.raw_dir / CONFIG_FILE

    @cached_property
    def config(self) -> ProjectConfig:
        return load_config(self.config_path)

    def _setting_path(self, env: str, configured: str | None) -> Path | None:
        value = os.environ.get(env) or configured
        if not value:
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.root / path

    @property
    def runs_dir(self) -> Path | None:
        return self._setting_path("RAW_RUNS_DIR", self.config.runs_dir)

    @property
    def cache_dir(self) -> Path:
        return self._setting_path("RAW_CACHE_DIR", self.config.cache_dir) or (
            self.raw_dir / "cache"
        )

    def local_state(self) -> list[LocalState]:
        """Every kind of local state of the project: the kit's defaults, then its config's."""
        return [*KIT_STATE, *_configured_local_state(self)]

    def workflow_ids(self) -> list[str]:
        if not self.workflows_dir.is_dir():
            return []
        return sorted(
            p.name
            for p in self.workflows_dir.iterdir()
            if (p / "run.py").is_file() and WORKFLOW_ID.match(p.name)
        )

    def resolve_workflow_id(self, name: str) -> str:
        """The folder name ``name`` stands for: itself, or a folder the original runtime named.

        A folder named ``<yyyymmdd>-<name>-<hash>`` (the original's ``raw create``) is
        found, as the original found it, by its name (``hello-world``), by a prefix of
        either (``hello``, ``20260110-hello``) or by a part of its folder name; a name
        that fits several such folders raises :class:`AmbiguousWorkflowError` listing
        them. Other folders are found by their exact name only: a prefix never runs a
        different workflow than the one typed. A name that fits nothing is returned as
        it is, for :meth:`workflow_dir` to report.
        """
        check_workflow_id(name)
        if (self.workflows_dir / name / "run.py").is_file():  # no listing: flat in project size
            return name
        ids = self.workflow_ids()
        originals = {i: n for i in ids if (n := original_name(i)) is not None}
        tiers = (
            [i for i, short in originals.items() if short == name],
            [i for i, short in originals.items() if i.startswith(name) or short.startswith(name)],
            [i for i in originals if name in i],
        )
        for matches in tiers:
            if len(matches) == 1:
                return matches[0]
            if matches:
                raise AmbiguousWorkflowError(name, sorted(matches))
        return name

    def workflow_dir(self, workflow_id: str) -> Path:
        """The folder of an existing workflow; raises with the closest names otherwise.

        ``workflow_id`` may be a name :meth:`resolve_workflow_id` resolves.
        """
        workflow_id = self.resolve_workflow_id(workflow_id)
        folder = self.workflows_dir / workflow_id
        if not (folder / "run.py").is_file():
            import difflib  # Lazy: only a name that fits no workflow needs the suggestions.

            raise WorkflowNotFoundError(
                workflow_id,
                candidates=difflib.get_close_matches(workflow_id, self.workflow_ids(), n=3),
                where=str(self.workflows_dir),
            )
        # Its code runs and its runs are recorded in that folder: both must stay inside.
        for path in (folder, folder / "run.py"):
            resolved = path.resolve()
            if not resolved.is_relative_to(self.root):
                raise WorkflowOutsideProjectError(
                    workflow_id, str(path), str(resolved), str(self.root)
                )
        return folder


def find_project(start: Path | str | None = None) -> Project:
    """The project holding ``start`` (default: ``RAW_PROJECT_DIR`` or the current folder)."""
    origin = Path(start or os.environ.get("RAW_PROJECT_DIR") or Path.cwd()).resolve()
    if not origin.exists():
        raise ProjectError(f"The project folder {origin} does not exist.")
    for folder in (origin, *origin.parents):
        if (folder / RAW_DIR).is_dir():
            return Project(folder)
    raise ProjectError(
        f"No RAW project found in {origin} or any folder above it. "
        "Run 'raw init' to create one, or pass --project-dir."
    )


def _inside(project: Project, configured: str | Path | None) -> str | None:
    """``configured`` (a path from the project's root or absolute) as a pattern, if inside."""
    if not configured:
        return None
    path = Path(configured).expanduser()
    path = path if path.is_absolute() else project.root / path
    try:
        relative = path.resolve().relative_to(project.root)
    except ValueError:
        return None
    return relative.as_posix() if relative.parts else None


def _configured_local_state(project: Project) -> list[LocalState]:
    """Local state the project's config moved elsewhere (cache, runs, storage, outbox, db)."""
    config = project.config
    found: list[tuple[str | None, str, str]] = [
        (_inside(project, config.cache_dir), "cached step results", "@cache"),
        (_inside(project, config.runs_dir), "run records", "raw run"),
    ]
    integrations = config.system.integrations
    if integrations.storage is not None and integrations.storage.adapter == "local":
        found.append((_inside(project, integrations.storage.path), "stored objects", "storage"))
    if integrations.chat is not None and integrations.chat.adapter == "local":
        found.append((_inside(project, integrations.chat.outbox), "chat notifications", "chat"))
    url = config.system.coordinator.database_url or ""
    scheme, sep, rest = url.partition(":///")
    if sep and scheme.split("+")[0] == "sqlite" and rest and not rest.startswith(":memory:"):
        database = _inside(project, rest.split("?", 1)[0])
        if database:
            found.append((database, "the system's SQLite database", "raw up"))
            found.append((database + "-*", "a SQLite journal (-wal, -shm)", "raw up"))
    known = {entry.pattern for entry in KIT_STATE}
    return [
        LocalState(pattern, holds, by)
        for pattern, holds, by in found
        if pattern is not None and pattern not in known
    ]
