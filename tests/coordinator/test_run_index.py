"""The run index: every RAW run, from any entry point, recorded in ``raw_runs``."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import raw
from raw.coordinator.db.database import Database, upgrade
from raw.coordinator.db.run_index import (
    LOG_TAIL_BYTES,
    RunIndexSink,
    RunRecord,
    get_run,
    list_runs,
    log_tail,
    sync_engine,
)

if TYPE_CHECKING:
    from conftest import Project, RunCli

SECRET = "TopSecret-7f3a"

HELLO = """
from pydantic import BaseModel

from raw import BaseWorkflow, step


class Params(BaseModel):
    name: str = "world"


class Hello(BaseWorkflow[Params]):
    @step("greet")
    def greet(self) -> str:
        self.log(f"greeting {self.params.name}")
        return f"hello {self.params.name}"
"""

BROKEN = """
from raw import BaseWorkflow, step


class Broken(BaseWorkflow):
    @step("explode")
    def explode(self) -> None:
        raise ValueError("the CV is empty")
"""


def _runs(url: str, **filters: Any) -> list[RunRecord]:
    async def scenario() -> list[RunRecord]:
        async with Database(url) as db:
            return await list_runs(db, **filters)

    return asyncio.run(scenario())


def _run(url: str, run_id: str) -> RunRecord | None:
    async def scenario() -> RunRecord | None:
        async with Database(url) as db:
            return await get_run(db, run_id)

    return asyncio.run(scenario())


def test_a_cli_run_is_indexed_with_its_manifest_and_log_tail(
    raw_cli: RunCli, project: Project, db_sqlite_url: str
) -> None:
    asyncio.run(upgrade(db_sqlite_url))
    project.add_workflow("hello", HELLO)
    result = raw_cli("run", "hello", "--name", "Ada", "--json", env={"DATABASE_URL": db_sqlite_url})
    assert result.code == 0, result.stderr
    run_id = result.json()["run_id"]

    summary = _runs(db_sqlite_url, workflow="hello")
    assert [r.run_id for r in summary] == [run_id]
    assert summary[0].manifest is None  # lists stay light

    record = _run(db_sqlite_url, run_id)
    assert record is not None
    assert (record.status, record.entry_point, record.host) == ("succeeded", "cli", os.uname()[1])
    assert record.started_at.tzinfo is not None and record.ended_at is not None
    assert record.duration_ms is not None and record.duration_ms >= 0
    assert record.manifest is not None
    assert record.manifest["output"] == "hello Ada"
    assert record.manifest["params"] == {"name": "Ada"}
    assert record.log_tail is not None
    assert "greeting Ada" in record.log_tail
    assert record.log_tail.rstrip().endswith("succeeded")
    assert record.error is None


def test_a_failed_cli_run_is_indexed_with_its_error(
    raw_cli: RunCli, project: Project, db_sqlite_url: str
) -> None:
    asyncio.run(upgrade(db_sqlite_url))
    project.add_workflow("broken", BROKEN)
    result = raw_cli("run", "broken", "--json", env={"DATABASE_URL": db_sqlite_url})
    assert result.code == 1
    record = _run(db_sqlite_url, result.json()["run_id"])
    assert record is not None
    assert record.status == "failed"
    assert record.error is not None and "the CV is empty" in record.error
    assert record.log_tail is not None and "ValueError" in record.log_tail


def _imported_modules(project: Project, env: dict[str, str]) -> set[str]:
    """Modules a real `raw run` imports, from ``python -X importtime``."""
    full_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    full_env.update(env)
    proc = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            "from raw.cli.main import main; main()",
            "run",
            "hello",
            "--json",
        ],
        cwd=project.root,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "succeeded"
    return {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }


def test_a_run_without_a_database_never_imports_sqlalchemy(
    project: Project, db_sqlite_url: str
) -> None:
    project.add_workflow("hello", HELLO)
    without = _imported_modules(project, {})
    assert "raw.workflow.runner" in without  # the probe sees the run's imports
    assert not {m for m in without if m.split(".")[0] in ("sqlalchemy", "alembic", "aiosqlite")}
    # Only the light module that decides whether there is an index to write to.
    coordinator = {m for m in without if m.startswith("raw.coordinator")}
    assert coordinator <= {"raw.coordinator", "raw.coordinator.run_mirror"}

    asyncio.run(upgrade(db_sqlite_url))
    with_db = _imported_modules(project, {"DATABASE_URL": db_sqlite_url})
    assert "sqlalchemy" in with_db

    switched_off = {"DATABASE_URL": db_sqlite_url, "RAW_RUN_INDEX": "0"}
    assert "sqlalchemy" not in _imported_modules(project, switched_off)


def test_an_unreachable_database_never_fails_a_run(raw_cli: RunCli, project: Project) -> None:
    project.add_workflow("hello", HELLO)
    url = f"postgresql://raw:{SECRET}@127.0.0.1:1/raw"
    result = raw_cli("run", "hello", "--json", env={"DATABASE_URL": url})
    assert result.code == 0, result.stderr
    assert result.json()["output"] == "hello world"
    assert "run index" in result.stderr
    assert result.stderr.count("could not record") == 1  # warned once, not per write
    assert SECRET not in result.stderr


def test_a_database_not_yet_migrated_never_fails_a_run(
    raw_cli: RunCli, project: Project, tmp_path: Path
) -> None:
    project.add_workflow("hello", HELLO)
    missing = tmp_path / "nowhere" / "coordinator.db"
    result = raw_cli("run", "hello", "--json", env={"DATABASE_URL": f"sqlite:///{missing}"})
    assert result.code == 0, result.stderr
    assert "raw db upgrade" in result.stderr
    assert not missing.exists()  # recording a run never creates a database


def test_in_process_runs_are_indexed_on_postgresql(
    project: Project, raw_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    asyncio.run(upgrade(raw_postgres_url))
    project.add_workflow("hello", HELLO)
    monkeypatch.setenv("DATABASE_URL", raw_postgres_url)
    result = raw.run_workflow("hello", {"name": "Grace"}, project_dir=project.root)
    assert result.ok

    record = _run(raw_postgres_url, result.run_id)
    assert record is not None
    assert (record.status, record.entry_point) == ("succeeded", "python")
    assert record.manifest is not None and record.manifest["output"] == "hello Grace"
    assert record.log_tail is not None and "greeting Grace" in record.log_tail


def test_configured_database_url_in_the_config_is_used(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    (project.root / ".raw" / "config.yaml").write_text(
        "version: 1\nsystem:\n  coordinator:\n    database_url: sqlite:///.raw/index.db\n",
        encoding="utf-8",
    )
    url = f"sqlite:///{project.root / '.raw' / 'index.db'}"
    asyncio.run(upgrade(url))
    project.add_workflow("hello", HELLO)
    result = raw.run_workflow("hello", project_dir=project.root)
    assert [r.run_id for r in _runs(url)] == [result.run_id]


def test_the_systems_default_database_is_used_once_it_exists(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    project.add_workflow("hello", HELLO)
    before = raw.run_workflow("hello", project_dir=project.root)  # no database yet: not indexed
    default = project.root / ".raw" / "coordinator.db"
    assert not default.exists()
    url = f"sqlite:///{default}"
    asyncio.run(upgrade(url))  # what the coordinator does when it first starts
    after = raw.run_workflow("hello", project_dir=project.root)
    assert [r.run_id for r in _runs(url)] == [after.run_id]
    assert before.run_id != after.run_id


def _manifest(run_id: str, **fields: Any) -> dict[str, Any]:
    started = fields.pop("started_at", datetime(2026, 5, 1, tzinfo=UTC))
    doc: dict[str, Any] = {
        "schema": "raw.run/1",
        "workflow": "analyze-cv",
        "run_id": run_id,
        "status": "succeeded",
        "output": {"score": 7},
        "error": None,
        "dry": False,
        "timings": {
            "started_at": started.isoformat(),
            "ended_at": (started + timedelta(seconds=2)).isoformat(),
            "duration_ms": 2000.0,
        },
        "environment": {"host": "worker-1", "entry_point": "temporal"},
        "log_path": None,
    }
    doc.update(fields)
    return doc


def test_list_runs_filters_newest_first_and_get_run_has_the_details(db_migrated_url: str) -> None:
    sink = RunIndexSink(db_migrated_url)
    base = datetime(2026, 5, 1, tzinfo=UTC)
    sink.write_manifest(_manifest("r-1", started_at=base))
    sink.write_manifest(
        _manifest(
            "r-2",
            started_at=base + timedelta(minutes=1),
            status="failed",
            error={"type": "ValueError", "message": "bad input"},
        )
    )
    sink.write_manifest(
        _manifest(
            "r-3",
            started_at=base + timedelta(minutes=2),
            workflow="daily-report",
            correlation_id="corr-9",
            idempotency_key="inbox-42",
        )
    )

    assert [r.run_id for r in _runs(db_migrated_url)] == ["r-3", "r-2", "r-1"]
    assert [r.run_id for r in _runs(db_migrated_url, workflow="analyze-cv")] == ["r-2", "r-1"]
    assert [r.run_id for r in _runs(db_migrated_url, status="failed")] == ["r-2"]
    assert [r.run_id for r in _runs(db_migrated_url, correlation_id="corr-9")] == ["r-3"]
    assert [r.run_id for r in _runs(db_migrated_url, limit=1)] == ["r-3"]

    failed = _run(db_migrated_url, "r-2")
    assert failed is not None and failed.error == "bad input"
    report = _run(db_migrated_url, "r-3")
    assert report is not None
    assert (report.correlation_id, report.idempotency_key) == ("corr-9", "inbox-42")
    assert (report.entry_point, report.host) == ("temporal", "worker-1")
    assert report.started_at == base + timedelta(minutes=2)
    assert report.manifest is not None and report.manifest["output"] == {"score": 7}
    assert _run(db_migrated_url, "no-such-run") is None


def test_a_finished_run_is_never_set_back_to_running(db_migrated_url: str) -> None:
    sink = RunIndexSink(db_migrated_url)
    sink.write_manifest(_manifest("r-1", status="running"))
    sink.write_manifest(_manifest("r-1", status="succeeded"))
    sink.write_manifest(_manifest("r-1", status="running"))  # a late, reordered write
    record = _run(db_migrated_url, "r-1")
    assert record is not None and record.status == "succeeded"


def test_writes_from_an_event_loop_go_to_a_background_thread_in_order(
    db_migrated_url: str,
) -> None:
    sink = RunIndexSink(db_migrated_url)

    async def from_the_loop() -> None:
        sink.write_manifest(_manifest("r-loop", status="running"))
        sink.write_manifest(
            _manifest("r-loop", status="failed", error={"type": "E", "message": "x"})
        )

    asyncio.run(from_the_loop())
    assert sink.flush(timeout_seconds=30)
    record = _run(db_migrated_url, "r-loop")
    assert record is not None and record.status == "failed"


def test_log_tail_keeps_the_end_of_a_long_log_from_a_line_start(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text("".join(f"line {n:05d} ünïcode\n" for n in range(2000)), encoding="utf-8")
    tail = log_tail(log)
    assert tail is not None
    assert len(tail.encode()) <= LOG_TAIL_BYTES
    assert tail.startswith("line ")
    assert tail.endswith("line 01999 ünïcode\n")
    assert log_tail(tmp_path / "missing.log") is None


def test_one_engine_per_url_is_kept_for_the_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    assert sync_engine(url) is sync_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
