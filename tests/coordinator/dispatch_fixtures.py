"""What the dispatcher tests run: RAW workflow sources and a tiny Temporal process.

The workflow sandbox re-imports this module for every process run: keep it free
of side effects and of anything but workflow code (no database imports here).
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

from raw.orchestrator.workflow import RawProcess, first_signal

# --- RAW workflows (sources for Project.add_workflow) ----------------------------------

ECHO = """
    from pydantic import BaseModel

    from raw import BaseWorkflow, step

    class Params(BaseModel):
        name: str
        count: int = 1

    class Echo(BaseWorkflow[Params]):
        @step("echo")
        def echo(self) -> dict:
            return {
                "greeting": f"hello {self.params.name}",
                "count": self.params.count,
                "key": self.idempotency_key,
            }
"""

FLAKY = """
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
            with log.open("a", encoding="utf-8") as f:  # one line per attempt
                f.write(f"{self.idempotency_key}\\n")
            attempts = len(log.read_text(encoding="utf-8").splitlines())
            if attempts <= self.params.fail_times:
                raise RuntimeError(f"flaky failure number {attempts}")
            return {"attempts": attempts}
"""

SLOW = """
    import time
    from pathlib import Path

    from pydantic import BaseModel

    from raw import BaseWorkflow, step

    class Params(BaseModel):
        marker: str
        seconds: float

    class Slow(BaseWorkflow[Params]):
        @step("wait")
        def wait(self) -> str:
            Path(self.params.marker).write_text("started", encoding="utf-8")
            time.sleep(self.params.seconds)
            return "slept"
"""


# --- a Temporal process that keeps what it receives ------------------------------------


@workflow.defn
class DispatchProbe(RawProcess):
    """Started with params; collects "booked" signals (deduplicated by key) until "finish"."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self.received: list[Any] = []

    @workflow.query
    def seen(self) -> dict[str, Any]:
        return {"params": self.params, "received": self.received}

    @workflow.run
    async def run(self, params: dict[str, Any]) -> dict[str, Any]:
        self.params = params
        while True:
            got = await first_signal(self, ["booked", "finish"])
            assert got is not None
            if got.name == "finish":
                return {"params": self.params, "received": self.received}
            self.received.append(got.payload)


async def refusing_on_result(session: object, item: object, outcome: object) -> None:
    """An entity update that fails: its record must not finish, nor sink its neighbours."""
    raise RuntimeError("the entity table is locked")
