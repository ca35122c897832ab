"""`raw new system`: a working project for one branch of the decision tree.

- ``single``: one RAW workflow (``raw create``'s), mocks, tests, gates, README.
- ``temporal``: RAW workflows ``analyze`` and ``finalize``, a Temporal process on
  the orchestrator kit (a durable day's wait between them), its activity, the
  worker, time-skipping tests that record the histories the replay gate needs,
  schedules, and deployment files from ``raw deploy render``.
- ``full``: that, plus the FastAPI app with the named webhooks (the first starts
  the process, each other one is a signal it waits for), database models with
  an initial migration, a ``raw simulate`` scenario and the full deployment.

Every pattern gets ``.raw/config.yaml`` (``system:`` and ``builder.gates``), tests
for each component and a README with a Mermaid diagram. The code lives in
templates beside this module (``templates/system/``), like ``raw create``'s.
"""

from __future__ import annotations

import importlib.util
import keyword
import re
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template

from raw import clock
from raw.cron import InvalidCronError, check_cron
from raw.errors import UsageError
from raw.scaffold.decision import DEFAULT_WEBHOOKS, PATTERNS, Pattern
from raw.scaffold.workflow import ScaffoldExistsError, class_name, create_workflow, init_project

__all__ = [
    "InvalidSystemNameError",
    "ScheduleSpec",
    "SystemOptions",
    "SystemPlan",
    "check_system_name",
    "parse_schedule",
    "plan_system",
    "write_system",
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
    from raw.project import WORKFLOW_ID

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
    from raw.coordinator.verify import known_schemes

    known = known_schemes()
    if scheme not in known:
        raise UsageError(
            f"--webhook '{text}' names the scheme '{scheme}', which is not known. Known "
            f"schemes: {', '.join(known)}; write NAME:SCHEME, e.g. '{name}:github', or just "
            f"'{name}' for {DEFAULT_SCHEME}."
        )
    return name, scheme


class _Writer:
    def __init__(self, plan: SystemPlan) -> None:
        self.plan = plan
        self.root = plan.options.directory
        self.files: list[Path] = []
        self.values = plan.values()

    def text(self, template: str, **extra: str) -> str:
        source = resources.files("raw.scaffold").joinpath("templates", "system", template)
        return Template(source.read_text("utf-8")).substitute({**self.values, **extra})

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.files.append(path)

    def render(self, template: str, relative: str, **extra: str) -> None:
        self.write(relative, self.text(template, **extra))

    def copy(self, template: str, relative: str) -> None:
        source = resources.files("raw.scaffold").joinpath("templates", "system", template)
        self.write(relative, source.read_text("utf-8"))


def _workflows(w: _Writer) -> None:
    plan = w.plan
    if plan.pattern == "single":
        created = create_workflow(
            w.root / ".raw" / "workflows",
            plan.name,
            intent=f"Summarise a text for {plan.title}.",
            force=plan.options.force,
        )
        w.files += created.files
        return
    for workflow_id in GENERATED_WORKFLOWS:
        folder = f".raw/workflows/{workflow_id}"
        w.render(f"workflows/{workflow_id}.py.tmpl", f"{folder}/run.py")
        w.render(f"workflows/{workflow_id}_params.json.tmpl", f"{folder}/mocks/params.json")
        w.render(f"workflows/{workflow_id}_test.py.tmpl", f"{folder}/test_{workflow_id}.py")
    for schedule in plan.options.schedules:
        values = {
            "workflow_id": schedule.workflow,
            "class_name": class_name(schedule.workflow),
            "cron": schedule.cron,
        }
        folder = f".raw/workflows/{schedule.workflow}"
        test = f"{folder}/test_{schedule.workflow.replace('-', '_')}.py"
        w.render("workflows/report.py.tmpl", f"{folder}/run.py", **values)
        w.render("workflows/report_params.json.tmpl", f"{folder}/mocks/params.json", **values)
        w.render("workflows/report_test.py.tmpl", test, **values)


def _package(w: _Writer) -> None:
    plan = w.plan
    pkg = plan.package
    w.render("package/init.py.tmpl", f"{pkg}/__init__.py")
    kind = "full" if plan.pattern == "full" else "temporal"
    w.render(f"package/contracts_{kind}.py.tmpl", f"{pkg}/contracts.py")
    w.render(f"package/activities_{kind}.py.tmpl", f"{pkg}/activities.py")
    w.render(f"tests/conftest_{kind}.py.tmpl", "tests/conftest.py", secret_lines=_secrets(plan))
    follow_ups = "".join(f'\n    "{f}",' for f in plan.follow_ups)
    if len(plan.follow_ups) < 2:  # ("one",) or (): what ruff format writes too
        follow_ups = follow_ups.strip()
    follow_ups = f"({follow_ups}\n)" if len(plan.follow_ups) > 1 else f"({follow_ups})"
    # A process that waits for nothing cannot expire: no test for it (full pattern only).
    expiry = w.text("tests/test_process_expiry.py.tmpl") if plan.follow_ups else ""
    w.render(
        f"tests/test_process_{kind}.py.tmpl",
        "tests/test_process.py",
        follow_ups=follow_ups,
        expiry_test=expiry,
    )
    w.render(f"tests/test_activities_{kind}.py.tmpl", "tests/test_activities.py")
    w.render("tests/test_deploy.py.tmpl", "tests/test_deploy.py")
    if plan.pattern == "temporal":
        w.render("package/process_temporal.py.tmpl", f"{pkg}/process.py")
        return
    waits = "".join(
        w.text("package/wait_block.py.tmpl", signal=s, variable=s.replace("-", "_") + "_signal")
        for s in plan.follow_ups
    )
    waits_doc = (
        "\n".join(f"-> up to 7 days for '{s}' (else expired)" for s in plan.follow_ups)
        or "-> nothing more to wait for"
    )
    names = "FirstSignal, RawProcess, execute_raw" + (", first_signal" if plan.follow_ups else "")
    w.render(
        "package/process_full.py.tmpl",
        f"{pkg}/process.py",
        waits=waits,
        waits_doc=waits_doc,
        orchestrator_imports=names,
    )
    for name in ("tables", "state", "api"):
        w.render(f"package/{name}.py.tmpl", f"{pkg}/{name}.py")
    w.write(f"{pkg}/models.py", _models(plan))
    w.write(f"{pkg}/handlers.py", _handlers(plan))
    w.render("migrations/env.py.tmpl", f"{pkg}/migrations/env.py")
    w.copy("migrations/script.py.mako.tmpl", f"{pkg}/migrations/script.py.mako")
    w.render("migrations/initial.py.tmpl", f"{pkg}/migrations/versions/0001_{plan.table}.py")
    w.render("tests/test_api.py.tmpl", "tests/test_api.py")
    w.render("tests/test_scenarios.py.tmpl", "tests/test_scenarios.py")
    from raw.scaffold.system_files import scenario

    w.write("scenarios/happy-path.yaml", scenario(plan))


def _secrets(plan: SystemPlan) -> str:
    return "".join(f'    "{plan.secret_of(h)}": _secret(),\n' for h in plan.webhooks)


def _models(plan: SystemPlan) -> str:
    lines = [
        '"""The bodies of the system\'s webhooks, as their senders post them.',
        "",
        "Each route in ``.raw/config.yaml`` names one of these; a body that does not",
        'validate is answered 422 and stores nothing."""',
        "",
        "from __future__ import annotations",
        "",
        "from pydantic import BaseModel, Field",
        "",
        'REQUEST_ID = r"^[A-Za-z0-9._-]+$"',
        "",
    ]
    start = plan.start_webhook
    lines += [
        "",
        f"class {plan.model_of(start)}(BaseModel):",
        f'    """The \'{start}\' webhook: starts a request\'s process."""',
        "",
        "    request_id: str = Field(min_length=1, max_length=64, pattern=REQUEST_ID)",
        "    name: str = Field(min_length=1, max_length=200)",
        "    text: str = Field(min_length=1, max_length=20_000)",
        "",
    ]
    for follow_up in plan.follow_ups:
        lines += [
            "",
            f"class {plan.model_of(follow_up)}(BaseModel):",
            f'    """The \'{follow_up}\' webhook: signals its running process."""',
            "",
            "    request_id: str = Field(min_length=1, max_length=64, pattern=REQUEST_ID)",
            '    note: str = Field(default="", max_length=2_000)',
            "",
        ]
    return "\n".join(lines)


def _handlers(plan: SystemPlan) -> str:
    models = ", ".join(sorted(plan.model_of(h) for h in plan.webhooks))
    start = plan.start_webhook
    text = f'''"""Webhook handlers: the entity change made in the delivery's own transaction.

Each returns the request id, which the coordinator stores as the delivery's
entity key (what ``raw db erase <request-id>`` finds).
"""

from __future__ import annotations

from raw import clock
from raw.coordinator.db.models import Delivery
from sqlalchemy.ext.asyncio import AsyncSession

from {plan.package}.models import {models}
from {plan.package}.tables import RequestRow


async def {plan.handler_of(start)}(
    session: AsyncSession,
    body: {plan.model_of(start)},
    delivery: Delivery,
) -> str:
    """A new request is ``received``; the same request sent again changes nothing."""
    if await session.get(RequestRow, body.request_id) is None:
        now = clock.now()
        session.add(
            RequestRow(
                request_id=body.request_id,
                name=body.name,
                text=body.text,
                status="received",
                correlation_id=delivery.correlation_id,
                created_at=now,
                updated_at=now,
            )
        )
    return body.request_id
'''
    for follow_up in plan.follow_ups:
        text += f"""

async def {plan.handler_of(follow_up)}(
    session: AsyncSession,
    body: {plan.model_of(follow_up)},
    delivery: Delivery,
) -> str:
    return body.request_id
"""
    return text


@dataclass
class WrittenSystem:
    root: Path
    files: list[Path]
    notes: list[str]


def write_system(plan: SystemPlan) -> WrittenSystem:
    """Write the project (then render its deployment and record its histories)."""
    from raw.scaffold.system_files import finish, project_files

    root = plan.options.directory
    root.mkdir(parents=True, exist_ok=True)
    writer = _Writer(plan)
    init = init_project(root, name=plan.name)
    writer.files += init.files
    _workflows(writer)
    if plan.pattern != "single":
        _package(writer)
    for relative, text in project_files(plan).items():
        writer.write(relative, text)
    notes = finish(plan, writer.files)
    return WrittenSystem(root, writer.files, notes)
