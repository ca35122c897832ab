"""An onboarding process as first deployed (its history is recorded by the replay tests)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from raw.orchestrator.workflow import RawProcess, execute_raw, sleep_until


@workflow.defn(name="Onboarding")
class Onboarding(RawProcess):
    @workflow.run
    async def run(self, name: str) -> str:
        welcome = await execute_raw("echo", {"name": name}, step="welcome")
        await sleep_until(workflow.now() + timedelta(days=2), waiting_for="follow-up")
        return str(welcome.output["name"])
