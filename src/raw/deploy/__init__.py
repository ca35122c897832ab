"""Deployment: the Dockerfile, Docker Compose, Kubernetes and Helm, rendered and checked.

Install with ``pip install 'raw-systems[deploy]'`` for the checkers. From Python::

    from raw.deploy import check_deployment, render

    render(project)                       # writes deploy/ from .raw/config.yaml
    report = check_deployment("deploy")   # the docker-validate gate
    assert report.ok, report.findings

``raw.config.system`` imports :mod:`raw.deploy.config` on every config validation, so
this package imports nothing until a name is used (:mod:`raw._lazy`). See docs/deploy.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from raw._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from raw.deploy.check import check_deployment as check_deployment
    from raw.deploy.config import DeployConfig as DeployConfig
    from raw.deploy.findings import CheckReport as CheckReport
    from raw.deploy.findings import Finding as Finding
    from raw.deploy.findings import ToolMissingError as ToolMissingError
    from raw.deploy.rendering import Rendered as Rendered
    from raw.deploy.rendering import render as render

_EXPORTS = {
    "check_deployment": "raw.deploy.check",
    "CheckReport": "raw.deploy.findings",
    "DeployConfig": "raw.deploy.config",
    "Finding": "raw.deploy.findings",
    "render": "raw.deploy.rendering",
    "Rendered": "raw.deploy.rendering",
    "ToolMissingError": "raw.deploy.findings",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
