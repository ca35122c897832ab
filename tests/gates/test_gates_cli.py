"""`raw gates`: the configuration, command gates with time limits, logs, journal, exit codes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from tests.conftest import Project, RunCli

from raw.pids import alive

ARCHITECTURE_CONFIG = """\
builder:
  gates:
    default:
      - validate # RAW workflow validation
      - dry # RAW workflow dry run
    optional:
      api-test:
        command: "pytest api/tests/ -v"
        timeout_seconds: 60
      temporal-validate:
        command: "temporal workflow validate"
        timeout_seconds: 30
      docker-validate:
        command: "docker-compose config"
        timeout_seconds: 10
"""

HELLO = """
    from pydantic import BaseModel
    from raw import BaseWorkflow, step


    class Params(BaseModel):
        name: str = "world"


    class Hello(BaseWorkflow[Params]):
        @step("greet")
        def greet(self) -> str:
            return f"hello {self.params.name}"
"""


def configure(project: Project, text: str) -> None:
    config = project.root / ".raw" / "config.yaml"
    config.write_text("version: 1\nname: test\n" + textwrap.dedent(text), encoding="utf-8")


def test_command_gates_pass_fail_and_time_out_each_with_a_log(
    project: Project, raw_cli: RunCli
) -> None:
    configure(
        project,
        """\
        builder:
          gates:
            default: [ok, fails, slow]
            optional:
              ok: {command: "echo in {workflow_dir} from $(pwd)"}
              fails: {command: "echo broken >&2; exit 3"}
              slow:
                command: "sleep 60 & echo $! > sleeper.pid; wait; touch slow-finished"
                timeout_seconds: 3
        """,
    )
    result = raw_cli("gates", "--json")
    # The slow gate was stopped, not waited for: its whole process group is gone
    # (the shell and the sleep it started) and it never reached its last command.
    # (3 s: time enough for a shell on a loaded machine to write sleeper.pid.)
    assert not alive(int((project.root / "sleeper.pid").read_text()))
    assert not (project.root / "slow-finished").exists()
    assert result.code == 1
    run = result.json()
    gates = {g["name"]: g for g in run["gates"]}
    assert [g["name"] for g in run["gates"]] == ["ok", "fails", "slow"]
    assert [g["status"] for g in run["gates"]] == ["passed", "failed", "timed_out"]
    assert gates["fails"]["exit_code"] == 3
    workflows = project.root / ".raw" / "workflows"
    assert f"in {workflows} from {project.root}" in Path(gates["ok"]["log"]).read_text()
    assert "broken" in Path(gates["fails"]["log"]).read_text()
    assert "timed out after 3 s" in Path(gates["slow"]["log"]).read_text()
    folder = Path(run["directory"])
    assert folder.parent == project.root / ".raw" / "gates"
    events = [json.loads(line) for line in (folder / "journal.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events] == [
        "run-started",
        *["gate-started", "gate-finished"] * 3,
        "run-finished",
    ]
    assert json.loads((folder / "summary.json").read_text())["gates"] == run["gates"]
    assert "[3/3] slow" in result.stderr  # a progress line per gate


def test_only_runs_the_named_gates_and_the_table_says_how_each_went(
    project: Project, raw_cli: RunCli
) -> None:
    project.add_workflow("hello", HELLO)
    configure(
        project,
        """\
        builder:
          gates:
            default: [validate, dry]
            optional:
              fails: {command: "exit 1"}
        """,
    )
    result = raw_cli("gates", "--only", "validate", "--only", "dry")
    assert result.code == 0, result.stdout + result.stderr
    table = result.stdout
    assert "validate  passed" in table and "dry       passed" in table
    assert "fails" not in table
    assert "All 2 gates passed." in table


def test_a_workflow_that_fails_its_dry_run_fails_the_dry_gate(
    project: Project, raw_cli: RunCli
) -> None:
    project.add_workflow("needs-input", HELLO.replace('name: str = "world"', "name: str"))
    result = raw_cli("gates", "--only", "dry", "--json")
    assert result.code == 1
    gate = result.json()["gates"][0]
    assert gate["details"]["runs"][0]["status"] == "invalid_input"
    assert "needs-input: invalid_input" in Path(gate["log"]).read_text()


def test_the_architectures_config_runs_the_builtin_gates_with_a_note(
    project: Project, raw_cli: RunCli
) -> None:
    configure(project, ARCHITECTURE_CONFIG)
    result = raw_cli("gates", "--only", "temporal-validate", "--only", "docker-validate", "--json")
    assert result.code == 0, result.stdout + result.stderr
    temporal, docker = result.json()["gates"]
    assert temporal["kind"] == "builtin" and temporal["builtin"] == "temporal-validate"
    assert "has no `workflow validate`" in temporal["note"]
    assert docker["builtin"] == "docker-validate" and "needs Docker" in docker["note"]
    assert docker["details"]["source"] == "rendered"  # no deploy/: rendered and checked
    assert "rendered its deployment" in Path(docker["log"]).read_text()
    assert "note: temporal-validate" in result.stderr


def test_invalid_gate_configs_exit_2_naming_the_key(project: Project, raw_cli: RunCli) -> None:
    cases = {
        "default: [validate, lint]": "unknown gate 'lint' in builder.gates.default (allowed: "
        "validate, dry, temporal-validate, docker-validate, system-check",
        "optional: {api-test: {timeout_seconds: 5}}": "builder.gates.optional.api-test.command "
        "is required",
        "optional: {x: {command: a, timeout: 5}}": "unknown key "
        "'builder.gates.optional.x.timeout'. Did you mean 'timeout_seconds'? "
        "(allowed: command, timeout_seconds)",
        "optional: {x: {command: a, timeout_seconds: 0}}": "timeout_seconds",
        "optional: {x: {command: 'ls {workflow_folder}'}}": "unknown placeholder "
        "{workflow_folder} (allowed: {workflow_dir}",
        "defaults: [validate]": "unknown key 'builder.gates.defaults'. Did you mean 'default'? "
        "(allowed: default, optional)",
    }
    for body, message in cases.items():
        configure(project, f"builder:\n  gates:\n    {body}\n")
        result = raw_cli("gates", "--json")
        assert result.code == 2, (body, result.stdout, result.stderr)
        assert message in result.json()["error"]["message"], (body, result.stdout)


def test_an_unknown_only_name_exits_2_with_the_gates_there_are(
    project: Project, raw_cli: RunCli
) -> None:
    result = raw_cli("gates", "--only", "lint")
    assert result.code == 2
    assert "No gate 'lint'" in result.stderr and "system-check" in result.stderr


def test_no_project_exits_3(tmp_path: Path, raw_cli: RunCli) -> None:
    result = raw_cli("gates", cwd=tmp_path)
    assert result.code == 3
