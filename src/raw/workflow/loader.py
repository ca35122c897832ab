"""Import a workflow's ``run.py`` and find its workflow class.

Modules are imported once per file version (path, size, mtime) and reused, so a
coordinator or a Temporal worker that runs the same workflow many times pays
for the import once. Each ``run.py`` gets a module name of its own
(``raw_workflows.<id>``) so two workflows never collide in ``sys.modules``.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType

from raw._patterns import LazyPattern
from raw._records import FrozenRecord
from raw.errors import WorkflowLoadError
from raw.workflow.definition import WorkflowDefinition

_PEP723 = LazyPattern(r"(?m)^# /// script\s*$\n((?:^#(?:| .*)$\n)+?)^# ///\s*$")
_lock = threading.Lock()
_modules: dict[Path, tuple[tuple[int, int], ModuleType]] = {}


def module_name(workflow_id: str) -> str:
    return "raw_workflows." + workflow_id.replace("-", "_")


def script_dependencies(source: str) -> list[str]:
    """The ``dependencies`` of a PEP 723 ``# /// script`` header, or []."""
    match = _PEP723.search(source)
    if not match:
        return []
    # Lazy: only a workflow that fails to import has its PEP 723 header read.
    import tomllib

    body = "\n".join(
        line[2:] if line.startswith("# ") else "" for line in match.group(1).splitlines()
    )
    try:
        deps = tomllib.loads(body).get("dependencies", [])
    except tomllib.TOMLDecodeError:
        return []
    return [str(d) for d in deps] if isinstance(deps, list) else []


def _import(path: Path, workflow_id: str) -> ModuleType:
    name = module_name(workflow_id)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise WorkflowLoadError(workflow_id, f"{path} cannot be imported.")
    module = importlib.util.module_from_spec(spec)
    if "raw_workflows" not in sys.modules:
        sys.modules["raw_workflows"] = ModuleType("raw_workflows")
    previous = sys.modules.get(name)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except ModuleNotFoundError as exc:
        _restore(name, previous)
        raise WorkflowLoadError(workflow_id, _missing_module(path, exc)) from exc
    except SyntaxError as exc:
        _restore(name, previous)
        raise WorkflowLoadError(
            workflow_id, f"{path.name} line {exc.lineno}: syntax error: {exc.msg}."
        ) from exc
    except BaseException as exc:
        _restore(name, previous)
        if isinstance(exc, KeyboardInterrupt):
            raise
        # Lazy: start-up; only a workflow whose import fails needs traceback (~2 M instructions).
        import traceback

        frames = traceback.extract_tb(exc.__traceback__)
        where = next((f for f in reversed(frames) if f.filename == str(path)), None)
        line = f" (line {where.lineno})" if where else ""
        raise WorkflowLoadError(
            workflow_id, f"importing {path.name} raised {type(exc).__name__}{line}: {exc}"
        ) from exc
    return module


def _missing_module(path: Path, exc: ModuleNotFoundError) -> str:
    """Why ``path`` could not import ``exc.name``, and what to do about it."""
    missing = exc.name or "?"
    root = missing.split(".")[0]
    if root != missing and importlib.util.find_spec(root) is not None:
        # A module missing from a package that is installed: installing cannot help.
        where = getattr(sys.modules.get(root), "__file__", None) or root
        advice = (
            "this kit ships the original runtime's raw_runtime package with the modules its "
            "templates, docs and examples import; docs/migrating.md lists what replaces the rest"
            if root in ("raw_runtime", "raw_ai")
            else "check the module's name, or upgrade that package"
        )
        return (
            f"{path.name} imports '{missing}', which is not a module of the installed package "
            f"'{root}' ({where}): {advice}."
        )
    deps = script_dependencies(path.read_text(encoding="utf-8", errors="replace"))
    hint = f" Its PEP 723 header lists: {', '.join(deps)}." if deps else ""
    return (
        f"{path.name} imports '{missing}', which is not installed.{hint} "
        f"Install it into this environment (pip install {root})."
    )


def _restore(name: str, previous: ModuleType | None) -> None:
    if previous is None:
        sys.modules.pop(name, None)
    else:
        sys.modules[name] = previous


def workflow_classes(module: ModuleType) -> list[type[WorkflowDefinition]]:  # type: ignore[type-arg]
    """BaseWorkflow subclasses defined in ``module`` (not imported into it), leaves only."""
    defined = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, WorkflowDefinition)
        and obj.__module__ == module.__name__
    ]
    return [c for c in defined if not any(o is not c and issubclass(o, c) for o in defined)]


class LoadedWorkflow(FrozenRecord):
    """A ``run.py`` imported, and the one workflow class it defines.

    Frozen, with a dataclass's ``==``, hash and ``repr`` (:mod:`raw._records`: start-up).
    """

    __slots__ = ("cls", "path", "workflow_id")
    _fields = ("workflow_id", "path", "cls")

    workflow_id: str
    path: Path
    cls: type[WorkflowDefinition]  # type: ignore[type-arg]

    def __init__(
        self,
        workflow_id: str,
        path: Path,
        cls: type[WorkflowDefinition],  # type: ignore[type-arg]
    ) -> None:
        self._set(workflow_id=workflow_id, path=path, cls=cls)


def load_workflow(
    path: Path, workflow_id: str, *, project_root: Path | None = None
) -> LoadedWorkflow:
    """Import ``path`` (or reuse it) and return its one workflow class."""
    path = path.resolve()
    try:
        stat = path.stat()
    except OSError as exc:
        raise WorkflowLoadError(workflow_id, f"{path} cannot be read: {exc.strerror}.") from None
    version = (stat.st_mtime_ns, stat.st_size)
    with _lock:
        if project_root is not None and str(project_root) not in sys.path:
            sys.path.insert(0, str(project_root))  # so run.py can import tools/...
        cached = _modules.get(path)
        if cached is not None and cached[0] == version:
            module = cached[1]
        else:
            module = _import(path, workflow_id)
            _modules[path] = (version, module)
    classes = workflow_classes(module)
    if not classes:
        raise WorkflowLoadError(
            workflow_id,
            f"{path.name} defines no BaseWorkflow subclass. Define one: "
            "class MyWorkflow(BaseWorkflow[Params]) with at least one @step method.",
        )
    if len(classes) > 1:
        names = ", ".join(sorted(c.__name__ for c in classes))
        raise WorkflowLoadError(
            workflow_id,
            f"{path.name} defines {len(classes)} workflow classes ({names}); "
            "keep exactly one per run.py.",
        )
    cls = classes[0]
    cls.workflow_id = workflow_id
    return LoadedWorkflow(workflow_id=workflow_id, path=path, cls=cls)
