"""@retry and @conditional in the original runtime's spellings, through real runs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from raw import clock, retry, run_workflow
from raw.clock import ManualClock
from raw.workflow.result import RunResult
from raw.workflow.steps import RetryPolicy, get_spec

if TYPE_CHECKING:
    from conftest import Project

START = datetime(2030, 1, 1, tzinfo=UTC)


def run_frozen(project: Project, workflow_id: str, params: Any = None) -> RunResult:
    with clock.use(ManualClock(START)):
        return run_workflow(workflow_id, params, project_dir=project.root)


def test_positional_count_is_the_number_of_retries() -> None:
    @retry(3)
    def fetch() -> None: ...

    spec = get_spec(fetch)
    assert spec is not None and spec.retry is not None
    assert spec.retry.max_attempts == 4  # the original: retries + 1 attempts
    assert spec.retry.backoff == "exponential"


def test_positional_backoff_follows_the_count() -> None:
    @retry(2, "linear")
    def fetch() -> None: ...

    spec = get_spec(fetch)
    assert spec is not None and spec.retry is not None
    assert (spec.retry.max_attempts, spec.retry.backoff) == (3, "linear")


def test_linear_backoff_grows_by_the_base_delay() -> None:
    policy = RetryPolicy(max_attempts=5, backoff="linear", base_delay_seconds=2)
    assert [policy.delay_after(n) for n in (1, 2, 3)] == [2.0, 4.0, 6.0]
    assert RetryPolicy(backoff="linear", base_delay_seconds=50).delay_after(3) == 60.0


def test_count_given_twice_is_refused() -> None:
    with pytest.raises(TypeError, match="once"):
        retry(3, retries=2)  # type: ignore[call-overload]


def test_original_retry_spellings_run_and_wait_linearly(project: Project) -> None:
    project.add_workflow(
        "flaky",
        """
        from raw_runtime import BaseWorkflow, retry, step

        class Flaky(BaseWorkflow):
            tries = 0

            @step("call")
            @retry(3, backoff="linear", base_delay=1.5)
            def call(self) -> str:
                type(self).tries += 1
                if type(self).tries < 3:
                    raise ConnectionError("try again")
                return "ok"
        """,
    )
    with clock.use(ManualClock(START)) as manual:
        result = run_workflow("flaky", project_dir=project.root)

    assert result.status == "succeeded", result.error
    assert len(result.steps[0].attempts) == 3
    assert manual.monotonic() == pytest.approx(1.5 + 3.0)  # linear: 1.5 s, then 3 s


CONDITIONAL = """
from pydantic import BaseModel

from raw_runtime import BaseWorkflow, conditional, step

class Order(BaseModel):
    total: int

class Params(BaseModel):
    total: int = 0

class Ship(BaseWorkflow[Params]):
    @step("express")
    @conditional(lambda self, order: order.total > 100, skip_reason="small order")
    def express(self, order: Order) -> str:
        return f"express {order.total}"

    @step("note")
    @conditional(lambda self: self.params.total > 0)
    def note(self) -> str:
        return "noted"

    def run(self) -> int:
        order = Order(total=self.params.total)
        self.express(order)
        self.note()
        return 0
"""


def test_conditional_gets_the_steps_arguments_and_records_its_reason(project: Project) -> None:
    project.add_workflow("ship", CONDITIONAL)

    small = run_frozen(project, "ship", {"total": 5})
    large = run_frozen(project, "ship", {"total": 500})

    assert small.status == "succeeded", small.error
    assert [(s.name, s.status, s.skip_reason) for s in small.steps] == [
        ("express", "skipped", "small order"),
        ("note", "succeeded", None),
    ]
    assert [(s.name, s.status, s.result) for s in large.steps] == [
        ("express", "succeeded", "express 500"),
        ("note", "succeeded", "noted"),
    ]
    assert small.log_path is not None
    with open(small.log_path, encoding="utf-8") as fh:
        assert "step 'express' skipped: small order" in fh.read()
