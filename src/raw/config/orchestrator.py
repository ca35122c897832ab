"""``system.orchestrator``: where Temporal is, which code the worker serves, the schedules.

Environment variables win over the file: ``TEMPORAL_ADDRESS``, ``RAW_TEMPORAL_NAMESPACE``,
``RAW_TASK_QUEUE``.

    system:
      orchestrator:
        task_queue: hiring
        workflows: [processes.hiring]          # modules holding @workflow.defn classes
        activities: [processes.activities]     # modules holding @activity.defn functions
        schedules:
          - id: daily-report
            cron: "0 8 * * *"
            timezone: Europe/Paris
            workflow: generate-report
            args: ["--date", "today"]
"""

from __future__ import annotations

import os
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, field_validator, model_validator

from raw.config._base import MODULE, SLUG, Strict
from raw.config.cron import check_cron
from raw.config.temporal import TemporalConnectionConfig

__all__ = ["OrchestratorConfig", "ScheduleConfig"]


class ScheduleConfig(Strict):
    """A Temporal Schedule that runs a RAW workflow (Pattern 3: scheduled reports)."""

    id: str = Field(description="Unique schedule id, a lowercase slug.")
    cron: str = Field(
        description=(
            "Five-field cron expression (minute hour day-of-month month day-of-week), "
            "e.g. '0 8 * * mon-fri'; checked as Temporal Schedules read it."
        )
    )
    timezone: str = Field(default="UTC", description="IANA time zone the cron is read in.")
    workflow: str = Field(description="The RAW workflow to run, by id.")
    args: list[str] = Field(
        default_factory=list, description="CLI-style args, e.g. ['--date', 'today']."
    )
    params: dict[str, Any] | None = Field(default=None, description="Params, instead of args.")
    paused: bool = Field(
        default=False,
        description="Paused or not: the Temporal Schedule's state, or the CronJob's suspend.",
    )
    note: str | None = Field(
        default=None,
        description="The Temporal Schedule's note; default: one saying `raw` manages it.",
    )

    @field_validator("id", "workflow")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(f"'{value}' is not a lowercase slug such as 'daily-report'")
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str, info: ValidationInfo) -> str:
        return check_cron(value, schedule=info.data.get("id"))

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA time zone such as 'Europe/Paris'") from None
        return value

    @model_validator(mode="after")
    def _args_or_params(self) -> ScheduleConfig:
        if self.args and self.params is not None:
            raise ValueError("give the workflow's args or its params, not both")
        return self


class OrchestratorConfig(Strict):
    """Temporal: where it is, which code the worker serves, and the schedules."""

    address: str | None = Field(
        default=None, description="host:port of a Temporal server; none means the embedded engine."
    )
    namespace: str = Field(
        default="default",
        description=(
            "The Temporal namespace; RAW_TEMPORAL_NAMESPACE wins. The embedded engine and a "
            "rendered deployment's own Temporal create it."
        ),
    )
    task_queue: str = Field(default="raw", description="The task queue the worker polls.")
    workflows: list[str] = Field(
        default_factory=list, description="Modules holding @workflow.defn classes."
    )
    activities: list[str] = Field(
        default_factory=list, description="Modules holding @activity.defn functions."
    )
    activity_mode: Literal["in_process", "subprocess"] = Field(
        default="in_process", description="How run_raw_workflow runs RAW workflows."
    )
    schedules: list[ScheduleConfig] = Field(
        default_factory=list,
        description=(
            "RAW workflows run on a cron, as Temporal Schedules (`raw schedules sync`) or "
            "CronJobs (see system.deploy.schedules); a run never overlaps the one before."
        ),
    )
    connection: TemporalConnectionConfig = Field(
        default_factory=TemporalConnectionConfig,
        description=(
            "TLS, mutual TLS, API key and Temporal's client profile (never a secret inline); "
            "the TEMPORAL_* settings win."
        ),
    )

    @field_validator("workflows", "activities")
    @classmethod
    def _modules(cls, value: list[str]) -> list[str]:
        bad = [m for m in value if not MODULE.match(m)]
        if bad:
            raise ValueError(f"not importable module names: {', '.join(bad)} (use dotted names)")
        return value

    @model_validator(mode="after")
    def _unique_schedules(self) -> OrchestratorConfig:
        ids = [s.id for s in self.schedules]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"schedule ids must be unique: {', '.join(dupes)} repeated")
        return self

    def effective(self) -> OrchestratorConfig:
        """This config with the environment's overrides applied."""
        overrides: dict[str, Any] = {}
        if os.environ.get("TEMPORAL_ADDRESS"):
            overrides["address"] = os.environ["TEMPORAL_ADDRESS"]
        if os.environ.get("RAW_TEMPORAL_NAMESPACE"):
            overrides["namespace"] = os.environ["RAW_TEMPORAL_NAMESPACE"]
        if os.environ.get("RAW_TASK_QUEUE"):
            overrides["task_queue"] = os.environ["RAW_TASK_QUEUE"]
        return self.model_copy(update=overrides)
