"""The scenario format: strict reading (errors name the step and the field), templates, schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from raw.simulate.scenario import (
    AdvanceStep,
    DeliverStep,
    ScenarioError,
    TemplateError,
    advance_target,
    load_scenario,
    parse_duration,
    render,
    scenario_json_schema,
)

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_scenario_reads_into_typed_steps(tmp_path: Path) -> None:
    scenario = load_scenario(
        write(
            tmp_path,
            "name: s\nsteps:\n  - deliver: cv\n    body: {a: 1}\n    save_as: cv\n"
            "  - advance: 7d\n  - expect: {emails: {to: a@b.c, count: 1}}\n",
        )
    )
    assert isinstance(scenario.steps[0], DeliverStep)
    assert isinstance(scenario.steps[1], AdvanceStep)
    assert scenario.steps[0].save_as == "cv"


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ("  - deliver: cv\n    bodyy: {}\n", "step 1: deliver: 'bodyy'"),
        ("  - advance: 2d\n  - advance: soon\n", "step 2: advance: 'advance'"),
        ("  - expect: {emails: {too: x}}\n", "step 1: expect: 'expect.emails"),
        ("  - wait: 2d\n", "step 1: a step has exactly one of deliver, advance"),
        ("  - deliver: cv\n    advance: 2d\n", "found deliver, advance"),
        ("  - deliver: cv\n    repeat: 0\n", "step 1: deliver: 'repeat'"),
        ("  - expect: {process: {status: sleeping}}\n", "'expect.process"),
    ],
)
def test_a_malformed_step_is_named_with_its_field(
    tmp_path: Path, steps: str, expected: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, "name: s\nsteps:\n" + steps))
    assert expected in str(caught.value)


def test_a_scenario_without_steps_or_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="'steps' must be a non-empty list"):
        load_scenario(write(tmp_path, "name: s\n"))
    with pytest.raises(ScenarioError, match="'name'"):
        load_scenario(write(tmp_path, "steps:\n  - advance: 1d\n"))
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(write(tmp_path, "name: [\n"))


def test_durations() -> None:
    assert parse_duration("1d12h") == timedelta(days=1, hours=12)
    assert parse_duration("45s") == timedelta(seconds=45)
    for bad in ("", "2 days", "1h1d", "-1d"):
        with pytest.raises(ValueError, match="not a duration"):
            parse_duration(bad)


def test_advance_takes_a_duration_or_a_later_time() -> None:
    assert advance_target("2h", now=NOW) == timedelta(hours=2)
    assert advance_target("2026-03-03T10:00:00Z", now=NOW) == NOW + timedelta(days=1, minutes=30)
    with pytest.raises(ValueError, match="simulated past"):
        advance_target("2026-03-01T10:00:00Z", now=NOW)


def test_templates_read_time_and_saved_values() -> None:
    saved = {"cv": {"target": "hiring-process/c-1", "status": 202}}
    assert render("{{ now + 1d }}", now=NOW, saved=saved) == "2026-03-03T09:30:00+00:00"
    assert render("{{ today - 1d }}T10:00:00Z", now=NOW, saved=saved) == "2026-03-01T10:00:00Z"
    assert render({"id": "{{ cv.target }}"}, now=NOW, saved=saved) == {"id": "hiring-process/c-1"}
    assert render("{{ cv.status }}", now=NOW, saved=saved) == 202  # one expression keeps its type
    with pytest.raises(TemplateError, match="'cv' has no field 'entity'"):
        render("{{ cv.entity }}", now=NOW, saved=saved)
    with pytest.raises(TemplateError, match="Known: now, today, uuid, cv"):
        render("{{ booking.uid }}", now=NOW, saved=saved)


def test_the_published_schema_is_the_formats_own() -> None:
    published = json.loads((REPO / "docs" / "scenario.schema.json").read_text(encoding="utf-8"))
    assert published == scenario_json_schema()


def test_every_shipped_scenario_reads() -> None:
    paths = sorted((REPO / "examples" / "hiring" / "scenarios").glob("*.yaml"))
    assert len(paths) >= 6
    for path in paths:
        assert load_scenario(path).steps
