"""Check workflows for real: import them and inspect what they define.

``raw validate`` runs :func:`main` in a subprocess (``python -m
raw.workflow.validate``) so a workflow that crashes, hangs or pollutes the
interpreter on import cannot take the caller with it. Text is never trusted: a
file that mentions ``BaseWorkflow`` in a comment but defines none fails.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import subprocess
import sys
import textwrap
import typing
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, distribution
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from raw.config.project import load_config
from raw.errors import ProjectError, RawError
from raw.project import Project
from raw.workflow.base import BaseWorkflow
from raw.workflow.llm_mock import RecordedLLM
from raw.workflow.loader import load_workflow, script_dependencies
from raw.workflow.script import DRY_RUN_SCRIPT, compile_problem, is_plain_script, script_environment
from raw.workflow.target import WorkflowTarget

RESERVED_FLAGS = {"json", "dry", "params", "timeout", "no_cache", "help", "project_dir"}


@dataclass
class Finding:
    message: str
    file: str | None = None
    line: int | None = None


@dataclass
class Report:
    workflow: str
    path: str
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["valid"] = self.valid
        return doc


def _line_of(obj: Any) -> int | None:
    try:
        return inspect.getsourcelines(obj)[1]
    except (OSError, TypeError):
        return None


def _declared_params(cls: type) -> Any:
    for klass in cls.__mro__:
        for base in getattr(klass, "__orig_bases__", ()):
            origin = typing.get_origin(base)
            if origin is not None and getattr(origin, "__name__", "") == "BaseWorkflow":
                args = typing.get_args(base)
                return args[0] if args else None
    return None


def _missing_dependencies(deps: list[str]) -> list[str]:
    """Names a PEP 723 header lists that are neither an installed distribution nor a module.

    Dependencies are distribution names (``PyYAML`` installs ``yaml``), so the
    installed distributions are asked first.
    """

    missing = []
    for dep in deps:
        name = re.split(r"[\s\[<>=!~;]", dep.strip(), maxsplit=1)[0]
        if not name:
            continue
        try:
            distribution(name)
            continue
        except PackageNotFoundError:
            pass
        if find_spec(name.replace("-", "_").lower()) is None:
            missing.append(name)
    return missing


def check_workflow(project_root: Path, workflow_id: str) -> Report:

    folder = project_root / ".raw" / "workflows" / workflow_id
    run_py = folder / "run.py"
    report = Report(workflow_id, str(run_py))
    err, warn = report.errors.append, report.warnings.append
    source = run_py.read_text(encoding="utf-8", errors="replace")
    missing = _missing_dependencies(script_dependencies(source))
    if missing:
        warn(
            Finding(
                f"its PEP 723 header lists {', '.join(missing)}, not installed here", str(run_py), 1
            )
        )
    if is_plain_script(run_py):
        _check_script(project_root, workflow_id, folder, source, report)
        return report
    if (folder / "dry_run.py").exists():
        warn(
            Finding(
                "dry_run.py is ignored: --dry runs run.py itself with the mocks/ folder",
                str(folder / "dry_run.py"),
            )
        )
    try:
        loaded = load_workflow(run_py, workflow_id, project_root=project_root)
    except RawError as exc:
        cause = exc.__cause__
        line = getattr(cause, "lineno", None) if isinstance(cause, SyntaxError) else None
        err(Finding(str(exc), str(run_py), line))
        return report
    cls = loaded.cls
    cls_line = _line_of(cls)
    declared = _declared_params(cls)
    if declared is not None and not (
        isinstance(declared, type) and issubclass(declared, BaseModel)
    ):
        err(
            Finding(
                f"{cls.__name__}'s Params ({declared!r}) is not a Pydantic BaseModel",
                str(run_py),
                cls_line,
            )
        )
    elif declared is None and cls.params_model.__name__ == "NoParams":
        warn(
            Finding(
                f"{cls.__name__} declares no Params: write BaseWorkflow[Params]",
                str(run_py),
                cls_line,
            )
        )
    model = cls.params_model
    specs = cls.step_specs()
    if not specs:
        err(
            Finding(f"{cls.__name__} has no @step methods: add at least one", str(run_py), cls_line)
        )
    reserved = {name for name in dir(BaseWorkflow) if not name.startswith("_")} - {"run"}
    for attr, spec in specs:
        if attr in reserved:
            err(
                Finding(
                    f"step method '{attr}' hides BaseWorkflow.{attr}: rename the method "
                    f"(the step's name can stay '{spec.name}')",
                    str(run_py),
                    _line_of(spec.func),
                )
            )
        if isinstance(spec.condition, str) and spec.condition not in cls.params_model.model_fields:
            err(
                Finding(
                    f"@conditional({spec.condition!r}) on step '{spec.name}' names no param; "
                    f"params are: {', '.join(cls.params_model.model_fields) or 'none'}",
                    str(run_py),
                    _line_of(spec.func),
                )
            )
    if (
        cls.defines_run()
        and not inspect.iscoroutinefunction(cls.run)
        and not _runs_an_event_loop(cls.run)
    ):
        for attr, spec in specs:
            if spec.is_async:
                err(
                    Finding(
                        f"step '{spec.name}' ({attr}) is async but run() is not: make run() "
                        "'async def' and await the step",
                        str(run_py),
                        _line_of(spec.func),
                    )
                )
    if not cls.defines_run():
        for attr, spec in specs:
            required = [
                p.name
                for p in list(inspect.signature(spec.func).parameters.values())[1:]
                if p.default is inspect.Parameter.empty
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            ]
            if required:
                err(
                    Finding(
                        f"step '{spec.name}' ({attr}) needs arguments "
                        f"({', '.join(required)}) but there is no run() to pass them: "
                        "define run(), or read them from self.params",
                        str(run_py),
                        _line_of(spec.func),
                    )
                )
    for name in model.model_fields:
        if name in RESERVED_FLAGS:
            warn(
                Finding(
                    f"param '{name}' clashes with raw run's own --{name.replace('_', '-')}; "
                    "pass it through --params",
                    str(run_py),
                    _line_of(model),
                )
            )
    _check_mocks(folder, model, report)
    return report


def _runs_an_event_loop(func: Any) -> bool:
    """Whether ``func`` drives its async steps itself (``asyncio.run(...)``, as the original's
    examples did), read from its syntax tree."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            if name in ("run_until_complete", "run") and (
                name == "run_until_complete"
                or (isinstance(node.func, ast.Attribute) and _names(node.func.value, "asyncio"))
            ):
                return True
    return False


def _names(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _check_script(
    project_root: Path, workflow_id: str, folder: Path, source: str, report: Report
) -> None:
    """What can be checked of a plain script: it compiles, its --help answers, its dry run."""
    run_py = folder / "run.py"
    report.warnings.append(
        Finding(
            "a plain script (no BaseWorkflow): raw run starts it with its flags and records "
            "the run; raw validate can check only that it compiles and answers --help",
            str(run_py),
        )
    )
    problem = compile_problem(run_py)
    if problem is not None:
        report.errors.append(Finding(problem, str(run_py)))
        return
    dry = folder / DRY_RUN_SCRIPT
    if dry.exists():
        dry_problem = compile_problem(dry)
        if dry_problem is not None:
            report.errors.append(Finding(dry_problem, str(dry)))
    else:
        report.warnings.append(
            Finding(
                f"no {DRY_RUN_SCRIPT}: 'raw run {workflow_id} --dry' has nothing to run", str(dry)
            )
        )
    target = WorkflowTarget(workflow_id, folder, Project(project_root))
    try:
        proc = subprocess.run(
            [sys.executable, str(run_py), "--help"],
            cwd=folder,
            env=script_environment(target),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        report.errors.append(Finding("run.py --help did not answer within 60 s", str(run_py)))
        return
    if proc.returncode == 0 and (proc.stdout or proc.stderr).strip():
        return
    if proc.returncode == 0:
        named = (
            "run.py defines no BaseWorkflow subclass (it names BaseWorkflow only in comments or "
            "strings), so it is taken for a plain script, and "
            if "BaseWorkflow" in source
            else ""
        )
        report.errors.append(
            Finding(
                f"{named}run.py --help printed nothing: a plain script should parse its flags "
                "(argparse answers --help with them)",
                str(run_py),
            )
        )
        return
    missing = re.search(r"No module named '([\w.]+)'", proc.stderr or "")
    listed = {
        re.split(r"[\s\[<>=!~;]", d.strip(), maxsplit=1)[0].lower().replace("-", "_")
        for d in script_dependencies(source)
    }
    if missing and missing.group(1).split(".")[0].lower() in listed:
        report.warnings.append(
            Finding(
                f"run.py --help needs '{missing.group(1)}', which its PEP 723 header lists: "
                "raw run installs it (or pass --no-deps to run in this environment)",
                str(run_py),
            )
        )
        return
    tail = " / ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
    report.errors.append(
        Finding(f"run.py --help exited with code {proc.returncode}: {tail}", str(run_py))
    )


def _check_mocks(folder: Path, model: type[BaseModel], report: Report) -> None:

    mocks = folder / "mocks"
    params_file = mocks / "params.json"
    if params_file.exists():
        try:
            model.model_validate(json.loads(params_file.read_text(encoding="utf-8")))
        except ValueError as exc:  # JSON errors and ValidationError both
            detail = (
                exc
                if not isinstance(exc, ValidationError)
                else "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
                )
            )
            report.errors.append(
                Finding(f"mocks/params.json does not fit Params: {detail}", str(params_file))
            )
    elif any(f.is_required() for f in model.model_fields.values()):
        report.warnings.append(
            Finding(
                "no mocks/params.json: the dry gate cannot run this workflow without params",
                str(mocks),
            )
        )
    llm_file = mocks / "llm.json"
    if llm_file.exists():
        try:
            RecordedLLM.from_file(llm_file)
        except RawError as exc:
            report.errors.append(Finding(str(exc), str(llm_file)))
    if mocks.is_dir():
        for other in sorted(mocks.glob("*.json")):
            if other.name in ("params.json", "llm.json"):
                continue
            try:
                json.loads(other.read_text(encoding="utf-8"))
            except ValueError as exc:
                report.errors.append(Finding(f"{other.name} is not valid JSON: {exc}", str(other)))


def check_config(project_root: Path) -> Finding | None:

    path = project_root / ".raw" / "config.yaml"
    try:
        load_config(path).system  # noqa: B018 - the system: section is validated on use
    except ProjectError as exc:
        return Finding(str(exc), str(path))
    return None


def validate_in_subprocess(
    project_root: Path, workflow_ids: list[str], *, timeout_seconds: float = 120
) -> list[Report]:
    """Run the checks in a fresh interpreter; a crash or hang there is reported, not raised."""
    cmd = [sys.executable, "-m", "raw.workflow.validate", str(project_root), *workflow_ids]
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout_seconds,
            cwd=project_root,
            stdin=subprocess.DEVNULL,  # an import that calls input() fails instead of waiting
        )
    except subprocess.TimeoutExpired:
        return [
            Report(
                w,
                "",
                errors=[
                    Finding(
                        f"validation did not finish within {timeout_seconds:g} s "
                        "(an import that hangs?)"
                    )
                ],
            )
            for w in workflow_ids
        ]
    try:
        docs = json.loads(proc.stdout)
        return [
            Report(
                d["workflow"],
                d["path"],
                [Finding(**f) for f in d["errors"]],
                [Finding(**f) for f in d["warnings"]],
            )
            for d in docs
        ]
    except (ValueError, KeyError, TypeError):
        if len(workflow_ids) > 1:  # one workflow killed the process (os._exit): check each alone
            return [
                report
                for w in workflow_ids
                for report in validate_in_subprocess(
                    project_root, [w], timeout_seconds=timeout_seconds
                )
            ]
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return [
            Report(
                w,
                "",
                errors=[
                    Finding(
                        "the validation process crashed (exit code "
                        f"{proc.returncode}): {' / '.join(tail)}"
                    )
                ],
            )
            for w in workflow_ids
        ]


def main(argv: list[str]) -> int:
    root = Path(argv[0])
    out, sys.stdout = sys.stdout, sys.stderr  # a workflow that prints on import cannot corrupt
    reports = []
    for workflow_id in argv[1:]:
        try:
            reports.append(check_workflow(root, workflow_id))
        except Exception as exc:  # a check must never stop the others
            reports.append(
                Report(
                    workflow_id,
                    "",
                    errors=[
                        Finding(f"validation failed unexpectedly: {type(exc).__name__}: {exc}")
                    ],
                )
            )
    out.write(json.dumps([r.to_dict() for r in reports]))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
