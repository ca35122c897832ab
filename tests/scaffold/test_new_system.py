"""`raw new system`: each pattern's project installs, passes its own tests and `raw gates`
with no edits, and (full) runs under `raw up`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from raw.ports import free_port
from raw.testing.projects import copy_project

from .requirements_only import requirements_only_env
from .systems import RAW, clean_env, raw, raw_json

EXPECTED_GATES = {
    "single": ["validate", "dry", "tests"],
    "temporal": [
        "validate",
        "dry",
        "system-check",
        "tests",
        "temporal-validate",
        "docker-validate",
    ],
}
EXPECTED_GATES["full"] = EXPECTED_GATES["temporal"]


def own_pytest(root: Path, site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The generated project's own pytest, as if only its requirements-dev.txt were installed."""
    only = requirements_only_env(root, site, "requirements-dev.txt")
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=root,
        env=clean_env(**only),
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture(params=["single", "temporal", "full"])
def system(request: pytest.FixtureRequest) -> tuple[str, Path]:
    pattern = str(request.param)
    return pattern, request.getfixturevalue(f"{pattern}_system")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_generated_system_installs_and_passes_its_tests_and_gates(
    system: tuple[str, Path],
) -> None:
    pattern, root = system
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-index", "--dry-run", "-q"]
        + ["-r", "requirements-dev.txt"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr

    # As on a machine with only requirements-dev.txt installed (the suite's venv has more).
    only = requirements_only_env(root, root.parent / f"{pattern}-site", "requirements-dev.txt")
    code, run = raw_json("gates", cwd=root, timeout=600, env=only)
    statuses = {g["name"]: g["status"] for g in run["gates"]}
    failed = {
        g["name"]: Path(g["log"]).read_text() for g in run["gates"] if g["status"] != "passed"
    }
    assert code == 0 and run["ok"], failed
    assert list(statuses) == EXPECTED_GATES[pattern]
    tests_log = Path(next(g["log"] for g in run["gates"] if g["name"] == "tests")).read_text()
    assert " passed" in tests_log and "failed" not in tests_log and "skipped" not in tests_log
    folder = Path(run["directory"])
    assert (folder / "summary.json").is_file()
    events = [
        json.loads(line)["event"] for line in (folder / "journal.jsonl").read_text().splitlines()
    ]
    assert events[0] == "run-started" and events[-1] == "run-finished"


def test_each_project_has_its_config_readme_and_parts(
    single_system: Path, temporal_system: Path, full_system: Path
) -> None:
    for root in (single_system, temporal_system, full_system):
        config = yaml.safe_load((root / ".raw" / "config.yaml").read_text())
        assert "system" in config and "gates" in config["builder"]
        readme = (root / "README.md").read_text()
        assert "```mermaid\nflowchart LR" in readme
        assert "## Its two commands" in readme and "raw gates" in readme
    assert (single_system / ".raw/workflows/summarize/run.py").is_file()
    assert not (single_system / "deploy").exists()
    for root, package in ((temporal_system, "onboarding"), (full_system, "approvals")):
        assert sorted(p.name for p in (root / ".raw/histories").glob("*/*.json"))
        assert (root / "deploy/docker-compose.yml").is_file()
        assert (root / "deploy/k8s").is_dir() and list((root / "deploy/helm").glob("*/Chart.yaml"))
        assert (root / package / "process.py").is_file()
    schedules = yaml.safe_load((temporal_system / ".raw/config.yaml").read_text())["system"][
        "orchestrator"
    ]["schedules"]
    assert schedules == [
        {
            "id": "daily-report",
            "cron": "0 8 * * *",
            "timezone": "UTC",
            "workflow": "daily-report",
            "args": ["--date", "today"],
        }
    ]
    full = yaml.safe_load((full_system / ".raw/config.yaml").read_text())["system"]
    routes = {w["name"]: w["action"] for w in full["coordinator"]["webhooks"]}
    schemes = {w["name"]: w["scheme"] for w in full["coordinator"]["webhooks"]}
    assert schemes == {"request": "standard-webhooks", "approval": "github"}
    assert routes["request"]["kind"] == "start_process"
    assert routes["approval"] == {
        "kind": "signal",
        "process": "ApprovalsProcess",
        "business_key": "request_id",
        "signal": "approval",
    }
    assert (full_system / "approvals/migrations/versions/0001_approvals_requests.py").is_file()
    assert (full_system / "scenarios/happy-path.yaml").is_file()


def assert_lint_clean(root: Path) -> None:
    """ruff check and ruff format --check pass, with the project's own ruff settings."""
    ruff = Path(sys.executable).with_name("ruff")
    for check in (["check", "."], ["format", "--check", "."]):
        done = subprocess.run(
            [str(ruff), *check], cwd=root, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout


def test_the_generated_code_is_lint_clean(full_system: Path, temporal_system: Path) -> None:
    for root in (full_system, temporal_system):
        assert_lint_clean(root)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_full_system_whose_process_waits_for_nothing_tests_all_it_has(tmp_path: Path) -> None:
    """One webhook, no follow-up: no expiry test to skip, and its tests all run and pass."""
    root = tmp_path / "shop"
    done = raw(
        "new",
        "system",
        "shop",
        "--pattern",
        "full",
        "--webhook",
        "order-paid",
        "--dir",
        str(root),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    tests = (root / "tests/test_process.py").read_text()
    assert "skipif" not in tests and "expires_after_the_window" not in tests
    assert_lint_clean(root)
    ran = own_pytest(root, tmp_path / "site", "-q", "-rs")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert " passed" in ran.stdout and "skipped" not in ran.stdout, ran.stdout


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_process_whose_workflow_calls_the_llm_passes_its_tests_with_no_provider(
    temporal_system: Path, tmp_path: Path
) -> None:
    """The process tests run its RAW workflows for real: self.llm answers from mocks/llm.json."""
    root = copy_project(temporal_system, tmp_path / "onboarding")
    workflow = root / ".raw/workflows/analyze"
    code = (workflow / "run.py").read_text()
    logged = '        self.log(f"{len(words)} meaningful words, score {score}")\n'
    assert logged in code
    summary = '        self.log("summary: " + self.llm.complete(f"Summarise {self.params.text}"))\n'
    (workflow / "run.py").write_text(code.replace(logged, logged + summary))
    recorded = {"responses": [{"step": "score", "response": "Three engineers need laptops."}]}
    (workflow / "mocks/llm.json").write_text(json.dumps(recorded))

    ran = own_pytest(root, tmp_path / "site", "-q")  # no RAW_LLM_* provider settings
    assert ran.returncode == 0, ran.stdout + ran.stderr
    runs = [json.loads(m.read_text()) for m in workflow.glob("runs/*/manifest.json")]
    process_runs = [r for r in runs if not r["dry"]]
    assert process_runs and all(r["status"] == "succeeded" for r in process_runs), process_runs
    assert {r["llm"] for r in process_runs} == {"recorded"}
    logs = [(workflow / "runs" / r["run_id"] / "run.log").read_text() for r in process_runs]
    assert all("summary: Three engineers need laptops." in log for log in logs)


ZONE_TEST = """
import asyncio

import pytest
from test_api import REQUEST, running


@pytest.mark.usefixtures("settings")
def test_times_carry_their_zone() -> None:
    async def scenario():
        async with running() as app:
            await app.deliver("request", REQUEST)
            return (await app.get("/api/requests/r-100")).json()

    detail = asyncio.run(scenario())
    print("created_at", detail["created_at"])
    assert detail["created_at"].endswith("Z"), detail["created_at"]
"""


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_generated_api_returns_utc_times_with_their_zone_on_sqlite(
    full_system: Path, tmp_path: Path
) -> None:
    root = copy_project(full_system, tmp_path / "approvals")
    assert "sqlite+aiosqlite" in (root / "tests/conftest.py").read_text()
    (root / "tests/test_zone.py").write_text(ZONE_TEST)
    ran = own_pytest(root, tmp_path / "site", "-q", "-s", "tests/test_zone.py")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "created_at 20" in ran.stdout and "Z\n" in ran.stdout, ran.stdout


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_each_webhook_is_signed_with_the_scheme_its_flag_names(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    flags = ["--webhook", "order:bearer", "--webhook", "payment:github", "--webhook", "call:twilio"]
    code, answer = raw_json(
        "new", "system", "shop", "--pattern", "full", *flags, "--dir", str(root), cwd=tmp_path
    )
    assert code == 0, answer
    assert answer["schemes"] == {"order": "bearer", "payment": "github", "call": "twilio"}
    routes = yaml.safe_load((root / ".raw/config.yaml").read_text())["system"]["coordinator"]
    by_name = {w["name"]: w for w in routes["webhooks"]}
    assert [by_name[n]["scheme"] for n in ("order", "payment", "call")] == [
        "bearer",
        "github",
        "twilio",
    ]
    assert by_name["call"]["delivery_key"] == "request_id"  # Twilio sends no delivery id
    assert "github · signals 'payment' to ShopProcess" in (root / "README.md").read_text()
    assert_lint_clean(root)
    ran = own_pytest(root, tmp_path / "site", "-q")  # signed deliveries, process, scenario
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert " passed" in ran.stdout and "skipped" not in ran.stdout, ran.stdout
    checked = raw("gates", "--only", "system-check", cwd=root, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_dev_requirements_name_what_the_tests_need_not_the_kits_own_suite(
    full_system: Path, temporal_system: Path
) -> None:
    for root in (full_system, temporal_system):
        dev = (root / "requirements-dev.txt").read_text()
        assert "[coordinator,orchestrator,deploy,system-testing]" in dev
        assert "testing]" not in dev.replace("system-testing]", "")


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_the_full_system_runs_under_raw_up(full_system: Path, tmp_path: Path) -> None:
    root = copy_project(full_system, tmp_path / "approvals")
    port = free_port()
    lines: list[str] = []
    process = subprocess.Popen(
        [RAW, "up", "--port", str(port)],
        cwd=root,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )

    def read() -> None:
        assert process.stdout is not None
        with process.stdout:
            for line in process.stdout:
                lines.append(line.rstrip())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while not any("Ready in" in line for line in lines):
            assert process.poll() is None, "raw up exited:\n" + "\n".join(lines)
            assert time.monotonic() < deadline, "no 'Ready in':\n" + "\n".join(lines)
            time.sleep(0.1)
        body = {"request_id": "r-1", "name": "Ada", "text": "Laptops and accounts for Monday."}
        sent = raw(
            "webhook", "send", "request", "--url", f"http://127.0.0.1:{port}",
            "--data", json.dumps(body), "--json",
            cwd=root, timeout=60,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert json.loads(sent.stdout)["response"]["target"] == "approvals-process/r-1"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
        reader.join(10)
    assert code == 0, "\n".join(lines[-40:])
    assert any("Stopped." in line for line in lines)
