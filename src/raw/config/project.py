"""The schema of ``.raw/config.yaml`` and how the file is read: its problems named by key.

:class:`ProjectConfig` is the whole file; its ``system:`` section is validated on
first use by :class:`raw.config.system.SystemConfig`, so ``raw run`` never pays for
it. An unknown key is answered with the keys allowed beside it and, when one is
close, "Did you mean ...?".
"""

# No ``from __future__ import annotations`` here, unlike the rest of the kit: Pydantic
# would compile every field's annotation from its string when the models are built,
# on every ``raw run`` (~2 M instructions; benchmarks/README.md, issue 20).

import json
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic.version import VERSION as PYDANTIC_VERSION

from raw.config._base import Strict
from raw.errors import ConfigError
from raw.files import write_atomic
from raw.version import __version__

if TYPE_CHECKING:
    from raw.config.original import OriginalConfig
    from raw.config.system import SystemConfig

__all__ = [
    "BUILTIN_GATES",
    "BuilderConfig",
    "GateCommand",
    "GatesConfig",
    "ProjectConfig",
    "describe_problem",
    "load_config",
]


def _no_entries() -> dict[str, Any]:
    """An empty mapping, as a default factory: not the builtin ``dict``, whose signature
    Pydantic would parse with the tokenizer (~7 ms of start-up, see raw.workflow.result)."""
    return {}


_DEFERRED = ConfigDict(extra="forbid", defer_build=True)
"""The run path's models: built on first validation, which a run with a validated cache
skips (see :func:`load_config`)."""


class GateCommand(Strict):
    """A gate that runs a command from the project's root, within its time limit."""

    model_config = _DEFERRED

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


class GatesConfig(Strict):
    model_config = _DEFERRED
    default: list[str] = Field(
        default_factory=lambda: ["validate", "dry"],
        description="Gates `raw gates` runs, in order: built-in names or names under optional.",
    )
    optional: dict[str, GateCommand] = Field(
        default_factory=_no_entries,
        description="Command gates by name, also run by `raw gates` (after the default ones).",
    )

    @model_validator(mode="after")
    def _known_gates(self) -> "GatesConfig":
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


class BuilderConfig(Strict):
    model_config = _DEFERRED
    gates: GatesConfig = Field(
        default_factory=GatesConfig,
        description="The gates `raw gates` runs: the default ones, then the optional ones.",
    )


class ProjectConfig(Strict):
    """The schema of ``.raw/config.yaml``. Unknown keys are errors."""

    # Descriptions in Field(...), never attribute docstrings: reading those parses source
    # with ast, which CPython 3.11 can fail deep in a recursion (NOTES.md).
    version: int = Field(
        default=1,
        description="The config file format's version; 1 is the only one (the value is not "
        "checked). The original RAW runtime's string versions (``0.2.0``) are read too: see "
        "``raw config upgrade``.",
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
        default_factory=_no_entries,
        alias="system",
        description="The ``system:`` section as written; :attr:`system` is it validated.",
    )

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)
    _system: "SystemConfig | None" = PrivateAttr(default=None)
    _source: Path | None = PrivateAttr(default=None)
    _original: "OriginalConfig | None" = PrivateAttr(default=None)

    @property
    def original(self) -> "OriginalConfig | None":
        """What was mapped, when the file has the original runtime's shape (raw.config.original)."""
        return self._original

    @property
    def system(self) -> "SystemConfig":
        """The system's parts: processes, schedules, the coordinator, deployment.

        Validated on first use, not when the file is read: ``raw run`` needs none of
        it, and its schema costs ~10 ms of start-up to build. ``raw validate`` and
        ``raw config check`` validate it; an error names the key like any other.
        """
        if self._system is None:
            # Lazy: the system schema costs ~10 ms to build; raw run never needs it.
            from raw.config.system import SystemConfig

            try:
                self._system = SystemConfig.model_validate(self.system_data)
            except ValidationError as exc:
                problems = "; ".join(
                    describe_problem(err, prefix=("system",), root=SystemConfig)
                    for err in exc.errors()
                )
                where = self._source or Path(".raw/config.yaml")
                raise ConfigError(f"{where} is not a valid RAW config: {problems}") from None
        return self._system


_KIT_SCHEMA = Path(__file__)
"""This file: its size and time name the schema a cached validation was made with."""


def _schema_key() -> list[Any]:
    """The schema a validation was made with: the kit's and Pydantic's versions, this file."""
    stat = _KIT_SCHEMA.stat()
    return [__version__, PYDANTIC_VERSION, stat.st_mtime_ns, stat.st_size]


def _parse_yaml(path: Path) -> tuple[Any, dict[str, Any]]:
    """The file's YAML data, parsed once per version of the file, and its cache record.

    PyYAML costs ~15 ms to import and compile its patterns, most of a ``raw run``'s
    own time, so the parse is kept as JSON in ``.raw/cache/config.json`` keyed by
    the file's size and modification time. The cache is only an optimisation: if
    it cannot be read or written, the file is parsed. The record is returned to
    :func:`load_config`, with what it may hold besides the data: the validated config.
    """
    stat = path.stat()
    version = [stat.st_mtime_ns, stat.st_size]
    cache = _cache_path(path)
    try:
        cached = json.loads(cache.read_text(encoding="utf-8"))
        if cached.get("version") == version and cached.get("source") == str(path):
            return cached["data"], cached
    except (OSError, ValueError, AttributeError, KeyError):
        pass
    import yaml  # lazy: see above, ~15 ms that a run with a cached config skips

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    record = {"source": str(path), "version": version, "data": data}
    _write_cache(path, record)
    return data, record


def _cache_path(path: Path) -> Path:
    return path.parent / "cache" / "config.json"


def _write_cache(path: Path, payload: dict[str, Any]) -> None:
    try:
        cache = _cache_path(path)
        cache.parent.mkdir(exist_ok=True)
        write_atomic(cache, json.dumps(payload).encode())
    except (OSError, TypeError, ValueError):  # read-only project, or data JSON cannot hold
        pass


def _constructed(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """``model`` from what a validated instance dumped (``exclude_unset``), not validated again.

    The nested models are built the same way; the fields left out take their defaults,
    as validation gives them, and the fields set are the same. A default that is a model
    (``default_factory=BuilderConfig``) is built so too: calling the factory would
    validate, and build the schema this saves.
    """
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        inner = _model_in(field.annotation)
        if name not in data:
            default_is_model = field.default_factory is inner
            if inner is not None and default_is_model:
                values[name] = _constructed(inner, {})
            continue
        value = data[name]
        if inner is not None and value is not None:
            origin = typing.get_origin(field.annotation)
            if origin is dict:
                value = {key: _constructed(inner, item) for key, item in value.items()}
            elif origin is list:
                value = [_constructed(inner, item) for item in value]
            else:
                value = _constructed(inner, value)
        values[name] = value
    return model.model_construct(_fields_set=set(data), **values)


def _defaults() -> ProjectConfig:
    """``ProjectConfig()``, built without validating the defaults (they are the kit's own)."""
    config: ProjectConfig = _constructed(ProjectConfig, {})
    return config


def load_config(path: Path) -> ProjectConfig:
    """The config in ``path`` (defaults if it does not exist); :class:`ConfigError` if invalid.

    A file validated before (same file version, same schema: :func:`_schema_key`) is not
    validated again: its cache record keeps the validated config, and it is rebuilt from
    that without Pydantic building the models' schemas (~12 M instructions a ``raw run``).
    """
    if not path.exists():
        return _defaults()
    data, record = _parse_yaml(path)
    if data is None:
        return _defaults()
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of settings, not {type(data).__name__}.")
    validated = record.get("validated")
    if isinstance(validated, dict) and validated.get("schema") == _schema_key():
        try:
            config: ProjectConfig = _constructed(ProjectConfig, validated["config"])
        except (KeyError, TypeError, AttributeError):  # a damaged record: validate again
            pass
        else:
            config._source = path
            return config
    # Lazy: only a file validated again (new, changed, or the original's) needs the mapping.
    from raw.config.original import is_original, map_original

    original = None
    if is_original(data):  # the original runtime's file: read as it meant, upgraded on request
        data, original = map_original(data)
    try:
        config = ProjectConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(describe_problem(err) for err in exc.errors())
        raise ConfigError(f"{path} is not a valid RAW config: {problems}") from None
    config._source = path
    config._original = original
    if original is None:  # the next run with this file and this schema skips validation
        validated = {"schema": _schema_key(), "config": config.model_dump(exclude_unset=True)}
        _write_cache(path, {**record, "validated": validated})
    return config


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


def describe_problem(
    err: Any, *, prefix: tuple[str, ...] = (), root: type[BaseModel] | None = None
) -> str:
    where = ".".join(str(p) for p in (*prefix, *err["loc"]))
    if err["type"] == "extra_forbidden":
        import difflib  # Lazy: only an unknown key needs "Did you mean ...?" (start-up).

        allowed = _allowed_keys(tuple(err["loc"]), root)
        nearest = difflib.get_close_matches(str(err["loc"][-1]), allowed, n=1)
        guess = f". Did you mean '{nearest[0]}'?" if nearest else ""
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return f"unknown key '{where}'{guess}{hint}"
    if err["type"] == "missing":
        return f"'{where}' is required"
    message = str(err["msg"]).removeprefix("Value error, ")  # our validators' own sentences
    return f"{where}: {message}"
