"""Simulated time moves only when a scenario says so, and then by exactly what it says.

A property over random sequences of the steps that touch Temporal (a schedule's run,
a webhook that starts a process, a workflow run, advances of every size), on the
hiring example: every step but ``advance`` leaves the server's clock where real time
alone would take it, and an ``advance`` moves it by what was asked.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.examples.conftest import copy_hiring

from raw.project import Project
from raw.simulate.harness import SimulatedSystem

SLACK = timedelta(seconds=1)
"""What the clock may gain beyond real time: the few milliseconds of the calls that read it."""

_ids = itertools.count()

ADVANCES = [timedelta(seconds=30), timedelta(hours=1), timedelta(days=1), timedelta(days=8)]
STEP = st.one_of(
    st.just(("schedule", None)),
    st.just(("run", None)),
    st.tuples(st.just("deliver"), st.booleans()),  # a qualified CV (a week-long wait) or not
    st.tuples(st.just("advance"), st.sampled_from(ADVANCES)),
)


@pytest.fixture(scope="module")
def hiring(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_hiring(tmp_path_factory.mktemp("time") / "hiring")


async def _story(project: Project, workdir: Path, steps: list[tuple[str, object]]) -> list[str]:
    loop = asyncio.get_running_loop()
    wrong: list[str] = []
    async with SimulatedSystem(project, workdir=workdir) as system:
        assert system.env is not None
        for kind, arg in steps:
            # Real time from before the first read to after the last: the server's clock
            # may move that much on its own (it runs in real time between jumps).
            real_before = loop.time()
            before = await system.env.get_current_time()
            asked = timedelta(0)
            if kind == "schedule":
                await system.fire_schedule("daily-report")
            elif kind == "run":
                await system.run_workflow("generate-report", {"date": "today"})
            elif kind == "deliver":
                n = next(_ids)
                cv = "Ten years of Python and PostgreSQL." if arg else "I like flowers."
                await system.deliver(
                    "cv-submission",
                    {
                        "submission_id": f"form-{n}",
                        "name": f"Candidate {n}",
                        "email": f"c{n}@example.com",
                        "phone": "+442071838750",
                        "cv_text": cv,
                    },
                )
            else:
                assert isinstance(arg, timedelta)
                asked = arg
                await system.advance(arg)
            moved = await system.env.get_current_time() - before
            real = timedelta(seconds=loop.time() - real_before)
            if not asked <= moved <= asked + real + SLACK:
                wrong.append(f"{kind} {arg}: asked {asked}, moved {moved} in {real} of real time")
    return wrong


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(STEP, min_size=2, max_size=5))
def test_simulated_time_moves_only_by_what_advance_asks(
    hiring: Path, tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, object]]
) -> None:
    workdir = tmp_path_factory.mktemp("run")
    wrong = asyncio.run(_story(Project(hiring), workdir, steps))
    assert not wrong, f"steps {steps}: " + "; ".join(wrong)


def test_a_day_after_a_scheduled_run_is_one_day(hiring: Path, tmp_path: Path) -> None:
    """The newcomer's scenario: `schedule: daily-report`, then `advance: 1d`."""
    wrong = asyncio.run(
        _story(Project(hiring), tmp_path, [("schedule", None), ("advance", timedelta(days=1))])
    )
    assert not wrong
