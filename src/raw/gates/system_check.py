"""The ``system-check`` gate: proof that a system's parts agree with each other.

- Every RAW workflow a process or a schedule calls exists and accepts what it is
  given: process code is read with ``ast`` (:mod:`raw.gates.code_scan`): literal
  params are held against the workflow's ``Params`` model; CLI-style args, and
  every schedule's args, go through the parser ``raw run`` uses.
- Every activity a process calls by name is one the worker serves.
- Every signal a process waits for has a webhook route that sends it, and every
  signal a route sends is one its process waits for.
- Every webhook action points at a process type or RAW workflow that exists,
  with its business key or params among the body's fields; every ``module:name``
  the routes name imports.
- Every component the system uses is in its deployment files
  (:mod:`raw.gates.components`).

Each finding says where, what is wrong, and what to do about it.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from raw.errors import RawError, UsageError
from raw.gates.components import deployment_findings
from raw.orchestrator.code_scan import ScanResult, WorkflowCall, scan_file, waits_by_process
from raw.workflow.arguments import parse_flags, read_params, split_args
from raw.workflow.loader import load_workflow

if TYPE_CHECKING:
    from raw.config.coordinator import WebhookConfig
    from raw.config.orchestrator import ScheduleConfig
    from raw.project import Project

__all__ = ["SystemFinding", "SystemReport", "check_system"]


@dataclass(frozen=True)
class SystemFinding:
    check: str
    where: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem} Fix: {self.fix}"


@dataclass
class SystemReport:
    findings: list[SystemFinding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, check: str, where: str, problem: str, fix: str) -> None:
        self.findings.append(SystemFinding(check, where, problem, fix))

    def lines(self) -> list[str]:
        out = [f"✗ [{f.check}] {f}" for f in self.findings]
        out += [f"note: {n}" for n in self.notes]
        counts = ", ".join(f"{n} {what}" for what, n in self.checked.items())
        verdict = "the parts agree" if self.ok else f"{len(self.findings)} finding(s)"
        return [*out, f"{verdict} (checked {counts})."]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "findings": [asdict(f) for f in self.findings],
            "notes": self.notes,
            "checked": self.checked,
        }


def _closest(name: str, choices: Iterable[str]) -> str:
    options = sorted(choices)
    close = difflib.get_close_matches(name, options, n=1)
    if close:
        return f"Did you mean '{close[0]}'?"
    return f"Known: {', '.join(options)}." if options else "There are none yet."


def _fields(model: type[BaseModel]) -> tuple[set[str], set[str]]:
    """(accepted names, required names) of a Params or body model."""
    accepted: set[str] = set()
    required: set[str] = set()
    for name, info in model.model_fields.items():
        keys = {name, info.alias} if info.alias else {name}
        accepted |= keys
        if info.is_required():
            required.add(info.alias or name)
    return accepted, required


def _body_fields(model: type[BaseModel]) -> set[str]:
    return _fields(model)[0] | set(model.model_computed_fields)


class _Checker:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.system = project.config.system
        self.report = SystemReport()
        self.params: dict[str, type[BaseModel] | None] = {}
        for workflow_id in project.workflow_ids():
            self.params[workflow_id] = self._load_params(workflow_id)
        self.process_types: set[str] | None = None
        self.activities: set[str] = set()
        self.scan = ScanResult()

    # -- loading

    def _load_params(self, workflow_id: str) -> type[BaseModel] | None:

        path = self.project.workflows_dir / workflow_id / "run.py"
        try:
            loaded = load_workflow(path, workflow_id, project_root=self.project.root)
        except RawError as exc:
            self.report.notes.append(
                f"workflow '{workflow_id}' could not be loaded, so calls to it were checked "
                f"for its name only (the validate gate reports why): {exc}"
            )
            return None
        model: type[BaseModel] = loaded.cls.params_model
        return model

    def _load_processes(self) -> list[Path]:
        """Import what the worker serves; the source files to read."""
        # Lazy: needs the orchestrator extra, which may be missing.
        from raw.orchestrator.worker import WorkerConfigError, plan_worker
        from raw.orchestrator.worker import _activity_name as activity_name
        from raw.orchestrator.worker import _workflow_name as workflow_name

        config = self.system.orchestrator
        if not config.workflows and not config.activities:
            self.process_types = set()
            return []
        try:
            plan = plan_worker(self.project, config)
        except WorkerConfigError as exc:
            self.report.add(
                "processes",
                "system.orchestrator",
                str(exc),
                "Fix the module name in .raw/config.yaml or the import error in the module.",
            )
            return []
        self.process_types = {
            workflow_name(w) for w in plan.workflows if w.__name__ != "RawScheduledRun"
        }
        self.activities = {activity_name(a) for a in plan.activities}
        files = []
        for name in [*config.workflows, *config.activities]:
            source = inspect.getsourcefile(sys.modules[name])
            if source:
                files.append(Path(source))
        return list(dict.fromkeys(files))

    def _display(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.project.root).as_posix()
        except ValueError:
            return str(path)

    # -- checks

    def run(self) -> SystemReport:
        for path in self._load_processes():
            try:
                found = scan_file(path, self._display(path))
            except SyntaxError as exc:
                self.report.add("processes", self._display(path), str(exc), "Fix the syntax.")
                continue
            for attr in ("processes", "workflow_calls", "waits", "activity_calls", "unresolved"):
                getattr(self.scan, attr).extend(getattr(found, attr))
        self.report.notes += [
            f"not checked (computed at run time): {u}" for u in self.scan.unresolved
        ]
        for call in self.scan.workflow_calls:
            self._workflow_call(call)
        self._activity_calls()
        for schedule in self.system.orchestrator.schedules:
            self._schedule(schedule)
        self._signals()
        for webhook in self.system.coordinator.webhooks:
            self._webhook(webhook)
        self._deployment()
        self.report.checked = {
            "workflows": len(self.params),
            "processes": len(self.process_types or ()),
            "workflow calls": len(self.scan.workflow_calls),
            "signal waits": len(self.scan.waits),
            "schedules": len(self.system.orchestrator.schedules),
            "webhooks": len(self.system.coordinator.webhooks),
        }
        return self.report

    def _workflow_exists(self, workflow_id: str, where: str, caller: str) -> bool:
        if workflow_id in self.params:
            return True
        self.report.add(
            "workflows",
            where,
            f"{caller} runs the RAW workflow '{workflow_id}', which does not exist in "
            f"{self._display(self.project.workflows_dir)}/.",
            f"Create it (`raw create {workflow_id}`) or name an existing one. "
            + _closest(workflow_id, self.params),
        )
        return False

    def _workflow_call(self, call: WorkflowCall) -> None:
        caller = f"process {call.owner}" if call.owner else "process code"
        if not self._workflow_exists(call.workflow, call.where, caller):
            return
        model = self.params[call.workflow]
        if model is None:
            return
        given: set[str] = set(call.params or ())
        computed = call.open_params
        if call.args is not None:
            literal = all(t is not None and "\x00" not in t for t in call.args)
            if literal:  # every value known: validate exactly as `raw run` would
                self._cli_args(call.workflow, model, list(call.args), call.where, caller)  # type: ignore[arg-type]
                return
            named = self._flags_given(call.workflow, model, call.args, call.where, caller)
            if named is None:
                return
            given |= named
            computed = computed or None in call.args
        accepted, required = _fields(model)
        extra = model.model_config.get("extra")
        for key in sorted(given - accepted) if extra != "allow" else []:
            self.report.add(
                "params",
                call.where,
                f"{caller} passes '{key}' to '{call.workflow}', which has no such parameter "
                f"(it takes: {', '.join(sorted(model.model_fields)) or 'nothing'}).",
                f"Remove '{key}' from the call, or add it to {call.workflow}'s Params. "
                + _closest(key, model.model_fields),
            )
        missing = sorted(required - given)
        if missing and not computed:
            self.report.add(
                "params",
                call.where,
                f"{caller} runs '{call.workflow}' without {', '.join(repr(m) for m in missing)}, "
                "which it requires.",
                f"Pass {', '.join(missing)} in the call, or give the parameter a default.",
            )

    def _flags_given(
        self,
        workflow_id: str,
        model: type[BaseModel],
        tokens: tuple[str | None, ...],
        where: str,
        caller: str,
    ) -> set[str] | None:
        """Names given by CLI-style tokens some of whose values are computed at run time."""

        known = [t if t is not None else "value" for t in tokens]
        known = [t.replace("\x00", "value") for t in known]
        parsed = split_args(known, expect_id=False)
        values, errors = parse_flags(workflow_id, model, parsed.flags)
        for error in errors:
            if "has no parameter" in error.message or "unexpected argument" in error.message:
                self.report.add(
                    "params", where, f"{caller}: {error.message}", "Fix the flag in the args."
                )
        return None if errors else set(values)

    def _cli_args(
        self, workflow_id: str, model: type[BaseModel], tokens: list[str], where: str, caller: str
    ) -> None:

        try:
            parsed = split_args(tokens, expect_id=False)
            values = read_params(parsed.params) if parsed.params else {}
        except UsageError as exc:
            self.report.add("params", where, f"{caller}: {exc}", "Fix the args.")
            return
        flags, errors = parse_flags(workflow_id, model, parsed.flags)
        values.update(flags)
        problems = [e.message for e in errors]
        if not errors:
            problems += _validation_problems(model, values)
        for problem in problems:
            self.report.add(
                "params",
                where,
                f"{caller} runs '{workflow_id}' with {' '.join(tokens) or 'no args'}: {problem}",
                f"Give args `raw run {workflow_id}` accepts (`raw run {workflow_id} --help`).",
            )

    def _schedule(self, schedule: ScheduleConfig) -> None:
        where = f"system.orchestrator.schedules[{schedule.id}]"
        caller = f"schedule '{schedule.id}'"
        if not self._workflow_exists(schedule.workflow, where, caller):
            return
        model = self.params[schedule.workflow]
        if model is None:
            return
        if schedule.params is not None:
            for problem in _validation_problems(model, dict(schedule.params)):
                self.report.add(
                    "params",
                    where,
                    f"{caller} runs '{schedule.workflow}' with params that do not validate: "
                    f"{problem}",
                    f"Fix system.orchestrator.schedules[{schedule.id}].params.",
                )
            return
        self._cli_args(schedule.workflow, model, list(schedule.args), where, caller)

    def _activity_calls(self) -> None:
        if self.process_types is None:
            return
        for call in self.scan.activity_calls:
            if call.name not in self.activities:
                self.report.add(
                    "activities",
                    f"{call.file}:{call.line}",
                    f"process {call.owner or 'code'} calls the activity '{call.name}', which the "
                    "worker does not serve (not in the modules of system.orchestrator.activities).",
                    "Define it with @activity.defn in one of those modules, or fix the name. "
                    + _closest(call.name, self.activities - {"run_raw_workflow_call"}),
                )

    def _signals(self) -> None:
        waits = waits_by_process(self.scan)
        routes = [
            w
            for w in self.system.coordinator.webhooks
            if w.action.kind in ("signal", "signal_with_start")
        ]
        sent = {(w.action.process, w.action.signal) for w in routes}
        sent |= {
            (process, signal)
            for process, signals in self.system.gates.external_signals.items()
            for signal in signals
        }
        for process, signals in waits.items():
            for signal, where in signals.items():
                if (process, signal) not in sent:
                    self.report.add(
                        "signals",
                        where,
                        f"process {process} waits for the signal '{signal}', but no webhook "
                        "route sends it.",
                        "Add a route to system.coordinator.webhooks with action {kind: signal, "
                        f"process: {process}, business_key: <body field>, signal: {signal}}}; "
                        "if something else sends it, list it in system.gates.external_signals "
                        f"({{{process}: [{signal}]}}); or stop waiting for it.",
                    )
        unresolved_files = {u.split(":", 1)[0] for u in self.scan.unresolved}
        for route in routes:
            process, signal = str(route.action.process), str(route.action.signal)
            if process not in waits or signal in waits[process]:
                continue
            defined_in = next(p.file for p in self.scan.processes if p.type_name == process)
            if defined_in in unresolved_files:
                continue  # some of its waits could not be read: do not guess
            known = ", ".join(sorted(waits[process])) or "no signal"
            self.report.add(
                "signals",
                f"system.coordinator.webhooks[{route.name}]",
                f"route '{route.name}' sends the signal '{signal}' to {process}, which never "
                f"waits for it (it waits for: {known}).",
                f"Send a signal the process waits for, or wait for '{signal}' in {process}. "
                + _closest(signal, waits[process]),
            )

    def _reference(self, ref: str, where: str, what: str) -> Any:
        module_name, _, attr = ref.partition(":")
        root = str(self.project.root)
        if root not in sys.path:
            sys.path.insert(0, root)
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except Exception as exc:
            self.report.add(
                "webhooks",
                where,
                f"its {what} '{ref}' does not load: {type(exc).__name__}: {exc}",
                "Fix the reference (module:name) or the module.",
            )
            return None
        return obj

    def _webhook(self, route: WebhookConfig) -> None:
        where = f"system.coordinator.webhooks[{route.name}]"
        body: type[BaseModel] | None = None
        if route.body is not None:
            loaded = self._reference(route.body, where, "body")
            if isinstance(loaded, type) and issubclass(loaded, BaseModel):
                body = loaded
        for what, ref in (("handler", route.handler), ("on_result", route.action.on_result)):
            if ref is not None:
                self._reference(ref, where, what)
        action = route.action
        if action.kind == "none":
            return
        if action.kind == "run_workflow":
            assert action.workflow is not None
            self._run_workflow_action(route, where, body)
            return
        if self.process_types is not None and action.process not in self.process_types:
            self.report.add(
                "webhooks",
                where,
                f"route '{route.name}' ({action.kind}) targets the process type "
                f"'{action.process}', which the worker does not serve.",
                "Name a @workflow.defn type from system.orchestrator.workflows. "
                + _closest(str(action.process), self.process_types),
            )
        if body is not None and action.business_key not in _body_fields(body):
            self.report.add(
                "webhooks",
                where,
                f"route '{route.name}' keys its process on '{action.business_key}', which is not "
                f"a field of its body {route.body}.",
                "Name a body field (or a computed field) as the action's business_key. "
                + _closest(str(action.business_key), _body_fields(body)),
            )

    def _run_workflow_action(
        self, route: WebhookConfig, where: str, body: type[BaseModel] | None
    ) -> None:
        workflow_id = str(route.action.workflow)
        if not self._workflow_exists(workflow_id, where, f"route '{route.name}'"):
            return
        model = self.params[workflow_id]
        if model is None:
            return
        accepted, required = _fields(model)
        mapping = route.action.params
        if mapping is not None:
            given = set(mapping)
            for param in sorted(given - accepted):
                self.report.add(
                    "webhooks",
                    where,
                    f"route '{route.name}' passes '{param}' to '{workflow_id}', which has no such "
                    "parameter.",
                    "Fix action.params. " + _closest(param, model.model_fields),
                )
            if body is not None:
                for param, source in sorted(mapping.items()):
                    if source not in _body_fields(body):
                        self.report.add(
                            "webhooks",
                            where,
                            f"route '{route.name}' reads '{source}' from its body for "
                            f"'{param}', but {route.body} has no such field.",
                            "Fix action.params. " + _closest(source, _body_fields(body)),
                        )
        elif body is not None:
            given = _body_fields(body)
        else:
            return  # the whole body, of no declared shape: nothing to hold it against
        missing = sorted(required - given)
        if missing:
            self.report.add(
                "webhooks",
                where,
                f"route '{route.name}' runs '{workflow_id}' without "
                f"{', '.join(repr(m) for m in missing)}, which it requires.",
                "Map them in action.params (param: body field), or give them defaults.",
            )

    def _deployment(self) -> None:

        findings, notes = deployment_findings(self.project, self.system)
        for where, problem, fix in findings:
            self.report.add("deployment", where, problem, fix)
        self.report.notes += notes


def _validation_problems(model: type[BaseModel], values: dict[str, Any]) -> list[str]:
    try:
        model.model_validate(values)
    except ValidationError as exc:
        return [
            f"{'.'.join(str(p) for p in err['loc']) or '(params)'}: {err['msg']}"
            for err in exc.errors()
        ]
    return []


def check_system(project: Project) -> SystemReport:
    """Check ``project``'s system. Raises ConfigError when the config itself is invalid."""
    project.config.system  # noqa: B018 - an invalid system section is a config error (exit 2)
    return _Checker(project).run()
