"""Recorded LLM responses for dry runs (mocks/llm.json) and fake instances."""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import pytest
from pydantic import BaseModel, Field, HttpUrl

from raw import clock
from raw.errors import LLMError, ProjectError, RunTimedOutError
from raw.workflow.context import RunContext, _current_run, _current_step
from raw.workflow.llm import LLM
from raw.workflow.llm_mock import RecordedLLM, fake_instance
from raw.workflow.result import StepResult


class Verdict(BaseModel):
    score: float
    qualified: bool


RECORDINGS = {
    "responses": [
        {"step": "analyze", "prompt_contains": "CV", "response": {"score": 0.9, "qualified": True}},
        {"prompt_contains": "summarise", "response": "A short summary."},
        {"prompt_contains": "SUMMARISE", "response": "Never used: the entry above wins."},
        {"step": "report", "response": '{"score": 0.1, "qualified": false}'},
        {"prompt_contains": "as json", "response": {"a": [1, 2]}},
    ]
}


def write_recordings(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "mocks" / "llm.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def llm(tmp_path: Path) -> RecordedLLM:
    write_recordings(tmp_path, RECORDINGS)
    return RecordedLLM.for_mocks_dir(tmp_path / "mocks")


@contextmanager
def in_step(name: str) -> Iterator[None]:
    token = _current_step.set(StepResult(name=name, started_at=clock.now()))
    try:
        yield
    finally:
        _current_step.reset(token)


@contextmanager
def active_run(*, timeout_seconds: float | None = None) -> Iterator[RunContext]:
    run = RunContext(
        workflow_id="test-llm-mock",
        run_id=uuid.uuid4().hex,
        handle=cast(Any, object()),
        dry=True,
        timeout_seconds=timeout_seconds,
        deadline=None if timeout_seconds is None else clock.monotonic() + timeout_seconds,
    )
    token = _current_run.set(run)
    try:
        yield run
    finally:
        _current_run.reset(token)


# --- matching -------------------------------------------------------------------------


def test_entry_matches_by_step_and_prompt(llm: RecordedLLM) -> None:
    with in_step("analyze"):
        verdict = llm.extract("Rate this cv please", Verdict)

    assert verdict == Verdict(score=0.9, qualified=True)
    assert llm.calls == [
        {"step": "analyze", "prompt_excerpt": "Rate this cv please", "matched": True}
    ]


def test_entry_for_another_step_does_not_match(llm: RecordedLLM) -> None:
    with in_step("other"):
        verdict = llm.extract("Rate this CV", Verdict)

    assert verdict == fake_instance(Verdict)
    assert llm.calls[0]["matched"] is False


def test_first_matching_entry_wins_ignoring_case(llm: RecordedLLM) -> None:
    assert llm.complete("Please SUMMARISE the report") == "A short summary."


def test_extract_parses_a_string_response_as_json(llm: RecordedLLM) -> None:
    with in_step("report"):
        assert llm.extract("anything", Verdict) == Verdict(score=0.1, qualified=False)


def test_complete_returns_an_object_response_as_json_text(llm: RecordedLLM) -> None:
    assert json.loads(llm.complete("Answer as JSON")) == {"a": [1, 2]}


def test_no_match_answers_a_deterministic_fake(tmp_path: Path) -> None:
    prompt = "Write a cover letter for   a senior engineer\nwho loves distributed systems and tea"
    first, second = RecordedLLM(), RecordedLLM.for_mocks_dir(tmp_path / "missing")

    answer = first.complete(prompt)

    assert answer == second.complete(prompt)
    excerpt = "Write a cover letter for a senior engineer who loves distrib…"
    assert answer == f"[dry run] no recorded response for: {excerpt}"
    assert first.calls == [{"step": None, "prompt_excerpt": excerpt, "matched": False}]


def test_a_recorded_response_that_does_not_match_the_model_names_the_entry(
    tmp_path: Path,
) -> None:
    path = write_recordings(tmp_path, {"responses": [{"response": {"score": "high"}}]})

    with pytest.raises(ProjectError) as caught:
        RecordedLLM.from_file(path).extract("Rate", Verdict)

    message = str(caught.value)
    assert str(path) in message
    assert "#1" in message
    assert "score: Input should be a valid number" in message
    assert "qualified: Field required" in message


def test_every_answer_is_logged_as_coming_from_mocks(
    llm: RecordedLLM, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="raw.llm")

    with in_step("analyze"):
        llm.extract("CV", Verdict)
        llm.complete("unmatched")

    matched, generated = (r.getMessage() for r in caplog.records if r.name == "raw.llm")
    assert "answered from mocks: entry #1 of llm.json" in matched
    assert "step 'analyze'" in matched
    assert "generated dry-run fake" in generated


def test_async_twins_answer_like_the_sync_methods(llm: RecordedLLM) -> None:
    async def main() -> tuple[str, Verdict]:
        with in_step("analyze"):
            return await llm.acomplete("summarise"), await llm.aextract("CV", Verdict)

    assert asyncio.run(main()) == ("A short summary.", Verdict(score=0.9, qualified=True))


def test_a_run_past_its_deadline_gets_no_answer(llm: RecordedLLM) -> None:
    with active_run(timeout_seconds=0.0), pytest.raises(RunTimedOutError):
        llm.complete("summarise")

    assert llm.calls == []


def test_recorded_llm_satisfies_the_llm_protocol() -> None:
    assert isinstance(RecordedLLM(), LLM)


# --- the file -------------------------------------------------------------------------


def test_a_missing_file_means_no_recordings(tmp_path: Path) -> None:
    assert RecordedLLM.from_file(tmp_path / "llm.json").responses == []
    assert RecordedLLM.for_mocks_dir(None).responses == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not valid JSON"),
        ({"responses": [{"promt_contains": "x", "response": "y"}]}, "responses.0.promt_contains"),
        ({"responses": [{"step": "analyze"}]}, "responses.0.response: Field required"),
        ({"answers": []}, "answers: Extra inputs are not permitted"),
        ({"responses": [{"step": 3, "response": "y"}]}, "responses.0.step"),
    ],
)
def test_a_malformed_file_names_the_file_and_the_problem(
    tmp_path: Path, content: Any, expected: str
) -> None:
    path = write_recordings(tmp_path, content)

    with pytest.raises(ProjectError) as caught:
        RecordedLLM.from_file(path)

    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


# --- fake instances -------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    street: str
    zip_code: Annotated[str, Field(min_length=10)]


class Everything(BaseModel):
    name: str
    count: int
    ratio: float
    ok: bool
    tags: list[str]
    unique: set[int]
    pair: tuple[int, str]
    many: tuple[float, ...]
    meta: dict[str, Any]
    maybe: int | None
    kind: Literal["cv", "letter"]
    color: Color
    address: Address
    addresses: list[Address] = Field(min_length=2)
    born: date
    seen_at: datetime
    ident: uuid.UUID
    price: Decimal
    site: HttpUrl
    default_kept: str = "kept"
    factory_kept: list[int] = Field(default_factory=lambda: [7])


class Bounded(BaseModel):
    positive: int = Field(gt=0)
    at_least_five: int = Field(ge=5)
    negative: float = Field(lt=0)
    unit: float = Field(gt=0, lt=1)
    small: int = Field(le=-3)
    short: str = Field(max_length=3)
    long: str = Field(min_length=12)
    some: list[int] = Field(min_length=1)


class Aliased(BaseModel):
    full_name: str = Field(alias="fullName")


@pytest.mark.parametrize("model", [Verdict, Everything, Bounded, Aliased, Address])
def test_fake_instance_validates_and_is_deterministic(model: type[BaseModel]) -> None:
    first = fake_instance(model)

    assert isinstance(first, model)
    assert model.model_validate(first.model_dump(by_alias=True)) == first
    assert fake_instance(model) == first


def test_fake_instance_uses_the_documented_values() -> None:
    fake = fake_instance(Everything)

    assert (fake.name, fake.count, fake.ratio, fake.ok) == ("dry-run", 0, 0.0, False)
    assert (fake.tags, fake.unique, fake.many, fake.meta) == ([], set(), (), {})
    assert fake.pair == (0, "dry-run")
    assert fake.maybe is None
    assert fake.kind == "cv"
    assert fake.color is Color.RED
    assert fake.address.zip_code == "dry-run---"
    assert len(fake.addresses) == 2
    assert fake.born == date(2026, 1, 1)
    assert fake.seen_at.date() == date(2026, 1, 1)
    assert (fake.default_kept, fake.factory_kept) == ("kept", [7])


def test_fake_instance_meets_simple_bounds() -> None:
    fake = fake_instance(Bounded)

    assert (fake.positive, fake.at_least_five, fake.small) == (1, 5, -3)
    assert fake.negative < 0 and 0 < fake.unit < 1
    assert (fake.short, len(fake.long), fake.some) == ("dry", 12, [0])


def test_fake_instance_names_a_field_it_cannot_invent() -> None:
    class Odd(BaseModel):
        model_config = {"arbitrary_types_allowed": True}

        handle: Path
        thing: complex

    with pytest.raises(LLMError, match=r"Odd\.thing.*mocks/llm.json"):
        fake_instance(Odd)
