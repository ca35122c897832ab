"""A process written before the kit's split, on the old import path: it must still run.

Only ``test_imports`` imports it, inside ``pytest.warns`` (the suite makes warnings errors).
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from raw.orchestrator import RawProcess, first_signal


@workflow.defn(name="OldPathProcess")
class OldPathProcess(RawProcess):
    @workflow.run
    async def run(self) -> str:
        got = await first_signal(self, ["go"])
        return f"{got.name}: {got.payload}" if got else "timed out"
