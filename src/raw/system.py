"""The ``system:`` section of ``.raw/config.yaml``: the parts of a system and how they meet.

Validated strictly like the rest of the config: an unknown key is an error naming
it and listing what is allowed. The orchestrator's part is filled in here; the
``coordinator``, ``integrations``, ``deploy`` and ``gates`` subsections are
reserved names that later parts of the kit define. Environment variables win over
the file: ``TEMPORAL_ADDRESS``, ``RAW_TEMPORAL_NAMESPACE``, ``RAW_TASK_QUEUE``.

    system:
      name: hiring
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
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScheduleConfig(_Strict):
    """A Temporal Schedule that runs a RAW workflow (Pattern 3: scheduled reports)."""

    id: str = Field(description="Unique schedule id, a lowercase slug.")
    cron: str = Field(description="Five-field cron expression, e.g. '0 8 * * *'.")
    timezone: str = Field(default="UTC", description="IANA time zone the cron is read in.")
    workflow: str = Field(description="The RAW workflow to run, by id.")
    args: list[str] = Field(
        default_factory=list, description="CLI-style args, e.g. ['--date', 'today']."
    )
    params: dict[str, Any] | None = Field(default=None, description="Params, instead of args.")
    paused: bool = False
    note: str | None = None

    @field_validator("id", "workflow")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(f"'{value}' is not a lowercase slug such as 'daily-report'")
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError(
                f"'{value}' is not a five-field cron expression (minute hour day month weekday)"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


class OrchestratorConfig(_Strict):
    """Temporal: where it is, which code the worker serves, and the schedules."""

    address: str | None = Field(
        default=None, description="host:port of a Temporal server; none means the embedded engine."
    )
    namespace: str = "default"
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
    schedules: list[ScheduleConfig] = Field(default_factory=list)

    @field_validator("workflows", "activities")
    @classmethod
    def _modules(cls, value: list[str]) -> list[str]:
        bad = [m for m in value if not _MODULE.match(m)]
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


class SystemConfig(_Strict):
    """Everything about the system beyond its RAW workflows."""

    name: str | None = None
    orchestrator: OrchestratorConfig = Field(default_factory=OrchestratorConfig)
    coordinator: dict[str, Any] | None = Field(
        default=None, description="Reserved: the FastAPI coordinator (webhooks, API, database)."
    )
    integrations: dict[str, Any] | None = Field(
        default=None, description="Reserved: email, calendar, telephony, storage, chat."
    )
    deploy: dict[str, Any] | None = Field(
        default=None, description="Reserved: Docker Compose, Kubernetes, Helm."
    )
    gates: dict[str, Any] | None = Field(
        default=None, description="Reserved: system-level gates such as the system check."
    )
