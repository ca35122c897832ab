"""Tests for the 'analyze-cv' workflow: run with `pytest .raw/workflows/analyze-cv`."""

from __future__ import annotations

from pathlib import Path

from raw import run_workflow

PROJECT = Path(__file__).resolve().parents[3]


def test_python_cv_is_qualified_on_the_recorded_answer() -> None:
    result = run_workflow("analyze-cv", dry=True, project_dir=PROJECT)
    assert result.status == "succeeded", result.error
    assert result.output["qualified"] is True
    assert result.output["score"] >= 0.7
    assert result.llm == "recorded"


def test_cv_without_the_skills_is_not_qualified() -> None:
    params = {"cv_text": "Florist with twenty years in retail.", "candidate_id": "c-2"}
    result = run_workflow("analyze-cv", params, dry=True, project_dir=PROJECT)
    assert result.status == "succeeded", result.error
    assert result.output["qualified"] is False
    assert result.output["concerns"]


def test_empty_cv_is_invalid_input() -> None:
    result = run_workflow("analyze-cv", {"cv_text": ""}, dry=True, project_dir=PROJECT)
    assert result.status == "invalid_input"
    assert result.error is not None and result.error.fields is not None
    assert result.error.fields[0]["field"] == "cv_text"
