"""`system-check` proves a system's parts agree: it passes on the hiring example and on a
generated system, and reports each way of breaking one with what to fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.examples.conftest import copy_hiring
from tests.scaffold.systems import raw, raw_json

from raw.testing.projects import copy_project


def system_check(root: Path) -> tuple[int, dict[str, Any]]:
    code, run = raw_json("gates", "--only", "system-check", cwd=root, timeout=120)
    gate = run["gates"][0]
    assert gate["name"] == "system-check" and gate["details"] is not None, gate
    details: dict[str, Any] = gate["details"]
    return code, details


def test_the_hiring_example_passes(tmp_path: Path) -> None:
    code, details = system_check(copy_hiring(tmp_path / "hiring"))
    assert code == 0, details["findings"]
    assert details["checked"]["workflow calls"] == 2
    assert details["checked"]["signal waits"] >= 3
    assert details["checked"]["webhooks"] == 4


def test_a_generated_system_passes(full_system: Path, tmp_path: Path) -> None:
    code, details = system_check(copy_project(full_system, tmp_path / "approvals"))
    assert code == 0, details["findings"]
    assert details["notes"] == []  # nothing left unchecked, deployment included


def replace(relative: str, old: str, new: str, count: int = 1) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, count))

    return apply


def drop_compose_service(name: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / "deploy" / "docker-compose.yml"
        data = yaml.safe_load(path.read_text())
        del data["services"][name]
        for service in data["services"].values():
            (service.get("depends_on") or {}).pop(name, None)
        path.write_text(yaml.safe_dump(data, sort_keys=False))

    return apply


PROCESS = "approvals/process.py"
CONFIG = ".raw/config.yaml"
BREAKS: dict[str, tuple[Callable[[Path], None], str, str, str]] = {
    # name: (the break, the check, what the finding says, what it says to do)
    "process-runs-a-missing-workflow": (
        replace(PROCESS, '"finalize",', '"finalise",'),
        "workflows",
        "runs the RAW workflow 'finalise', which does not exist",
        "Did you mean 'finalize'?",
    ),
    "process-passes-an-unknown-param": (
        replace(PROCESS, '"notes": self.notes', '"note": self.notes'),
        "params",
        "passes 'note' to 'finalize', which has no such parameter",
        "Did you mean 'notes'?",
    ),
    "process-leaves-out-a-required-param": (
        replace(PROCESS, ', "text": request.text}', "}"),
        "params",
        "runs 'analyze' without 'text', which it requires",
        "Pass text in the call",
    ),
    "process-calls-an-activity-the-worker-lacks": (
        replace(PROCESS, '"update_request",', '"update_requests",'),
        "activities",
        "calls the activity 'update_requests', which the worker does not serve",
        "Did you mean 'update_request'?",
    ),
    "schedule-gives-an-unknown-flag": (
        replace(CONFIG, "- --date", "- --day"),
        "params",
        "workflow 'weekly-summary' has no parameter '--day'. Did you mean '--date'?",
        "`raw run weekly-summary --help`",
    ),
    "schedule-gives-a-value-that-does-not-validate": (
        replace(CONFIG, "- today", "- yesterday"),
        "params",
        "date: Value error, use 'today' or a date",
        "`raw run weekly-summary --help`",
    ),
    "schedule-runs-a-missing-workflow": (
        replace(CONFIG, "workflow: weekly-summary", "workflow: weekly-sumary"),
        "workflows",
        "schedule 'weekly-summary' runs the RAW workflow 'weekly-sumary', which does not exist",
        "raw create weekly-sumary",
    ),
    "process-waits-for-a-signal-no-route-sends": (
        replace(PROCESS, '["approval"]', '["approved"]'),
        "signals",
        "waits for the signal 'approved', but no webhook route sends it",
        "signal: approved",
    ),
    "route-sends-a-signal-the-process-never-waits-for": (
        replace(CONFIG, "signal: approval", "signal: approve"),
        "signals",
        "sends the signal 'approve' to ApprovalsProcess, which never waits for it",
        "Did you mean 'approval'?",
    ),
    "route-starts-a-process-type-that-does-not-exist": (
        replace(CONFIG, "process: ApprovalsProcess", "process: ApprovalProcess"),
        "webhooks",
        "targets the process type 'ApprovalProcess', which the worker does not serve",
        "Did you mean 'ApprovalsProcess'?",
    ),
    "route-keys-on-a-field-its-body-lacks": (
        replace(CONFIG, "business_key: request_id", "business_key: requestid"),
        "webhooks",
        "keys its process on 'requestid', which is not a field of its body",
        "Did you mean 'request_id'?",
    ),
    "route-runs-a-missing-workflow": (
        replace(
            CONFIG,
            "kind: signal\n        process: ApprovalsProcess\n        business_key: request_id\n"
            "        signal: approval",
            "kind: run_workflow\n        workflow: notify",
        ),
        "workflows",
        "route 'approval' runs the RAW workflow 'notify', which does not exist",
        "raw create notify",
    ),
    "route-names-a-handler-that-does-not-load": (
        replace(CONFIG, "handlers:approval_received", "handlers:approval_recieved"),
        "webhooks",
        "its handler 'approvals.handlers:approval_recieved' does not load",
        "Fix the reference",
    ),
    "deployment-lacks-the-worker": (
        drop_compose_service("worker"),
        "deployment",
        "runs no worker (`raw worker`), which the system uses",
        "raw deploy render",
    ),
}


@pytest.mark.parametrize("name", list(BREAKS))
def test_each_break_is_reported_with_what_to_fix(
    name: str, full_system: Path, tmp_path: Path
) -> None:
    apply, check, problem, fix = BREAKS[name]
    root = copy_project(full_system, tmp_path / "approvals")
    apply(root)
    code, details = system_check(root)
    assert code == 1, details
    matching = [f for f in details["findings"] if f["check"] == check and problem in f["problem"]]
    assert matching, details["findings"]
    assert fix in matching[0]["fix"], matching[0]
    assert matching[0]["where"]


def test_a_schedule_whose_cron_temporal_refuses_fails_the_gate(
    full_system: Path, tmp_path: Path
) -> None:
    root = copy_project(full_system, tmp_path / "approvals")
    replace(CONFIG, "cron: 30 18 * * 1-5", "cron: 61 7 * * *")(root)
    done = raw("gates", "--only", "system-check", cwd=root, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert (
        "schedule 'weekly-summary': cron '61 7 * * *': minute 61 is out of range 0-59."
        in done.stderr
    )


def test_a_signal_sent_by_something_else_is_declared_and_accepted(
    full_system: Path, tmp_path: Path
) -> None:
    root = copy_project(full_system, tmp_path / "approvals")
    BREAKS["process-waits-for-a-signal-no-route-sends"][0](root)  # waits for 'approved'
    config = root / CONFIG
    data = yaml.safe_load(config.read_text())
    data["system"]["gates"] = {"external_signals": {"ApprovalsProcess": ["approved"]}}
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    code, details = system_check(root)
    signals = [f for f in details["findings"] if f["check"] == "signals"]
    assert not any("'approved'" in f["problem"] for f in signals), signals


def test_external_signals_are_suggested_in_the_fix(full_system: Path, tmp_path: Path) -> None:
    root = copy_project(full_system, tmp_path / "approvals")
    BREAKS["process-waits-for-a-signal-no-route-sends"][0](root)
    code, details = system_check(root)
    assert code == 1
    fix = next(f["fix"] for f in details["findings"] if "'approved'" in f["problem"])
    assert "system.gates.external_signals ({ApprovalsProcess: [approved]})" in fix
