"""raw.clock: the one clock the kit reads, replaceable per context or process-wide."""

from __future__ import annotations

import asyncio
import re
import threading
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import raw
from raw import clock, run_workflow
from raw.clock import ManualClock, SystemClock

if TYPE_CHECKING:
    from conftest import Project

START = datetime(2030, 1, 1, tzinfo=UTC)


def test_manual_clock_moves_only_when_told() -> None:
    manual = ManualClock(START)

    assert manual.now() == START
    assert manual.now() == START
    manual.advance(timedelta(hours=1))
    manual.advance(30)

    assert manual.now() == START + timedelta(hours=1, seconds=30)
    assert manual.monotonic() == 3630


def test_manual_clock_converts_its_start_to_utc() -> None:
    paris = timezone(timedelta(hours=1))

    manual = ManualClock(datetime(2030, 1, 1, 1, 0, tzinfo=paris))

    assert manual.now() == START
    assert manual.now().tzinfo == UTC


def test_manual_clock_sleep_advances_it_instantly() -> None:
    manual = ManualClock(START)

    manual.sleep(3600)
    asyncio.run(manual.asleep(60))
    manual.sleep(-5)  # a negative wait is no wait

    assert manual.now() == START + timedelta(minutes=61)


def test_manual_clock_set_moves_forward_but_never_back() -> None:
    manual = ManualClock(START)

    manual.set(datetime(2030, 6, 1, tzinfo=UTC))

    assert manual.now() == datetime(2030, 6, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="cannot move backwards"):
        manual.set(START)
    with pytest.raises(ValueError, match="cannot move backwards"):
        manual.advance(-1)


def test_manual_clock_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2030, 1, 1))


def test_module_functions_read_the_clock_in_use() -> None:
    with clock.use(ManualClock(datetime(2030, 3, 4, 23, 59, tzinfo=UTC))) as manual:
        assert clock.now() == datetime(2030, 3, 4, 23, 59, tzinfo=UTC)
        assert clock.today() == date(2030, 3, 4)
        clock.sleep(120)
        assert clock.today() == date(2030, 3, 5)
        assert clock.monotonic() == 120
        assert clock.get_clock() is manual


def test_use_is_local_to_the_thread_that_called_it() -> None:
    seen: list[datetime] = []

    with clock.use(ManualClock(START)):
        other = threading.Thread(target=lambda: seen.append(clock.now()))
        other.start()
        other.join()
        here = clock.now()

    assert here == START
    [there] = seen
    assert abs(there - datetime.now(UTC)) < timedelta(minutes=5)


def test_use_is_local_to_the_asyncio_task_that_called_it() -> None:
    async def main() -> tuple[datetime, datetime]:
        async def inside() -> datetime:
            with clock.use(ManualClock(START)):
                await asyncio.sleep(0.01)
                return clock.now()

        async def outside() -> datetime:
            await asyncio.sleep(0.005)  # runs while the other task holds its ManualClock
            return clock.now()

        return tuple(await asyncio.gather(inside(), outside()))  # type: ignore[return-value]

    inside_now, outside_now = asyncio.run(main())

    assert inside_now == START
    assert outside_now.year != 2030


def test_use_restores_the_previous_clock_even_after_an_error() -> None:
    before = clock.get_clock()

    with pytest.raises(RuntimeError), clock.use(ManualClock(START)):
        raise RuntimeError("boom")

    assert clock.get_clock() is before


def test_set_clock_replaces_the_default_and_returns_the_previous() -> None:
    manual = ManualClock(START)
    previous = clock.set_clock(manual)
    try:
        assert isinstance(previous, SystemClock)
        assert clock.now() == START
        seen: list[datetime] = []
        other = threading.Thread(target=lambda: seen.append(clock.now()))
        other.start()
        other.join()
        assert seen == [START]  # process-wide, unlike use()
    finally:
        assert clock.set_clock(previous) is manual
    assert clock.get_clock() is previous


def test_a_run_under_a_manual_clock_is_dated_by_it(project: Project) -> None:
    project.add_workflow(
        "dated",
        """
        from raw import BaseWorkflow, clock, step

        class Dated(BaseWorkflow):
            @step("stamp")
            def stamp(self) -> str:
                clock.sleep(90)
                return clock.today().isoformat()
        """,
    )

    with clock.use(ManualClock(START)):
        result = run_workflow("dated", project_dir=project.root)

    assert result.status == "succeeded", result.error
    assert result.output == "2030-01-01"
    assert result.timings.started_at == START
    assert result.timings.ended_at == START + timedelta(seconds=90)
    assert result.timings.duration_ms == 90_000.0
    assert result.run_id.startswith("20300101T000000000000Z-")
    assert result.steps[0].started_at == START
    log = Path(result.log_path or "").read_text(encoding="utf-8")
    assert log.startswith("2030-01-01T00:00:00+00:00 INFO run ")


# Reading time anywhere but raw/clock.py would escape ManualClock in tests and simulations.
_DIRECT_TIME = re.compile(
    r"\b(datetime\.now|datetime\.utcnow|date\.today|time\.sleep)\(|from time import [^\n]*\bsleep\b"
)


def test_nothing_in_the_kit_reads_time_except_raw_clock() -> None:
    src = Path(raw.__file__).parent
    clock_module = src / "clock.py"
    offenders = [
        f"{path.relative_to(src.parent)}:{number}: {line.strip()}"
        for path in sorted(src.rglob("*"))
        if path.is_file() and path.suffix in (".py", ".tmpl") and path != clock_module
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _DIRECT_TIME.search(line)
    ]

    assert offenders == []
    assert _DIRECT_TIME.search(clock_module.read_text(encoding="utf-8"))  # the guard can match


def test_direct_time_pattern_catches_the_usual_spellings() -> None:
    for line in ("x = datetime.now(UTC)", "time.sleep(1)", "from time import monotonic, sleep"):
        assert _DIRECT_TIME.search(line), line
    for line in ("clock.sleep(1)", "await asyncio.sleep(0)", "clock.now()"):
        assert not _DIRECT_TIME.search(line), line
