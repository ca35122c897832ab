"""``raw deploy check``: the ``docker-validate`` gate, offline, as a function.

:func:`check_deployment` checks a folder of deployment files (rendered or
written by hand) with the real tools, then against the system:

- ``Dockerfile``: hadolint; a non-root user, a health check, the api's port.
- The build context (the project's root, through ``Dockerfile.dockerignore``): no
  local state or secrets (:mod:`raw.deploy.context`).
- ``docker-compose.yml``: the strict Compose parser; services, health gates,
  settings and secrets (:mod:`raw.deploy.compose_rules`).
- ``k8s/``: every object against the strict schemas of the stated Kubernetes
  version; roles, probes, settings, secrets, schedules (:mod:`raw.deploy.kube_rules`).
- The config: no database password in it, and an external PostgreSQL reached over
  TLS (:mod:`raw.deploy.database_tls`).
- ``helm/<chart>/``: ``helm_python.lint(strict=True)``; its objects, rendered
  with the default values, through the same schemas and rules, and the same as
  ``k8s/``.

It returns a :class:`~raw.deploy.findings.CheckReport`; ``report.ok`` is the
gate's verdict.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raw.config.temporal import is_local_address
from raw.deploy.compose_rules import check_compose
from raw.deploy.context import check_build_context
from raw.deploy.database_tls import check_database_security
from raw.deploy.findings import CheckReport, Finding
from raw.deploy.kube_rules import check_kube
from raw.deploy.plan import build_plan
from raw.deploy.validators import (
    KubeObject,
    check_version,
    lint_chart,
    lint_dockerfile,
    load_kube_files,
    parse_compose,
    validate_objects,
)
from raw.errors import UsageError
from raw.project import find_project

if TYPE_CHECKING:
    from raw.deploy.plan import Plan
    from raw.project import Project

__all__ = ["COMPOSE_NAMES", "check_deployment"]

COMPOSE_NAMES = ("docker-compose.yml", "docker-compose.yaml", "compose.yaml", "compose.yml")
HELM_ANNOTATIONS = re.compile(r"^helm\.sh/")
RENDER = "Run `raw deploy render` to write it."


def _dockerfile_rules(plan: Plan, text: str, rel: str) -> list[Finding]:
    final: list[str] = []
    for line in text.splitlines():
        word = line.strip().split(" ", 1)[0].upper()
        if word == "FROM":
            final = []
        final.append(line.strip())

    def instruction(name: str) -> list[str]:
        return [
            line.split(" ", 1)[1] if " " in line else ""
            for line in final
            if line.upper().startswith(name + " ")
        ]

    findings = []
    users = instruction("USER")
    if not users or users[-1].split(":")[0] in ("root", "0"):
        findings.append(
            Finding(
                rel,
                "final stage",
                "runs as root.",
                "Add a user and end the final stage with USER <uid>.",
                "system",
            )
        )
    health = instruction("HEALTHCHECK")
    if not health or health[-1].strip().upper() == "NONE":
        findings.append(
            Finding(
                rel,
                "final stage",
                "has no HEALTHCHECK.",
                f"Add HEALTHCHECK CMD ... on http://127.0.0.1:{plan.port}/health.",
                "system",
            )
        )
    exposed = {p.split("/")[0] for e in instruction("EXPOSE") for p in e.split()}
    if str(plan.port) not in exposed:
        findings.append(
            Finding(
                rel,
                "final stage",
                f"does not EXPOSE the api's port {plan.port}.",
                f"Add EXPOSE {plan.port} (system.deploy.port).",
                "system",
            )
        )
    return findings


def _strip_helm(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "annotations" and isinstance(value, dict):
                value = {k: v for k, v in value.items() if not HELM_ANNOTATIONS.match(k)}
                if not value:
                    continue
            out[key] = _strip_helm(value)
        return out
    if isinstance(node, list):
        return [_strip_helm(item) for item in node]
    return node


def _first_difference(a: Any, b: Any, path: str = "") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            found = _first_difference(a.get(key), b.get(key), f"{path}.{key}" if path else key)
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _first_difference(x, y, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if a == b else (path or "(top)")


def _same_objects(chart: list[KubeObject], k8s: list[KubeObject], rel: str) -> list[Finding]:
    ours = {o.label: o for o in k8s}
    theirs = {o.label: o for o in chart}
    fix = "Render both again with `raw deploy render`, or make the same change in both."
    findings = [
        Finding(theirs[label].file, label, "is in the chart but not in k8s/.", fix, "system")
        for label in theirs
        if label not in ours
    ]
    findings += [
        Finding(rel, label, f"is in {ours[label].file} but not in the chart.", fix, "system")
        for label in ours
        if label not in theirs
    ]
    for label, item in theirs.items():
        if label in ours:
            where = _first_difference(_strip_helm(item.obj), ours[label].obj)
            if where:
                problem = f"differs from {ours[label].file} at {where} (default values)."
                findings.append(Finding(item.file, label, problem, fix, "system"))
    return findings


def _temporal_security(plan: Plan) -> list[Finding]:
    """An external Temporal off this machine is reached over TLS, unless allowed in the clear."""
    temporal = plan.deploy.temporal
    address = plan.temporal_address
    if (
        plan.in_cluster_temporal
        or plan.temporal_secured
        or temporal.allow_insecure
        or is_local_address(address)
    ):
        return []
    return [
        Finding(
            ".raw/config.yaml",
            "system.orchestrator.connection",
            f"Temporal at {address} would be reached without TLS: its traffic, and any API "
            "key, would cross the network in the clear.",
            "Turn TLS on: system.orchestrator.connection server_ca_cert (self-hosted), "
            "client_cert and client_key (mutual TLS), api_key_setting (Temporal Cloud) or "
            "tls: true. On a network you trust, set system.deploy.temporal.allow_insecure: true.",
            "system",
        )
    ]


def check_deployment(
    directory: Path | str | None = None,
    *,
    project: Project | None = None,
    kubernetes_version: str | None = None,
) -> CheckReport:
    """Check the deployment files in ``directory`` (default: the project's deploy/).

    Raises ProjectError without a project, ConfigError for an unusable config,
    UsageError for an unsupported Kubernetes version or a missing folder, and
    ToolMissingError without hadolint.
    """

    project = project or find_project()
    plan = build_plan(project)
    version = check_version(kubernetes_version or plan.deploy.kubernetes_version)
    root = Path(directory) if directory is not None else project.root / "deploy"
    root = root.resolve()
    if not root.is_dir():
        raise UsageError(
            f"No folder {root} to check. Write the files with `raw deploy render`, or name "
            "the folder that holds them."
        )
    report = CheckReport(directory=root, kubernetes_version=version)
    findings = report.findings
    findings += check_database_security(plan)
    findings += _temporal_security(plan)

    dockerfile = root / "Dockerfile"
    if dockerfile.is_file():
        findings += lint_dockerfile(dockerfile, "Dockerfile")
        findings += _dockerfile_rules(plan, dockerfile.read_text(encoding="utf-8"), "Dockerfile")
        report.checked["dockerfile"] = 1
    else:
        findings.append(Finding("Dockerfile", "file", "is missing.", RENDER, "system"))
    problems, sent = check_build_context(project, root)
    findings += problems
    report.checked["context_files"] = sent

    compose = next((root / n for n in COMPOSE_NAMES if (root / n).is_file()), None)
    if compose is None:
        findings.append(Finding("docker-compose.yml", "file", "is missing.", RENDER, "system"))
    else:
        data, problems = parse_compose(compose, compose.name)
        findings += problems
        if data is not None:
            findings += check_compose(plan, data, compose.name)
        report.checked["compose_services"] = len((data or {}).get("services") or {})

    k8s_dir = root / "k8s"
    k8s: list[KubeObject] = []
    if k8s_dir.is_dir():
        k8s, problems = load_kube_files(k8s_dir, root)
        findings += problems + validate_objects(k8s, version)
        findings += check_kube(plan, k8s, "k8s/")
        report.checked["k8s_objects"] = len(k8s)
    else:
        findings.append(Finding("k8s/", "folder", "is missing.", RENDER, "system"))

    charts = sorted(p.parent for p in (root / "helm").glob("*/Chart.yaml"))
    if not charts:
        findings.append(
            Finding("helm/", "folder", "holds no chart (Chart.yaml).", RENDER, "system")
        )
    for chart in charts:
        rel = chart.relative_to(root).as_posix()
        if not (chart / "values.schema.json").is_file():
            findings.append(
                Finding(
                    f"{rel}/values.schema.json",
                    "file",
                    "is missing: Helm cannot refuse wrong values.",
                    RENDER,
                    "system",
                )
            )
        objects, problems = lint_chart(chart, root, version)
        findings += problems + validate_objects(objects, version)
        if objects:
            findings += check_kube(plan, objects, f"{rel}/templates/")
            if k8s:
                findings += _same_objects(objects, k8s, "k8s/")
        report.checked["helm_objects"] = report.checked.get("helm_objects", 0) + len(objects)
    return report
