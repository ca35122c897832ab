"""The architecture's decision tree, as data: which pattern a system needs, and why.

    Does it need state across days? --NO--> a single RAW workflow
        | YES
    Does it need webhooks? ----------NO--> Temporal + RAW workflows          (temporal)
        | YES
    FastAPI + Temporal + RAW workflows + deployment                          (full)

A schedule adds scheduled reports (Temporal Schedules running a RAW workflow) to
the ``temporal`` or ``full`` pattern; asked for on its own, it needs ``temporal``.
"""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["PATTERNS", "Branch", "Pattern", "Recommendation", "decide"]

Pattern = Literal["single", "temporal", "full"]
PATTERNS: tuple[Pattern, ...] = ("single", "temporal", "full")

DESCRIPTIONS: dict[Pattern, str] = {
    "single": "a single RAW workflow",
    "temporal": "Temporal + RAW workflows",
    "full": "FastAPI + Temporal + RAW workflows + deployment",
}
COMPONENTS: dict[Pattern, list[str]] = {
    "single": ["RAW workflow with mocks and tests", ".raw/config.yaml with gates", "README"],
    "temporal": [
        "RAW workflows",
        "a Temporal process with time-skipping tests and recorded histories",
        "activities",
        "the worker",
        "deployment (Compose, Kubernetes, Helm) for the worker and Temporal",
    ],
    "full": [
        "RAW workflows",
        "a Temporal process with time-skipping tests and recorded histories",
        "activities",
        "a FastAPI app with the webhooks (coordinator kit)",
        "database models with an initial migration",
        "a raw simulate scenario",
        "the full deployment (Compose, Kubernetes, Helm)",
    ],
}
DEFAULT_WEBHOOKS = ("submission", "confirmation")


@dataclass(frozen=True)
class Branch:
    question: str
    answer: str
    explanation: str


@dataclass
class Recommendation:
    pattern: Pattern
    branches: list[Branch] = field(default_factory=list)
    schedules: list[str] = field(default_factory=list)
    webhooks: list[str] = field(default_factory=list)
    command: list[str] = field(default_factory=list)

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self.pattern]

    @property
    def components(self) -> list[str]:
        extra = ["scheduled reports (Temporal Schedules)"] if self.schedules else []
        return [*COMPONENTS[self.pattern], *extra]

    @property
    def command_line(self) -> str:
        return shlex.join(self.command)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "description": self.description,
            "branches": [asdict(b) for b in self.branches],
            "components": self.components,
            "schedules": self.schedules,
            "webhooks": self.webhooks,
            "command": self.command_line,
            "argv": self.command,
        }


def decide(
    *,
    state_across_days: bool,
    webhooks: bool,
    schedules: list[str] | None = None,
    webhook_names: list[str] | None = None,
    name: str = "my-system",
) -> Recommendation:
    """Walk the tree for these answers; ``schedules`` are ``CRON:WORKFLOW`` specs."""
    schedules = list(schedules or [])
    branches: list[Branch] = []
    pattern: Pattern
    if not state_across_days:
        branches.append(
            Branch(
                "Does it need state across days?",
                "no",
                "Nothing has to be remembered between runs, so one stateless RAW workflow "
                "(params in, output out) does the job with no orchestrator or database.",
            )
        )
        pattern = "single"
        if webhooks:
            branches.append(
                Branch(
                    "Does it need webhooks?",
                    "yes, but the tree stops at the first question",
                    "Without state across days a sender can run the workflow directly "
                    "(`raw run`, or a coordinator route with a run_workflow action).",
                )
            )
    else:
        branches.append(
            Branch(
                "Does it need state across days?",
                "yes",
                "Something must wait, sleep until a date or survive restarts between steps: "
                "that is a durable Temporal process running RAW workflows as activities.",
            )
        )
        if webhooks:
            branches.append(
                Branch(
                    "Does it need webhooks?",
                    "yes",
                    "Events arrive from outside, so a FastAPI coordinator verifies and stores "
                    "each one, then starts or signals the process; with a database for state "
                    "and deployment files for everything.",
                )
            )
            pattern = "full"
        else:
            branches.append(
                Branch(
                    "Does it need webhooks?",
                    "no",
                    "Processes are started by people or schedules (`raw process start`), so "
                    "Temporal and its worker are enough: no web app, no database of its own.",
                )
            )
            pattern = "temporal"
    if schedules:
        if pattern == "single":
            pattern = "temporal"
            explanation = (
                "Something must keep time, so the schedule becomes a Temporal Schedule "
                "running the report workflow: that needs the temporal pattern."
            )
        else:
            explanation = (
                "The schedule adds scheduled reports: a Temporal Schedule (or a Kubernetes "
                "CronJob) runs a RAW workflow at the given times."
            )
        branches.append(Branch("Does it run on a schedule?", "yes", explanation))
    names = list(webhook_names or []) if pattern == "full" else []
    if pattern == "full" and not names:
        names = list(DEFAULT_WEBHOOKS)
    command = ["raw", "new", "system", name, "--pattern", pattern]
    for webhook in names:
        command += ["--webhook", webhook]
    for schedule in schedules:
        command += ["--schedule", schedule]
    return Recommendation(pattern, branches, schedules, names, command)
