"""One way to reach Temporal, used by every client in the kit.

The address comes from ``TEMPORAL_ADDRESS``, else ``system.orchestrator.address``
in the project config, else the server this project's running ``raw up`` uses
(``.raw/up/state.json``: a ``TEMPORAL_ADDRESS`` set only in its terminal is found
from any other), else this project's running embedded engine (``raw engine
start``). The Pydantic data converter is always on, so Pydantic models cross
process and activity boundaries as themselves.
"""

from __future__ import annotations

import os
import sys
import types
import warnings
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from raw.config.orchestrator import OrchestratorConfig
from raw.errors import RawError, ServiceUnreachableError
from raw.orchestrator import runtime
from raw.orchestrator.engine import running_address
from raw.project import Project, find_project
from raw.up_state import read_running


class TemporalUnavailableError(ServiceUnreachableError):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Target:
    """Where the kit's clients connect, and why there."""

    address: str
    namespace: str
    task_queue: str
    source: str
    """'TEMPORAL_ADDRESS', 'config', 'raw up' or 'embedded engine'."""


def orchestrator_config(project: Project | None) -> OrchestratorConfig:
    config = project.config.system.orchestrator if project is not None else OrchestratorConfig()
    return config.effective()


def resolve_target(project: Project | None = None) -> Target:
    """The address to connect to; raises TemporalUnavailableError when there is none."""
    config = orchestrator_config(project)
    env_address = os.environ.get("TEMPORAL_ADDRESS")
    if env_address:
        return Target(env_address, config.namespace, config.task_queue, "TEMPORAL_ADDRESS")
    if config.address:
        return Target(config.address, config.namespace, config.task_queue, "config")
    if project is not None:
        up = read_running(project)
        if up is not None and up.temporal_address:
            return Target(up.temporal_address, config.namespace, config.task_queue, "raw up")
        address = running_address(project)
        if address:
            return Target(address, config.namespace, config.task_queue, "embedded engine")
    raise TemporalUnavailableError(
        "No Temporal server to connect to: start the embedded engine with 'raw engine start', "
        "or set TEMPORAL_ADDRESS (or system.orchestrator.address in .raw/config.yaml)."
    )


async def connect(
    project: Project | Path | str | None = None, *, target: Target | None = None
) -> Client:
    """A Temporal client for the project's server, with the Pydantic data converter."""
    if not isinstance(project, Project):
        try:
            project = find_project(project)
        except RawError:
            if project is not None or not os.environ.get("TEMPORAL_ADDRESS"):
                raise
            project = None
    target = target or resolve_target(project)
    runtime.install()
    try:
        return await Client.connect(
            target.address,
            namespace=target.namespace,
            data_converter=pydantic_data_converter,
        )
    except RuntimeError as exc:  # the SDK's connection failure
        raise TemporalUnavailableError(
            f"Cannot reach Temporal at {target.address} (from {target.source}): {exc}. "
            "Is the server running? 'raw engine status' tells for the embedded engine."
        ) from None


class _CallableModule(types.ModuleType):
    """This module, callable for one release: ``from raw.orchestrator import connect`` gave
    the function before the split, and finds this module once it has been imported."""

    def __call__(
        self, project: Project | Path | str | None = None, *, target: Target | None = None
    ) -> Coroutine[Any, Any, Client]:
        warnings.warn(
            "raw.orchestrator.connect has moved: import it from raw.orchestrator.client "
            "('from raw.orchestrator.client import connect'). "
            "The old path stops working in the next release.",
            DeprecationWarning,
            stacklevel=2,
        )
        return connect(project, target=target)


sys.modules[__name__].__class__ = _CallableModule
