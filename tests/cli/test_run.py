"""`raw run <id>` through the real binary: flags from Params, the output contract, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import raw

if TYPE_CHECKING:
    from conftest import Project, RunCli

SLEEPY = """
import time
from pathlib import Path

from pydantic import BaseModel
from raw import BaseWorkflow, step


class Params(BaseModel):
    folder: str


class Sleepy(BaseWorkflow[Params]):
    @step("nap")
    def nap(self) -> None:
        Path(self.params.folder, "asleep").touch()
        time.sleep(10)
        Path(self.params.folder, "awake").touch()
"""

RETURNS_THREE = """
from raw_runtime import BaseWorkflow, step


class ReturnsThree(BaseWorkflow):
    @step("check")
    def check(self) -> bool:
        return False

    def run(self) -> int:
        self.check()
        return 3
"""

NOISY = """
from raw import BaseWorkflow, step

print("printed while importing")


class Noisy(BaseWorkflow):
    @step("shout")
    def shout(self) -> str:
        print("printed inside a step")
        return "done"
"""

NOISY_BELOW_PYTHON = """
import os
import subprocess
import sys

from raw import BaseWorkflow, step

os.write(1, b"written to descriptor 1 while importing\\n")


class NoisyBelowPython(BaseWorkflow):
    @step("shout")
    def shout(self) -> str:
        print("printed inside a step")
        os.write(1, b"written to descriptor 1 inside a step\\n")
        subprocess.run([sys.executable, "-c", "print('a child process printed')"], check=True)
        print("to sys.__stdout__", file=sys.__stdout__)
        return "done"


if __name__ == "__main__":
    NoisyBelowPython.main()
"""

OUTSIDER = """
from pathlib import Path

from raw import BaseWorkflow, step

Path(__file__).with_name("imported.txt").write_text("the outsider's code ran")
print("the outsider printed")


class Outsider(BaseWorkflow):
    @step("act")
    def act(self) -> str:
        return "done"
"""

TWO_REQUIRED = """
from pydantic import BaseModel

from raw import BaseWorkflow, step


class Params(BaseModel):
    first_name: str
    last_name: str


class FullName(BaseWorkflow[Params]):
    @step("join")
    def join(self) -> str:
        return f"{self.params.first_name} {self.params.last_name}"
"""

REPORT = """
from pydantic import BaseModel

from raw import BaseWorkflow, step


class Params(BaseModel):
    text: str
    top: int = 2


class Report(BaseWorkflow[Params]):
    @step("count")
    def count(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for word in self.params.text.lower().split():
            counts[word] = counts.get(word, 0) + 1
        return counts

    @step("rank")
    def rank(self, counts: dict[str, int]) -> list[str]:
        return sorted(counts, key=lambda w: (-counts[w], w))[: self.params.top]

    def run(self) -> dict:
        counts = self.count()
        top = self.rank(counts)
        self.save("report.json", {"top": top})
        return {"top": top, "words": sum(counts.values())}
"""

GREET = """
from pydantic import BaseModel

from raw import BaseWorkflow, step


class Params(BaseModel):
    name: str


class Greet(BaseWorkflow[Params]):
    @step("greet")
    def greet(self) -> dict:
        text = self.llm.complete(f"Write a one-line greeting for {self.params.name}.")
        return {"name": self.params.name, "greeting": text}
"""

GREET_MOCKS: dict[str, Any] = {
    "params": {"name": "Ada"},
    "llm": {"responses": [{"step": "greet", "prompt_contains": "Ada", "response": "Hello, Ada!"}]},
}

# What the original runtime's dry-run gate ran instead of run.py: it always passed.
PASSING_DRY_RUN_PY = "print('dry run ok')\n"


def _run_script(folder: Path, *args: str) -> tuple[int, str, str]:
    """``python run.py ARGS`` in the workflow's folder: (exit code, stdout, stderr)."""
    proc = subprocess.run(
        [sys.executable, "run.py", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("RAW_")},
    )
    return proc.returncode, proc.stdout, proc.stderr


def _no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback (most recent call last)" not in text


# --- flags generated from Params


def test_every_kind_of_flag_reaches_the_workflow(raw_cli: RunCli, echo: str) -> None:
    result = raw_cli(
        "run",
        echo,
        "--cv-text",
        "Ten years of Python",
        "--no-verbose",
        "--tag",
        "python",
        "--tag",
        "sql",
        "--color",
        "blue",
        "--mode",
        "slow",
        "--address",
        '{"city": "Oslo"}',
        "--count=3",
        "--json",
    )
    assert result.code == 0, result.stderr
    assert result.json()["output"] == {
        "cv_text": "Ten years of Python",
        "verbose": False,
        "tag": ["python", "sql"],
        "color": "blue",
        "mode": "slow",
        "address": {"city": "Oslo", "zip_code": "00000"},
        "count": 3,
    }


def test_snake_case_flags_inline_bools_and_json_array_lists(raw_cli: RunCli, echo: str) -> None:
    result = raw_cli(
        "run", echo, "--cv_text", "x", "--verbose=false", "--tag", '["a", "b"]', "--json"
    )
    assert result.code == 0, result.stderr
    output = result.json()["output"]
    assert (output["cv_text"], output["verbose"], output["tag"]) == ("x", False, ["a", "b"])


def test_defaults_apply_when_flags_are_left_out(raw_cli: RunCli, echo: str) -> None:
    result = raw_cli("run", echo, "--cv-text", "x", "--json")
    assert result.code == 0, result.stderr
    assert result.json()["output"] == {
        "cv_text": "x",
        "verbose": True,
        "tag": [],
        "color": "red",
        "mode": "fast",
        "address": None,
        "count": 1,
    }


def test_bad_choices_exit_2_naming_the_allowed_values(raw_cli: RunCli, echo: str) -> None:
    result = raw_cli("run", echo, "--cv-text", "x", "--mode", "medium", "--color", "green")
    assert result.code == 2
    assert "--mode: 'medium' is not one of: fast, slow." in result.stderr
    assert "--color: 'green' is not one of: red, blue." in result.stderr
    assert result.stdout == ""


def test_params_inline_from_a_file_and_from_stdin_with_flags_winning(
    raw_cli: RunCli, echo: str, tmp_path: Path
) -> None:
    inline = raw_cli("run", echo, "--params", '{"cv_text": "inline", "count": 2}', "--json")
    assert inline.code == 0, inline.stderr
    assert (inline.json()["output"]["cv_text"], inline.json()["output"]["count"]) == ("inline", 2)

    params_file = tmp_path / "params.json"
    params_file.write_text('{"cv_text": "from a file", "count": 2}', encoding="utf-8")
    from_file = raw_cli("run", echo, "--params", f"@{params_file}", "--count", "5", "--json")
    assert from_file.code == 0, from_file.stderr
    assert from_file.json()["output"]["cv_text"] == "from a file"
    assert from_file.json()["output"]["count"] == 5  # the flag overrides --params

    from_stdin = raw_cli(
        "run", echo, "--params", "-", "--json", input='{"cv_text": "from stdin", "mode": "slow"}'
    )
    assert from_stdin.code == 0, from_stdin.stderr
    assert from_stdin.json()["output"]["cv_text"] == "from stdin"
    assert from_stdin.json()["output"]["mode"] == "slow"


def test_missing_required_params_get_one_line_each_naming_the_flag(
    raw_cli: RunCli, project: Project
) -> None:
    project.add_workflow("full-name", TWO_REQUIRED)
    result = raw_cli("run", "full-name")
    assert result.code == 2
    lines = [line.strip() for line in result.stderr.splitlines()]
    assert "--first-name: required" in lines
    assert "--last-name: required" in lines
    assert result.stdout == ""

    as_json = raw_cli("run", "full-name", "--last-name", "Lovelace", "--json")
    assert as_json.code == 2
    error = as_json.json()["error"]
    assert error["fields"] == [{"field": "first_name", "message": "Field required"}]


def test_unknown_flag_exits_2_suggesting_the_closest(raw_cli: RunCli, echo: str) -> None:
    result = raw_cli("run", echo, "--cv-txt", "x")
    assert result.code == 2
    assert "has no parameter '--cv-txt'. Did you mean '--cv-text'?" in result.stderr

    as_json = raw_cli("run", echo, "--cv-text", "x", "--colour", "red", "--json")
    assert as_json.code == 2
    assert as_json.json()["error"]["fields"] == [
        {
            "field": "--colour",
            "message": "workflow 'echo' has no parameter '--colour'. Did you mean '--color'?",
        }
    ]


def test_help_after_the_id_lists_the_workflows_flags(
    raw_cli: RunCli, echo: str, project: Project
) -> None:
    result = raw_cli("run", echo, "--help")
    assert result.code == 0
    text = result.stdout
    assert "Return the params it was given." in text
    for expected in (
        "--cv-text STR",
        "The CV to read.",
        "(str; required)",
        "--verbose/--no-verbose",
        "(bool; default: true)",
        "--tag LIST[STR]",
        "(list[str]; default: [])",
        '(one of: red, blue; default: "red")',
        '(one of: fast, slow; default: "fast")',
        "--address JSON",
        "(int; default: 1)",
    ):
        assert expected in text
    assert project.runs(echo) == []  # --help does not run the workflow


# --- the output contract: one JSON document on stdout, whatever happens


@pytest.mark.parametrize(
    ("args", "code", "status"),
    [
        pytest.param(["echo", "--cv-text", "x"], 0, "succeeded", id="success"),
        pytest.param(["boom"], 1, "failed", id="workflow-raised"),
        pytest.param(["echo"], 2, "invalid_input", id="missing-param"),
        pytest.param(["echo", "--cv-text", "x", "--mode", "m"], 2, "invalid_input", id="choice"),
        pytest.param(["echo", "--cv-text", "x", "--nope", "1"], 2, "invalid_input", id="unknown"),
        pytest.param(["ehco"], 3, "not_found", id="no-such-workflow"),
        pytest.param(["Bad_Id"], 2, "invalid_input", id="invalid-id"),
        pytest.param(["../echo"], 2, "invalid_input", id="path-as-id"),
        pytest.param(["echo", "--cv-text", "x", "--timeout", "soon"], 2, "invalid_input", id="t"),
        pytest.param(["echo", "--cv-text", "x", "--timeout", "0"], 2, "invalid_input", id="t0"),
        pytest.param(["echo", "--params", "{not json"], 2, "invalid_input", id="params-json"),
        pytest.param(["echo", "--params", "[1, 2]"], 2, "invalid_input", id="params-list"),
        pytest.param(["echo", "--params", "@missing.json"], 2, "invalid_input", id="params-file"),
        pytest.param(["echo", "--params"], 2, None, id="option-without-value"),
        pytest.param([], 2, None, id="no-id"),
        pytest.param(["noisy"], 0, "succeeded", id="workflow-prints"),
    ],
)
def test_every_exit_prints_one_json_document_and_no_traceback(
    raw_cli: RunCli,
    project: Project,
    echo: str,
    boom: str,
    args: list[str],
    code: int,
    status: str | None,
) -> None:
    project.add_workflow("noisy", NOISY)
    result = raw_cli("run", *args, "--json")
    assert result.code == code, result.stderr
    doc = result.json()  # fails on anything but exactly one JSON document
    if status is None:
        assert doc["exit_code"] == code
        assert doc["error"]["type"] == "UsageError"
    else:
        assert doc["status"] == status
        assert doc["workflow"] == args[0]
        assert (doc["error"] is None) == (code == 0)
    _no_traceback(result.stderr)

    human = raw_cli("run", *args)
    assert human.code == code
    _no_traceback(human.stdout, human.stderr)
    if code != 0:
        assert human.stdout == ""
        assert "Error: " in human.stderr


def test_human_run_prints_only_the_output_on_stdout(raw_cli: RunCli, echo: str) -> None:
    result = raw_cli("run", echo, "--cv-text", "x", "--count", "2")
    assert result.code == 0
    assert json.loads(result.stdout)["count"] == 2
    assert "✓ echo: succeeded in" in result.stderr
    assert "✓ echo " in result.stderr  # the step's line


def test_bad_params_json_is_reported_alone(raw_cli: RunCli, echo: str) -> None:
    # --cv-text is given: the broken --params must not also produce "--cv-text: required".
    result = raw_cli("run", echo, "--cv-text", "x", "--params", '{"count": ')
    assert result.code == 2
    assert "--params is not valid JSON" in result.stderr
    assert "required" not in result.stderr


def test_prints_from_the_workflow_go_to_stderr_with_json(raw_cli: RunCli, project: Project) -> None:
    project.add_workflow("noisy", NOISY)
    result = raw_cli("run", "noisy", "--json")
    assert result.json()["output"] == "done"
    assert "printed while importing" in result.stderr
    assert "printed inside a step" in result.stderr


def test_output_that_bypasses_sys_stdout_stays_off_the_json_document(
    raw_cli: RunCli, project: Project
) -> None:
    folder = project.add_workflow("noisy-below-python", NOISY_BELOW_PYTHON)
    via_cli = raw_cli("run", "noisy-below-python", "--json")
    via_script = _run_script(folder, "--json")  # the direct path
    for code, stdout, stderr in ((via_cli.code, via_cli.stdout, via_cli.stderr), via_script):
        assert code == 0, stderr
        inside_the_run = stdout
        if stdout.startswith("written to descriptor 1 while importing"):
            # `python run.py` imports run.py before RAW is called: that line is its own.
            inside_the_run = stdout.split("\n", 1)[1]
        assert json.loads(inside_the_run)["output"] == "done", stdout
        for line in (
            "printed inside a step",
            "written to descriptor 1 inside a step",
            "a child process printed",
            "to sys.__stdout__",
        ):
            assert line in stderr, (line, stderr)
    assert "written to descriptor 1 while importing" in via_cli.stderr


def test_a_workflow_folder_linked_from_outside_the_project_is_refused(
    raw_cli: RunCli, project: Project, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere" / "linked"
    outside.mkdir(parents=True)
    (outside / "run.py").write_text(OUTSIDER.lstrip(), encoding="utf-8")
    (project.root / ".raw" / "workflows" / "linked").symlink_to(outside)
    inside = project.add_workflow("half-linked", "")
    (inside / "run.py").unlink()
    (inside / "run.py").symlink_to(outside / "run.py")

    for workflow_id, target in (("linked", outside), ("half-linked", outside / "run.py")):
        result = raw_cli("run", workflow_id, "--dry", "--json")
        assert result.code == 2, result.stderr
        doc = result.json()  # the whole of stdout: one document
        assert doc["status"] == "invalid_input"
        assert doc["error"]["type"] == "WorkflowOutsideProjectError"
        message = doc["error"]["message"]
        assert f"resolves to {target}, outside the project {project.root}" in message
        assert "Copy the workflow into" in message
        human = raw_cli("run", workflow_id)
        assert human.code == 2
        assert human.stderr.startswith("Error: Workflow "), human.stderr
        _no_traceback(human.stderr)
    assert not (outside / "imported.txt").exists()  # its code never ran
    assert "the outsider printed" not in result.stdout + result.stderr
    assert not (outside / "runs").exists()  # and nothing was recorded there


def test_a_link_that_stays_inside_the_project_still_runs(raw_cli: RunCli, project: Project) -> None:
    shared = project.root / "shared" / "noisy"
    shared.mkdir(parents=True)
    (shared / "run.py").write_text(NOISY.lstrip(), encoding="utf-8")
    (project.root / ".raw" / "workflows" / "noisy").symlink_to(shared)
    result = raw_cli("run", "noisy", "--json")
    assert result.code == 0, result.stderr
    assert result.json()["output"] == "done"


def test_outside_a_project_exits_3(raw_cli: RunCli, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = raw_cli("run", "echo", "--json", cwd=elsewhere)
    assert result.code == 3
    doc = result.json()
    assert doc["status"] == "not_found"
    assert "No RAW project found" in doc["error"]["message"]
    human = raw_cli("run", "echo", cwd=elsewhere)
    assert human.code == 3
    assert "raw init" in human.stderr


def test_a_bad_config_yaml_is_reported_by_both_entry_points(
    raw_cli: RunCli, project: Project, echo: str
) -> None:
    (project.root / ".raw" / "config.yaml").write_text("version: 1\nnmae: x\n", encoding="utf-8")
    folder = project.root / ".raw" / "workflows" / echo
    (folder / "run.py").write_text(
        (folder / "run.py").read_text(encoding="utf-8")
        + '\n\nif __name__ == "__main__":\n    Echo.main()\n',
        encoding="utf-8",
    )
    via_cli = raw_cli("run", echo, "--cv-text", "x", "--json")
    via_script = _run_script(folder, "--cv-text", "x", "--json")
    for code, stdout, stderr in ((via_cli.code, via_cli.stdout, via_cli.stderr), via_script):
        assert code == 2, stderr
        doc = json.loads(stdout)
        assert doc["status"] == "invalid_input"
        assert "nmae" in doc["error"]["message"]
        _no_traceback(stderr)
    assert project.runs(echo) == []


def test_project_dir_before_or_after_the_command_finds_the_project(
    raw_cli: RunCli, project: Project, echo: str, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    before = raw_cli(
        "--project-dir", str(project.root), "run", echo, "--cv-text", "a", "--json", cwd=elsewhere
    )
    after = raw_cli(
        "run", echo, "--cv-text", "b", f"--project-dir={project.root}", "--json", cwd=elsewhere
    )
    assert (before.code, after.code) == (0, 0), before.stderr + after.stderr
    assert [before.json()["output"]["cv_text"], after.json()["output"]["cv_text"]] == ["a", "b"]
    assert len(project.runs(echo)) == 2


# --- exit codes


def test_workflow_that_raises_exits_1_with_the_traceback_only_in_its_log(
    raw_cli: RunCli, boom: str
) -> None:
    result = raw_cli("run", boom, "--json")
    assert result.code == 1
    doc = result.json()
    assert doc["status"] == "failed"
    assert doc["error"]["type"] == "ValueError"
    assert doc["error"]["message"] == "kaboom: the second step broke"
    _no_traceback(result.stderr)

    log = Path(doc["log_path"]).read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in log
    assert 'raise ValueError("kaboom: the second step broke")' in log

    manifest = json.loads((Path(doc["run_dir"]) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "failed"
    assert [(s["name"], s["status"]) for s in manifest["steps"]] == [
        ("first", "succeeded"),
        ("explode", "failed"),
    ]

    human = raw_cli("run", boom)
    assert human.code == 1
    assert "Error: kaboom: the second step broke" in human.stderr
    assert "log: " in human.stderr


def test_original_style_run_returning_3_exits_1_keeping_return_code_3(
    raw_cli: RunCli, project: Project
) -> None:
    project.add_workflow("returns-three", RETURNS_THREE)
    result = raw_cli("run", "returns-three", "--json")
    assert result.code == 1
    doc = result.json()
    assert (doc["status"], doc["return_code"]) == ("failed", 3)
    assert [(s["name"], s["status"]) for s in doc["steps"]] == [("check", "succeeded")]


def test_unknown_workflow_exits_3_naming_the_closest(raw_cli: RunCli, echo: str) -> None:
    result = raw_cli("run", "ecko")
    assert result.code == 3
    assert "No workflow 'ecko'" in result.stderr
    assert "Did you mean 'echo'?" in result.stderr


def test_timeout_hard_stops_a_sleeping_step_with_exit_124(
    raw_cli: RunCli, project: Project
) -> None:
    project.add_workflow("sleepy", SLEEPY)
    result = raw_cli("run", "sleepy", "--folder", str(project.root), "--timeout", "1", "--json")
    assert result.code == 124, result.stderr
    # Stopped in the middle of its nap: the step began and never got past the sleep
    # (raw run ran it in its own process, which has exited).
    assert (project.root / "asleep").exists()
    assert not (project.root / "awake").exists(), "the run waited for the step to end"
    doc = result.json()
    assert doc["status"] == "timed_out"
    assert doc["error"]["type"] == "RunTimedOutError"
    assert doc["error"]["message"] == "The run did not finish within its timeout of 1 seconds."
    manifest = json.loads((Path(doc["run_dir"]) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "timed_out"
    assert [(s["name"], s["status"]) for s in manifest["steps"]] == [("nap", "failed")]
    _no_traceback(result.stderr)


# --- the CLI and raw.run_workflow agree


_VOLATILE = {"run_id", "timings", "run_dir", "log_path"}


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """The result without what differs between two runs: ids, times and paths."""
    out = {k: v for k, v in doc.items() if k not in _VOLATILE}
    out["steps"] = [
        {
            **{k: v for k, v in s.items() if k not in ("started_at", "ended_at", "duration_ms")},
            "attempts": [a.get("error") for a in s["attempts"]],
        }
        for s in doc["steps"]
    ]
    out["artifacts"] = [
        {"name": a["name"], "size_bytes": a["size_bytes"]} for a in doc["artifacts"]
    ]
    return out


@pytest.mark.parametrize(
    ("workflow_id", "params"),
    [
        pytest.param("report", {"text": "b a b c a b", "top": 2}, id="succeeded"),
        pytest.param("boom", {}, id="failed"),
        pytest.param("report", {"top": "many"}, id="invalid-input"),
    ],
)
def test_cli_json_and_run_workflow_give_the_same_result(
    raw_cli: RunCli,
    project: Project,
    boom: str,
    workflow_id: str,
    params: dict[str, Any],
) -> None:
    project.add_workflow("report", REPORT)
    cli = raw_cli("run", workflow_id, "--params", json.dumps(params), "--json")
    in_process = raw.run_workflow(workflow_id, params, project_dir=project.root).to_json_dict()
    assert cli.json().keys() == in_process.keys()
    assert _comparable(cli.json()) == _comparable(in_process)
    assert cli.code == raw.RunResult.model_validate(in_process).exit_code
    if workflow_id == "report" and cli.code == 0:
        assert in_process["output"] == {"top": ["b", "a"], "words": 6}


# --- --dry runs run.py itself on the mocks


def test_dry_run_uses_mock_params_and_recorded_llm_answers(
    raw_cli: RunCli, project: Project
) -> None:
    project.add_workflow("greet", GREET, mocks=GREET_MOCKS)
    result = raw_cli("run", "greet", "--dry", "--json")
    assert result.code == 0, result.stderr
    doc = result.json()
    assert doc["dry"] is True
    assert doc["output"] == {"name": "Ada", "greeting": "Hello, Ada!"}

    with_flags = raw_cli("run", "greet", "--dry", "--name", "Bob", "--json")
    assert with_flags.code == 0, with_flags.stderr
    output = with_flags.json()["output"]
    assert output["name"] == "Bob"  # flags replace mocks/params.json
    assert output["greeting"] != "Hello, Ada!"  # the recorded answer matches Ada's prompt only


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param(
            GREET.replace("def greet(self)", "def greet(self"), "syntax error", id="syntax"
        ),
        pytest.param(
            GREET.replace("self.params.name}", "self.params.nmae}"), "nmae", id="broken-step"
        ),
    ],
)
def test_dry_run_fails_when_run_py_is_broken(
    raw_cli: RunCli, project: Project, source: str, message: str
) -> None:
    folder = project.add_workflow("greet", source, mocks=GREET_MOCKS)
    (folder / "dry_run.py").write_text(PASSING_DRY_RUN_PY, encoding="utf-8")
    result = raw_cli("run", "greet", "--dry", "--json")
    assert result.code == 1
    doc = result.json()
    assert doc["status"] == "failed"
    assert message in doc["error"]["message"]
