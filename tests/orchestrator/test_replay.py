"""Recorded histories replayed against the code: the temporal-validate gate."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from temporalio.testing import WorkflowEnvironment

from raw.orchestrator.activity import RawActivities
from raw.orchestrator.replay import histories_dir, replay, save_history
from raw.project import Project as RawProject
from raw.testing.pytest_plugin import WorkerFactory

from . import replay_v1, replay_v2, replay_v3

if TYPE_CHECKING:
    from conftest import Project

RAW_BIN = Path(sys.executable).with_name("raw")


def record_v1(env: WorkflowEnvironment, worker: WorkerFactory, project: Project) -> Path:
    async def scenario() -> Path:
        client = env.client
        raw_activities = RawActivities(project_dir=project.root)
        async with worker(
            client, workflows=[replay_v1.Onboarding], raw_activities=raw_activities
        ) as w:
            handle = await client.start_workflow(
                replay_v1.Onboarding.run,
                "ada",
                id=f"onboarding-{uuid.uuid4().hex[:8]}",
                task_queue=w.task_queue,
            )
            assert await handle.result() == "ada"
            return await save_history(RawProject(project.root), handle)

    return asyncio.run(scenario())


def test_recorded_history_replays_and_a_careless_change_is_caught(
    raw_time_skipping_env: WorkflowEnvironment, raw_worker: WorkerFactory, kit_project: Project
) -> None:
    path = record_v1(raw_time_skipping_env, raw_worker, kit_project)
    raw_project = RawProject(kit_project.root)
    assert path.parent == histories_dir(raw_project) / "Onboarding"

    same = asyncio.run(replay(raw_project, [replay_v1.Onboarding]))
    assert same.ok, same.to_dict()
    assert [r["type"] for r in same.replayed] == ["Onboarding"]

    careless = asyncio.run(replay(raw_project, [replay_v2.Onboarding]))
    assert not careless.ok
    assert len(careless.failures) == 1
    assert "nondetermin" in careless.failures[0]["error"].lower()

    patched = asyncio.run(replay(raw_project, [replay_v3.Onboarding]))
    assert patched.ok, patched.to_dict()


def test_a_process_type_without_history_fails_the_gate(kit_project: Project) -> None:
    report = asyncio.run(replay(RawProject(kit_project.root), [replay_v1.Onboarding]))
    assert not report.ok
    assert report.missing == ["Onboarding"]
    assert report.replayed == []


def test_raw_temporal_replay_is_the_gate_from_the_command_line(
    raw_time_skipping_env: WorkflowEnvironment, raw_worker: WorkerFactory, kit_project: Project
) -> None:
    record_v1(raw_time_skipping_env, raw_worker, kit_project)
    tests_dir = Path(__file__).resolve().parents[1]

    def gate(module: str) -> tuple[int, dict[str, object]]:
        config = kit_project.root / ".raw" / "config.yaml"
        config.write_text(
            textwrap.dedent(f"""
            version: 1
            system:
              orchestrator:
                workflows: [orchestrator.{module}]
        """),
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RAW_", "TEMPORAL_"))}
        # Ahead of, not instead of, a PYTHONPATH that points at the source under test.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tests_dir), env.get("PYTHONPATH")]))
        proc = subprocess.run(
            [str(RAW_BIN), "temporal", "replay", "--json"],
            cwd=kit_project.root,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert proc.stdout, proc.stderr
        return proc.returncode, json.loads(proc.stdout)

    code, doc = gate("replay_v1")
    assert (code, doc["ok"]) == (0, True), doc
    code, doc = gate("replay_v2")
    assert (code, doc["ok"]) == (1, False)
    assert doc["failures"], doc
