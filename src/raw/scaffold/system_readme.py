"""The README of a new system: the architecture as a Mermaid diagram, its parts, its commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

SCHEME_TITLES = {
    "standard-webhooks": "Standard Webhooks",
    "github": "GitHub signature",
    "twilio": "Twilio signature",
    "bearer": "bearer token",
}

if TYPE_CHECKING:
    from raw.scaffold.system_plan import SystemPlan

__all__ = ["readme"]


def _diagram(plan: SystemPlan) -> str:
    schedules = [s.workflow for s in plan.options.schedules]
    if plan.pattern == "single":
        lines = [
            f'    caller[You, a script or a job] -- "raw run {plan.name}" --> wf',
            f"    wf[RAW workflow<br/>{plan.name}] --> out[output + run record]",
        ]
    else:
        lines = []
        if plan.pattern == "full":
            for index, webhook in enumerate(plan.webhooks):
                what = "start" if index == 0 else f"signal '{webhook}'"
                title = SCHEME_TITLES.get(plan.scheme_of(webhook), plan.scheme_of(webhook))
                lines.append(
                    f'    s{index}[{webhook} sender] -- "POST /webhooks/{webhook}<br/>'
                    f'{title}" --> api'
                )
                lines.append(f'    api -. "dispatcher: {what}" .-> temporal')
            lines.append(
                f'    api[FastAPI coordinator<br/>{plan.package}.api] -- "delivery + request + '
                'inbox<br/>one transaction" --> db[(database)]'
            )
        else:
            lines.append(
                f'    you[You or a job] -- "raw process start {plan.process_class}" --> temporal'
            )
        lines.append(f"    temporal[Temporal] --> worker[worker<br/>{plan.process_class}]")
        lines.append(
            '    worker -- "run_raw_workflow" --> raw[RAW workflows<br/>analyze · finalize'
            + "".join(f" · {s}" for s in schedules)
            + "]"
        )
        if plan.pattern == "full":
            lines.append('    worker -- "update_request" --> db')
        else:
            lines.append('    worker -- "record_outcome" --> files[".raw/outcomes/"]')
        for schedule in plan.options.schedules:
            lines.append(
                f"    sched_{schedule.workflow.replace('-', '_')}"
                f'["Schedule {schedule.cron}: {schedule.workflow}"] --> temporal'
            )
    return "```mermaid\nflowchart LR\n" + "\n".join(lines) + "\n```"


def _parts(plan: SystemPlan) -> list[tuple[str, str]]:
    pkg = plan.package
    if plan.pattern == "single":
        return [
            (
                "RAW workflow",
                f"`.raw/workflows/{plan.name}/run.py` (Params, steps), `mocks/` for dry runs, "
                "its test beside it",
            ),
            ("Gates", "`.raw/config.yaml` `builder.gates`: validate, dry, tests"),
        ]
    parts = [
        (
            "RAW workflows",
            "`.raw/workflows/analyze` (scores a request), `finalize` (decides)"
            + "".join(f", `{s.workflow}` (scheduled report)" for s in plan.options.schedules)
            + "; each with `mocks/` and a test",
        ),
        (
            "The process",
            f"`{pkg}/process.py`: `{plan.process_class}`, deterministic; runs the RAW workflows "
            "with `execute_raw` and its activities by name",
        ),
        ("Activities", f"`{pkg}/activities.py`: the side effects, each safe to repeat"),
        ("Contracts", f"`{pkg}/contracts.py`: what the process and its activities exchange"),
    ]
    if plan.pattern == "full":
        parts += [
            (
                "Webhooks",
                "`system.coordinator.webhooks` in `.raw/config.yaml`: "
                + ", ".join(f"`{w}`" for w in plan.webhooks)
                + f" (bodies in `{pkg}/models.py`, handlers in `{pkg}/handlers.py`)",
            ),
            (
                "State",
                f"`{pkg}/tables.py` (`{plan.table}`) with its Alembic migrations in "
                f"`{pkg}/migrations`",
            ),
            ("API", f"`{pkg}/api.py`: `GET /api/requests`, `GET /api/requests/{{id}}` (token)"),
            ("Scenario", "`scenarios/happy-path.yaml`, run by `raw simulate` and the tests"),
        ]
    if plan.options.schedules:
        parts.append(
            (
                "Schedules",
                ", ".join(f"`{s.workflow}` at `{s.cron}` UTC" for s in plan.options.schedules),
            )
        )
    parts += [
        ("Deployment", "`deploy/`: Dockerfile, Compose, `k8s/`, Helm (`raw deploy render`)"),
        (
            "Recorded histories",
            "`.raw/histories/`: written by `tests/test_process.py` the first time it runs "
            "(`RAW_RECORD_HISTORIES=1` writes them again); the temporal-validate gate replays "
            "them",
        ),
        (
            "Tests",
            "`tests/` (process, activities"
            + (", API, scenario" if plan.pattern == "full" else "")
            + ", deployment) and each workflow's own",
        ),
    ]
    return parts


def _commands(plan: SystemPlan) -> str:
    if plan.pattern == "single":
        first = f"raw run {plan.name} --dry              # the workflow on its mocks"
    else:
        first = "raw up                       # the system, on embedded defaults"
    return (
        "```sh\n"
        f"{first}\n"
        "raw gates                    # every check: validate, dry, tests, system-check, ...\n"
        "```"
    )


def _try_it(plan: SystemPlan) -> str:
    if plan.pattern == "single":
        return f'raw run {plan.name} --text "Some text to summarise"\n'
    if plan.pattern == "temporal":
        data = '{"request_id": "r-1", "text": "Three laptops and accounts for Monday, please."}'
        return (
            f"raw process start {plan.process_class} --key r-1 --input '{data}'\n"
            f"raw process status {plan.process_type}/r-1\n"
        )
    start = '{"request_id": "r-1", "name": "Ada", "text": "Three laptops and accounts for Monday."}'
    lines = f"raw webhook send {plan.start_webhook} --data '{start}'\n"
    for follow_up in plan.follow_ups:
        lines += f'raw webhook send {follow_up} --data \'{{"request_id": "r-1"}}\'\n'
    lines += "raw simulate scenarios/*.yaml     # the same story on simulated time\n"
    return lines


def readme(plan: SystemPlan) -> str:
    rows = "\n".join(f"| {part} | {where} |" for part, where in _parts(plan))
    install = "pip install -r requirements-dev.txt"
    return f"""# {plan.title}

Generated by `raw new system {plan.name} --pattern {plan.pattern}`: {plan.values()["summary"]}
Edit the parts below; `raw gates` says whether they still agree.

{_diagram(plan)}

## The parts

| part | where |
|---|---|
{rows}

## Its two commands

{_commands(plan)}

First `{install}` (the kit, with what the tests need).

## Try it

```sh
{_try_it(plan)}```
"""
