"""@step, @retry, @cache and @conditional, seen through real runs of real run.py files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from raw import clock, retry, run_workflow, step
from raw.clock import ManualClock
from raw.workflow import cache
from raw.workflow.recorder import read_manifest
from raw.workflow.result import RunResult

if TYPE_CHECKING:
    from conftest import Project

START = datetime(2030, 1, 1, tzinfo=UTC)


def run(project: Project, workflow_id: str, params: Any = None, **options: Any) -> RunResult:
    return run_workflow(workflow_id, params, project_dir=project.root, **options)


def run_frozen(
    project: Project, workflow_id: str, params: Any = None, **options: Any
) -> tuple[RunResult, ManualClock]:
    """Run under a ManualClock at START; sleeps (retry waits) advance it instantly."""
    with clock.use(ManualClock(START)) as manual:
        return run(project, workflow_id, params, **options), manual


def calls(folder: Path) -> list[str]:
    """The lines a workflow appended to its calls.txt, one per executed call."""
    path = folder / "calls.txt"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


# --- @step ------------------------------------------------------------------------


def test_named_step_records_status_times_duration_and_result(project: Project) -> None:
    project.add_workflow(
        "timed",
        """
        from raw import BaseWorkflow, clock, step

        class Timed(BaseWorkflow):
            @step("fetch-data")
            def fetch(self) -> dict:
                clock.sleep(2.5)
                return {"rows": 3}
        """,
    )

    result, _ = run_frozen(project, "timed")

    assert result.status == "succeeded", result.error
    [record] = result.steps
    assert record.name == "fetch-data"
    assert record.status == "succeeded"
    assert record.started_at == START
    assert record.ended_at == START + timedelta(seconds=2.5)
    assert record.duration_ms == 2500.0
    assert record.result == {"rows": 3}
    assert record.error is None


def test_bare_step_is_named_after_the_method(project: Project) -> None:
    project.add_workflow(
        "bare",
        """
        from raw import BaseWorkflow, step

        class Bare(BaseWorkflow):
            @step
            def load_rows(self) -> int:
                return 7
        """,
    )

    result = run(project, "bare")

    assert [(s.name, s.status, s.result) for s in result.steps] == [("load_rows", "succeeded", 7)]


def test_failing_step_fails_the_run_with_its_error_and_traceback(project: Project) -> None:
    project.add_workflow(
        "breaks",
        """
        from raw import BaseWorkflow, step

        class Breaks(BaseWorkflow):
            @step("ok")
            def ok(self) -> str:
                return "fine"

            @step("parse")
            def parse(self) -> None:
                raise ValueError("row 12 has no date")
        """,
    )

    result = run(project, "breaks")

    assert result.status == "failed"
    assert result.error is not None
    assert result.error.type == "ValueError"
    assert result.error.message == "row 12 has no date"
    ok, parse = result.steps
    assert (ok.status, ok.result) == ("succeeded", "fine")
    assert parse.status == "failed"
    assert parse.error is not None
    assert (parse.error.type, parse.error.message) == ("ValueError", "row 12 has no date")
    assert parse.ended_at is not None
    log = Path(result.log_path or "").read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in log
    assert 'run.py", line 10, in parse' in log
    manifest = read_manifest(Path(result.run_dir or ""))
    assert manifest is not None
    assert manifest["status"] == "failed"
    assert manifest["error"]["message"] == "row 12 has no date"
    assert [(s["name"], s["status"]) for s in manifest["steps"]] == [
        ("ok", "succeeded"),
        ("parse", "failed"),
    ]


def test_async_step_is_recorded_only_once_its_coroutine_has_finished(project: Project) -> None:
    project.add_workflow(
        "slow-async",
        """
        from raw import BaseWorkflow, clock, step

        class SlowAsync(BaseWorkflow):
            @step("wait")
            async def wait(self) -> dict:
                before = self.run_context.steps[-1].status
                await clock.asleep(30)
                return {"before": before, "after": self.run_context.steps[-1].status}

            @step("check")
            async def check(self) -> str:
                return self.run_context.steps[0].status
        """,
    )

    result, _ = run_frozen(project, "slow-async")

    assert result.status == "succeeded", result.error
    wait, check = result.steps
    assert wait.result == {"before": "running", "after": "running"}
    assert wait.status == "succeeded"
    assert wait.ended_at == START + timedelta(seconds=30)
    assert wait.duration_ms == 30_000.0
    assert check.result == "succeeded"
    assert result.output == "succeeded"


def test_failing_async_step_is_recorded_as_failed_after_it_ran(project: Project) -> None:
    project.add_workflow(
        "async-breaks",
        """
        from raw import BaseWorkflow, clock, step

        class AsyncBreaks(BaseWorkflow):
            async def run(self) -> str:
                await self.call_api()
                return "never"

            @step("call-api")
            async def call_api(self) -> None:
                await clock.asleep(4)
                raise ConnectionError("the API hung up")
        """,
    )

    result, _ = run_frozen(project, "async-breaks")

    assert result.status == "failed"
    assert result.error is not None and result.error.message == "the API hung up"
    [record] = result.steps
    assert record.status == "failed"
    assert record.error is not None and record.error.type == "ConnectionError"
    assert record.ended_at == START + timedelta(seconds=4)


def test_step_called_outside_a_run_is_a_plain_call() -> None:
    from raw import BaseWorkflow

    class Plain(BaseWorkflow):  # type: ignore[type-arg]
        @step("double")
        def double(self, n: int) -> int:
            return n * 2

    assert Plain().double(21) == 42


# --- @retry -----------------------------------------------------------------------

FLAKY = """
from raw import BaseWorkflow, retry, step

class Flaky(BaseWorkflow):
    failures = {failures}

    def __init__(self, params=None):
        super().__init__(params)
        self.tries = 0

    @step("call")
    @retry({options})
    def call(self) -> str:
        self.tries += 1
        if self.tries <= self.failures:
            raise ValueError(f"boom {{self.tries}}")
        return f"ok after {{self.tries}}"
"""


def flaky(project: Project, *, failures: int, options: str) -> str:
    project.add_workflow("flaky", FLAKY.format(failures=failures, options=options))
    return "flaky"


def test_exponential_retry_records_every_attempt_and_waits_double_capped(
    project: Project,
) -> None:
    options = "max_attempts=5, backoff='exponential', base_delay_seconds=1, max_delay_seconds=3"
    workflow = flaky(project, failures=4, options=options)

    result, manual = run_frozen(project, workflow)

    assert result.status == "succeeded", result.error
    assert result.output == "ok after 5"
    [record] = result.steps
    assert [a.number for a in record.attempts] == [1, 2, 3, 4, 5]
    assert [a.error for a in record.attempts] == [
        "ValueError: boom 1",
        "ValueError: boom 2",
        "ValueError: boom 3",
        "ValueError: boom 4",
        None,
    ]
    waits = [1, 2, 3, 3]  # 1 * 2**(n-1), capped at 3
    assert manual.monotonic() == sum(waits)
    assert [a.started_at for a in record.attempts] == [
        START + timedelta(seconds=s) for s in (0, 1, 3, 6, 9)
    ]


def test_fixed_retry_waits_the_base_delay_and_gives_up_after_max_attempts(
    project: Project,
) -> None:
    workflow = flaky(
        project, failures=99, options="max_attempts=3, backoff='fixed', base_delay_seconds=2.5"
    )

    result, manual = run_frozen(project, workflow)

    assert result.status == "failed"
    assert result.error is not None and result.error.message == "boom 3"
    [record] = result.steps
    assert record.status == "failed"
    assert [a.error for a in record.attempts] == [
        "ValueError: boom 1",
        "ValueError: boom 2",
        "ValueError: boom 3",
    ]
    assert manual.monotonic() == 2.5 + 2.5


def test_exception_outside_retry_on_is_not_retried(project: Project) -> None:
    project.add_workflow(
        "picky",
        """
        from raw import BaseWorkflow, retry, step

        class Picky(BaseWorkflow):
            @step("lookup")
            @retry(max_attempts=5, retry_on=(TimeoutError, ConnectionError))
            def lookup(self) -> None:
                raise KeyError("customer-42")
        """,
    )

    result, manual = run_frozen(project, "picky")

    assert result.status == "failed"
    [record] = result.steps
    assert [a.error for a in record.attempts] == ["KeyError: 'customer-42'"]
    assert manual.monotonic() == 0


def test_original_retries_spelling_makes_one_more_attempt_than_retries(project: Project) -> None:
    workflow = flaky(
        project, failures=99, options="retries=3, backoff='exponential', base_delay=0.5"
    )

    result, manual = run_frozen(project, workflow)

    assert result.status == "failed"
    assert len(result.steps[0].attempts) == 4
    assert manual.monotonic() == 0.5 + 1 + 2


@pytest.mark.parametrize("order", ["step-above-retry", "retry-above-step"])
def test_decorator_order_gives_the_same_retries(project: Project, order: str) -> None:
    decorators = ["@step('call')", "@retry(max_attempts=3, base_delay_seconds=2)"]
    if order == "retry-above-step":
        decorators.reverse()
    project.add_workflow(
        "ordered",
        f"""
        from raw import BaseWorkflow, retry, step

        class Ordered(BaseWorkflow):
            tries = 0

            {decorators[0]}
            {decorators[1]}
            def call(self) -> int:
                type(self).tries += 1
                if type(self).tries < 3:
                    raise TimeoutError("slow")
                return type(self).tries
        """,
    )

    result, manual = run_frozen(project, "ordered")

    assert result.status == "succeeded", result.error
    [record] = result.steps
    assert record.name == "call"
    assert [a.error for a in record.attempts] == ["TimeoutError: slow", "TimeoutError: slow", None]
    assert manual.monotonic() == 2 + 4


def test_bare_retry_makes_three_attempts_one_then_two_seconds_apart(project: Project) -> None:
    project.add_workflow(
        "bare-retry",
        """
        from raw import BaseWorkflow, retry, step

        class BareRetry(BaseWorkflow):
            @step
            @retry
            def call(self) -> None:
                raise OSError("disk busy")
        """,
    )

    result, manual = run_frozen(project, "bare-retry")

    assert result.status == "failed"
    assert len(result.steps[0].attempts) == 3
    assert manual.monotonic() == 1 + 2


def test_async_step_retries_follow_the_policy(project: Project) -> None:
    project.add_workflow(
        "async-flaky",
        """
        from raw import BaseWorkflow, retry, step

        class AsyncFlaky(BaseWorkflow):
            tries = 0

            @step("call")
            @retry(max_attempts=4, base_delay_seconds=10, max_delay_seconds=15)
            async def call(self) -> int:
                type(self).tries += 1
                if type(self).tries < 4:
                    raise ConnectionError(f"try {type(self).tries}")
                return type(self).tries
        """,
    )

    result, manual = run_frozen(project, "async-flaky")

    assert result.status == "succeeded", result.error
    assert result.output == 4
    assert [a.error for a in result.steps[0].attempts] == [
        "ConnectionError: try 1",
        "ConnectionError: try 2",
        "ConnectionError: try 3",
        None,
    ]
    assert manual.monotonic() == 10 + 15 + 15


def test_retry_waits_stop_at_the_run_deadline(project: Project) -> None:
    workflow = flaky(project, failures=99, options="max_attempts=10, base_delay_seconds=1")

    result, manual = run_frozen(project, workflow, timeout_seconds=5)

    assert result.status == "timed_out"
    # waits 1 and 2, then 4 cut to the 2 seconds left; no attempt after the deadline
    assert manual.monotonic() == 5
    assert len(result.steps[0].attempts) == 4
    assert result.steps[0].attempts[-1].error is not None
    assert result.steps[0].attempts[-1].error.startswith("RunTimedOutError")


def test_cache_options_are_keyword_only() -> None:
    # @retry(3) is the original runtime's spelling and works since issue 19 (below).
    with pytest.raises(TypeError, match="keyword"):
        cache(60)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="keyword"):
        retry("three")  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_attempts": 0}, "at least 1"),
        ({"backoff": "jittery"}, "'exponential', 'linear' or 'fixed'"),
        ({"max_attempts": 2, "retries": 1}, "not both"),
    ],
)
def test_retry_refuses_bad_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        retry(**options)


def test_retry_applies_to_a_direct_call_outside_a_run() -> None:
    from raw import BaseWorkflow

    class Direct(BaseWorkflow):  # type: ignore[type-arg]
        tries = 0

        @step("call")
        @retry(max_attempts=3, base_delay_seconds=5)
        def call(self) -> int:
            type(self).tries += 1
            if type(self).tries < 3:
                raise ValueError("again")
            return type(self).tries

    with clock.use(ManualClock(START)) as manual:
        assert Direct().call() == 3
    assert manual.monotonic() == 5 + 10


# --- @cache -----------------------------------------------------------------------

CACHED = """
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from raw import BaseWorkflow, cache, step

CALLS = Path(__file__).with_name("calls.txt")


class Params(BaseModel):
    city: str = "Paris"


class Forecast(BaseModel):
    city: str
    celsius: float


class Weather(BaseWorkflow[Params]):
    def run(self) -> dict:
        forecast = self.forecast()
        return {{"type": type(forecast).__name__, "forecast": forecast.model_dump()}}

    @step("forecast")
    @cache
    def forecast(self) -> Forecast:
        with CALLS.open("a") as fh:
            fh.write(self.params.city + "\\n")
        return Forecast(city=self.params.city, celsius={celsius})

    @step("unrelated")
    def unrelated(self) -> int:
        return {unrelated}
"""


def cached_workflow(project: Project, *, celsius: str = "21.5", unrelated: str = "1") -> Path:
    return project.add_workflow("weather", CACHED.format(celsius=celsius, unrelated=unrelated))


def test_second_run_is_answered_from_cache_without_running_the_step(project: Project) -> None:
    folder = cached_workflow(project)

    first = run(project, "weather")
    second = run(project, "weather")

    assert first.status == second.status == "succeeded"
    assert calls(folder) == ["Paris"]
    assert first.steps[0].cached is False
    assert second.steps[0].cached is True
    assert second.steps[0].status == "succeeded"
    assert second.steps[0].result == {"city": "Paris", "celsius": 21.5}
    assert second.output == first.output


def test_cache_hit_returns_the_declared_model_not_a_dict(project: Project) -> None:
    cached_workflow(project)

    run(project, "weather")
    second = run(project, "weather")

    assert second.steps[0].cached is True
    assert second.output == {"type": "Forecast", "forecast": {"city": "Paris", "celsius": 21.5}}


def test_cache_misses_when_params_change(project: Project) -> None:
    folder = cached_workflow(project)

    run(project, "weather", {"city": "Paris"})
    lyon = run(project, "weather", {"city": "Lyon"})
    run(project, "weather", {"city": "Paris"})

    assert lyon.steps[0].cached is False
    assert lyon.output["forecast"]["city"] == "Lyon"
    assert calls(folder) == ["Paris", "Lyon"]


def test_cache_misses_when_the_step_code_changes(project: Project) -> None:
    folder = cached_workflow(project)
    run(project, "weather")

    cached_workflow(project, unrelated="1 + 1")  # another step's code: still a hit
    other_edit = run(project, "weather")
    cached_workflow(project, celsius="-3.25")  # this step's code: a miss
    own_edit = run(project, "weather")

    assert other_edit.steps[0].cached is True
    assert own_edit.steps[0].cached is False
    assert own_edit.output["forecast"]["celsius"] == -3.25
    assert calls(folder) == ["Paris", "Paris"]


def test_cache_key_covers_the_step_arguments(project: Project) -> None:
    folder = project.add_workflow(
        "squares",
        """
        from pathlib import Path

        from raw import BaseWorkflow, cache, step

        CALLS = Path(__file__).with_name("calls.txt")

        class Squares(BaseWorkflow):
            def run(self) -> list:
                return [self.square(2), self.square(3), self.square(n=2), self.square(2)]

            @step("square")
            @cache
            def square(self, n: int) -> int:
                with CALLS.open("a") as fh:
                    fh.write(f"{n}\\n")
                return n * n
        """,
    )

    result = run(project, "squares")

    assert result.output == [4, 9, 4, 4]
    assert [s.cached for s in result.steps] == [False, False, False, True]
    assert calls(folder) == ["2", "3", "2"]


@pytest.mark.parametrize("bypass", ["use_cache=False", "RAW_NO_CACHE=1"])
def test_cache_can_be_bypassed(
    project: Project, monkeypatch: pytest.MonkeyPatch, bypass: str
) -> None:
    folder = cached_workflow(project)
    run(project, "weather")

    if bypass == "RAW_NO_CACHE=1":
        monkeypatch.setenv("RAW_NO_CACHE", "1")
        bypassed = run(project, "weather")
    else:
        bypassed = run(project, "weather", use_cache=False)

    assert bypassed.status == "succeeded"
    assert bypassed.steps[0].cached is False
    assert calls(folder) == ["Paris", "Paris"]


def test_raw_no_cache_set_to_zero_keeps_the_cache(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = cached_workflow(project)
    run(project, "weather")

    monkeypatch.setenv("RAW_NO_CACHE", "0")
    second = run(project, "weather")

    assert second.steps[0].cached is True
    assert calls(folder) == ["Paris"]


def test_cache_entry_expires_after_its_ttl(project: Project) -> None:
    folder = project.add_workflow(
        "rates",
        """
        from pathlib import Path

        from raw import BaseWorkflow, cache, step

        CALLS = Path(__file__).with_name("calls.txt")

        class Rates(BaseWorkflow):
            @step("rate")
            @cache(ttl_seconds=3600)
            def rate(self) -> float:
                with CALLS.open("a") as fh:
                    fh.write("fetched\\n")
                return 1.08
        """,
    )

    with clock.use(ManualClock(START)) as manual:
        run(project, "rates")
        manual.advance(timedelta(minutes=59))
        fresh = run(project, "rates")
        manual.advance(timedelta(minutes=2))
        stale = run(project, "rates")

    assert (fresh.steps[0].cached, stale.steps[0].cached) == (True, False)
    assert calls(folder) == ["fetched", "fetched"]


# --- @conditional -----------------------------------------------------------------


def test_conditional_steps_are_skipped_when_their_condition_is_false(project: Project) -> None:
    folder = project.add_workflow(
        "notify",
        """
        from pathlib import Path

        from pydantic import BaseModel

        from raw import BaseWorkflow, conditional, step

        CALLS = Path(__file__).with_name("calls.txt")

        class Params(BaseModel):
            send_email: bool = False
            amount: int = 0

        class Notify(BaseWorkflow[Params]):
            @step("email")
            @conditional("send_email")
            def email(self) -> str:
                with CALLS.open("a") as fh:
                    fh.write("email\\n")
                return "sent"

            @step("alert")
            @conditional(lambda self: self.params.amount > 100)
            def alert(self) -> str:
                with CALLS.open("a") as fh:
                    fh.write("alert\\n")
                return "alerted"
        """,
    )

    quiet = run(project, "notify", {"send_email": False, "amount": 5})
    loud = run(project, "notify", {"send_email": True, "amount": 500})

    assert quiet.status == "succeeded", quiet.error
    assert [(s.name, s.status, s.result) for s in quiet.steps] == [
        ("email", "skipped", None),
        ("alert", "skipped", None),
    ]
    assert all(s.ended_at is not None for s in quiet.steps)
    assert [(s.name, s.status, s.result) for s in loud.steps] == [
        ("email", "succeeded", "sent"),
        ("alert", "succeeded", "alerted"),
    ]
    assert calls(folder) == ["email", "alert"]


def test_cache_misses_when_only_a_secret_param_changes(project: Project) -> None:
    folder = project.add_workflow(
        "account",
        """
        from pathlib import Path

        from pydantic import BaseModel, SecretStr

        from raw import BaseWorkflow, cache, step

        CALLS = Path(__file__).with_name("calls.txt")

        class Params(BaseModel):
            api_key: SecretStr

        class Account(BaseWorkflow[Params]):
            @step("balance")
            @cache
            def balance(self) -> int:
                with CALLS.open("a") as fh:
                    fh.write("fetched\\n")
                return len(self.params.api_key.get_secret_value())
        """,
    )

    first = run(project, "account", {"api_key": "key-of-tenant-a"})
    other = run(project, "account", {"api_key": "key-of-tenant-bb"})
    again = run(project, "account", {"api_key": "key-of-tenant-a"})

    assert (first.output, other.output, again.output) == (15, 16, 15)
    assert [r.steps[0].cached for r in (first, other, again)] == [False, False, True]
    assert calls(folder) == ["fetched", "fetched"]
    cache_files = list((project.root / ".raw" / "cache").rglob("*.json"))
    assert cache_files
    assert not any("key-of-tenant" in p.read_text() for p in cache_files)


def test_async_cached_step_hit_returns_the_declared_model(project: Project) -> None:
    folder = project.add_workflow(
        "async-weather",
        """
        from __future__ import annotations

        from pathlib import Path

        from pydantic import BaseModel

        from raw import BaseWorkflow, cache, step

        CALLS = Path(__file__).with_name("calls.txt")

        class Forecast(BaseModel):
            celsius: float

        class AsyncWeather(BaseWorkflow):
            async def run(self) -> str:
                forecast = await self.forecast()
                return type(forecast).__name__

            @cache
            @step("forecast")
            async def forecast(self) -> Forecast:
                with CALLS.open("a") as fh:
                    fh.write("fetched\\n")
                return Forecast(celsius=4.5)
        """,
    )

    first = run(project, "async-weather")
    second = run(project, "async-weather")

    assert (first.output, second.output) == ("Forecast", "Forecast")
    assert [first.steps[0].cached, second.steps[0].cached] == [False, True]
    assert second.steps[0].result == {"celsius": 4.5}
    assert calls(folder) == ["fetched"]
