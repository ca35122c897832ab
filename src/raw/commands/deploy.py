"""``raw deploy render`` and ``raw deploy check``: deployment files, checked offline."""

from __future__ import annotations

from pathlib import Path

from raw.commands.document import Document
from raw.deploy.check import check_deployment
from raw.deploy.compose_secrets import compose_secrets
from raw.deploy.rendering import render
from raw.project import find_project

__all__ = ["deploy_check_document", "deploy_render_document"]

FAILED = 1


def deploy_render_document(
    project_dir: str | Path | None, out: str | Path | None = None
) -> Document:
    """Write the Dockerfile, Compose file, k8s/ and a Helm chart (default: deploy/)."""
    project = find_project(project_dir)
    result = render(project, Path(out) if out else None)
    plan = result.plan
    assert plan is not None
    body = {
        "out": str(result.out),
        "system": plan.name,
        "image": plan.image,
        "files": result.files,
        "removed": result.removed,
        "secret_keys": [s.name for s in plan.secret_keys()],
        "optional_secret_keys": [s.name for s in plan.secret_keys() if not s.required],
        "local_integrations": plan.local_integrations(),
        "compose_secret_files": [s.file for s in compose_secrets(plan)],
    }
    return Document(body, detail=result)


def deploy_check_document(
    project_dir: str | Path | None,
    directory: str | Path | None = None,
    *,
    kubernetes_version: str | None = None,
) -> Document:
    """Check deployment files with the real schemas and against the system."""
    project = find_project(project_dir)
    report = check_deployment(
        Path(directory) if directory else None,
        project=project,
        kubernetes_version=kubernetes_version,
    )
    code = 0 if report.ok else FAILED
    return Document({**report.to_dict(), "exit_code": code}, code, detail=report)
