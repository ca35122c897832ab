"""What every run leaves on disk: the run folder, manifest.json, run.log and artifacts."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from raw import RunResult, clock, run_workflow
from raw.clock import ManualClock
from raw.commands.inspect import recent_runs
from raw.files import write_atomic
from raw.project import find_project
from raw.workflow import recorder
from raw.workflow.recorder import (
    FileRecorder,
    MultiRecorder,
    list_run_dirs,
    read_manifest,
    run_summary,
)

if TYPE_CHECKING:
    from conftest import Project

START = datetime(2030, 1, 1, tzinfo=UTC)
SECRET = "sk-live-51H8qQ2eZvKYlo2C"
ENV_KEYS = {"python", "raw", "host", "pid", "entry_point"}


def run(project: Project, workflow_id: str, params: Any = None, **options: Any) -> RunResult:
    return run_workflow(workflow_id, params, project_dir=project.root, **options)


def manifest_of(result: RunResult) -> dict[str, Any]:
    assert result.run_dir is not None
    manifest = read_manifest(Path(result.run_dir))
    assert manifest is not None
    return manifest


def text_of(result: RunResult) -> tuple[str, str]:
    """The manifest's and the run log's raw text."""
    assert result.run_dir is not None and result.log_path is not None
    manifest = (Path(result.run_dir) / "manifest.json").read_text(encoding="utf-8")
    return manifest, Path(result.log_path).read_text(encoding="utf-8")


GREET = """
from pydantic import BaseModel

from raw import BaseWorkflow, step

class Params(BaseModel):
    name: str = "Ada"
    fail: bool = False

class Greet(BaseWorkflow[Params]):
    @step("hello")
    def hello(self) -> str:
        self.log(f"greeting {self.params.name}")
        if self.params.fail:
            raise RuntimeError("greeting refused")
        return f"hello {self.params.name}"
"""


# --- the run folder ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"name": "Bob"}, "succeeded"),
        ({"fail": True}, "failed"),
        ({"name": ["not", "a", "string"]}, "invalid_input"),
    ],
)
def test_every_run_leaves_a_folder_with_manifest_and_log(
    project: Project, params: dict[str, Any], status: str
) -> None:
    project.add_workflow("greet", GREET)

    result = run(project, "greet", params)

    assert result.status == status
    [run_dir] = project.runs("greet")
    assert run_dir.name == result.run_id
    assert str(run_dir) == result.run_dir
    # self.log also writes the original runtime's output.log (issue 19) once a step logs.
    logged = ["output.log"] if status != "invalid_input" else []
    assert sorted(p.name for p in run_dir.iterdir()) == ["manifest.json", *logged, "run.log"]
    assert manifest_of(result)["status"] == status
    log = (run_dir / "run.log").read_text(encoding="utf-8")
    assert f"run {result.run_id} {status}" in log


def test_run_whose_run_py_does_not_load_is_recorded_too(project: Project) -> None:
    # Naming BaseWorkflow keeps it a workflow: a file without it is a plain script (issue 19).
    project.add_workflow("greet", "from raw import BaseWorkflow\n\nraise SystemExit('no')\n")

    result = run(project, "greet")

    assert result.status == "failed"
    [run_dir] = project.runs("greet")
    assert manifest_of(result)["error"]["type"] == "WorkflowLoadError"
    assert "SystemExit" in (run_dir / "run.log").read_text(encoding="utf-8")


def test_manifest_is_the_result_plus_params_and_environment(project: Project) -> None:
    project.add_workflow("greet", GREET)

    result = run(project, "greet", {"name": "Bob"})

    manifest = manifest_of(result)
    assert manifest == {
        **result.to_json_dict(),
        "params": {"name": "Bob", "fail": False},
        "environment": manifest["environment"],
    }
    assert set(manifest["environment"]) == ENV_KEYS
    assert manifest["environment"]["entry_point"] == "python"
    assert manifest["schema"] == "raw.run/1"
    assert [s["name"] for s in manifest["steps"]] == ["hello"]


def test_failed_run_manifest_keeps_steps_and_error(project: Project) -> None:
    project.add_workflow("greet", GREET)

    result = run(project, "greet", {"fail": True})

    manifest = manifest_of(result)
    assert manifest == {
        **result.to_json_dict(),
        "params": {"name": "Ada", "fail": True},
        "environment": manifest["environment"],
    }
    assert manifest["steps"][0]["error"]["message"] == "greeting refused"
    assert manifest["error"]["type"] == "RuntimeError"


def test_environment_block_holds_no_environment_variables(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAW_CANARY_TOKEN", "canary-raw-3f9a")
    monkeypatch.setenv("DATABASE_URL", "postgres://user:canary-db-77c1@db/prod")
    project.add_workflow("greet", GREET)

    result = run(project, "greet", {"fail": True})

    manifest_text, log_text = text_of(result)
    assert set(manifest_of(result)["environment"]) == ENV_KEYS
    for canary in ("canary-raw-3f9a", "canary-db-77c1"):
        assert canary not in manifest_text
        assert canary not in log_text


def test_log_lines_from_the_workflow_are_in_run_log(project: Project) -> None:
    project.add_workflow("greet", GREET)

    result = run(project, "greet", {"name": "Grace"})

    _, log = text_of(result)
    assert "INFO greeting Grace" in log


# --- secrets ----------------------------------------------------------------------

SECRETIVE = """
from pydantic import BaseModel, SecretStr

from raw import BaseWorkflow, step

class Credentials(BaseModel):
    api_key: SecretStr

class Params(BaseModel):
    account: str
    credentials: Credentials
    retries: int = 1

class Secretive(BaseWorkflow[Params]):
    @step("login")
    def login(self) -> str:
        key = self.params.credentials.api_key.get_secret_value()
        self.log(f"logging in with {key}")
        raise PermissionError(f"key {key} was rejected for {self.params.account}")
"""


def test_secret_params_are_redacted_everywhere_the_run_is_recorded(project: Project) -> None:
    project.add_workflow("secretive", SECRETIVE)

    result = run(project, "secretive", {"account": "acme", "credentials": {"api_key": SECRET}})

    assert result.status == "failed"
    manifest_text, log_text = text_of(result)
    assert SECRET not in manifest_text
    assert SECRET not in log_text
    assert SECRET not in result.model_dump_json()  # what `raw run --json` prints
    assert result.error is not None
    assert result.error.message == "key ********** was rejected for acme"
    assert "logging in with **********" in log_text
    manifest = manifest_of(result)
    assert manifest["params"]["credentials"]["api_key"] == "**********"
    assert manifest["params"]["account"] == "acme"
    assert manifest == {
        **result.to_json_dict(),
        "params": manifest["params"],
        "environment": manifest["environment"],
    }


def test_secret_params_are_redacted_in_log_records_shown_on_stderr(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    project.add_workflow("secretive", SECRETIVE)

    with caplog.at_level("INFO", logger="raw"):
        run(project, "secretive", {"account": "acme", "credentials": {"api_key": SECRET}})

    assert "logging in with **********" in caplog.text
    assert SECRET not in caplog.text


def test_secret_params_are_redacted_for_a_caller_supplied_recorder(
    project: Project, tmp_path: Path
) -> None:
    project.add_workflow("secretive", SECRETIVE)
    elsewhere = tmp_path / "index"

    result = run(
        project,
        "secretive",
        {"account": "acme", "credentials": {"api_key": SECRET}},
        recorder=FileRecorder(elsewhere),
    )

    assert result.run_dir == str(elsewhere / "secretive" / result.run_id)
    manifest_text, log_text = text_of(result)
    assert "logging in with **********" in log_text
    assert SECRET not in manifest_text
    assert SECRET not in log_text


def test_secret_params_are_redacted_when_the_params_are_invalid(project: Project) -> None:
    project.add_workflow("secretive", SECRETIVE)

    result = run(
        project,
        "secretive",
        {"account": "acme", "credentials": {"api_key": SECRET}, "retries": "many"},
    )

    assert result.status == "invalid_input"
    manifest_text, log_text = text_of(result)
    assert SECRET not in manifest_text
    assert SECRET not in log_text
    assert manifest_of(result)["params"]["account"] == "acme"


# --- run ids ----------------------------------------------------------------------


def test_run_ids_sort_by_start_time(project: Project) -> None:
    project.add_workflow("greet", GREET)

    ids = []
    with clock.use(ManualClock(START)) as manual:
        for step in (timedelta(microseconds=1), timedelta(seconds=1), timedelta(days=400)):
            ids.append(run(project, "greet").run_id)
            manual.advance(step)

    assert ids[0].startswith("20300101T000000000000Z-")
    assert sorted(ids) == ids
    assert [p.name for p in project.runs("greet")] == ids


def test_concurrent_runs_at_the_same_instant_never_share_a_folder(project: Project) -> None:
    project.add_workflow("greet", GREET)
    frozen = ManualClock(START)

    def one(i: int) -> RunResult:
        with clock.use(frozen):
            return run(project, "greet", {"name": f"n{i}"})

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(50)))

    assert frozen.monotonic() == 0  # every run started at the very same instant
    assert {r.status for r in results} == {"succeeded"}
    assert all(r.run_id.startswith("20300101T000000000000Z-") for r in results)
    assert len({r.run_id for r in results}) == 50
    folders = project.runs("greet")
    assert len(folders) == 50
    names = sorted(manifest_of(r)["params"]["name"] for r in results)
    assert names == sorted(f"n{i}" for i in range(50))


def test_recorder_draws_a_new_id_when_the_folder_already_exists(tmp_path: Path) -> None:
    recorder = FileRecorder(tmp_path)

    first = recorder.start("greet", "20300101T000000000000Z-abcdef", workflow_dir=None)
    second = recorder.start("greet", "20300101T000000000000Z-abcdef", workflow_dir=None)
    first.close()
    second.close()

    assert first.run_id == "20300101T000000000000Z-abcdef"
    assert second.run_id != first.run_id
    assert second.run_id.startswith("20300101T000000000000Z-")
    assert first.run_dir != second.run_dir


# --- manifest writes --------------------------------------------------------------


def test_a_run_that_lasts_writes_its_running_record_while_it_runs(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder, "START_RECORD_AFTER_SECONDS", 0.02)
    project.add_workflow(
        "introspect",
        """
        import json
        import time

        from raw import BaseWorkflow, step

        class Introspect(BaseWorkflow):
            @step("look")
            def look(self) -> dict:
                # self.run_dir is the original's results folder (issue 19): the run's own
                # folder is the handle's. Wait for the record of a run that lasts.
                folder = self.run_context.handle.run_dir
                deadline = time.monotonic() + 30
                while not (folder / "manifest.json").exists() and time.monotonic() < deadline:
                    time.sleep(0.005)
                manifest = json.loads((folder / "manifest.json").read_text())
                self.log("after the record")
                return {
                    "manifest": manifest,
                    "log": (folder / "run.log").read_text(),
                }
        """,
    )

    result = run(project, "introspect", {})

    assert result.status == "succeeded", result.error
    written = result.output["manifest"]
    assert written["status"] == "running"
    assert written["run_id"] == result.run_id
    assert written["steps"] == [] and written["timings"]["ended_at"] is None  # as it started
    assert set(written["environment"]) == ENV_KEYS
    assert "started" in result.output["log"]
    final = manifest_of(result)
    assert final["status"] == "succeeded"
    _, log_text = text_of(result)
    lines = log_text.splitlines()
    assert "started" in lines[0] and "after the record" in lines[1] and "succeeded" in lines[-1]


class _Counting(FileRecorder):
    """Files, keeping the status of every manifest its runs write."""

    def __init__(self, runs_dir: Path) -> None:
        super().__init__(runs_dir)
        self.statuses: list[str] = []

    def start(self, workflow_id: str, run_id: str, *, workflow_dir: Path | None) -> Any:
        handle = super().start(workflow_id, run_id, workflow_dir=workflow_dir)
        write = handle.write_manifest

        def counted(manifest: dict[str, Any]) -> None:
            self.statuses.append(manifest["status"])
            write(manifest)

        handle.write_manifest = counted  # type: ignore[method-assign]
        return handle


class _Mirrored:
    """Files and a mirror (as a run index is): every manifest's status, in order."""

    def __init__(self, runs_dir: Path) -> None:
        self.statuses: list[str] = []
        self.recorder = MultiRecorder(FileRecorder(runs_dir), self)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        self.statuses.append(manifest["status"])


def test_a_run_shorter_than_the_delay_writes_its_record_once(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder, "START_RECORD_AFTER_SECONDS", 3600)
    project.add_workflow("greet", GREET)
    counting = _Counting(tmp_path / "runs")

    result = run(project, "greet", {"name": "Bo"}, recorder=counting)

    assert result.status == "succeeded"
    assert counting.statuses == ["succeeded"]
    _, log_text = text_of(result)
    assert [("started" in line, "succeeded" in line) for line in log_text.splitlines()] == [
        (True, False),
        (False, False),  # the workflow's own line
        (False, True),
    ]


def test_a_mirrored_run_writes_its_running_record_as_it_starts(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run index shows running runs (and the runs a killed worker left): at once."""
    monkeypatch.setattr(recorder, "START_RECORD_AFTER_SECONDS", 3600)
    project.add_workflow("greet", GREET)
    mirrored = _Mirrored(tmp_path / "runs")

    result = run(project, "greet", {"name": "Bo"}, recorder=mirrored.recorder)

    assert result.status == "succeeded"
    assert mirrored.statuses == ["running", "succeeded"]


def test_a_run_folder_without_a_manifest_is_listed_as_running(project: Project) -> None:
    """A run that died before its record was written: its folder says it started."""
    project.add_workflow("greet", GREET)
    finished = run(project, "greet", {})
    runs = Path(str(finished.run_dir)).parent
    (runs / "20991231T235959123456Z-abc123").mkdir()  # newer than the finished run
    (runs / "scratch").mkdir()  # not a run's folder

    listed = [p.name for p in list_run_dirs(runs)]
    assert listed == ["20991231T235959123456Z-abc123", finished.run_id]
    summary = run_summary(runs / "20991231T235959123456Z-abc123")
    assert summary is not None
    assert summary["status"] == "running" and summary["workflow"] == "greet"
    assert summary["timings"]["started_at"] == "2099-12-31T23:59:59.123456+00:00"
    assert run_summary(runs / "scratch") is None
    shown = recent_runs(find_project(project.root), "greet", 5)
    assert [(r["run_id"], r["status"]) for r in shown] == [
        ("20991231T235959123456Z-abc123", "running"),
        (finished.run_id, "succeeded"),
    ]


def test_atomic_writes_are_never_seen_half_written(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    docs = [json.dumps({"n": n, "pad": "x" * 400_000}).encode() for n in range(2)]
    write_atomic(path, docs[0])
    writing = threading.Event()
    writing.set()

    def writer() -> None:
        for i in range(200):
            write_atomic(path, docs[i % 2])
        writing.clear()

    thread = threading.Thread(target=writer)
    thread.start()
    reads = 0
    try:
        while writing.is_set():
            assert json.loads(path.read_bytes())["n"] in (0, 1)
            reads += 1
    finally:
        thread.join()

    assert reads > 0
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]  # no temp files left


# --- where runs go ----------------------------------------------------------------


def test_raw_runs_dir_relocates_runs(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("RAW_RUNS_DIR", str(elsewhere))
    project.add_workflow("greet", GREET)

    result = run(project, "greet")

    assert result.run_dir == str(elsewhere / "greet" / result.run_id)
    assert read_manifest(elsewhere / "greet" / result.run_id) is not None
    assert (elsewhere / "greet" / result.run_id / "run.log").exists()
    assert project.runs("greet") == []


def test_config_runs_dir_relocates_runs_relative_to_the_project(project: Project) -> None:
    config = project.root / ".raw" / "config.yaml"
    config.write_text("version: 1\nruns_dir: var/runs\n", encoding="utf-8")
    project.add_workflow("greet", GREET)

    result = run(project, "greet")

    expected = project.root / "var" / "runs" / "greet" / result.run_id
    assert result.run_dir == str(expected)
    assert read_manifest(expected) is not None
    assert project.runs("greet") == []


# --- artifacts --------------------------------------------------------------------


def test_save_writes_json_bytes_and_text_into_results(project: Project) -> None:
    project.add_workflow(
        "saver",
        """
        from pydantic import BaseModel

        from raw import BaseWorkflow, step

        class Summary(BaseModel):
            lines: int
            words: int

        class Saver(BaseWorkflow):
            @step("save")
            def save_all(self) -> list:
                return [
                    self.save("counts.json", {"lines": 3}).name,
                    self.save("summary.json", Summary(lines=3, words=12)).name,
                    self.save("rows.json", [1, 2]).name,
                    self.save("image.bin", b"\\x00\\xff\\x10"),
                    self.save("notes/readme.txt", "héllo"),
                ] and str(self.results_dir)
        """,
    )

    result = run(project, "saver")

    assert result.status == "succeeded", result.error
    results = Path(result.run_dir or "") / "results"
    assert result.output == str(results)
    assert json.loads((results / "counts.json").read_text()) == {"lines": 3}
    assert json.loads((results / "summary.json").read_text()) == {"lines": 3, "words": 12}
    assert json.loads((results / "rows.json").read_text()) == [1, 2]
    assert (results / "image.bin").read_bytes() == b"\x00\xff\x10"
    assert (results / "notes" / "readme.txt").read_text(encoding="utf-8") == "héllo"
    assert [(a.name, a.size_bytes) for a in result.artifacts] == [
        ("counts.json", len((results / "counts.json").read_bytes())),
        ("summary.json", len((results / "summary.json").read_bytes())),
        ("rows.json", len((results / "rows.json").read_bytes())),
        ("image.bin", 3),
        ("notes/readme.txt", len("héllo".encode())),
    ]
    assert manifest_of(result)["artifacts"] == [a.model_dump() for a in result.artifacts]
    _, log = text_of(result)
    assert "saved image.bin (3 bytes)" in log


@pytest.mark.parametrize("name", ["../escape.txt", "notes/../../escape.txt", "ABSOLUTE", ""])
def test_save_refuses_names_outside_the_results_folder(
    project: Project, tmp_path: Path, name: str
) -> None:
    if name == "ABSOLUTE":
        name = str(tmp_path / "escape.txt")
    project.add_workflow(
        "escaper",
        f"""
        from raw import BaseWorkflow, step

        class Escaper(BaseWorkflow):
            @step("write")
            def write(self) -> None:
                self.save({name!r}, "gotcha")
        """,
    )

    result = run(project, "escaper")

    assert result.status == "failed"
    assert result.error is not None and result.error.type == "InvalidArtifactNameError"
    assert f"Cannot save '{name}'" in result.error.message
    assert result.artifacts == []
    assert not list(tmp_path.rglob("escape.txt"))
