"""Building the :class:`~raw.describe.model.SystemMap` of a project, without running it.

From ``.raw/config.yaml``: the webhook routes (path, scheme, action), the
schedules, the integrations, the entity tables and the RAW workflows in
``.raw/workflows``. From the process code the worker serves, read with ``ast``
by :mod:`raw.orchestrator.code_scan` (the system check's reader): the process
types, the signals each waits for and the RAW workflows each runs. From the
activity modules, read by :mod:`raw.describe.uses`: which integrations each
process reaches through the activities it calls. Nothing is imported but the
parents of a module that is not under the project's folder, to find its file.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from raw.describe.model import KIND_ORDER, EdgeKind, MapEdge, MapNode, NodeKind, SystemMap
from raw.describe.uses import INTEGRATION_KINDS, UsesReader, strings_in
from raw.orchestrator.code_scan import ScanResult, scan_file, waits_by_process

if TYPE_CHECKING:
    from raw.config.coordinator import WebhookConfig
    from raw.project import Project

__all__ = ["build_system_map", "node_id"]


def node_id(kind: NodeKind, name: str) -> str:
    return f"{kind}:{name}"


def _action(route: WebhookConfig) -> str:
    action = route.action
    if action.kind == "start_process":
        return f"starts {action.process}"
    if action.kind == "signal":
        return f"signals '{action.signal}' to {action.process}"
    if action.kind == "signal_with_start":
        return f"starts or signals '{action.signal}' to {action.process}"
    if action.kind == "run_workflow":
        return f"runs {action.workflow}"
    return "stored only (no action)"


def _join(names: list[str]) -> str:
    return ", ".join(names) if names else "nothing"


class _Builder:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.system = project.config.system
        name = self.system.name or project.config.name or project.root.name
        self.map = SystemMap(name=name)
        self.reader = UsesReader(self.locate)

    # -- finding modules

    def locate(self, module: str) -> Path | None:
        """The source file of ``module`` under the project's folder, else where Python finds
        it; None when it is not the project's own code or cannot be found."""
        base = self.project.root.joinpath(*module.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    def _source(self, module: str, what: str) -> Path | None:
        found = self.locate(module)
        if found is not None:
            return found
        root = str(self.project.root)
        added = root not in sys.path
        if added:
            sys.path.insert(0, root)
        try:
            spec = importlib.util.find_spec(module)
        except Exception as exc:  # a parent package that fails to import
            self.map.notes.append(f"{what} '{module}' could not be found: {exc}")
            return None
        finally:
            if added:
                sys.path.remove(root)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            self.map.notes.append(f"{what} '{module}' could not be found, so it is not drawn.")
            return None
        return Path(spec.origin)

    # -- nodes and edges

    def add(self, node: MapNode) -> None:
        if self.map.node(node.id) is None:
            self.map.nodes.append(node)

    def edge(self, source: str, target: str, kind: EdgeKind, label: str = "") -> None:
        found = MapEdge(source=source, target=target, kind=kind, label=label)
        if found not in self.map.edges:
            self.map.edges.append(found)

    def build(self) -> SystemMap:
        scan, files = self._scan_processes()
        workflows = self._workflows()
        self._routes()
        self._processes(scan, files)
        self._schedules()
        self._integrations(workflows)
        self._entities()
        self.map.nodes.sort(key=lambda n: (KIND_ORDER.index(n.kind), n.name))
        return self.map

    def _scan_processes(self) -> tuple[ScanResult, dict[str, ast.Module]]:
        scan = ScanResult()
        trees: dict[str, ast.Module] = {}
        for module in self.system.orchestrator.workflows:
            path = self._source(module, "process module")
            if path is None:
                continue
            try:
                found = scan_file(path, module)
                trees[module] = ast.parse(path.read_text(encoding="utf-8"))
            except (OSError, SyntaxError, ValueError) as exc:
                self.map.notes.append(f"process module '{module}' could not be read: {exc}")
                continue
            for attr in ("processes", "workflow_calls", "waits", "activity_calls", "unresolved"):
                getattr(scan, attr).extend(getattr(found, attr))
        self.map.notes += [f"not drawn (computed at run time): {u}" for u in scan.unresolved]
        return scan, trees

    def _workflows(self) -> dict[str, set[str]]:
        """RAW workflow id -> the integrations its run.py uses."""
        uses: dict[str, set[str]] = {}
        for workflow_id in self.project.workflow_ids():
            run = self.project.workflows_dir / workflow_id / "run.py"
            uses[workflow_id] = self.reader.module_uses(run)
            self.add(
                MapNode(
                    id=node_id("workflow", workflow_id),
                    kind="workflow",
                    name=workflow_id,
                    label=workflow_id,
                    details=["RAW workflow"],
                )
            )
        return uses

    def _named(self, kind: NodeKind, name: str, missing: str) -> str:
        """The node something points at; drawn as missing (saying where) if nothing defines it."""
        found = node_id(kind, name)
        if self.map.node(found) is None:
            self.add(
                MapNode(
                    id=found,
                    kind=kind,
                    name=name,
                    label=name,
                    details=[missing],
                    facts={"missing": "true"},
                )
            )
        return found

    def _workflow(self, workflow_id: str) -> str:
        return self._named("workflow", workflow_id, "missing from .raw/workflows")

    def _process(self, type_name: str) -> str:
        return self._named("process", type_name, "not found in system.orchestrator.workflows")

    def _routes(self) -> None:
        for route in self.system.coordinator.webhooks:
            action = route.action
            rid = node_id("route", route.name)
            facts: dict[str, str | list[str]] = {
                "path": route.path,
                "scheme": route.scheme,
                "action": action.kind,
            }
            self.add(
                MapNode(
                    id=rid,
                    kind="route",
                    name=route.name,
                    label=route.name,
                    details=[f"POST {route.path}", f"{route.scheme} · {_action(route)}"],
                    facts=facts,
                )
            )

    def _route_edges(self) -> None:
        for route in self.system.coordinator.webhooks:
            action = route.action
            rid = node_id("route", route.name)
            if action.kind == "run_workflow" and action.workflow:
                self.edge(rid, self._workflow(action.workflow), "run_workflow", "runs")
            elif action.kind == "start_process" and action.process:
                self.edge(rid, self._process(action.process), "start", "start")
            elif action.kind in ("signal", "signal_with_start") and action.process:
                verb = "signal" if action.kind == "signal" else "signal or start"
                self.edge(
                    rid, self._process(action.process), action.kind, f"{verb} '{action.signal}'"
                )

    def _processes(self, scan: ScanResult, trees: dict[str, ast.Module]) -> None:
        waits = waits_by_process(scan)
        runs: dict[str, list[str]] = {p.type_name: [] for p in scan.processes}
        by_file: dict[str, list[str]] = {}
        for process in scan.processes:
            by_file.setdefault(process.file, []).append(process.type_name)
        for call in scan.workflow_calls:
            for owner in [call.owner] if call.owner else by_file.get(call.file, []):
                if call.workflow not in runs.setdefault(owner, []):
                    runs[owner].append(call.workflow)
        uses = self._process_uses(scan, trees, by_file)
        for process in scan.processes:
            name = process.type_name
            signals = sorted(waits.get(name, {}))
            used = sorted(uses.get(name, set()))
            details = [f"waits for: {_join(signals)}", f"runs: {_join(runs[name])}"]
            if used:
                details.append(f"uses: {_join(used)}")
            self.add(
                MapNode(
                    id=node_id("process", name),
                    kind="process",
                    name=name,
                    label=name,
                    details=details,
                    facts={
                        "signals": signals,
                        "workflows": runs[name],
                        "integrations": used,
                        "defined_in": f"{process.file}:{process.line}",
                    },
                )
            )
        self._route_edges()
        for name, workflow_ids in runs.items():
            for workflow_id in workflow_ids:
                self.edge(self._process(name), self._workflow(workflow_id), "runs", "runs")
        for name, kinds in uses.items():
            for kind in sorted(kinds):
                self.edge(self._process(name), self._integration(kind), "uses", "uses")

    def _process_uses(
        self, scan: ScanResult, trees: dict[str, ast.Module], by_file: dict[str, list[str]]
    ) -> dict[str, set[str]]:
        """Process type -> the integrations the activities it calls use."""
        activities: dict[str, set[str]] = {}
        for module in self.system.orchestrator.activities:
            if self._source(module, "activity module") is not None:
                activities.update(self.reader.activities(module))
        called: dict[str, set[str]] = {p.type_name: set() for p in scan.processes}
        for call in scan.activity_calls:
            for owner in [call.owner] if call.owner else by_file.get(call.file, []):
                called.setdefault(owner, set()).add(call.name)
        classes = {(p.file, p.class_name): p.type_name for p in scan.processes}
        for module, tree in trees.items():
            for node in tree.body:  # activities called by name through a helper
                process_type = None
                if isinstance(node, ast.ClassDef):
                    process_type = classes.get((module, node.name))
                    if process_type is None:
                        continue
                owners = [process_type] if process_type else by_file.get(module, [])
                for name in strings_in(node, activities):
                    for each in owners:
                        called.setdefault(each, set()).add(name)
        return {
            process: set().union(*(activities.get(a, set()) for a in names))
            for process, names in called.items()
        }

    def _schedules(self) -> None:
        for schedule in self.system.orchestrator.schedules:
            sid = node_id("schedule", schedule.id)
            args = " ".join(schedule.args)
            runs = f"runs {schedule.workflow}" + (f" {args}" if args else "")
            self.add(
                MapNode(
                    id=sid,
                    kind="schedule",
                    name=schedule.id,
                    label=schedule.id,
                    details=[f"cron {schedule.cron} {schedule.timezone or 'UTC'}", runs],
                    facts={"cron": schedule.cron, "workflow": schedule.workflow},
                )
            )
            self.edge(sid, self._workflow(schedule.workflow), "runs", "runs")

    def _integration(self, kind: str) -> str:
        found = node_id("integration", kind)
        if self.map.node(found) is None:
            section = getattr(self.system.integrations, kind, None)
            adapter = getattr(section, "adapter", None)
            detail = f"adapter: {adapter}" if adapter else "not in system.integrations"
            self.add(
                MapNode(
                    id=found,
                    kind="integration",
                    name=kind,
                    label=kind,
                    details=[detail],
                    facts={"adapter": adapter or ""},
                )
            )
        return found

    def _integrations(self, workflows: dict[str, set[str]]) -> None:
        for kind in INTEGRATION_KINDS:
            if getattr(self.system.integrations, kind, None) is not None:
                self._integration(kind)
        for workflow_id, kinds in workflows.items():
            for kind in sorted(kinds):
                self.edge(node_id("workflow", workflow_id), self._integration(kind), "uses", "uses")

    def _entities(self) -> None:
        for entity in self.system.coordinator.entities:
            self.add(
                MapNode(
                    id=node_id("entity", entity.name),
                    kind="entity",
                    name=entity.name,
                    label=entity.name,
                    details=[f"table {entity.table}", f"by {entity.status}"],
                    facts={"table": entity.table, "status": entity.status},
                )
            )


def build_system_map(project: Project) -> SystemMap:
    """The map of ``project``'s system. Raises ConfigError when its config is invalid."""
    return _Builder(project).build()
