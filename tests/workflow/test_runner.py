"""run_workflow and run_workflow_async: outputs, statuses, timeouts and dry runs."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from raw import RunResult, clock, run_workflow, run_workflow_async
from raw.clock import ManualClock
from raw.workflow.recorder import read_manifest

if TYPE_CHECKING:
    from conftest import Project

START = datetime(2030, 1, 1, tzinfo=UTC)


def run(project: Project, workflow_id: str, params: Any = None, **options: Any) -> RunResult:
    return run_workflow(workflow_id, params, project_dir=project.root, **options)


def files_under(root: Path) -> set[Path]:
    return set(root.rglob("*"))


# --- run() and the output ---------------------------------------------------------


def test_without_run_steps_run_in_definition_order_and_the_last_value_is_the_output(
    project: Project,
) -> None:
    project.add_workflow(
        "pipeline",
        """
        from raw import BaseWorkflow, step

        class Pipeline(BaseWorkflow):
            def __init__(self, params=None):
                super().__init__(params)
                self.seen = []

            @step("extract")
            def extract(self) -> str:
                self.seen.append("extract")
                return "rows"

            @step("transform")
            def transform(self) -> list:
                self.seen.append("transform")
                return list(self.seen)

            @step("load")
            def load(self) -> dict:
                self.seen.append("load")
                return {"order": self.seen}
        """,
    )

    result = run(project, "pipeline")

    assert result.status == "succeeded", result.error
    assert [s.name for s in result.steps] == ["extract", "transform", "load"]
    assert result.output == {"order": ["extract", "transform", "load"]}


def test_run_return_value_is_the_output(project: Project) -> None:
    project.add_workflow(
        "greet",
        """
        from pydantic import BaseModel

        from raw import BaseWorkflow, step

        class Params(BaseModel):
            name: str

        class Greet(BaseWorkflow[Params]):
            def run(self) -> dict:
                return {"greeting": self.shout(self.hello())}

            @step("hello")
            def hello(self) -> str:
                return f"hello {self.params.name}"

            @step("shout")
            def shout(self, text: str) -> str:
                return text.upper()
        """,
    )

    result = run(project, "greet", {"name": "Ada"})

    assert result.status == "succeeded", result.error
    assert result.output == {"greeting": "HELLO ADA"}
    assert result.return_code is None
    assert [s.result for s in result.steps] == ["hello Ada", "HELLO ADA"]


def test_pydantic_model_output_is_serialised_to_json(project: Project) -> None:
    project.add_workflow(
        "report",
        """
        from datetime import date

        from pydantic import BaseModel

        from raw import BaseWorkflow, step

        class Line(BaseModel):
            sku: str
            qty: int

        class Report(BaseModel):
            day: date
            lines: list[Line]

        class MakeReport(BaseWorkflow):
            @step("build")
            def build(self) -> Report:
                return Report(day=date(2030, 1, 2), lines=[Line(sku="A-1", qty=2)])
        """,
    )

    result = run(project, "report")

    assert result.status == "succeeded", result.error
    assert result.output == {"day": "2030-01-02", "lines": [{"sku": "A-1", "qty": 2}]}
    manifest = read_manifest(Path(result.run_dir or ""))
    assert manifest is not None and manifest["output"] == result.output


@pytest.mark.parametrize(("code", "status"), [(0, "succeeded"), (3, "failed")])
def test_int_returned_by_run_is_an_exit_code(project: Project, code: int, status: str) -> None:
    project.add_workflow(
        "exit-code",
        f"""
        from raw import BaseWorkflow, step

        class ExitCode(BaseWorkflow):
            def run(self) -> int:
                self.work()
                return {code}

            @step("work")
            def work(self) -> None:
                pass
        """,
    )

    result = run(project, "exit-code")

    assert result.status == status
    assert result.return_code == code
    assert result.output is None
    if code:
        assert result.error is not None and "exit code 3" in result.error.message
    else:
        assert result.error is None


def test_non_json_serialisable_output_fails_with_a_clear_message(project: Project) -> None:
    project.add_workflow(
        "odd-output",
        """
        from raw import BaseWorkflow

        class Opaque:
            pass

        class OddOutput(BaseWorkflow):
            def run(self):
                return {"handle": Opaque()}
        """,
    )

    result = run(project, "odd-output")

    assert result.status == "failed"
    assert result.error is not None
    assert "output is not JSON-serialisable" in result.error.message
    assert "Opaque" in result.error.message
    manifest = read_manifest(Path(result.run_dir or ""))
    assert manifest is not None and manifest["status"] == "failed"


def test_async_run_is_awaited_and_its_value_is_the_output(project: Project) -> None:
    project.add_workflow(
        "async-run",
        """
        import asyncio

        from raw import BaseWorkflow, step

        class AsyncRun(BaseWorkflow):
            async def run(self) -> list:
                return list(await asyncio.gather(self.fetch(1), self.fetch(2)))

            @step("fetch")
            async def fetch(self, n: int) -> int:
                await asyncio.sleep(0)
                return n * 10
        """,
    )

    result = run(project, "async-run")

    assert result.status == "succeeded", result.error
    assert result.output == [10, 20]
    assert sorted(s.result for s in result.steps) == [10, 20]


def test_async_steps_without_run_are_awaited_in_order(project: Project) -> None:
    project.add_workflow(
        "async-steps",
        """
        import asyncio

        from raw import BaseWorkflow, step

        class AsyncSteps(BaseWorkflow):
            @step("first")
            async def first(self) -> str:
                await asyncio.sleep(0)
                return "one"

            @step("second")
            def second(self) -> str:
                return self.run_context.steps[0].result + "+two"
        """,
    )

    result = run(project, "async-steps")

    assert result.status == "succeeded", result.error
    assert result.output == "one+two"


SLEEPY_SYNC = """
import time

from raw import BaseWorkflow, step

class Sleepy(BaseWorkflow):
    @step("nap")
    def nap(self) -> str:
        time.sleep(0.2)
        return "rested"
"""

SLEEPY_ASYNC = """
import asyncio

from raw import BaseWorkflow, step

class Sleepy(BaseWorkflow):
    @step("nap")
    async def nap(self) -> str:
        await asyncio.sleep(0.2)
        return "rested"
"""


@pytest.mark.parametrize("source", [SLEEPY_SYNC, SLEEPY_ASYNC], ids=["sync", "async"])
def test_run_workflow_async_does_not_block_the_event_loop(project: Project, source: str) -> None:
    project.add_workflow("sleepy", source)

    async def main() -> tuple[RunResult, int]:
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        result = await run_workflow_async("sleepy", project_dir=project.root)
        done.set()
        await task
        return result, ticks

    result, ticks = asyncio.run(main())

    assert result.status == "succeeded", result.error
    assert result.output == "rested"
    assert ticks >= 5  # a blocked loop ticks once or twice in 0.2 s


def test_run_workflow_called_inside_a_running_loop_runs_an_async_workflow(
    project: Project,
) -> None:
    project.add_workflow("sleepy", SLEEPY_ASYNC)

    async def main() -> RunResult:
        return run_workflow("sleepy", project_dir=project.root)

    result = asyncio.run(main())

    assert result.status == "succeeded", result.error
    assert result.output == "rested"


# --- statuses ---------------------------------------------------------------------

NESTED_PARAMS = """
from pydantic import BaseModel, Field

from raw import BaseWorkflow, step

class Address(BaseModel):
    city: str
    zip_code: str = Field(pattern=r"^[0-9]{5}$")

class Params(BaseModel):
    name: str
    address: Address

class Ship(BaseWorkflow[Params]):
    @step("label")
    def label(self) -> str:
        return f"{self.params.name}, {self.params.address.city}"
"""


def test_invalid_params_are_reported_per_field_with_dotted_paths(project: Project) -> None:
    project.add_workflow("ship", NESTED_PARAMS)

    result = run(project, "ship", {"name": "Ada", "address": {"zip_code": "ABC"}})

    assert result.status == "invalid_input"
    assert result.steps == []
    assert result.error is not None and result.error.fields is not None
    fields = {f["field"]: f["message"] for f in result.error.fields}
    assert set(fields) == {"address.city", "address.zip_code"}
    assert fields["address.city"] == "Field required"
    assert "address.city: Field required" in result.error.message
    assert result.exit_code == 2


def test_valid_params_pass_through_to_the_workflow(project: Project) -> None:
    project.add_workflow("ship", NESTED_PARAMS)

    result = run(project, "ship", {"name": "Ada", "address": {"city": "Oslo", "zip_code": "01500"}})

    assert result.status == "succeeded", result.error
    assert result.output == "Ada, Oslo"


def test_unknown_workflow_is_not_found_with_the_closest_names(project: Project) -> None:
    project.add_workflow("analyze-cv", NESTED_PARAMS)
    project.add_workflow("analyze-invoice", NESTED_PARAMS)

    result = run(project, "analyze-cvs")

    assert result.status == "not_found"
    assert result.error is not None
    assert "No workflow 'analyze-cvs'" in result.error.message
    assert "Did you mean 'analyze-cv'" in result.error.message
    assert result.exit_code == 3
    assert not (project.root / ".raw" / "workflows" / "analyze-cvs").exists()


def test_missing_project_is_not_found(tmp_path: Path) -> None:
    result = run_workflow("anything", project_dir=tmp_path)

    assert result.status == "not_found"
    assert result.error is not None and "No RAW project found" in result.error.message


@pytest.mark.parametrize("workflow_id", ["../x", "/abs", "Upper", "a/b", "..", "", "-dash"])
def test_invalid_workflow_ids_are_refused_without_touching_any_file(
    project: Project, workflow_id: str
) -> None:
    project.add_workflow("x", NESTED_PARAMS)
    before = files_under(project.root.parent)

    result = run(project, workflow_id)

    assert result.status == "invalid_input"
    assert result.error is not None and "is not a valid workflow id" in result.error.message
    assert result.run_dir is None
    assert files_under(project.root.parent) == before


def test_broken_run_py_fails_the_run_instead_of_raising(project: Project) -> None:
    project.add_workflow(
        "broken",
        """
        from raw import BaseWorkflow

        class Broken(BaseWorkflow)
            pass
        """,
    )

    result = run(project, "broken")

    assert result.status == "failed"
    assert result.error is not None and result.error.type == "WorkflowLoadError"
    assert "line 3: syntax error" in result.error.message
    assert len(project.runs("broken")) == 1


def test_step_that_sleeps_past_the_timeout_times_out_at_the_next_step_boundary(
    project: Project,
) -> None:
    folder = project.add_workflow(
        "overtime",
        """
        from pathlib import Path

        from raw import BaseWorkflow, clock, step

        class Overtime(BaseWorkflow):
            @step("long")
            def long(self) -> str:
                clock.sleep(10)
                return "done late"

            @step("after")
            def after(self) -> None:
                Path(__file__).with_name("after-ran").touch()
        """,
    )

    with clock.use(ManualClock(START)):
        result = run(project, "overtime", timeout_seconds=5)

    assert result.status == "timed_out"
    assert result.error is not None and result.error.type == "RunTimedOutError"
    assert "timeout of 5 seconds" in result.error.message
    assert [(s.name, s.status) for s in result.steps] == [("long", "succeeded")]
    assert not (folder / "after-ran").exists()
    assert result.exit_code == 124


def test_a_last_step_that_overruns_the_deadline_times_the_run_out(project: Project) -> None:
    project.add_workflow(
        "late",
        """
        from raw import BaseWorkflow, clock, step

        class Late(BaseWorkflow):
            @step("only")
            def only(self) -> str:
                clock.sleep(10)
                return "done late"
        """,
    )

    with clock.use(ManualClock(START)):
        result = run(project, "late", timeout_seconds=5)

    assert result.status == "timed_out"
    assert result.output is None
    assert [(s.name, s.status) for s in result.steps] == [("only", "succeeded")]


def test_async_workflow_is_cancelled_at_its_deadline(project: Project) -> None:
    project.add_workflow(
        "hangs",
        """
        import asyncio

        from raw import BaseWorkflow, step

        class Hangs(BaseWorkflow):
            @step("wait-forever")
            async def wait_forever(self) -> None:
                await asyncio.sleep(60)
        """,
    )

    started = time.monotonic()
    result = run(project, "hangs", timeout_seconds=0.2)
    elapsed = time.monotonic() - started

    assert result.status == "timed_out"
    assert elapsed < 5
    [record] = result.steps
    assert record.status == "failed"
    assert record.error == result.error  # why it stopped, not a bare CancelledError
    assert record.ended_at is not None and record.duration_ms is not None
    manifest = read_manifest(Path(result.run_dir or ""))
    assert manifest is not None and manifest["status"] == "timed_out"


def test_cancel_event_stops_the_run_at_the_next_step(project: Project) -> None:
    folder = project.add_workflow(
        "stoppable",
        """
        from pathlib import Path

        from raw import BaseWorkflow, step

        class Stoppable(BaseWorkflow):
            @step("first")
            def first(self) -> None:
                self.run_context.cancel_event.set()  # as a caller would, from another thread

            @step("second")
            def second(self) -> None:
                Path(__file__).with_name("second-ran").touch()
        """,
    )

    result = run(project, "stoppable")

    assert result.status == "cancelled"
    assert not (folder / "second-ran").exists()


# --- dry runs ---------------------------------------------------------------------


def test_dry_run_without_params_uses_mocks_params_json(project: Project) -> None:
    project.add_workflow(
        "greet",
        """
        from pydantic import BaseModel

        from raw import BaseWorkflow, step

        class Params(BaseModel):
            name: str

        class Greet(BaseWorkflow[Params]):
            @step("hello")
            def hello(self) -> str:
                return f"hello {self.params.name}"
        """,
        mocks={"params": {"name": "Mock Person"}},
    )

    dry = run(project, "greet", dry=True)
    real = run(project, "greet")

    assert dry.status == "succeeded", dry.error
    assert dry.dry is True
    assert dry.output == "hello Mock Person"
    manifest = read_manifest(Path(dry.run_dir or ""))
    assert manifest is not None
    assert (manifest["dry"], manifest["params"]) == (True, {"name": "Mock Person"})
    assert real.status == "invalid_input"  # mocks are for dry runs only


def test_dry_run_llm_answers_from_mocks_llm_json(project: Project) -> None:
    project.add_workflow(
        "triage",
        """
        from pydantic import BaseModel

        from raw import BaseWorkflow, step

        class Label(BaseModel):
            label: str
            score: float

        class Triage(BaseWorkflow):
            @step("classify")
            def classify(self) -> Label:
                return self.llm.extract("Classify this email: win a prize!", Label)

            @step("summarise")
            def summarise(self) -> str:
                return self.llm.complete("Summarise the email in one line")
        """,
        mocks={
            "llm": {
                "responses": [
                    {"step": "classify", "response": {"label": "spam", "score": 0.97}},
                    {"prompt_contains": "summarise", "response": "A prize scam."},
                ]
            }
        },
    )

    result = run(project, "triage", dry=True)

    assert result.status == "succeeded", result.error
    assert [s.result for s in result.steps] == [{"label": "spam", "score": 0.97}, "A prize scam."]


def test_dry_run_imports_run_py_itself_so_a_broken_run_py_fails_it(project: Project) -> None:
    project.add_workflow(
        "half-written",
        """
        from raw import BaseWorkflow, step

        class HalfWritten(BaseWorkflow):
            @step("go")
            def go(self) -> int:
                return undefined_helper()
        """,
        mocks={"params": {}},
    )

    result = run(project, "half-written", dry=True)

    assert result.status == "failed"
    assert result.dry is True
    assert result.error is not None and "undefined_helper" in result.error.message
    assert [(s.name, s.status) for s in result.steps] == [("go", "failed")]


def test_dry_run_of_run_py_that_does_not_import_fails(project: Project) -> None:
    project.add_workflow(
        "bad-import",
        """
        from raw import BaseWorkflow, step
        import a_module_that_does_not_exist

        class BadImport(BaseWorkflow):
            @step("go")
            def go(self) -> int:
                return 1
        """,
    )

    result = run(project, "bad-import", dry=True)

    assert result.status == "failed"
    assert result.error is not None and result.error.type == "WorkflowLoadError"
    assert "a_module_that_does_not_exist" in result.error.message


CANCELLABLE = """
import asyncio
import time
from pathlib import Path

from raw import BaseWorkflow, step

HERE = Path(__file__).parent

class Cancellable(BaseWorkflow):
    @step("first")
    {first}

    @step("second")
    def second(self) -> None:
        (HERE / "second-ran").touch()
"""

SYNC_FIRST = """def first(self) -> None:
        (HERE / "first-started").touch()
        deadline = time.monotonic() + 5
        while not (HERE / "go").exists() and time.monotonic() < deadline:
            time.sleep(0.005)"""

ASYNC_FIRST = """async def first(self) -> None:
        (HERE / "first-started").touch()
        await asyncio.sleep(60)"""


@pytest.mark.parametrize("first", [SYNC_FIRST, ASYNC_FIRST], ids=["sync", "async"])
def test_cancelling_run_workflow_async_records_the_run_as_cancelled(
    project: Project, first: str
) -> None:
    folder = project.add_workflow("cancellable", CANCELLABLE.format(first=first))

    async def main() -> None:
        task = asyncio.create_task(run_workflow_async("cancellable", project_dir=project.root))
        while not (folder / "first-started").exists():
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        (folder / "go").touch()  # let a sync step finish: the run must stop at the boundary

    asyncio.run(main())  # returns once the worker thread, if any, has finished

    [run_dir] = project.runs("cancellable")
    manifest = read_manifest(run_dir)
    assert manifest is not None
    assert manifest["status"] == "cancelled"
    assert manifest["error"]["type"] == "RunCancelledError"
    assert "cancelled by its caller" in manifest["error"]["message"]
    assert not (folder / "second-ran").exists()


def test_dry_run_with_unreadable_mocks_params_is_invalid_input(project: Project) -> None:
    project.add_workflow("ship", NESTED_PARAMS, mocks={"params": "{not json"})

    result = run(project, "ship", dry=True)

    assert result.status == "invalid_input"
    assert result.error is not None and result.error.fields is not None
    assert result.error.fields[0]["field"] == "mocks/params.json"
    assert "not valid JSON" in result.error.fields[0]["message"]
