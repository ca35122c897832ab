"""The system check's last part: every component the system uses is in its deployment files.

Components come from the config (a worker when there are processes, the api and
its dispatcher when there are webhooks, PostgreSQL and Temporal when they run in
the cluster, each schedule in the form ``system.deploy.schedules`` chooses); they
are found in ``deploy/docker-compose.yml`` and ``deploy/k8s/`` by what a container
runs (``raw worker``) or its image, as ``raw deploy check`` finds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raw.deploy.check import COMPOSE_NAMES
from raw.deploy.plan import build_plan
from raw.deploy.rules import command_words, role_of, schedule_of
from raw.deploy.validators import load_kube_files

if TYPE_CHECKING:
    from raw.config.system import SystemConfig
    from raw.project import Project

__all__ = ["Component", "deployment_findings", "needed_components"]

RENDER_FIX = "Render the files again with `raw deploy render`, or add it by hand."


@dataclass(frozen=True)
class Component:
    key: str
    """A role (``worker``), ``image:<prefix>`` or ``schedule:<id>``."""
    what: str
    why: str


def needed_components(system: SystemConfig) -> list[Component]:
    orchestrator, coordinator, deploy = system.orchestrator, system.coordinator, system.deploy
    needed: list[Component] = []
    processes = bool(orchestrator.workflows)
    webhooks = bool(coordinator.webhooks) or coordinator.app is not None
    if processes:
        needed.append(Component("worker", "worker (`raw worker`)", "system.orchestrator"))
    if webhooks:
        needed.append(Component("api", "api (`raw serve`)", "system.coordinator"))
        needed.append(Component("migrate", "migrations (`raw db upgrade`)", "the database"))
    if any(w.action.kind != "none" for w in coordinator.webhooks):
        needed.append(Component("dispatcher", "dispatcher (`raw dispatcher`)", "webhook actions"))
    if webhooks and deploy.database.mode == "in_cluster":
        needed.append(Component("image:postgres", "PostgreSQL", "system.deploy.database"))
    temporal_users = processes or any(
        w.action.kind in ("start_process", "signal", "signal_with_start")
        for w in coordinator.webhooks
    )
    if temporal_users and deploy.temporal.mode == "in_cluster":
        needed.append(Component("image:temporalio/server", "Temporal", "system.deploy.temporal"))
    if orchestrator.schedules:
        if deploy.schedules == "cronjob":
            for schedule in orchestrator.schedules:
                needed.append(
                    Component(
                        f"schedule:{schedule.id}",
                        f"CronJob for schedule '{schedule.id}' (`raw run {schedule.workflow}`)",
                        "system.orchestrator.schedules",
                    )
                )
        else:
            needed.append(
                Component(
                    "schedules-sync",
                    "schedules sync (`raw schedules sync`)",
                    "system.orchestrator.schedules",
                )
            )
    return needed


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec") or {}
    kind = obj.get("kind")
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    if kind != "Pod":
        spec = ((spec.get("template") or {}).get("spec")) or {}
    found = [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]
    return [c for c in found if isinstance(c, dict)]


def _present_in(entries: list[tuple[list[str], str]], project: Project) -> set[str]:
    """Component keys present among (command words, image) pairs."""

    plan = build_plan(project)
    keys: set[str] = set()
    for words, image in entries:
        role = role_of(words)
        if role is not None:
            keys.add(role)
        schedule = schedule_of(plan, words)
        if schedule is not None:
            keys.add(f"schedule:{schedule}")
        for prefix in ("postgres", "temporalio/server"):
            if image.startswith(prefix):
                keys.add(f"image:{prefix}")
    return keys


def _compose_entries(path: Path) -> list[tuple[list[str], str]]:
    # Lazy: PyYAML costs start-up time; only reading YAML needs it.
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    services = data.get("services") or {} if isinstance(data, dict) else {}
    return [
        (command_words(s.get("entrypoint"), s.get("command")), str(s.get("image", "")))
        for s in services.values()
        if isinstance(s, dict)
    ]


def _kube_entries(folder: Path) -> list[tuple[list[str], str]]:
    objects, _ = load_kube_files(folder, folder.parent)
    return [
        (command_words(c.get("command"), c.get("args")), str(c.get("image", "")))
        for o in objects
        for c in _containers(o.obj)
    ]


def deployment_findings(
    project: Project, system: SystemConfig
) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(findings as (where, problem, fix), notes) for the project's ``deploy/`` folder."""

    needed = needed_components(system)
    folder = project.root / "deploy"
    if not needed:
        return [], ["The system has no components to deploy beyond its RAW workflows."]
    if not folder.is_dir():
        return [], [
            "No deploy/ folder: the components were not checked against deployment files "
            "(write them with `raw deploy render`; docker-validate checks them too)."
        ]
    findings: list[tuple[str, str, str]] = []
    sources: list[tuple[str, list[tuple[list[str], str]]]] = []
    compose = next((folder / n for n in COMPOSE_NAMES if (folder / n).is_file()), None)
    if compose is not None:
        sources.append((f"deploy/{compose.name}", _compose_entries(compose)))
    if (folder / "k8s").is_dir():
        sources.append(("deploy/k8s/", _kube_entries(folder / "k8s")))
    if not sources:
        findings.append(("deploy/", "holds neither a Compose file nor a k8s/ folder.", RENDER_FIX))
    for where, entries in sources:
        present = _present_in(entries, project)
        for component in needed:
            if component.key not in present:
                findings.append(
                    (
                        where,
                        f"runs no {component.what}, which the system uses ({component.why}).",
                        RENDER_FIX,
                    )
                )
    return findings, []
