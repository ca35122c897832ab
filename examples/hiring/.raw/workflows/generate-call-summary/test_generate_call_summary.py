"""Tests for the 'generate-call-summary' workflow."""

from __future__ import annotations

from pathlib import Path

from raw import run_workflow

PROJECT = Path(__file__).resolve().parents[3]


def test_summary_on_the_recorded_answer() -> None:
    result = run_workflow("generate-call-summary", dry=True, project_dir=PROJECT)
    assert result.status == "succeeded", result.error
    assert result.output["recommendation"] in {"advance", "hold", "reject"}
    assert result.output["summary"]


def test_candidate_id_is_required() -> None:
    result = run_workflow("generate-call-summary", {}, dry=True, project_dir=PROJECT)
    assert result.status == "invalid_input"
    assert result.error is not None and result.error.fields is not None
    assert result.error.fields[0]["field"] == "candidate_id"
