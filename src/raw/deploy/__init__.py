"""Deployment: the Dockerfile, Docker Compose, Kubernetes and Helm, rendered and checked.

Install with ``pip install 'raw-systems[deploy]'`` for the checkers. From Python::

    from raw.deploy import check_deployment, render

    render(project)                       # writes deploy/ from .raw/config.yaml
    report = check_deployment("deploy")   # the docker-validate gate
    assert report.ok, report.findings

``raw.system`` imports :mod:`raw.deploy.config` on every config validation, so
this package imports nothing else until a name is used. See docs/deploy.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from raw.deploy.config import DeployConfig

if TYPE_CHECKING:
    from raw.deploy.check import check_deployment
    from raw.deploy.findings import CheckReport, Finding, ToolMissingError
    from raw.deploy.rendering import Rendered, render

__all__ = [
    "CheckReport",
    "DeployConfig",
    "Finding",
    "Rendered",
    "ToolMissingError",
    "check_deployment",
    "render",
]

_LAZY = {
    "check_deployment": "raw.deploy.check",
    "CheckReport": "raw.deploy.findings",
    "Finding": "raw.deploy.findings",
    "ToolMissingError": "raw.deploy.findings",
    "Rendered": "raw.deploy.rendering",
    "render": "raw.deploy.rendering",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'raw.deploy' has no attribute '{name}'")

    return getattr(importlib.import_module(module), name)
