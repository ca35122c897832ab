"""Fixtures for the orchestrator tests.

The Temporal fixtures are the ones shipped to users (``raw.testing.pytest_plugin``),
imported here so they work before the package's pytest entry point is installed.
Fixtures of the activity/process tests are prefixed ``kit_``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from raw.testing.pytest_plugin import (  # noqa: F401 - fixtures, used by name
    raw_dev_server_env,
    raw_task_queue,
    raw_time_skipping_env,
    raw_worker,
)

if TYPE_CHECKING:
    from conftest import Project

RAW_WORKFLOWS: dict[str, str] = {
    "analyze-cv": """
        from pydantic import BaseModel

        from raw import BaseWorkflow, step

        class Params(BaseModel):
            cv_text: str

        class AnalyzeCV(BaseWorkflow[Params]):
            @step("analyze")
            def analyze(self) -> dict:
                score = 0.9 if "python" in self.params.cv_text.lower() else 0.2
                return {"score": score, "qualified": score > 0.7}
        """,
    "summarize-call": """
        from pydantic import BaseModel

        from raw import BaseWorkflow, step

        class Params(BaseModel):
            candidate: str
            call_time: str

        class SummarizeCall(BaseWorkflow[Params]):
            @step("summarize")
            def summarize(self) -> dict:
                return {"summary": f"Call with {self.params.candidate} at {self.params.call_time}"}
        """,
    "echo": """
        from pydantic import BaseModel

        from raw import BaseWorkflow, step

        class Params(BaseModel):
            name: str
            count: int = 1
            tags: list[str] = []

        class Echo(BaseWorkflow[Params]):
            @step("echo")
            def echo(self) -> dict:
                return {
                    "name": self.params.name,
                    "count": self.params.count,
                    "tags": self.params.tags,
                    "key": self.idempotency_key,
                }
        """,
    "flaky": """
        from pathlib import Path

        from pydantic import BaseModel

        from raw import BaseWorkflow, step

        class Params(BaseModel):
            log: str
            fail_times: int

        class Flaky(BaseWorkflow[Params]):
            @step("effect")
            def effect(self) -> dict:
                log = Path(self.params.log)
                with log.open("a", encoding="utf-8") as f:  # an append, never an overwrite
                    f.write(f"{self.idempotency_key}\\n")
                attempts = len(log.read_text(encoding="utf-8").splitlines())
                if attempts <= self.params.fail_times:
                    raise RuntimeError(f"flaky failure number {attempts}")
                return {"attempts": attempts}
        """,
    "slow": """
        import os
        import time
        from pathlib import Path

        from pydantic import BaseModel

        from raw import BaseWorkflow, step

        class Params(BaseModel):
            marker: str
            seconds: float

        class Slow(BaseWorkflow[Params]):
            @step("wait")
            def wait(self) -> None:
                with open(self.params.marker, "a", encoding="utf-8") as f:
                    f.write(f"started {os.getpid()}\\n")
                time.sleep(self.params.seconds)

            @step("finish")
            def finish(self) -> str:
                with open(self.params.marker, "a", encoding="utf-8") as f:
                    f.write("finished\\n")
                return "done"
        """,
}


@pytest.fixture
def kit_project(project: Project) -> Project:
    """A RAW project holding the workflows the processes run."""
    for workflow_id, source in RAW_WORKFLOWS.items():
        project.add_workflow(workflow_id, source)
    return project
