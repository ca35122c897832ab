"""`raw validate` through the real binary: workflows are imported and checked for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Project, RunCli

RAW_BIN = Path(sys.executable).with_name("raw")

GOOD = """
from pydantic import BaseModel

from raw import BaseWorkflow, step


class Params(BaseModel):
    text: str
    count: int = 1


class Good(BaseWorkflow[Params]):
    @step("repeat")
    def repeat(self) -> str:
        return self.params.text * self.params.count
"""

ONLY_A_COMMENT = """
# class Fake(BaseWorkflow[Params]) with a @step: mentioned in a comment, defined nowhere.
VALUE = 1
"""

SYNTAX_ERROR = """
from raw import BaseWorkflow, step


class Broken(BaseWorkflow):
    @step("a")
    def a(self) -> None
        pass
"""

STEP_HIDES_SAVE = """
from raw import BaseWorkflow, step


class Saver(BaseWorkflow):
    @step("save")
    def save(self) -> int:
        return 1
"""

CONDITION_TYPO = """
from pydantic import BaseModel

from raw import BaseWorkflow, conditional, step


class Params(BaseModel):
    notify: bool = True


class Pinger(BaseWorkflow[Params]):
    @step("ping")
    @conditional("notfy")
    def ping(self) -> str:
        return "pong"
"""

ASYNC_STEP_SYNC_RUN = """
from raw import BaseWorkflow, step


class Mixed(BaseWorkflow):
    @step("fetch")
    async def fetch(self) -> int:
        return 1

    def run(self) -> object:
        return self.fetch()
"""

NO_STEP = """
from raw import BaseWorkflow


class Idle(BaseWorkflow):
    def helper(self) -> int:
        return 1
"""

TWO_CLASSES = """
from raw import BaseWorkflow, step


class First(BaseWorkflow):
    @step("a")
    def a(self) -> None: ...


class Second(BaseWorkflow):
    @step("b")
    def b(self) -> None: ...
"""

STEP_NEEDS_ARGS = """
from raw import BaseWorkflow, step


class Summarise(BaseWorkflow):
    @step("prepare")
    def prepare(self) -> str:
        return "x"

    @step("summarise")
    def summarise(self, text: str) -> str:
        return text
"""

PRINTS_ON_IMPORT = 'print("printed while importing")\n' + GOOD
EXITS_ON_IMPORT = "import sys\n\nsys.exit(4)\n"
KILLS_THE_PROCESS_ON_IMPORT = "from raw import BaseWorkflow\nimport os\n\nos._exit(9)\n"

# id -> (run.py, mocks, the expected error or None when valid)
CASES: dict[str, tuple[str, dict[str, Any], str | None]] = {
    "good": (GOOD, {"params": {"text": "hi"}}, None),
    "only-a-comment": (ONLY_A_COMMENT, {}, "run.py defines no BaseWorkflow subclass"),
    "syntax-error": (SYNTAX_ERROR, {}, "run.py line 6: syntax error: expected ':'"),
    "no-step": (NO_STEP, {}, "Idle has no @step methods: add at least one"),
    "two-classes": (TWO_CLASSES, {}, "run.py defines 2 workflow classes (First, Second)"),
    "step-needs-args": (
        STEP_NEEDS_ARGS,
        {},
        "step 'summarise' (summarise) needs arguments (text) but there is no run()",
    ),
    "params-mismatch": (
        GOOD,
        {"params": {"text": "hi", "count": "many"}},
        "mocks/params.json does not fit Params: count: Input should be a valid integer",
    ),
    "params-missing-field": (
        GOOD,
        {"params": {"count": 2}},
        "mocks/params.json does not fit Params: text: Field required",
    ),
    "llm-not-json": (GOOD, {"params": {"text": "hi"}, "llm": '{"responses": ['}, "not valid JSON"),
    "llm-wrong-shape": (
        GOOD,
        {"params": {"text": "hi"}, "llm": {"responses": [{"answer": "hi"}]}},
        "is not a valid LLM recordings file",
    ),
    "step-hides-save": (
        STEP_HIDES_SAVE,
        {},
        "step method 'save' hides BaseWorkflow.save",
    ),
    "condition-typo": (
        CONDITION_TYPO,
        {"params": {"notify": True}},
        "@conditional('notfy') on step 'ping' names no param",
    ),
    "async-step-sync-run": (
        ASYNC_STEP_SYNC_RUN,
        {},
        "step 'fetch' (fetch) is async but run() is not",
    ),
    "prints-on-import": (PRINTS_ON_IMPORT, {"params": {"text": "hi"}}, None),
    # No BaseWorkflow in its code: a plain script since issue 19, checked through --help.
    "exits-on-import": (EXITS_ON_IMPORT, {}, "run.py --help exited with code 4"),
    "exits-on-import-workflow": (
        "from raw import BaseWorkflow\nimport sys\n\nsys.exit(4)\n",
        {},
        "importing run.py raised SystemExit (line 4): 4",
    ),
}


def _write_workflow(root: Path, workflow_id: str, source: str, mocks: dict[str, Any]) -> None:
    folder = root / ".raw" / "workflows" / workflow_id
    (folder / "mocks").mkdir(parents=True)
    (folder / "run.py").write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    for name, content in mocks.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (folder / "mocks" / f"{name}.json").write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any], str]:
    """One `raw validate --json` over a project holding every case: one import cannot spoil
    another's report."""
    root = tmp_path_factory.mktemp("validate")
    (root / ".raw").mkdir()
    (root / ".raw" / "config.yaml").write_text("version: 1\n", encoding="utf-8")
    for workflow_id, (source, mocks, _) in CASES.items():
        _write_workflow(root, workflow_id, source, mocks)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_")}
    proc = subprocess.run(
        [str(RAW_BIN), "validate", "--json"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=100,
        env=env,
    )
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def _entry(doc: dict[str, Any], workflow_id: str) -> dict[str, Any]:
    (entry,) = [w for w in doc["workflows"] if w["workflow"] == workflow_id]
    return entry


def test_validate_all_reports_every_workflow_and_fails(
    report: tuple[int, dict[str, Any], str],
) -> None:
    code, doc, stderr = report
    assert code == 1
    assert doc["valid"] is False
    assert sorted(w["workflow"] for w in doc["workflows"]) == sorted(CASES)
    assert "Traceback (most recent call last)" not in stderr


@pytest.mark.parametrize("workflow_id", [k for k, v in CASES.items() if v[2] is not None])
def test_each_broken_workflow_is_reported_with_its_reason(
    report: tuple[int, dict[str, Any], str], workflow_id: str
) -> None:
    entry = _entry(report[1], workflow_id)
    assert entry["valid"] is False
    expected = CASES[workflow_id][2]
    assert expected is not None
    messages = [e["message"] for e in entry["errors"]]
    assert any(expected in m for m in messages), messages


@pytest.mark.parametrize("workflow_id", [k for k, v in CASES.items() if v[2] is None])
def test_sound_workflows_pass_even_beside_broken_ones(
    report: tuple[int, dict[str, Any], str], workflow_id: str
) -> None:
    entry = _entry(report[1], workflow_id)
    assert (entry["valid"], entry["errors"]) == (True, [])


def test_syntax_error_is_reported_with_its_line(report: tuple[int, dict[str, Any], str]) -> None:
    (error,) = _entry(report[1], "syntax-error")["errors"]
    assert error["line"] == 6
    assert error["file"].endswith(os.path.join("syntax-error", "run.py"))


def test_json_report_shape(report: tuple[int, dict[str, Any], str]) -> None:
    doc = report[1]
    assert doc.keys() == {"valid", "config", "workflows"}
    assert doc["config"].keys() == {"path", "valid", "error"}
    assert doc["config"]["valid"] is True
    for entry in doc["workflows"]:
        assert entry.keys() == {"workflow", "path", "errors", "warnings", "valid"}
        for finding in entry["errors"] + entry["warnings"]:
            assert finding.keys() == {"message", "file", "line"}


def test_a_workflow_that_kills_the_process_on_import_spoils_only_its_own_report(
    raw_cli: RunCli, project: Project
) -> None:
    project.add_workflow("good", GOOD, mocks={"params": {"text": "hi"}})
    project.add_workflow("killer", KILLS_THE_PROCESS_ON_IMPORT)
    result = raw_cli("validate", "--json")
    assert result.code == 1
    doc = result.json()
    assert _entry(doc, "good")["valid"] is True
    (error,) = _entry(doc, "killer")["errors"]
    assert "the validation process crashed (exit code 9)" in error["message"]


def test_one_valid_workflow_passes_with_exit_0(raw_cli: RunCli, project: Project) -> None:
    project.add_workflow("good", GOOD, mocks={"params": {"text": "hi"}})
    result = raw_cli("validate", "good")
    assert result.code == 0, result.stderr
    assert "✓ good" in result.stderr
    assert result.stdout == ""


def test_one_broken_workflow_fails_with_exit_1(raw_cli: RunCli, project: Project) -> None:
    project.add_workflow("only-a-comment", ONLY_A_COMMENT)
    result = raw_cli("validate", "only-a-comment")
    assert result.code == 1
    assert "✗ only-a-comment" in result.stderr
    assert "defines no BaseWorkflow subclass" in result.stderr


@pytest.mark.parametrize(
    ("config", "named"),
    [
        pytest.param("version: 1\nnmae: test\n", "nmae", id="top-level"),
        pytest.param("version: 1\nbuilder:\n  gatez: {}\n", "builder.gatez", id="nested"),
    ],
)
def test_unknown_config_key_is_an_error_naming_it(
    raw_cli: RunCli, project: Project, config: str, named: str
) -> None:
    project.add_workflow("good", GOOD, mocks={"params": {"text": "hi"}})
    (project.root / ".raw" / "config.yaml").write_text(config, encoding="utf-8")
    result = raw_cli("validate", "--json")
    assert result.code == 1
    doc = result.json()
    assert doc["valid"] is False
    assert doc["config"]["valid"] is False
    assert named in doc["config"]["error"]
    assert _entry(doc, "good")["valid"] is True

    human = raw_cli("validate")
    assert human.code == 1
    assert named in human.stderr


def test_validate_unknown_workflow_exits_3(raw_cli: RunCli, project: Project) -> None:
    project.add_workflow("good", GOOD)
    result = raw_cli("validate", "nope", "--json")
    assert result.code == 3
    assert result.json()["error"]["type"] == "WorkflowNotFoundError"
    human = raw_cli("validate", "goood")
    assert human.code == 3
    assert "Did you mean 'good'?" in human.stderr


def test_validate_an_id_and_all_together_is_a_usage_error(
    raw_cli: RunCli, project: Project
) -> None:
    project.add_workflow("good", GOOD)
    result = raw_cli("validate", "good", "--all", "--json")
    assert result.code == 2
    assert result.json()["error"]["type"] == "UsageError"
