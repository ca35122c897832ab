"""The simulation never waits forever: a call into the system that does not answer is named."""

from __future__ import annotations

import asyncio
import logging

import pytest

from raw.simulate.harness import SimulationError, _bounded


def test_a_call_that_never_answers_fails_naming_it_and_logs_where_tasks_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def stuck_handler(never: asyncio.Event) -> None:
        await never.wait()

    async def scenario() -> None:
        never = asyncio.Event()
        task = asyncio.create_task(stuck_handler(never), name="stuck-handler")
        try:
            await _bounded(asyncio.shield(task), "The coordinator's route /hooks/cv", seconds=0.2)
        finally:
            task.cancel()

    with (
        caplog.at_level(logging.WARNING, logger="raw.simulate"),
        pytest.raises(SimulationError, match=r"route /hooks/cv did not answer within 0\.2 s"),
    ):
        asyncio.run(scenario())
    dump = caplog.text
    assert "stuck-handler: " in dump
    assert "stuck_handler (test_harness.py:" in dump


def test_a_call_that_answers_in_time_returns_its_answer() -> None:
    async def quick() -> str:
        await asyncio.sleep(0.01)
        return "answered"

    assert asyncio.run(_bounded(quick(), "quick", seconds=5)) == "answered"
