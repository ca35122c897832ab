"""OPENAI_API_KEY and ANTHROPIC_API_KEY, the original runtime's keys, answer self.llm.

Anthropic is reached through its own Messages API with the anthropic client, against a
local server that speaks that API; OpenAI through the OpenAI-compatible client.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING

import pytest
from pydantic import BaseModel

from raw import run_workflow
from raw.errors import LLMOutputError, LLMProviderError
from raw.testing.anthropic_server import AnthropicServer
from raw.testing.openai_server import OpenAIServer
from raw.workflow.llm import default_llm
from raw.workflow.llm.anthropic_messages import AnthropicLLM
from raw.workflow.llm.mode import provider_configured, provider_for

if TYPE_CHECKING:
    from conftest import Project


class Verdict(BaseModel):
    score: int
    reason: str


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith(("RAW_LLM", "OPENAI_", "ANTHROPIC_")):
            monkeypatch.delenv(name)
    return monkeypatch


def test_provider_follows_the_original_keys(no_keys: pytest.MonkeyPatch) -> None:
    assert provider_for({}) == "raw"
    assert provider_for({"OPENAI_API_KEY": "sk"}) == "openai"
    assert provider_for({"ANTHROPIC_API_KEY": "sk"}) == "anthropic"
    both = {"OPENAI_API_KEY": "sk", "ANTHROPIC_API_KEY": "sk"}
    assert provider_for(both) == "anthropic"
    assert provider_for({**both, "RAW_LLM_MODEL": "gpt-4o-mini"}) == "openai"
    assert provider_for({**both, "RAW_LLM_BASE_URL": "http://x/v1"}) == "raw"
    assert provider_configured({"ANTHROPIC_API_KEY": "sk"})


def test_anthropic_key_completes_through_the_messages_api(no_keys: pytest.MonkeyPatch) -> None:
    with AnthropicServer("Hello, Ada!", api_key="sk-ant-test") as server:
        no_keys.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        no_keys.setenv("ANTHROPIC_BASE_URL", server.base_url)
        llm = default_llm()
        assert isinstance(llm, AnthropicLLM)
        assert llm.complete("Greet Ada", system="Be brief", max_tokens=50) == "Hello, Ada!"
    sent = server.requests[0].json
    assert sent["messages"] == [{"role": "user", "content": "Greet Ada"}]
    assert (sent["system"], sent["max_tokens"]) == ("Be brief", 50)
    headers = server.requests[0].headers
    assert "sk-ant-test" in (headers.get("x-api-key"), headers.get("authorization", "")[7:])


def test_anthropic_extract_forces_a_tool_and_corrects_once() -> None:
    with AnthropicServer({"score": "high"}, {"score": 9, "reason": "clear"}) as server:
        llm = AnthropicLLM(api_key="sk-ant-test", base_url=server.base_url, max_retries=0)
        assert llm.extract("Rate it", Verdict) == Verdict(score=9, reason="clear")
    first, second = (r.json for r in server.requests)
    assert first["tool_choice"] == {"type": "tool", "name": "record_answer"}
    assert first["tools"][0]["input_schema"]["title"] == "Verdict"
    feedback = second["messages"][-1]["content"][0]
    assert feedback["type"] == "tool_result" and feedback["is_error"] is True


def test_anthropic_extract_gives_up_after_one_correction() -> None:
    with AnthropicServer({"score": "x"}, {"score": "y"}) as server:
        llm = AnthropicLLM(api_key="sk-ant-test", base_url=server.base_url, max_retries=0)
        with pytest.raises(LLMOutputError, match="Verdict"):
            llm.extract("Rate it", Verdict)


def test_anthropic_errors_become_provider_errors() -> None:
    with AnthropicServer(api_key="right") as server:
        llm = AnthropicLLM(api_key="wrong", base_url=server.base_url, max_retries=0)
        with pytest.raises(LLMProviderError, match="401") as caught:
            llm.complete("hi")
    assert caught.value.status_code == 401


def test_anthropic_async_twins_answer_too() -> None:
    async def both(llm: AnthropicLLM) -> tuple[str, Verdict]:
        return await llm.acomplete("hi"), await llm.aextract("rate", Verdict)

    with AnthropicServer("async hello", {"score": 1, "reason": "ok"}) as server:
        llm = AnthropicLLM(api_key="sk-ant-test", base_url=server.base_url, max_retries=0)
        text, verdict = asyncio.run(both(llm))
    assert (text, verdict.score) == ("async hello", 1)


def test_openai_key_reaches_the_openai_compatible_endpoint(no_keys: pytest.MonkeyPatch) -> None:
    with OpenAIServer("from openai", api_key="sk-openai") as server:
        no_keys.setenv("OPENAI_API_KEY", "sk-openai")
        no_keys.setenv("OPENAI_BASE_URL", server.base_url)
        assert default_llm().complete("hi") == "from openai"
    assert server.requests[0].json["model"] == "gpt-4o-mini"


ASK = """
from raw_runtime import BaseWorkflow, step

class Ask(BaseWorkflow):
    @step("ask")
    def ask(self) -> str:
        return self.llm.complete("Say hi")
"""


def test_a_run_reads_the_anthropic_key_from_the_projects_dotenv(
    project: Project, no_keys: pytest.MonkeyPatch
) -> None:
    from raw.workflow.arguments import split_args
    from raw.workflow.command import run_command

    project.add_workflow("ask", ASK)
    with AnthropicServer("hi from claude", api_key="sk-from-dotenv") as server:
        (project.root / ".env").write_text(
            f"ANTHROPIC_API_KEY=sk-from-dotenv\nANTHROPIC_BASE_URL={server.base_url}\n",
            encoding="utf-8",
        )
        # The .env sets the keys at run start; monkeypatch undoes them afterwards.
        no_keys.setenv("ANTHROPIC_API_KEY", "")
        no_keys.delenv("ANTHROPIC_API_KEY")
        no_keys.setenv("ANTHROPIC_BASE_URL", "")
        no_keys.delenv("ANTHROPIC_BASE_URL")
        run = run_command(
            split_args(["ask", "--project-dir", str(project.root)]), entry_point="cli"
        )
    assert run.result is not None and run.result.status == "succeeded", run.result
    assert run.result.output == "hi from claude"


def test_the_environment_wins_over_dotenv(project: Project, no_keys: pytest.MonkeyPatch) -> None:
    project.add_workflow("ask", ASK)
    with AnthropicServer("from the environment", api_key="sk-env") as server:
        (project.root / ".env").write_text("ANTHROPIC_API_KEY=sk-dotenv\n", encoding="utf-8")
        no_keys.setenv("ANTHROPIC_API_KEY", "sk-env")
        no_keys.setenv("ANTHROPIC_BASE_URL", server.base_url)
        result = run_workflow("ask", project_dir=project.root)
    assert result.status == "succeeded", result.error
    assert result.output == "from the environment"
