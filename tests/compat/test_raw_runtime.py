"""raw_runtime's names one by one: what each does inside and outside a run, and what it refuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pytest
from pydantic import BaseModel

import raw
import raw_runtime
from raw.testing.openai_server import OpenAIServer
from raw.workflow.llm import OpenAICompatibleLLM
from raw_runtime import (
    BaseWorkflow,
    CostLimitExceededError,
    get_secret,
    get_workflow_context,
    load_dotenv,
    require_secret,
    step,
)
from raw_runtime.agentic import ResponseParsingError, agentic, parse_answer
from raw_runtime.secrets import SecretNotFoundError

if TYPE_CHECKING:
    from conftest import Project, RunCli


class NoParams(BaseModel):
    pass


@pytest.mark.parametrize(
    ("statement", "advice"),
    [
        ("from raw_runtime import EventBus", "no in-process event bus"),
        ("from raw_runtime import ManifestWriter", "the runner records every run itself"),
        ("from raw_runtime import wait_for_approval_async", "raw.orchestrator.workflow.wait_for"),
        ("from raw_runtime import register_builtin_tools", "raised NotImplementedError"),
        ("from raw_runtime import NoSuchName", "raw_runtime has no 'NoSuchName'"),
        ("from raw_runtime.tools import register_builtin_tools", "raw.integrations"),
        ("import raw_runtime.events", "is a module of the original RAW runtime"),
        ("from raw_runtime.capability import CapabilityEventType", "import from raw_runtime.tools"),
        ("from raw_ai import AIConfig", "raw_ai has no 'AIConfig'"),
    ],
)
def test_a_name_the_original_s_files_never_use_is_refused_with_its_replacement(
    statement: str, advice: str
) -> None:
    with pytest.raises(ImportError) as caught:
        exec(statement, {})
    assert advice in str(caught.value)
    assert "docs/migrating.md" in str(caught.value) or "." in str(caught.value)


def test_refused_names_leave_hasattr_and_private_lookups_alone() -> None:
    assert not hasattr(raw_runtime, "_private_thing")
    assert hasattr(raw_runtime, "__path__")


def test_a_missing_raw_runtime_module_is_not_advised_as_a_pip_install(
    raw_cli: RunCli, project: Project
) -> None:
    project.add_workflow(
        "old",
        """
        from raw_runtime import BaseWorkflow, step
        from raw_runtime.journal import JournalWriter

        class Old(BaseWorkflow):
            @step("a")
            def a(self) -> int:
                return 1
        """,
    )
    result = raw_cli("run", "old", "--json")
    assert result.code == 1
    message = result.json()["error"]["message"]
    assert "'raw_runtime.journal' is a module of the original RAW runtime" in message
    assert "pip install" not in message


def test_a_missing_module_of_an_installed_package_is_named_as_such(
    raw_cli: RunCli, project: Project
) -> None:
    project.add_workflow(
        "typo",
        """
        import raw.no_such_module
        from raw import BaseWorkflow
        """,
    )
    message = raw_cli("run", "typo", "--json").json()["error"]["message"]
    assert "'raw.no_such_module', which is not a module of the installed package 'raw'" in message
    assert "pip install" not in message


def run_source(project: Project, source: str, **options: object) -> raw.RunResult:
    project.add_workflow("w", source)
    return raw.run_workflow("w", project_dir=project.root, **options)  # type: ignore[arg-type]


def test_context_is_none_outside_a_run_and_records_inside_one(
    project: Project, tmp_path: Path
) -> None:
    report = tmp_path / "report.txt"
    report.write_text("ok", encoding="utf-8")
    assert BaseWorkflow().context is None and get_workflow_context() is None
    result = run_source(
        project,
        f"""
        from raw_runtime import BaseWorkflow, get_workflow_context, step

        class Ctx(BaseWorkflow):
            @step("work")
            def work(self) -> int:
                context = self.context
                assert context is get_workflow_context() and context is not None
                context.emit({{"event_type": "custom.thing", "n": 1}})
                context.add_artifact("report", {str(report)!r})
                return 1

            def run(self) -> int:
                self.work()
                return 0
        """,
    )
    assert result.ok, result.error
    assert [a.name for a in result.artifacts] == ["report.txt"]
    log = Path(result.log_path or "").read_text(encoding="utf-8")
    assert 'EVENT custom.thing {"event_type": "custom.thing", "n": 1}' in log
    assert get_workflow_context() is None


def test_the_original_s_init_signature_is_accepted() -> None:
    class Counted(BaseWorkflow[NoParams]):
        def __init__(self, params: NoParams, context: object = None) -> None:
            super().__init__(params, context)  # type: ignore[arg-type]
            self.count = 0

    made = Counted(NoParams())
    assert made.count == 0 and made.context is None
    with pytest.raises(TypeError, match="pass the params as one model"):
        BaseWorkflow(NoParams(), surprise=1)


def test_get_secret_reads_the_environment_then_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text('API_TOKEN="from-dotenv"\nOTHER=x\n', encoding="utf-8")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    monkeypatch.delenv("API_TOKEN", raising=False)
    monkeypatch.delenv("OTHER", raising=False)
    assert get_secret("API_TOKEN") == "from-dotenv"
    monkeypatch.setenv("API_TOKEN", "from-env")
    assert require_secret("API_TOKEN") == "from-env"
    assert get_secret("MISSING_ONE", "fallback") == "fallback"
    with pytest.raises(SecretNotFoundError, match=r"Secret 'MISSING_ONE' is not set.*\.env"):
        require_secret("MISSING_ONE")

    assert load_dotenv() == {"OTHER": "x"}  # API_TOKEN is already set: kept
    assert os.environ.pop("OTHER") == "x"


def test_a_secret_read_in_a_run_is_masked_in_its_log(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYMENT_KEY", "sk-live-123456")
    result = run_source(
        project,
        """
        from raw_runtime import BaseWorkflow, require_secret, step

        class UsesKey(BaseWorkflow):
            @step("pay")
            def pay(self) -> str:
                self.log(f"paying with {require_secret('PAYMENT_KEY')}")
                return "done"
        """,
    )
    log = Path(result.log_path or "").read_text(encoding="utf-8")
    assert "paying with ***" in log and "sk-live-123456" not in log


def test_log_metric_and_log_event_land_in_the_run_s_log(project: Project) -> None:
    result = run_source(
        project,
        """
        from raw_runtime import BaseWorkflow, log_event, log_metric, step

        class Measured(BaseWorkflow):
            @step("count")
            def count(self) -> int:
                log_metric("rows", 120, unit="rows", tags={"source": "crm"})
                log_event("import.done", message="imported", data={"rows": 120})
                return 120
        """,
    )
    log = Path(result.log_path or "").read_text(encoding="utf-8")
    assert "METRIC rows=120 rows source=crm" in log
    assert 'EVENT INFO import.done: imported {"rows": 120}' in log


def test_agentic_refuses_a_call_over_its_cost_limit_before_making_it() -> None:
    class Costly(BaseWorkflow[NoParams]):
        @step("ask")
        @agentic(prompt="{context.text}", max_tokens=4096, cost_limit=0.0001)
        def ask(self, text: str) -> str:
            pass

    with OpenAIServer("never") as server:
        workflow = Costly()
        workflow.llm = OpenAICompatibleLLM(base_url=server.base_url, model="m")
        with pytest.raises(CostLimitExceededError, match=r"over its cost_limit of \$0\.0001"):
            workflow.ask("hello")
        assert server.requests == []


class Verdict(BaseModel):
    ok: bool
    reason: str


def test_agentic_returns_a_model_through_structured_output() -> None:
    class Judge(BaseWorkflow[NoParams]):
        @agentic(prompt="Judge {context.claim}")
        def judge(self, claim: str) -> Verdict:
            pass

    with OpenAIServer(json.dumps({"ok": True, "reason": "checks out"})) as server:
        workflow = Judge()
        workflow.llm = OpenAICompatibleLLM(base_url=server.base_url, model="m")
        assert workflow.judge("the sky is blue") == Verdict(ok=True, reason="checks out")
        assert server.requests[0].json["response_format"]["type"] == "json_schema"


@pytest.mark.parametrize(
    ("text", "tp", "value"),
    [
        ("Critical.", Literal["critical", "low"], "critical"),
        ("```json\n[1, 2]\n```", list[int], [1, 2]),
        ("The answer is 42", int, 42),
        ("yes", bool, True),
        ('{"a": 1}', dict[str, int], {"a": 1}),
    ],
)
def test_an_answer_is_read_as_the_step_s_return_type(text: str, tp: object, value: object) -> None:
    assert parse_answer(text, tp) == value


def test_an_answer_that_does_not_fit_names_what_came_back() -> None:
    with pytest.raises(ResponseParsingError, match=r"not one of 'a', 'b'.*answered: 'maybe'"):
        parse_answer("maybe", Literal["a", "b"])


def test_wait_for_approval_reads_the_answer_from_stdin(project: Project) -> None:
    folder = project.add_workflow(
        "deploy",
        """
        from raw_runtime import BaseWorkflow, step
        from raw_runtime.approval import wait_for_approval

        class Deploy(BaseWorkflow):
            @step("ask")
            def ask(self) -> str:
                return wait_for_approval("Deploy?", step_name="deploy", timeout_seconds=20)

            def run(self) -> int:
                return 0 if self.ask() == "approve" else 3

        if __name__ == "__main__":
            Deploy.main()
        """,
    )
    approved = subprocess.run(
        [sys.executable, "run.py"], cwd=folder, input="y\n", capture_output=True, text=True
    )
    assert approved.returncode == 0, approved.stderr
    assert "Approval required: deploy" in approved.stderr
    rejected = subprocess.run(
        [sys.executable, "run.py"], cwd=folder, input="no\n", capture_output=True, text=True
    )
    assert rejected.returncode == 1
    closed = subprocess.run(
        [sys.executable, "run.py", "--json"],
        cwd=folder,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    message = json.loads(closed.stdout)["error"]["message"]
    assert "stdin is closed" in message
    assert "raw.orchestrator.workflow.first_signal / wait_for" in message


def test_wait_for_approval_gives_up_at_its_timeout_pointing_to_the_durable_way(
    project: Project,
) -> None:
    folder = project.add_workflow(
        "deploy",
        """
        from raw_runtime import BaseWorkflow, step
        from raw_runtime.approval import wait_for_approval

        class Deploy(BaseWorkflow):
            @step("ask")
            def ask(self) -> str:
                return wait_for_approval("Deploy?", step_name="deploy", timeout_seconds=0.5)

        if __name__ == "__main__":
            Deploy.main()
        """,
    )
    with subprocess.Popen(
        [sys.executable, "run.py", "--json"],
        cwd=folder,
        stdin=subprocess.PIPE,  # open and silent: no one answers
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        out = proc.stdout.read()  # until the process exits; stdin stays open meanwhile
    error = json.loads(out)["error"]
    assert error["type"] == "ApprovalTimeoutError"
    assert "within 0.5 seconds" in error["message"]
    assert "wait that survives restarts" in error["message"]


def test_wait_for_approval_does_not_wait_in_a_dry_run(project: Project) -> None:
    result = run_source(
        project,
        """
        from raw_runtime import BaseWorkflow, step
        from raw_runtime.approval import wait_for_approval

        class Deploy(BaseWorkflow):
            @step("ask")
            def ask(self) -> str:
                return wait_for_approval("Deploy?", options=["ship", "hold"])
        """,
        dry=True,
    )
    assert result.output == "ship"
