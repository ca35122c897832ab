"""Running a scenario: each step in order on a :class:`SimulatedSystem`, with a timeline.

Each step prints one line (simulated time, what happened, the result); the run
stops at the first step that does not go as the scenario says, with the
mismatches listed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from raw import clock
from raw.errors import RawError
from raw.project import Project
from raw.simulate.expect import ExpectationError, check, describe
from raw.simulate.harness import SimulatedSystem
from raw.simulate.scenario import (
    SCENARIO_KINDS,
    AdvanceStep,
    DeliverStep,
    Expectations,
    ExpectStep,
    RunStep,
    Scenario,
    ScheduleStep,
    SignalStep,
    Step,
    advance_target,
    render,
)

__all__ = ["ScenarioResult", "StepOutcome", "run_scenario", "stamp"]


class StepOutcome(BaseModel):
    index: int
    kind: str
    at: datetime = Field(description="Simulated time when the step ended.")
    summary: str
    ok: bool
    problems: list[str] = Field(default_factory=list)
    wall_seconds: float


class ScenarioResult(BaseModel):
    scenario: str
    path: str | None = None
    passed: bool
    steps: list[StepOutcome]
    started_at: datetime | None = None
    ended_at: datetime | None = None
    wall_seconds: float
    workdir: str
    error: str | None = None
    histories: list[str] = Field(
        default_factory=list, description="Histories saved for the replay gate (--record)."
    )


def stamp(moment: datetime) -> str:
    """A simulated time as the timeline prints it: the full date, to the second."""
    return f"{moment:%a %d %b %Y %H:%M:%S}"


class _StepFailed(Exception):
    def __init__(self, summary: str, problems: list[str]) -> None:
        self.summary = summary
        self.problems = problems


class _Run:
    def __init__(self, system: SimulatedSystem, scenario: Scenario) -> None:
        self.system = system
        self.scenario = scenario
        self.saved: dict[str, Any] = {}

    def render(self, value: Any) -> Any:
        return render(value, now=clock.now(), saved={**self._latest(), **self.saved})

    def _latest(self) -> dict[str, Any]:
        """``last_call`` and ``last_email``: what the local integrations recorded last."""
        services = self.system.services
        if services is None:
            return {}
        latest: dict[str, Any] = {}
        calls = services.calls.list()
        if calls:
            latest["last_call"] = calls[-1].model_dump(mode="json", by_alias=True)
        mail = services.mail.list()
        if mail:
            latest["last_email"] = mail[-1].model_dump(mode="json", by_alias=True)
        return latest

    async def step(self, step: Step) -> str:
        if isinstance(step, DeliverStep):
            return await self.deliver(step)
        if isinstance(step, AdvanceStep):
            before = clock.now()
            target = str(self.render(step.advance))
            try:
                by = advance_target(target, now=before)
            except ValueError as exc:
                raise _StepFailed(f"advance {target}", [str(exc)]) from None
            moved_from, after = await self.system.advance(by)
            return f"advance {target}: {stamp(moved_from)} -> {stamp(after)}"
        if isinstance(step, RunStep):
            result = await self.system.run_workflow(step.run, self.render(step.params))
            return self.finished(step.run, result, step.expect_status, step.save_as)
        if isinstance(step, ScheduleStep):
            result = await self.system.fire_schedule(step.schedule)
            return self.finished(
                f"schedule {step.schedule}", result, step.expect_status, step.save_as
            )
        if isinstance(step, SignalStep):
            return await self.signal(step)
        assert isinstance(step, ExpectStep)
        return await self.expect(step)

    async def signal(self, step: SignalStep) -> str:
        # Lazy: needs the orchestrator extra, which may be missing.
        from raw.orchestrator.client import (
            ProcessClosedError,
            ProcessNotFoundError,
            process_id,
            process_type,
        )

        if step.process is not None:
            pid = str(self.render(step.process))
        else:
            pid = process_id(process_type(str(step.type)), str(self.render(step.key)))
        summary = f"signal {step.signal} -> {pid}"
        try:
            await self.system.signal(
                pid,
                step.signal,
                self.render(step.payload),
                idempotency_key=self.render(step.idempotency_key),
            )
            status, refusal = "sent", ""
        except ProcessNotFoundError as exc:
            status, refusal = "not_found", str(exc)
        except ProcessClosedError as exc:
            status, refusal = "closed", str(exc)
        if status != step.expect_status:
            problems = [f"expected {step.expect_status!r}, got {status!r}"]
            raise _StepFailed(summary, problems + ([refusal] if refusal else []))
        return summary + ("" if status == "sent" else f": {status}, as expected")

    async def deliver(self, step: DeliverStep) -> str:
        answers = await self.system.deliver(
            step.deliver,
            self.render(step.body),
            query=self.render(step.query),
            delivery_id=self.render(step.delivery_id),
            repeat=step.repeat,
        )
        last = answers[-1]
        body = last.body if isinstance(last.body, dict) else {}
        summary = f"deliver {step.deliver}" + (f" x{step.repeat}" if step.repeat > 1 else "")
        summary += f" -> {last.status_code}"
        if body.get("target"):
            summary += f" ({body.get('action')} {body['target']})"
        problems = [
            f"delivery {i}: expected status {step.expect_status}, got {a.status_code}: {a.body}"
            for i, a in enumerate(answers, start=1)
            if a.status_code != step.expect_status
        ]
        if step.repeat > 1 and any(a.body != answers[0].body for a in answers):
            problems.append("the repeated deliveries were not all answered the same")
        if problems:
            raise _StepFailed(summary, problems)
        if step.save_as:
            entity = await self.system.entity_key(body.get("correlation_id"))
            self.saved[step.save_as] = last.saved(entity)
        return summary

    def finished(
        self, what: str, result: dict[str, Any], expected: str, save_as: str | None
    ) -> str:
        status = str(result.get("status"))
        summary = f"run {what} -> {status}"
        if save_as:
            self.saved[save_as] = result
        if status != expected:
            error = result.get("error")
            raise _StepFailed(summary, [f"expected status {expected!r}, got {status!r}: {error}"])
        return summary

    async def expect(self, step: ExpectStep) -> str:
        expectations = Expectations.model_validate(
            self.render(step.expect.model_dump(exclude_none=True))
        )
        settle = step.settle_seconds or self.scenario.settle_seconds
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settle
        summary = describe(expectations)
        while True:
            try:
                problems = await check(self.system, expectations)
            except ExpectationError as exc:  # waiting cannot make it hold
                raise _StepFailed(summary, [str(exc)]) from None
            if not problems:
                return summary + ": ok"
            if loop.time() > deadline:
                raise _StepFailed(summary + f": not met within {settle:g} s", problems)
            await asyncio.sleep(0.05)


async def run_scenario(
    project: Project,
    scenario: Scenario,
    *,
    workdir: Path,
    path: str | None = None,
    on_step: Callable[[StepOutcome], None] | None = None,
    record_histories: bool = False,
    database_url: str | None = None,
) -> ScenarioResult:
    """Run ``scenario`` against ``project`` in a fresh simulated system under ``workdir``.

    ``database_url`` is the system's database (default: a new SQLite file in ``workdir``);
    give an empty one, the scenario expects a system that starts with no data.
    """
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    outcomes: list[StepOutcome] = []
    started_at: datetime | None = None
    error: str | None = None
    histories: list[str] = []
    try:
        async with SimulatedSystem(
            project, workdir=workdir, settings=scenario.settings, database_url=database_url
        ) as system:
            started_at = clock.now()
            run = _Run(system, scenario)
            for index, step in enumerate(scenario.steps, start=1):
                kind = next(k for k in SCENARIO_KINDS if hasattr(step, k))
                s0 = loop.time()
                try:
                    summary, ok, problems = await run.step(step), True, []
                except _StepFailed as failed:
                    summary, ok, problems = failed.summary, False, failed.problems
                except RawError as exc:
                    summary, ok, problems = f"{kind} failed", False, [str(exc)]
                if getattr(step, "note", None):
                    summary += f"  # {step.note}"
                outcome = StepOutcome(
                    index=index,
                    kind=kind,
                    at=clock.now(),
                    summary=summary,
                    ok=ok,
                    problems=problems,
                    wall_seconds=round(loop.time() - s0, 3),
                )
                outcomes.append(outcome)
                if on_step is not None:
                    on_step(outcome)
                if not ok:
                    break
            ended_at = clock.now()
            if record_histories and all(o.ok for o in outcomes):
                label = Path(path).stem if path else scenario.name
                histories = [str(p) for p in await system.record_histories(label)]
    except RawError as exc:
        error = str(exc)
        ended_at = None
    passed = error is None and bool(outcomes) and all(o.ok for o in outcomes)
    passed = passed and len(outcomes) == len(scenario.steps)
    return ScenarioResult(
        scenario=scenario.name,
        path=path,
        passed=passed,
        steps=outcomes,
        started_at=started_at,
        ended_at=ended_at,
        wall_seconds=round(loop.time() - t0, 3),
        workdir=str(workdir),
        error=error,
        histories=histories,
    )
