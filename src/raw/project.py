"""A RAW project on disk: ``.raw/config.yaml``, ``.raw/workflows/<id>/run.py``, ``tools/``.

The project is found like git finds a repository: the given folder, else the
current one, then each parent, until one holds ``.raw/``.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import typing
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from pydantic.fields import FieldInfo

from raw.errors import (
    ConfigError,
    InvalidWorkflowIdError,
    ProjectError,
    WorkflowNotFoundError,
    WorkflowOutsideProjectError,
)
from raw.files import write_atomic
from raw.local_state import KIT_STATE, LocalState

if TYPE_CHECKING:
    from raw.system import SystemConfig

WORKFLOW_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
RAW_DIR = ".raw"
CONFIG_FILE = "config.yaml"


def check_workflow_id(workflow_id: str) -> str:
    """Return ``workflow_id`` if it is a lowercase slug, else raise before any file is touched."""
    if not isinstance(workflow_id, str) or not WORKFLOW_ID.match(workflow_id):
        raise InvalidWorkflowIdError(str(workflow_id))
    return workflow_id


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GateCommand(_Strict):
    """A gate that runs a command from the project's root, within its time limit."""

    command: str | None = Field(
        default=None,
        description=(
            "Shell command run from the project root; {workflow_dir} and {project_dir} are "
            "replaced by those folders. May be left out only for a built-in gate's name."
        ),
    )
    timeout_seconds: float = Field(default=60, gt=0, description="Past this, it timed out.")


BUILTIN_GATES = ("validate", "dry", "temporal-validate", "docker-validate", "system-check")
"""Gates the kit runs itself (raw.gates); any other name needs a command."""


class GatesConfig(_Strict):
    default: list[str] = Field(
        default_factory=lambda: ["validate", "dry"],
        description="Gates `raw gates` runs, in order: built-in names or names under optional.",
    )
    optional: dict[str, GateCommand] = Field(
        default_factory=dict,
        description="Command gates by name, also run by `raw gates` (after the default ones).",
    )

    @model_validator(mode="after")
    def _known_gates(self) -> GatesConfig:
        allowed = [*BUILTIN_GATES, *(n for n in self.optional if n not in BUILTIN_GATES)]
        unknown = [name for name in self.default if name not in allowed]
        if unknown:
            raise ValueError(
                f"unknown gate {', '.join(repr(u) for u in unknown)} in builder.gates.default "
                f"(allowed: {', '.join(allowed)}; define others under builder.gates.optional)"
            )
        commandless = [n for n, g in self.optional.items() if g.command is None]
        missing = [n for n in commandless if n not in BUILTIN_GATES]
        if missing:
            raise ValueError(
                f"builder.gates.optional.{missing[0]}.command is required (only the built-in "
                f"gates {', '.join(BUILTIN_GATES)} may leave it out)"
            )
        return self


class BuilderConfig(_Strict):
    gates: GatesConfig = Field(
        default_factory=GatesConfig,
        description="The gates `raw gates` runs: the default ones, then the optional ones.",
    )


class ProjectConfig(_Strict):
    """The schema of ``.raw/config.yaml``. Unknown keys are errors."""

    # Descriptions in Field(...), never attribute docstrings: reading those parses source
    # with ast, which CPython 3.11 can fail deep in a recursion (NOTES.md).
    version: int = Field(
        default=1,
        description="The config file format's version; 1 is the only one (the value is not "
        "checked).",
    )
    name: str | None = Field(
        default=None,
        description="The project's name, used where ``system.name`` is not given; default: "
        "its folder's name.",
    )
    runs_dir: str | None = Field(
        default=None,
        description="Where runs are recorded; default: each workflow's own ``runs/`` folder.",
    )
    cache_dir: str | None = Field(
        default=None, description="Where ``@cache`` keeps step results; default ``.raw/cache``."
    )
    builder: BuilderConfig = Field(
        default_factory=BuilderConfig, description="How the builder's tools check the project."
    )
    system_data: dict[str, Any] = Field(
        default_factory=dict,
        alias="system",
        description="The ``system:`` section as written; :attr:`system` is it validated.",
    )

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    _system: SystemConfig | None = PrivateAttr(default=None)
    _source: Path | None = PrivateAttr(default=None)

    @property
    def system(self) -> SystemConfig:
        """The system's parts: processes, schedules, the coordinator, deployment.

        Validated on first use, not when the file is read: ``raw run`` needs none of
        it, and its schema costs ~10 ms of start-up to build. ``raw validate`` and
        ``raw config check`` validate it; an error names the key like any other.
        """
        if self._system is None:
            # Lazy: the system schema costs ~10 ms to build; raw run never needs it.
            from raw.system import SystemConfig

            try:
                self._system = SystemConfig.model_validate(self.system_data)
            except ValidationError as exc:
                problems = "; ".join(
                    _describe_problem(err, prefix=("system",), root=SystemConfig)
                    for err in exc.errors()
                )
                where = self._source or Path(".raw/config.yaml")
                raise ConfigError(f"{where} is not a valid RAW config: {problems}") from None
        return self._system


def _parse_yaml(path: Path) -> Any:
    """The file's YAML data, parsed once per version of the file.

    PyYAML costs ~15 ms to import and compile its patterns, most of a ``raw run``'s
    own time, so the parse is kept as JSON in ``.raw/cache/config.json`` keyed by
    the file's size and modification time. The cache is only an optimisation: if
    it cannot be read or written, the file is parsed.
    """
    stat = path.stat()
    version = [stat.st_mtime_ns, stat.st_size]
    cache = path.parent / "cache" / "config.json"
    try:
        cached = json.loads(cache.read_text(encoding="utf-8"))
        if cached.get("version") == version and cached.get("source") == str(path):
            return cached["data"]
    except (OSError, ValueError, AttributeError, KeyError):
        pass
    import yaml  # lazy: see above, ~15 ms that a run with a cached config skips

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    try:
        cache.parent.mkdir(exist_ok=True)
        payload = {"source": str(path), "version": version, "data": data}
        write_atomic(cache, json.dumps(payload).encode())
    except (OSError, TypeError, ValueError):  # read-only project, or data JSON cannot hold
        pass
    return data


def load_config(path: Path) -> ProjectConfig:
    if not path.exists():
        return ProjectConfig()
    data = _parse_yaml(path)
    if data is None:
        return ProjectConfig()
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of settings, not {type(data).__name__}.")
    try:
        config = ProjectConfig.model_validate(data)
        config._source = path
        return config
    except ValidationError as exc:
        problems = "; ".join(_describe_problem(err) for err in exc.errors())
        raise ConfigError(f"{path} is not a valid RAW config: {problems}") from None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The Pydantic model an annotation holds (directly, or inside list/dict/Optional)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _field_named(model: type[BaseModel], key: Any) -> FieldInfo | None:
    """The field a config key names: by its alias (``system``) or its own name."""
    if not isinstance(key, str):
        return None
    for name, field in model.model_fields.items():
        if key in (field.alias, name):
            return field
    return None


def _allowed_keys(loc: tuple[Any, ...], root: type[BaseModel] | None = None) -> list[str]:
    """The keys allowed beside the unknown one at ``loc`` (relative to ``root``), as written."""
    model: type[BaseModel] = root or ProjectConfig
    parts = list(loc[:-1])
    while parts:
        field = _field_named(model, parts.pop(0))
        if field is None:
            return []
        inner = _model_in(field.annotation)
        if inner is None:
            return []
        origin = typing.get_origin(field.annotation)
        if origin in (list, dict) and parts:
            parts.pop(0)  # a list index or a map key (a gate's own name)
        model = inner
    return [field.alias or name for name, field in model.model_fields.items()]


def _describe_problem(
    err: Any, *, prefix: tuple[str, ...] = (), root: type[BaseModel] | None = None
) -> str:
    where = ".".join(str(p) for p in (*prefix, *err["loc"]))
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(tuple(err["loc"]), root)
        nearest = difflib.get_close_matches(str(err["loc"][-1]), allowed, n=1)
        guess = f". Did you mean '{nearest[0]}'?" if nearest else ""
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return f"unknown key '{where}'{guess}{hint}"
    if err["type"] == "missing":
        return f"'{where}' is required"
    message = str(err["msg"]).removeprefix("Value error, ")  # our validators' own sentences
    return f"{where}: {message}"


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

    def workflow_dir(self, workflow_id: str) -> Path:
        """The folder of an existing workflow; raises with the closest names otherwise."""
        check_workflow_id(workflow_id)
        folder = self.workflows_dir / workflow_id
        if not (folder / "run.py").is_file():
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
