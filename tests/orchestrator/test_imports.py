"""The kit's three modules: process code imports no I/O, and the old import paths still answer.

Each import check runs in a fresh interpreter, so nothing another test loaded counts.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import raw.orchestrator
from raw.errors import RawError
from raw.orchestrator import activity, client, workflow

if TYPE_CHECKING:
    from temporalio.testing import WorkflowEnvironment

    from raw.testing.pytest_plugin import WorkerFactory

HIRING = Path(__file__).resolve().parents[2] / "examples" / "hiring"

IO_LIBRARIES = (
    "aiosmtplib",
    "aiosqlite",
    "boto3",
    "fastapi",
    "httpx",
    "psycopg",
    "slack_sdk",
    "sqlalchemy",
    "starlette",
    "twilio",
    "uvicorn",
)
"""What process code must never drag into Temporal's workflow sandbox."""

KIT_IO_MODULES = (
    "raw.orchestrator.activity",
    "raw.orchestrator.client",
    "raw.orchestrator.connect",
)

OLD_PACKAGE_EXPORTS: dict[str, str] = {
    "FirstSignal": "raw.orchestrator.workflow",
    "RawProcess": "raw.orchestrator.workflow",
    "RawState": "raw.orchestrator.workflow",
    "RawWorkflowCall": "raw.orchestrator.workflow",
    "RawWorkflowResult": "raw.orchestrator.workflow",
    "execute_raw": "raw.orchestrator.workflow",
    "first_signal": "raw.orchestrator.workflow",
    "set_step": "raw.orchestrator.workflow",
    "sleep_until": "raw.orchestrator.workflow",
    "wait_for": "raw.orchestrator.workflow",
    "SignalEnvelope": "raw.orchestrator.client",
    "cancel": "raw.orchestrator.client",
    "describe": "raw.orchestrator.client",
    "list_processes": "raw.orchestrator.client",
    "process_id": "raw.orchestrator.client",
    "query": "raw.orchestrator.client",
    "signal": "raw.orchestrator.client",
    "signal_with_start": "raw.orchestrator.client",
    "start_process": "raw.orchestrator.client",
    "RawActivities": "raw.orchestrator.activity",
    "run_raw_workflow": "raw.orchestrator.activity",
    "run_raw_workflow_call": "raw.orchestrator.activity",
}
"""``raw.orchestrator.__all__`` before the split (``connect`` aside), and where each name went."""


def _loaded_after_import(module: str, *, extra_path: Path | None = None) -> dict[str, list[str]]:
    """Import ``module`` in a fresh interpreter (old paths are errors) and report what loaded."""
    script = (
        f"import json, sys\nimport {module}\n"
        f"io = {sorted(IO_LIBRARIES)!r}\nkit = {list(KIT_IO_MODULES)!r}\n"
        "print(json.dumps({\n"
        "    'io': sorted(m for m in sys.modules if m.split('.')[0] in io),\n"
        "    'kit': sorted(m for m in sys.modules if m in kit),\n"
        "}))\n"
    )
    env = dict(os.environ)
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(extra_path), env.get("PYTHONPATH", "")) if p
        )
    done = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded: dict[str, list[str]] = json.loads(done.stdout)
    return loaded


def test_workflow_module_loads_no_io_library() -> None:
    assert _loaded_after_import("raw.orchestrator.workflow") == {"io": [], "kit": []}


def test_hiring_process_module_loads_no_io_library() -> None:
    assert _loaded_after_import("hiring.process", extra_path=HIRING) == {"io": [], "kit": []}


def test_client_module_is_where_io_lives() -> None:
    # The check above can fail: importing the client does load the kit's I/O modules.
    loaded = _loaded_after_import("raw.orchestrator.client")
    assert "raw.orchestrator.connect" in loaded["kit"]


@pytest.mark.parametrize(("name", "new_module"), sorted(OLD_PACKAGE_EXPORTS.items()))
def test_old_package_path_answers_with_a_warning_naming_the_new_one(
    name: str, new_module: str
) -> None:
    with pytest.warns(DeprecationWarning, match=rf"import it from {new_module}\b"):
        old: Any = getattr(raw.orchestrator, name)
    assert old is getattr(importlib.import_module(new_module), name)


def test_old_from_import_of_the_package_still_works() -> None:
    with pytest.warns(DeprecationWarning, match=r"raw\.orchestrator\.RawProcess has moved"):
        from raw.orchestrator import RawProcess
    assert RawProcess is workflow.RawProcess


@pytest.mark.parametrize(
    "name", ["RawProcess", "execute_raw", "RawEvent", "SIGNAL_IDEMPOTENCY_FIELD"]
)
def test_old_process_module_answers_with_a_warning_naming_workflow(name: str) -> None:
    import raw.orchestrator.process as old_module

    with pytest.warns(DeprecationWarning, match=r"import it from raw\.orchestrator\.workflow\b"):
        old = getattr(old_module, name)
    assert old is getattr(workflow, name)


# The sandbox imports the module again for each run: those repeats of the warning are expected.
@pytest.mark.filterwarnings(r"ignore:raw\.orchestrator\.\w+ has moved:DeprecationWarning")
def test_a_process_on_the_old_path_still_runs_in_the_sandbox(
    raw_time_skipping_env: WorkflowEnvironment, raw_worker: WorkerFactory, raw_task_queue: str
) -> None:
    sys.modules.pop(f"{__package__}.old_path_process", None)
    with pytest.warns(DeprecationWarning, match=r"raw\.orchestrator\.RawProcess has moved"):
        old = importlib.import_module(".old_path_process", __package__)
    env = raw_time_skipping_env

    async def scenario() -> str:
        async with raw_worker(
            env.client, workflows=[old.OldPathProcess], include_raw_activities=False
        ):
            handle = await env.client.start_workflow(
                "OldPathProcess", id=f"old-path-{uuid.uuid4()}", task_queue=raw_task_queue
            )
            await handle.signal("go", client.SignalEnvelope(idempotency_key="k-1", payload="now"))
            result: str = await handle.result()
            return result

    assert asyncio.run(scenario()) == "go: now"


def test_old_connect_still_connects_with_a_warning(tmp_path: Path) -> None:
    # Once raw.orchestrator.connect (the module) is loaded, the package attribute is that
    # module: it answers calls the way the function did.
    from raw.orchestrator import connect

    with pytest.warns(DeprecationWarning, match=r"import it from raw\.orchestrator\.client\b"):
        pending = connect(tmp_path / "missing")
    with pytest.raises(RawError, match="does not exist"):
        asyncio.run(pending)


def test_unknown_names_are_still_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'RawProces'"):
        _ = raw.orchestrator.RawProces
    with pytest.raises(ImportError):
        from raw.orchestrator import no_such_name  # noqa: F401


def test_each_module_exports_what_its_kind_of_code_uses() -> None:
    assert {"RawProcess", "execute_raw", "first_signal", "sleep_until", "wait_for"} <= set(
        workflow.__all__
    )
    assert {"connect", "start_process", "signal", "signal_with_start", "query", "cancel"} <= set(
        client.__all__
    )
    assert {"RawActivities", "run_raw_workflow", "run_raw_workflow_call"} <= set(activity.__all__)
    assert workflow.SignalEnvelope is client.SignalEnvelope
    assert workflow.RawWorkflowResult is activity.RawWorkflowResult
