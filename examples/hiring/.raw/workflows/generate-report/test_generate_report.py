"""Tests for the 'generate-report' workflow."""

from __future__ import annotations

from pathlib import Path

from raw import run_workflow

PROJECT = Path(__file__).resolve().parents[3]


def test_dry_run_reports_an_empty_day_without_side_effects() -> None:
    result = run_workflow("generate-report", dry=True, project_dir=PROJECT)
    assert result.status == "succeeded", result.error
    assert result.output["date"] == "2026-03-02"
    assert result.output["figures"]["received"] == 0
    assert result.output["notified"] is False
    assert [a.name for a in result.artifacts] == ["2026-03-02.md"]


def test_a_date_that_is_not_one_is_invalid_input() -> None:
    result = run_workflow("generate-report", {"date": "yesterday"}, dry=True, project_dir=PROJECT)
    assert result.status == "invalid_input"
    assert result.error is not None and result.error.fields is not None
    assert result.error.fields[0]["field"] == "date"
