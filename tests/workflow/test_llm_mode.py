"""Where `self.llm` answers from outside dry runs: RAW_LLM_MODE (provider, recorded, auto),
and the run's result says which it was."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from raw import run_workflow
from raw.errors import LLMError
from raw.testing.openai_server import OpenAIServer
from raw.workflow.llm import llm_source

if TYPE_CHECKING:
    from conftest import Project

SCORE = """
    from pydantic import BaseModel

    from raw import BaseWorkflow, step

    class Params(BaseModel):
        text: str

    class Score(BaseModel):
        score: float

    class Scorer(BaseWorkflow[Params]):
        @step("score")
        def score(self) -> Score:
            return self.llm.extract(f"Score: {self.params.text}", Score)
"""
NO_LLM = """
    from pydantic import BaseModel

    from raw import BaseWorkflow, step

    class Params(BaseModel):
        text: str

    class Plain(BaseWorkflow[Params]):
        @step("count")
        def count(self) -> int:
            return len(self.params.text)
"""


@pytest.fixture
def scorer(project: Project, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    for name in ("RAW_LLM_BASE_URL", "RAW_LLM_MODEL", "RAW_LLM_API_KEY", "RAW_LLM_MODE"):
        monkeypatch.delenv(name, raising=False)
    project.add_workflow(
        "scorer", SCORE, mocks={"llm": {"responses": [{"response": {"score": 0.25}}]}}
    )
    project.add_workflow("plain", NO_LLM)
    yield project


def test_recorded_mode_answers_from_the_mocks_and_says_so(
    scorer: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAW_LLM_MODE", "recorded")
    result = run_workflow("scorer", {"text": "x"}, project_dir=scorer.root)
    assert result.status == "succeeded", result.error
    assert result.output == {"score": 0.25}
    assert result.dry is False and result.llm == "recorded"
    manifest = json.loads((Path(result.run_dir or "") / "manifest.json").read_text())
    assert manifest["llm"] == "recorded"


def test_auto_uses_the_provider_once_one_is_configured(
    scorer: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAW_LLM_MODE", "auto")
    with OpenAIServer(default=json.dumps({"score": 0.75})) as server:
        monkeypatch.setenv("RAW_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("RAW_LLM_MODEL", "test-model")
        result = run_workflow("scorer", {"text": "x"}, project_dir=scorer.root)
    assert result.status == "succeeded", result.error
    assert result.output == {"score": 0.75}
    assert result.llm == "provider"
    assert len(server.requests) == 1


def test_auto_without_a_provider_is_recorded(scorer: Project) -> None:
    assert llm_source({"RAW_LLM_MODE": "auto"}) == "recorded"
    assert llm_source({"RAW_LLM_MODE": "auto", "RAW_LLM_BASE_URL": "http://x/v1"}) == "recorded"


def test_the_default_is_the_provider_and_names_its_settings(scorer: Project) -> None:
    result = run_workflow("scorer", {"text": "x"}, project_dir=scorer.root)
    assert result.status == "failed"
    assert result.error is not None and "RAW_LLM_BASE_URL" in result.error.message
    assert result.llm == "provider"


def test_a_run_without_llm_calls_says_none(
    scorer: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAW_LLM_MODE", "recorded")
    result = run_workflow("plain", {"text": "abc"}, project_dir=scorer.root)
    assert result.output == 3 and result.llm is None


def test_an_unknown_mode_is_a_clear_error() -> None:
    with pytest.raises(LLMError, match="RAW_LLM_MODE='sometimes' is not a mode"):
        llm_source({"RAW_LLM_MODE": "sometimes"})
