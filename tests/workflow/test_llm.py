"""The OpenAI-compatible client, over real HTTP against raw.testing.openai_server."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar, cast

import pytest
from pydantic import BaseModel, Field

from raw import clock
from raw.config.settings import StructuredOutput
from raw.errors import (
    LLMError,
    LLMNotConfiguredError,
    LLMOutputError,
    LLMProviderError,
    RunCancelledError,
    RunTimedOutError,
)
from raw.ports import free_port
from raw.testing.openai_server import OpenAIServer, Reply, ScriptedReply
from raw.workflow.context import RunContext, _current_run
from raw.workflow.llm import LLM, OpenAICompatibleLLM, default_llm

SECRET = "sk-test-7f3a9c-do-not-leak"
T = TypeVar("T")


class Verdict(BaseModel):
    score: float = Field(ge=0, le=1)
    qualified: bool
    reasons: list[str] = []


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer(api_key=SECRET) as running:
        yield running


def make_llm(
    server: OpenAIServer,
    *,
    api_key: str | None = SECRET,
    structured_output: StructuredOutput = "json_schema",
    max_retries: int = 2,
    timeout_seconds: float = 10,
) -> OpenAICompatibleLLM:
    return OpenAICompatibleLLM(
        base_url=server.base_url,
        model="test-model",
        api_key=api_key,
        structured_output=structured_output,
        max_retries=max_retries,
        timeout_seconds=timeout_seconds,
    )


@pytest.fixture
def no_llm_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "BASE_URL",
        "API_KEY",
        "MODEL",
        "TIMEOUT_SECONDS",
        "MAX_RETRIES",
        "STRUCTURED_OUTPUT",
    ):
        monkeypatch.delenv(f"RAW_LLM_{name}", raising=False)
    return monkeypatch


@contextmanager
def active_run(*, timeout_seconds: float | None = None) -> Iterator[RunContext]:
    run = RunContext(
        workflow_id="test-llm",
        run_id=uuid.uuid4().hex,
        handle=cast(Any, object()),
        timeout_seconds=timeout_seconds,
        deadline=None if timeout_seconds is None else clock.monotonic() + timeout_seconds,
    )
    token = _current_run.set(run)
    try:
        yield run
    finally:
        _current_run.reset(token)


# --- complete -------------------------------------------------------------------------


def test_complete_returns_the_assistant_message(server: OpenAIServer) -> None:
    server.add("Hello there.")

    answer = make_llm(server).complete(
        "Say hello", system="Be brief.", temperature=0.2, max_tokens=20
    )

    assert answer == "Hello there."
    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    assert request.json == {
        "model": "test-model",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hello"},
        ],
        "temperature": 0.2,
        "max_tokens": 20,
    }


def test_complete_without_api_key_sends_no_authorization_header() -> None:
    with OpenAIServer("ok") as server:
        assert make_llm(server, api_key=None).complete("hi") == "ok"
        assert "authorization" not in server.requests[0].headers
        assert "temperature" not in server.requests[0].json


def test_client_satisfies_the_llm_protocol() -> None:
    assert isinstance(default_llm(), LLM)


# --- extract --------------------------------------------------------------------------


def test_extract_sends_the_json_schema_and_validates_the_answer(server: OpenAIServer) -> None:
    server.add('{"score": 0.9, "qualified": true}')

    verdict = make_llm(server).extract("Rate this CV", Verdict, system="You are a recruiter.")

    assert verdict == Verdict(score=0.9, qualified=True)
    body = server.requests[0].json
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Verdict", "schema": Verdict.model_json_schema()},
    }
    assert body["messages"][0] == {"role": "system", "content": "You are a recruiter."}


@pytest.mark.parametrize("mode", ["json_object", "prompt"])
def test_extract_without_json_schema_puts_the_schema_in_the_system_prompt(
    server: OpenAIServer, mode: StructuredOutput
) -> None:
    server.add('{"score": 0.5, "qualified": false}')

    verdict = make_llm(server, structured_output=mode).extract("Rate", Verdict, system="Be fair.")

    assert verdict.score == 0.5
    body = server.requests[0].json
    system = body["messages"][0]["content"]
    assert system.startswith("Be fair.")
    assert json.dumps(Verdict.model_json_schema(), indent=2) in system
    if mode == "json_object":
        assert body["response_format"] == {"type": "json_object"}
    else:
        assert "response_format" not in body


def test_extract_accepts_a_fenced_json_block(server: OpenAIServer) -> None:
    server.add('Here you go:\n```json\n{"score": 1, "qualified": true}\n```\n')

    assert make_llm(server).extract("Rate", Verdict) == Verdict(score=1, qualified=True)


def test_extract_retries_once_with_the_errors_after_invalid_json(server: OpenAIServer) -> None:
    server.add("I think the score is high.", '{"score": 0.8, "qualified": true}')

    verdict = make_llm(server).extract("Rate this CV", Verdict)

    assert verdict.score == 0.8
    first, second = (r.json["messages"] for r in server.requests)
    assert second[: len(first)] == first
    assert second[-2] == {"role": "assistant", "content": "I think the score is high."}
    correction = second[-1]
    assert correction["role"] == "user"
    assert "not valid JSON" in correction["content"]
    assert "only a valid JSON object" in correction["content"]


def test_extract_correction_names_the_invalid_fields(server: OpenAIServer) -> None:
    server.add('{"score": 7, "qualified": true}', '{"score": 0.7, "qualified": true}')

    assert make_llm(server).extract("Rate", Verdict).score == 0.7
    correction = server.requests[1].json["messages"][-1]["content"]
    assert "score: Input should be less than or equal to 1" in correction


def test_extract_raises_output_error_after_two_invalid_answers(server: OpenAIServer) -> None:
    server.add("not json", '{"qualified": "maybe"}')

    with pytest.raises(LLMOutputError) as caught:
        make_llm(server).extract("Rate", Verdict)

    assert caught.value.model_name == "Verdict"
    assert "score: Field required" in caught.value.reason
    assert "qualified: Input should be a valid boolean" in str(caught.value)
    assert len(server.requests) == 2


# --- provider errors and retries ------------------------------------------------------


def test_unauthorized_names_the_api_key_setting_without_showing_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong_key = "sk-wrong-5c1d-never-show-me"
    echo: ScriptedReply = (
        401,
        {"error": {"message": f"Incorrect API key provided: {wrong_key}"}},
        {},
    )
    caplog.set_level(logging.DEBUG)

    with OpenAIServer(echo) as server, active_run():
        llm = make_llm(server, api_key=wrong_key)
        with pytest.raises(LLMProviderError) as caught:
            llm.complete("hi")

    error = caught.value
    assert error.status_code == 401
    assert "RAW_LLM_API_KEY" in str(error)
    assert "Incorrect API key provided: ***" in str(error)
    assert wrong_key not in str(error)
    assert wrong_key not in repr(llm)
    assert wrong_key not in caplog.text
    assert len(server.requests) == 1


def test_server_rejects_a_wrong_key_with_an_openai_error(server: OpenAIServer) -> None:
    with pytest.raises(LLMProviderError, match="HTTP 401.*check RAW_LLM_API_KEY") as caught:
        make_llm(server, api_key="sk-other").complete("hi")
    assert "sk-other" not in str(caught.value)
    assert SECRET not in str(caught.value)


def test_not_found_names_base_url_and_model(server: OpenAIServer) -> None:
    server.add((404, {"error": {"message": "The model 'test-model' does not exist"}}, {}))

    with pytest.raises(LLMProviderError) as caught:
        make_llm(server).complete("hi")

    assert caught.value.status_code == 404
    assert "check RAW_LLM_BASE_URL and RAW_LLM_MODEL" in str(caught.value)
    assert "does not exist" in str(caught.value)


def test_bad_request_is_not_retried(server: OpenAIServer) -> None:
    server.add(Reply.error(400), "never sent")

    with pytest.raises(LLMProviderError, match="RAW_LLM_STRUCTURED_OUTPUT"):
        make_llm(server).extract("Rate", Verdict)

    assert len(server.requests) == 1


def test_server_error_is_retried_after_a_backoff(server: OpenAIServer) -> None:
    server.add(Reply.error(500), "recovered")

    with clock.use(clock.ManualClock()) as manual:
        assert make_llm(server).complete("hi") == "recovered"

    assert len(server.requests) == 2
    assert manual.monotonic() == 0.5


@pytest.mark.parametrize(("retry_after", "waited"), [("7", 7.0), ("120", 30.0)])
def test_rate_limit_honours_retry_after_up_to_30_seconds(
    server: OpenAIServer, retry_after: str, waited: float
) -> None:
    server.add((429, {"error": {"message": "Rate limit"}}, {"Retry-After": retry_after}), "ok")

    with clock.use(clock.ManualClock()) as manual:
        assert make_llm(server).complete("hi") == "ok"

    assert manual.monotonic() == waited


def test_persistent_server_errors_raise_after_max_retries(server: OpenAIServer) -> None:
    server.add(*[Reply.error(503)] * 3, "too late")

    with clock.use(clock.ManualClock()) as manual, pytest.raises(LLMProviderError) as caught:
        make_llm(server, max_retries=2).complete("hi")

    assert caught.value.status_code == 503
    assert "after 3 attempts" in str(caught.value)
    assert len(server.requests) == 3
    assert manual.monotonic() == 0.5 + 1.0


def test_unreachable_provider_is_retried_then_named() -> None:
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    llm = OpenAICompatibleLLM(base_url=base_url, model="m", api_key=SECRET, max_retries=1)

    with clock.use(clock.ManualClock()) as manual, pytest.raises(LLMProviderError) as caught:
        llm.complete("hi")

    message = str(caught.value)
    assert base_url in message
    assert "after 2 attempts" in message
    assert "check RAW_LLM_BASE_URL" in message
    assert SECRET not in message
    assert manual.monotonic() == 0.5


def test_a_body_that_is_not_a_completion_raises_provider_error(server: OpenAIServer) -> None:
    server.add(Reply(body={"unexpected": True}))

    with pytest.raises(LLMProviderError, match="not a chat completion"):
        make_llm(server).complete("hi")


# --- settings -------------------------------------------------------------------------


def test_unconfigured_client_builds_but_its_first_call_names_missing_settings(
    no_llm_env: pytest.MonkeyPatch,
) -> None:
    llm = default_llm()

    with pytest.raises(LLMNotConfiguredError) as caught:
        llm.complete("hi")

    assert caught.value.missing == ["RAW_LLM_BASE_URL", "RAW_LLM_MODEL"]
    assert "RAW_LLM_BASE_URL, RAW_LLM_MODEL" in str(caught.value)
    # --dry does not apply to a process test or a worker: the switch that does is named.
    assert "where there is no --dry (process tests, a worker), set RAW_LLM_MODE=recorded" in str(
        caught.value
    )


def test_only_the_missing_settings_are_named(no_llm_env: pytest.MonkeyPatch) -> None:
    no_llm_env.setenv("RAW_LLM_BASE_URL", "http://127.0.0.1:9/v1")

    with pytest.raises(LLMNotConfiguredError) as caught:
        OpenAICompatibleLLM.from_settings().extract("Rate", Verdict)

    assert caught.value.missing == ["RAW_LLM_MODEL"]


def test_settings_are_read_from_the_environment(
    server: OpenAIServer, no_llm_env: pytest.MonkeyPatch
) -> None:
    no_llm_env.setenv("RAW_LLM_BASE_URL", server.base_url)
    no_llm_env.setenv("RAW_LLM_MODEL", "env-model")
    no_llm_env.setenv("RAW_LLM_API_KEY", SECRET)
    no_llm_env.setenv("RAW_LLM_STRUCTURED_OUTPUT", "json_object")
    server.add('{"score": 0, "qualified": false}')
    llm = default_llm()

    assert llm.extract("Rate", Verdict).qualified is False
    body = server.requests[0].json
    assert body["model"] == "env-model"
    assert body["response_format"] == {"type": "json_object"}
    assert SECRET not in repr(llm)


def test_settings_have_the_documented_fields_and_defaults(no_llm_env: pytest.MonkeyPatch) -> None:
    from raw.config.settings import LLMSettings

    settings = LLMSettings()

    assert settings.model_dump() == {
        "base_url": None,
        "api_key": None,
        "model": None,
        "timeout_seconds": 60.0,
        "max_retries": 2,
        "structured_output": "json_schema",
    }


def test_invalid_settings_raise_an_llm_error(no_llm_env: pytest.MonkeyPatch) -> None:
    no_llm_env.setenv("RAW_LLM_TIMEOUT_SECONDS", "soon")

    with pytest.raises(LLMError, match="RAW_LLM_TIMEOUT_SECONDS"):
        default_llm().complete("hi")


# --- async twins ----------------------------------------------------------------------


def test_acomplete_and_aextract(server: OpenAIServer) -> None:
    server.add("async hello", "```\nnot json\n```", '{"score": 0.3, "qualified": false}')
    llm = make_llm(server)

    async def main() -> tuple[str, Verdict]:
        return await llm.acomplete("hi"), await llm.aextract("Rate", Verdict)

    text, verdict = asyncio.run(main())

    assert text == "async hello"
    assert verdict == Verdict(score=0.3, qualified=False)
    assert len(server.requests) == 3


def test_async_errors_match_sync_errors(server: OpenAIServer) -> None:
    server.add(Reply.error(500), (403, {"error": {"message": "Forbidden"}}, {}))

    with clock.use(clock.ManualClock()), pytest.raises(LLMProviderError) as caught:
        asyncio.run(make_llm(server).acomplete("hi"))

    assert caught.value.status_code == 403
    assert "check RAW_LLM_API_KEY" in str(caught.value)


def test_async_output_error_after_two_invalid_answers(server: OpenAIServer) -> None:
    server.add("nope", "still nope")

    with pytest.raises(LLMOutputError):
        asyncio.run(make_llm(server).aextract("Rate", Verdict))


# --- the run: deadline, cancellation, log ---------------------------------------------


def test_a_slow_reply_past_the_run_deadline_raises_run_timed_out(server: OpenAIServer) -> None:
    server.add(Reply("too late", delay_seconds=5))
    started = clock.monotonic()

    with active_run(timeout_seconds=0.3), pytest.raises(RunTimedOutError) as caught:
        make_llm(server, timeout_seconds=30).complete("hi")

    assert caught.value.timeout_seconds == 0.3
    assert clock.monotonic() - started < 2


def test_async_slow_reply_past_the_run_deadline_raises_run_timed_out(
    server: OpenAIServer,
) -> None:
    server.add(Reply("too late", delay_seconds=5))

    with active_run(timeout_seconds=0.3), pytest.raises(RunTimedOutError):
        asyncio.run(make_llm(server, timeout_seconds=30).aextract("Rate", Verdict))


def test_a_run_past_its_deadline_sends_no_request(server: OpenAIServer) -> None:
    with active_run(timeout_seconds=0.0), pytest.raises(RunTimedOutError):
        make_llm(server).complete("hi")

    assert server.requests == []


def test_a_cancelled_run_sends_no_request(server: OpenAIServer) -> None:
    with active_run() as run, pytest.raises(RunCancelledError):
        run.cancel_event.set()
        make_llm(server).complete("hi")

    assert server.requests == []


def test_each_call_in_a_run_logs_one_line_without_prompt_or_key(
    server: OpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.add(Reply("fine", usage={"prompt_tokens": 12, "completion_tokens": 3}))
    caplog.set_level(logging.INFO, logger="raw.llm")

    with active_run():
        make_llm(server).complete("a confidential prompt")

    [record] = [r for r in caplog.records if r.name == "raw.llm"]
    message = record.getMessage()
    assert "test-model" in message
    assert "12 prompt + 3 completion tokens" in message
    assert " ms " in message
    assert "confidential" not in message
    assert SECRET not in caplog.text


def test_no_log_line_outside_a_run(server: OpenAIServer, caplog: pytest.LogCaptureFixture) -> None:
    server.add("fine")
    caplog.set_level(logging.INFO, logger="raw.llm")

    make_llm(server).complete("hi")

    assert [r for r in caplog.records if r.name == "raw.llm"] == []


def test_importing_the_client_loads_neither_httpx_nor_pydantic_settings() -> None:
    code = (
        "import sys, raw.workflow.llm\n"
        "print(sorted(m for m in ('httpx', 'pydantic_settings') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_generic_model_names_are_sanitised_for_the_schema_name(server: OpenAIServer) -> None:
    class Page(BaseModel, Generic[T]):
        items: list[T]

    server.add('{"items": [1, 2]}')

    assert make_llm(server).extract("List", Page[int]).items == [1, 2]
    assert server.requests[0].json["response_format"]["json_schema"]["name"] == "Page_int_"
