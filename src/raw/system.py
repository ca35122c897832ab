"""Deprecated: the ``system:`` schema moved to :mod:`raw.config` (one module per section).

Each name still answers here for one release, with a DeprecationWarning.
"""

from __future__ import annotations

from raw._moved import moved_names

_MOVED = {
    "ScheduleConfig": "raw.config.orchestrator",
    "OrchestratorConfig": "raw.config.orchestrator",
    "ActionConfig": "raw.config.coordinator",
    "WebhookConfig": "raw.config.coordinator",
    "DispatcherConfig": "raw.config.coordinator",
    "EntityConfig": "raw.config.coordinator",
    "CoordinatorConfig": "raw.config.coordinator",
    "SystemGatesConfig": "raw.config.system",
    "SystemConfig": "raw.config.system",
    "DeployConfig": "raw.config.deploy",
    "IntegrationsConfig": "raw.config.integrations",
}

__getattr__ = moved_names(__name__, _MOVED)
