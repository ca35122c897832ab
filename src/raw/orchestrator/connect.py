"""One way to reach Temporal, used by every client in the kit.

The address comes from ``TEMPORAL_ADDRESS``, else ``system.orchestrator.address``
in the project config, else a named profile of Temporal's client config, else the
server this project's running ``raw up`` uses (``.raw/up/state.json``: a
``TEMPORAL_ADDRESS`` set only in its terminal is found from any other), else this
project's running embedded engine (``raw engine start``). The Pydantic data
converter is always on, so Pydantic models cross process and activity boundaries
as themselves.

A server you point at (the first three) is reached with Temporal's own client
settings: TLS, mutual TLS and an API key, and ``TEMPORAL_NAMESPACE``
(:mod:`raw.orchestrator.security`). The embedded engine and ``raw up``'s are the
project's own, plain on this machine.
"""

from __future__ import annotations

import os
import sys
import types
import warnings
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from raw import tracing
from raw.config.orchestrator import OrchestratorConfig
from raw.errors import RawError
from raw.orchestrator import runtime
from raw.orchestrator.engine import running_address
from raw.orchestrator.security import (
    Security,
    TemporalSecurityError,
    TemporalUnavailableError,
    refused,
    resolve_security,
)
from raw.project import Project, find_project
from raw.up_state import read_running

__all__ = [
    "Target",
    "TemporalSecurityError",
    "TemporalUnavailableError",
    "connect",
    "orchestrator_config",
    "resolve_target",
]


@dataclass(frozen=True)
class Target:
    """Where the kit's clients connect, why there, and how the connection is secured."""

    address: str
    namespace: str
    task_queue: str
    source: str
    """'TEMPORAL_ADDRESS', 'config', "profile '<name>' ...", 'raw up' or 'embedded engine'."""
    security: Security = field(default_factory=Security)
    """TLS and API key; never printed (``security.describe()`` is safe to show)."""


def orchestrator_config(project: Project | None) -> OrchestratorConfig:
    config = project.config.system.orchestrator if project is not None else OrchestratorConfig()
    return config.effective()


def resolve_target(project: Project | None = None) -> Target:
    """The address to connect to; raises TemporalUnavailableError when there is none.

    Raises TemporalSecurityError when a required API key is missing, and ConfigError
    when a named profile of Temporal's client config cannot be read.
    """
    written = project.config.system.orchestrator if project is not None else OrchestratorConfig()
    config = written.effective()
    secured = resolve_security(config, root=project.root if project is not None else None)
    if secured.address is not None:
        namespace = config.namespace
        # TEMPORAL_NAMESPACE wins over the config; a profile's only over its default.
        if (
            not os.environ.get("RAW_TEMPORAL_NAMESPACE")
            and secured.namespace is not None
            and (
                secured.namespace_from == "TEMPORAL_NAMESPACE"
                or "namespace" not in written.model_fields_set
            )
        ):
            namespace = secured.namespace
        return Target(
            secured.address,
            namespace,
            config.task_queue,
            secured.address_from or "config",
            secured.security,
        )
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
    secure = target.security.connect_kwargs(target.address)  # reads the certificate files
    try:
        return await Client.connect(
            target.address,
            namespace=target.namespace,
            data_converter=pydantic_data_converter,
            # Tracing on: Temporal's TracingInterceptor, which the client's workers inherit.
            interceptors=tracing.temporal_interceptors(),
            **secure,
        )
    except RuntimeError as exc:  # the SDK's connection failure
        named = refused(exc, address=target.address, security=target.security)
        if named is not None:  # a TLS or key setting to fix, not a server to start
            raise named from None
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
