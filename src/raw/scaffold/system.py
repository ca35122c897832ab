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
for each component and a README with the system map (``raw describe system``'s
Mermaid drawing). The code lives in
templates beside this module (``templates/system/``), like ``raw create``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from raw.describe.build import build_system_map
from raw.describe.readme import replace_block
from raw.project import Project
from raw.scaffold.system_files import finish, project_files, scenario
from raw.scaffold.system_plan import GENERATED_WORKFLOWS, SystemPlan
from raw.scaffold.workflow import class_name, create_workflow, init_project

__all__ = ["write_system"]


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
    w.copy("tests/test_readme.py.tmpl", "tests/test_readme.py")
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
    imported = ["FirstSignal", "RawProcess", "execute_activity", "execute_raw"]
    imported += ["first_signal"] if plan.follow_ups else []
    names = "\n".join(f"        {name}," for name in imported)  # one a line: ruff's own form
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


def _draw_readme(root: Path) -> None:
    """Put the system map, drawn from the files just written, into the README."""
    readme = root / "README.md"
    drawn = replace_block(readme.read_text("utf-8"), build_system_map(Project(root)))
    if drawn is not None:
        readme.write_text(drawn, encoding="utf-8")


def write_system(plan: SystemPlan) -> WrittenSystem:
    """Write the project (then render its deployment and record its histories)."""
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
    _draw_readme(root)
    notes = finish(plan, writer.files)
    return WrittenSystem(root, writer.files, notes)
