"""`raw new system`, first half: the options checked and turned into a :class:`SystemPlan`.

:mod:`raw.scaffold.system` writes a plan; :mod:`raw.scaffold.system_files` and
:mod:`raw.scaffold.system_readme` render parts of it.
"""

from __future__ import annotations

import importlib.util
import keyword
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from raw import clock
from raw.config.cron import InvalidCronError, check_cron
from raw.coordinator.verify import known_schemes
from raw.errors import UsageError
from raw.project import WORKFLOW_ID
from raw.scaffold.decision import DEFAULT_WEBHOOKS, PATTERNS, Pattern
from raw.scaffold.workflow import ScaffoldExistsError, class_name

__all__ = [
    "InvalidSystemNameError",
    "ScheduleSpec",
    "SystemOptions",
    "SystemPlan",
    "check_system_name",
    "parse_schedule",
    "plan_system",
]

NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
NAME_RULE = (
    "lowercase letters, digits and dashes, starting with a letter, at most 40 characters "
    "(for example 'onboarding' or 'expense-approvals')"
)
GENERATED_WORKFLOWS = ("analyze", "finalize")


class InvalidSystemNameError(UsageError):
    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"'{name}' cannot name a system: {reason}")


def check_system_name(name: str) -> str:
    """The Python package for ``name``; raises with the rule the name broke."""
    if not NAME.match(name):
        raise InvalidSystemNameError(name, f"use {NAME_RULE}.")
    package = name.replace("-", "_")
    if keyword.iskeyword(package):
        raise InvalidSystemNameError(name, f"'{package}' is a Python keyword; choose another.")
    taken = package in sys.stdlib_module_names or package in ("raw", "raw_runtime", "tests")
    if not taken:
        try:
            taken = importlib.util.find_spec(package) is not None
        except (ImportError, ValueError):
            taken = True
    if taken:
        raise InvalidSystemNameError(
            name,
            f"its package '{package}' would shadow the installed module of that name "
            "(the system's code is imported by that name); choose another.",
        )
    return package


@dataclass(frozen=True)
class ScheduleSpec:
    cron: str
    workflow: str

    @property
    def text(self) -> str:
        return f"{self.cron}:{self.workflow}"


def parse_schedule(text: str) -> ScheduleSpec:
    """``"0 8 * * *:daily-report"`` -> the cron and the RAW workflow it runs."""

    cron, sep, workflow = text.rpartition(":")
    if not sep or len(cron.split()) != 5 or not WORKFLOW_ID.match(workflow):
        raise UsageError(
            f"--schedule '{text}' is not CRON:WORKFLOW, e.g. '0 8 * * *:daily-report' "
            "(five cron fields, then a workflow id of lowercase letters, digits and dashes)."
        )
    if workflow in GENERATED_WORKFLOWS:
        raise UsageError(
            f"--schedule names '{workflow}', a workflow the process itself runs; name the "
            "report the schedule runs, e.g. '0 8 * * *:daily-report'."
        )
    cron = " ".join(cron.split())
    try:
        check_cron(cron, schedule=workflow)  # the id the config gives it
    except InvalidCronError as exc:
        raise UsageError(f"--schedule '{text}': {exc} Fix the cron and run again.") from None
    return ScheduleSpec(cron, workflow)


DEFAULT_SCHEME = "standard-webhooks"


@dataclass
class SystemOptions:
    name: str
    pattern: Pattern
    directory: Path
    webhooks: list[str] = field(default_factory=list)
    """``NAME`` or ``NAME:SCHEME`` (a webhook scheme; default standard-webhooks)."""
    schedules: list[ScheduleSpec] = field(default_factory=list)
    force: bool = False


@dataclass
class SystemPlan:
    """What will be generated, checked before any file is touched."""

    options: SystemOptions
    package: str
    webhooks: list[str]
    schemes: dict[str, str] = field(default_factory=dict)
    """Each webhook's signature scheme."""

    @property
    def name(self) -> str:
        return self.options.name

    @property
    def pattern(self) -> Pattern:
        return self.options.pattern

    @property
    def title(self) -> str:
        return self.name.replace("-", " ").capitalize()

    @property
    def process_class(self) -> str:
        return class_name(self.name) + "Process"

    @property
    def process_type(self) -> str:
        # Lazy: needs the orchestrator extra, which may be missing.
        from raw.orchestrator.client import process_type

        return process_type(self.process_class)

    @property
    def settings_prefix(self) -> str:
        return self.package.upper()

    @property
    def table(self) -> str:
        return f"{self.package}_requests"

    @property
    def start_webhook(self) -> str:
        return self.webhooks[0] if self.webhooks else ""

    @property
    def follow_ups(self) -> list[str]:
        return self.webhooks[1:]

    def scheme_of(self, webhook: str) -> str:
        return self.schemes.get(webhook, DEFAULT_SCHEME)

    def model_of(self, webhook: str) -> str:
        return class_name(webhook) + "Body"

    def secret_of(self, webhook: str) -> str:
        return f"{self.settings_prefix}_{webhook.replace('-', '_').upper()}_SECRET"

    def handler_of(self, webhook: str) -> str:
        return webhook.replace("-", "_") + "_received"

    def values(self) -> dict[str, str]:
        summary = {
            "single": "one RAW workflow, checked by its gates.",
            "temporal": "RAW workflows in a durable Temporal process.",
            "full": "webhooks, a durable Temporal process, RAW workflows and a database.",
        }[self.pattern]
        return {
            "name": self.name,
            "package": self.package,
            "title": self.title,
            "summary": summary,
            "process_class": self.process_class,
            "process_type": self.process_type,
            "settings_prefix": self.settings_prefix,
            "table": self.table,
            "base_class": class_name(self.name) + "Base",
            "start_webhook": self.start_webhook,
            "start_model": self.model_of(self.start_webhook) if self.webhooks else "",
            "date": clock.today().isoformat(),
        }


def plan_system(options: SystemOptions) -> SystemPlan:
    """Check everything about ``options``; raises UsageError before any file is written."""
    package = check_system_name(options.name)
    if options.pattern not in PATTERNS:
        raise UsageError(f"--pattern must be one of {', '.join(PATTERNS)}.")
    schemes = dict(_parse_webhook(text) for text in options.webhooks)
    webhooks = list(schemes)
    if options.pattern != "full" and webhooks:
        raise UsageError(
            "--webhook needs --pattern full: webhooks are received by the FastAPI coordinator."
        )
    if options.pattern == "single" and options.schedules:
        raise UsageError(
            "--schedule needs --pattern temporal or full: a Temporal Schedule runs the report."
        )
    if options.pattern == "full" and not webhooks:
        webhooks = list(DEFAULT_WEBHOOKS)
    for webhook in webhooks:
        if not NAME.match(webhook):
            raise UsageError(f"--webhook '{webhook}' is not a route name: use {NAME_RULE}.")
    ids = [s.workflow for s in options.schedules]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise UsageError(f"--schedule names {', '.join(repeated)} more than once.")
    target = options.directory
    if target.exists() and any(target.iterdir()) and not options.force:
        raise ScaffoldExistsError(target)
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} exists and is not a folder.")
    return SystemPlan(
        options, package, webhooks, {w: schemes.get(w, DEFAULT_SCHEME) for w in webhooks}
    )


def _parse_webhook(text: str) -> tuple[str, str]:
    """``"payment:github"`` -> the route's name and its signature scheme."""
    name, sep, scheme = text.partition(":")
    if not sep:
        return name, DEFAULT_SCHEME

    known = known_schemes()
    if scheme not in known:
        raise UsageError(
            f"--webhook '{text}' names the scheme '{scheme}', which is not known. Known "
            f"schemes: {', '.join(known)}; write NAME:SCHEME, e.g. '{name}:github', or just "
            f"'{name}' for {DEFAULT_SCHEME}."
        )
    return name, scheme
