"""Checking a scenario against its system before anything starts.

A route, a schedule or a workflow the system does not have, and an expression that
names a value no earlier step saved, are mistakes in the scenario file: they are
refused as malformed input (exit code 2) before the system starts, naming the step.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from raw.project import Project
from raw.simulate.scenario import (
    DELIVER_SAVED_FIELDS,
    LATEST_NAMES,
    DeliverStep,
    RunStep,
    Scenario,
    ScenarioError,
    ScheduleStep,
    expressions,
)

__all__ = ["check_against_system"]

_TIME = re.compile(r"^(now|today|uuid)(\s*[+-]\s*\S+)?$")


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"Known: {', '.join(known) or 'none'}.{hint}"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def check_against_system(scenario: Scenario, project: Project, path: Path | str) -> None:
    """Raise :class:`ScenarioError` for the first step that names what the system lacks."""
    system = project.config.system
    routes = [h.name for h in system.coordinator.webhooks]
    paths = [h.path for h in system.coordinator.webhooks]
    schedules = [s.id for s in system.orchestrator.schedules]
    workflows = project.workflow_ids()
    saved: dict[str, str] = {}  # name -> the kind of step that saved it
    for index, step in enumerate(scenario.steps, start=1):
        for text in _strings(step.model_dump(exclude_none=True)):
            for expression in expressions(text):
                problem = _expression_problem(expression, saved)
                if problem:
                    raise ScenarioError(path, problem, step=index)
        if (
            isinstance(step, DeliverStep)
            and "{{" not in step.deliver
            and step.deliver not in [*routes, *paths]
        ):
            raise ScenarioError(
                path,
                f"deliver: the system has no webhook route '{step.deliver}'. "
                + _suggest(step.deliver, routes),
                step=index,
            )
        if isinstance(step, ScheduleStep) and step.schedule not in schedules:
            raise ScenarioError(
                path,
                f"schedule: the system has no schedule '{step.schedule}' "
                "(system.orchestrator.schedules). " + _suggest(step.schedule, schedules),
                step=index,
            )
        if isinstance(step, RunStep) and "{{" not in step.run and step.run not in workflows:
            raise ScenarioError(
                path,
                f"run: the project has no workflow '{step.run}'. " + _suggest(step.run, workflows),
                step=index,
            )
        save_as = getattr(step, "save_as", None)
        if save_as:
            saved[save_as] = "deliver" if isinstance(step, DeliverStep) else "run"


def _expression_problem(expression: str, saved: dict[str, str]) -> str | None:
    if _TIME.match(expression):
        return None  # its duration is read (and refused) when the step runs
    name, _, rest = expression.partition(".")
    field = rest.split(".")[0] if rest else ""
    if name in LATEST_NAMES:
        return None
    if name not in saved:
        known = ", ".join(["now", "today", "uuid", *LATEST_NAMES, *saved])
        return (
            f"'{{{{ {expression} }}}}': no earlier step saved '{name}' (save_as: {name}). "
            f"Known here: {known}."
        )
    if saved[name] == "deliver" and field and field not in DELIVER_SAVED_FIELDS:
        return (
            f"'{{{{ {expression} }}}}': a delivery saved as '{name}' has no field '{field}'. "
            + _suggest(field, list(DELIVER_SAVED_FIELDS))
        )
    return None
