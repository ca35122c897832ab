"""What process code asks of the rest of the system, read from its source with ``ast``.

Nothing is run: the system check reads, from each module the worker serves,

- the RAW workflows a process runs, with the params or CLI-style args it passes:
  ``execute_raw("analyze-cv", {"cv_text": ...})``, ``RawWorkflowCall(workflow=...)``
  and the architecture's ``execute_activity(run_raw_workflow, args=["analyze-cv",
  f"--id={x}"])``;
- the signals a process waits for: ``first_signal(self, ["booked", "withdrawn"])``,
  ``self.signal_pending("withdrawn")`` and ``@workflow.signal`` handlers;
- the activities a process calls by name: ``execute_activity("send_email", ...)``.

Names may be literals or module/class constants holding literals. Anything else
(a workflow id computed at run time) is listed as unresolved, so the check can
say what it could not prove rather than pass it silently.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "ActivityCall",
    "ProcessDef",
    "ScanResult",
    "SignalWait",
    "WorkflowCall",
    "scan_file",
    "waits_by_process",
]

KIT_ACTIVITIES = frozenset({"run_raw_workflow", "run_raw_workflow_call"})
_ACTIVITY_CALLS = frozenset({"execute_activity", "start_activity"})


@dataclass(frozen=True)
class ProcessDef:
    type_name: str
    class_name: str
    file: str
    line: int


@dataclass(frozen=True)
class WorkflowCall:
    """A RAW workflow run from process code."""

    file: str
    line: int
    owner: str | None
    """The process type it is in; None for module-level code (any process of the module)."""
    workflow: str
    via: str
    params: tuple[str, ...] | None = None
    """The param names of a literal dict (None: no params given, or none could be read)."""
    open_params: bool = False
    """The params could hold more than the names read (``**spread``, a model, a variable)."""
    args: tuple[str | None, ...] | None = None
    """CLI-style tokens; None stands for a value computed at run time."""

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class SignalWait:
    file: str
    line: int
    owner: str | None
    signal: str
    via: str


@dataclass(frozen=True)
class ActivityCall:
    file: str
    line: int
    owner: str | None
    name: str


@dataclass
class ScanResult:
    processes: list[ProcessDef] = field(default_factory=list)
    workflow_calls: list[WorkflowCall] = field(default_factory=list)
    waits: list[SignalWait] = field(default_factory=list)
    activity_calls: list[ActivityCall] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    """``file:line: what`` for each call whose target could not be read statically."""


def _name_of(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _literal_assignments(body: list[ast.stmt]) -> dict[str, ast.expr]:
    found: dict[str, ast.expr] = {}
    for stmt in body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name):
                found[target.id] = stmt.value
        elif (
            isinstance(stmt, ast.AnnAssign)
            and stmt.value is not None
            and isinstance(stmt.target, ast.Name)
        ):
            found[stmt.target.id] = stmt.value
    return found


def _process_type(node: ast.ClassDef) -> str | None:
    """The type name of a ``@workflow.defn`` class (its ``name=`` or the class name)."""
    for decorator in node.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call is not None else decorator
        if _name_of(target) != "defn":
            continue
        if isinstance(target, ast.Attribute) and _name_of(target.value) == "activity":
            continue
        for keyword in call.keywords if call is not None else []:
            value = keyword.value
            if keyword.arg == "name" and isinstance(value, ast.Constant):
                return str(value.value)
        return node.name
    return None


class _Scanner(ast.NodeVisitor):
    def __init__(self, file: str, module: ast.Module) -> None:
        self.file = file
        self.result = ScanResult()
        self.module_consts = _literal_assignments(module.body)
        self.class_consts: dict[str, ast.expr] = {}
        self.owner: str | None = None

    # -- constants

    def _strings(self, node: ast.expr | None) -> list[str] | None:
        """The strings a node holds: a literal, a list/tuple of them, or a constant naming one."""
        if node is None:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            out: list[str] = []
            for item in node.elts:
                inner = self._strings(item)
                if inner is None:
                    return None
                out += inner
            return out
        if isinstance(node, ast.Name) and node.id in self.module_consts:
            return self._strings(self.module_consts[node.id])
        if isinstance(node, ast.Attribute) and node.attr in self.class_consts:
            return self._strings(self.class_consts[node.attr])
        return None

    def _token(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):  # f"--id={x}": the flag is known, the value is not
            prefix = ""
            for part in node.values:
                if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
                    break
                prefix += part.value
            if prefix.startswith("--") and "=" in prefix:
                return prefix.split("=", 1)[0] + "=\x00"
            return None
        return None

    def _unresolved(self, node: ast.AST, what: str) -> None:
        self.result.unresolved.append(f"{self.file}:{getattr(node, 'lineno', 0)}: {what}")

    # -- structure

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        type_name = _process_type(node)
        saved = (self.owner, self.class_consts)
        if type_name is not None:
            self.owner = type_name
            self.class_consts = _literal_assignments(node.body)
            self.result.processes.append(ProcessDef(type_name, node.name, self.file, node.lineno))
            self._signal_handlers(node)
        self.generic_visit(node)
        self.owner, self.class_consts = saved

    def _signal_handlers(self, node: ast.ClassDef) -> None:
        for item in node.body:
            if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for decorator in item.decorator_list:
                call = decorator if isinstance(decorator, ast.Call) else None
                target = call.func if call is not None else decorator
                if _name_of(target) != "signal":
                    continue
                keywords = {k.arg: k.value for k in (call.keywords if call else [])}
                dynamic = keywords.get("dynamic")
                if isinstance(dynamic, ast.Constant) and dynamic.value is True:
                    continue
                names = self._strings(keywords.get("name")) or [item.name]
                for name in names:
                    self.result.waits.append(
                        SignalWait(self.file, item.lineno, self.owner, name, "@workflow.signal")
                    )

    # -- calls

    def visit_Call(self, node: ast.Call) -> None:
        name = _name_of(node.func)
        if name == "execute_raw":
            self._execute_raw(node)
        elif name == "RawWorkflowCall":
            self._raw_call(node)
        elif name in _ACTIVITY_CALLS and node.args:
            self._activity(node)
        elif name == "first_signal":
            names_node = node.args[1] if len(node.args) > 1 else _keyword(node, "names")
            self._waits(node, names_node, "first_signal")
        elif name == "signal_pending":
            self._waits(node, node.args[0] if node.args else None, "signal_pending")
        self.generic_visit(node)

    def _waits(self, node: ast.Call, names_node: ast.expr | None, via: str) -> None:
        names = self._strings(names_node)
        if names is None:
            self._unresolved(node, f"{via}(...) with signal names computed at run time")
            return
        for signal in names:
            self.result.waits.append(SignalWait(self.file, node.lineno, self.owner, signal, via))

    def _workflow_call(
        self,
        node: ast.Call,
        via: str,
        id_node: ast.expr | None,
        params_node: ast.expr | None,
        args_node: ast.expr | None,
    ) -> None:
        ids = self._strings(id_node)
        if not ids or len(ids) != 1:
            self._unresolved(node, f"{via}(...) with a workflow id computed at run time")
            return
        params: tuple[str, ...] | None = None
        open_params = False
        if isinstance(params_node, ast.Dict):
            keys = [k.value for k in params_node.keys if isinstance(k, ast.Constant)]
            open_params = len(keys) != len(params_node.keys)  # **spread or computed keys
            params = tuple(str(k) for k in keys)
        elif params_node is not None and not (
            isinstance(params_node, ast.Constant) and params_node.value is None
        ):
            open_params = True
        args: tuple[str | None, ...] | None = None
        if isinstance(args_node, ast.List | ast.Tuple):
            args = tuple(self._token(e) for e in args_node.elts)
        elif args_node is not None:
            open_params = True
        self.result.workflow_calls.append(
            WorkflowCall(self.file, node.lineno, self.owner, ids[0], via, params, open_params, args)
        )

    def _execute_raw(self, node: ast.Call) -> None:
        self._workflow_call(
            node,
            "execute_raw",
            node.args[0] if node.args else _keyword(node, "workflow_id"),
            node.args[1] if len(node.args) > 1 else _keyword(node, "params"),
            _keyword(node, "args"),
        )

    def _raw_call(self, node: ast.Call) -> None:
        self._workflow_call(
            node,
            "RawWorkflowCall",
            _keyword(node, "workflow"),
            _keyword(node, "params"),
            _keyword(node, "args"),
        )

    def _activity(self, node: ast.Call) -> None:
        target = node.args[0]
        if isinstance(target, ast.Constant) and isinstance(target.value, str):
            activity = target.value
        else:
            activity = _name_of(target) or ""
            if activity not in KIT_ACTIVITIES:
                return  # a function reference: Python itself checks that it exists
        if activity == "run_raw_workflow":
            args_node = _keyword(node, "args")
            if isinstance(args_node, ast.List | ast.Tuple) and args_node.elts:
                head, *rest = args_node.elts
                ids = self._strings(head)
                if ids and len(ids) == 1:
                    tokens = tuple(self._token(e) for e in rest)
                    self.result.workflow_calls.append(
                        WorkflowCall(
                            self.file, node.lineno, self.owner, ids[0], "run_raw_workflow",
                            args=tokens,
                        )
                    )  # fmt: skip
                    return
            if args_node is not None:
                self._unresolved(node, "run_raw_workflow with args computed at run time")
            return
        if activity in KIT_ACTIVITIES:
            return  # run_raw_workflow_call with a RawWorkflowCall: read where it is built
        self.result.activity_calls.append(
            ActivityCall(self.file, node.lineno, self.owner, activity)
        )


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


def scan_file(path: Path, display: str | None = None) -> ScanResult:
    """Read one module's source. Raises SyntaxError for a file Python cannot parse."""
    source = path.read_text(encoding="utf-8")
    module = ast.parse(source, filename=str(path))
    scanner = _Scanner(display or str(path), module)
    scanner.visit(module)
    return scanner.result


def waits_by_process(scan: ScanResult) -> dict[str, dict[str, str]]:
    """process type -> signal -> where (``file:line``) it is first waited for.

    A wait in module-level code belongs to every process of its module.
    """
    by_file: dict[str, list[str]] = {}
    for process in scan.processes:
        by_file.setdefault(process.file, []).append(process.type_name)
    waits: dict[str, dict[str, str]] = {p.type_name: {} for p in scan.processes}
    for wait in scan.waits:
        owners = [wait.owner] if wait.owner else by_file.get(wait.file, [])
        for owner in owners:
            waits.setdefault(owner, {}).setdefault(wait.signal, f"{wait.file}:{wait.line}")
    return waits
