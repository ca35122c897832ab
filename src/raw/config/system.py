"""The ``system:`` section of ``.raw/config.yaml``: the parts of a system and how they meet.

Validated strictly like the rest of the config: an unknown key is an error naming
it and listing what is allowed. Each part's section has its own module in this
package: :mod:`raw.config.orchestrator`, :mod:`raw.config.coordinator`,
:mod:`raw.config.integrations`, :mod:`raw.config.deploy` and :mod:`raw.config.observability`.

    system:
      name: hiring
      orchestrator: {task_queue: hiring, workflows: [hiring.process]}
      coordinator: {webhooks: [...]}
      integrations: {email: {adapter: outbox}}
      deploy: {image: {name: hiring}}
      observability: {log_format: json, trace_url: "http://localhost:16686/trace/{trace_id}"}
"""

from __future__ import annotations

from pydantic import Field

from raw.config._base import Strict
from raw.config.coordinator import CoordinatorConfig
from raw.config.deploy import DeployConfig
from raw.config.integrations import IntegrationsConfig
from raw.config.observability import ObservabilityConfig
from raw.config.orchestrator import OrchestratorConfig

__all__ = ["SystemConfig", "SystemGatesConfig"]


class SystemGatesConfig(Strict):
    """What the system-level gates need to know that the code does not say."""

    external_signals: dict[str, list[str]] = Field(
        default_factory=dict,
        description=(
            "Signals a process waits for that something other than a webhook route sends "
            "(an operator with `raw process signal`, another process), by process type: "
            "system-check accepts them, e.g. {HiringProcess: [withdrawn]}."
        ),
    )


class SystemConfig(Strict):
    """Everything about the system beyond its RAW workflows."""

    name: str | None = Field(
        default=None,
        description=(
            "Names the deployment's objects and default image, marks the schedules it owns, "
            "titles the operator page; default: the project's name, else its folder's."
        ),
    )
    orchestrator: OrchestratorConfig = Field(
        default_factory=OrchestratorConfig,
        description="Temporal: where it is, which code the worker serves, and the schedules.",
    )
    coordinator: CoordinatorConfig = Field(
        default_factory=CoordinatorConfig,
        description="The FastAPI coordinator: webhooks, the inbox, the dispatcher, the API.",
    )
    integrations: IntegrationsConfig = Field(
        default_factory=IntegrationsConfig,
        description="The adapter of each integration; a section left out is not available.",
    )
    deploy: DeployConfig = Field(
        default_factory=DeployConfig,
        description="How `raw deploy render` packages and runs the system: image, Compose, Helm.",
    )
    observability: ObservabilityConfig = Field(
        default_factory=ObservabilityConfig,
        description="The running parts' log format and the trace viewer's link.",
    )
    gates: SystemGatesConfig = Field(
        default_factory=SystemGatesConfig, description="What system-check needs to know."
    )
