"""``raw deploy render``: write the Dockerfile, Compose file, ``k8s/`` and the Helm chart.

Everything comes from the system config (:func:`~raw.deploy.plan.build_plan`).
Rendering is deterministic and overwrites what it wrote before; a file it wrote
last time and no longer writes (a CronJob after switching to Temporal
Schedules) is removed, so a schedule can never be left behind in two forms.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from raw.deploy.compose import render_compose, render_env_example
from raw.deploy.compose_secrets import SECRETS_DIR, compose_secrets, gitignore
from raw.deploy.dockerfile import render_dockerfile, render_dockerignore
from raw.deploy.helm import chart_yaml, notes, values_schema, values_yaml
from raw.deploy.kube import app_documents
from raw.deploy.kube_infra import infra_documents
from raw.deploy.observability import COLLECTOR_CONFIG, collector_config
from raw.deploy.plan import Plan, build_plan
from raw.deploy.values import Concrete, Document, HelmValues, dump_documents, dump_yaml
from raw.errors import ConfigError
from raw.project import Project

__all__ = ["DEFAULT_OUT", "MANIFEST", "Rendered", "render", "render_files"]

DEFAULT_OUT = "deploy"
"""Where files go by default, from the project's root."""
MANIFEST = ".raw-deploy.json"
"""The list of files the last render wrote, kept beside them."""
K8S_ORDER = (
    "config",
    "postgres",
    "temporal",
    "jobs",
    "deployment",
    "service",
    "ingress",
    "cronjobs",
)


@dataclass
class Rendered:
    out: Path
    files: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    plan: Plan | None = None


def _objects(plan: Plan, values: Concrete | HelmValues) -> dict[str, list[Document]]:
    documents = {**app_documents(plan, values), **infra_documents(plan, values)}
    return {name: documents[name] for name in K8S_ORDER if documents.get(name)}


def _relative(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target, start)).as_posix()


def render_files(plan: Plan, out: Path) -> dict[str, str]:
    """Every file, by its path under ``out``."""
    root = plan.project_root
    requirements = plan.deploy.python.requirements
    if requirements and not (root / requirements).is_file():
        raise ConfigError(
            f"system.deploy.python.requirements names {requirements}, which is not a file "
            f"in {root}. Fix the path (it is read from the project's root) or remove it."
        )
    dockerfile = _relative(out / "Dockerfile", root)
    files = {
        "Dockerfile": render_dockerfile(plan, dockerfile_path=dockerfile),
        "Dockerfile.dockerignore": render_dockerignore(
            _relative(out, root), Project(root).local_state()
        ),
        "docker-compose.yml": dump_yaml(
            render_compose(plan, context=_relative(root, out), dockerfile=dockerfile)
        ),
        ".env.example": render_env_example(plan),
    }
    if compose_secrets(plan):
        files[f"{SECRETS_DIR}/.gitignore"] = gitignore()
    collector = collector_config(plan)
    if collector is not None:
        files[COLLECTOR_CONFIG] = collector
    for name, documents in _objects(plan, Concrete()).items():
        files[f"k8s/{name}.yml"] = dump_documents(documents)
    helm = HelmValues()
    chart = f"helm/{plan.name}"
    for name, documents in _objects(plan, helm).items():
        files[f"{chart}/templates/{name}.yaml"] = dump_documents(documents)
    files[f"{chart}/templates/NOTES.txt"] = notes(plan)
    files[f"{chart}/Chart.yaml"] = chart_yaml(plan)
    files[f"{chart}/values.yaml"] = values_yaml(plan, helm.specs)
    files[f"{chart}/values.schema.json"] = values_schema(helm.specs)
    return files


def _previous(out: Path) -> list[str]:
    try:
        listed = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"]
        return [str(name) for name in listed]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def render(project: Project, out: Path | None = None) -> Rendered:
    """Write the deployment files of ``project``'s system under ``out`` (default deploy/)."""
    plan = build_plan(project)
    target = (out if out is not None else project.root / DEFAULT_OUT).resolve()
    files = render_files(plan, target)
    result = Rendered(out=target, plan=plan)
    for name in _previous(target):
        stale = target / name
        if name not in files and stale.is_file() and stale.resolve().is_relative_to(target):
            stale.unlink()
            result.removed.append(name)
    for name, text in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        result.files.append(name)
    manifest = {"rendered_by": "raw deploy render", "files": sorted(files)}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return result
