"""What the system check reads from process code, without running it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from raw.orchestrator.code_scan import scan_file

SOURCE = """
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from raw.orchestrator.activity import run_raw_workflow
    from raw.orchestrator.workflow import RawProcess, execute_raw, first_signal

SIGNALS = ("booked", "withdrawn")


@workflow.defn(name="Hiring")
class HiringProcess(RawProcess):
    CALL = ["call-status"]

    @workflow.run
    async def run(self, c: dict) -> str:
        await execute_raw("analyze-cv", {"cv_text": c["cv"], "position": "x"})
        await execute_raw("summary", {**c, "extra": 1})
        await execute_raw(c["workflow"], {})
        await workflow.execute_activity(run_raw_workflow, args=["score", f"--id={c['id']}"])
        await workflow.execute_activity("send_email", c)
        await first_signal(self, SIGNALS, timeout=None)
        await first_signal(self, self.CALL)
        if self.signal_pending("withdrawn"):
            return "withdrawn"
        return "done"

    @workflow.signal(name="reschedule")
    def moved(self, when: str) -> None:
        pass


async def helper(process: RawProcess) -> None:
    await first_signal(process, ["nudge"])
"""


def test_calls_signals_and_activities_are_read_with_their_owner(tmp_path: Path) -> None:
    path = tmp_path / "process.py"
    path.write_text(textwrap.dedent(SOURCE))
    found = scan_file(path, "process.py")
    assert [(p.type_name, p.class_name) for p in found.processes] == [("Hiring", "HiringProcess")]
    calls = {c.workflow: c for c in found.workflow_calls}
    assert calls["analyze-cv"].params == ("cv_text", "position")
    assert not calls["analyze-cv"].open_params
    assert calls["summary"].params == ("extra",) and calls["summary"].open_params
    assert calls["score"].via == "run_raw_workflow"
    assert calls["score"].args == ("--id=\x00",)  # the flag is known, its value is not
    assert all(c.owner == "Hiring" for c in found.workflow_calls)
    waits = {(w.owner, w.signal, w.via) for w in found.waits}
    assert waits == {
        ("Hiring", "booked", "first_signal"),
        ("Hiring", "withdrawn", "first_signal"),
        ("Hiring", "call-status", "first_signal"),
        ("Hiring", "withdrawn", "signal_pending"),
        ("Hiring", "reschedule", "@workflow.signal"),
        (None, "nudge", "first_signal"),  # module-level: any process of the module
    }
    assert [a.name for a in found.activity_calls] == ["send_email"]
    assert len(found.unresolved) == 1 and "workflow id computed at run time" in found.unresolved[0]
