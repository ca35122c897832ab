"""Each pattern's generated system, drawn by `raw describe system`; its README carries the
same drawing, current as written."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from .systems import raw, raw_json


def _map(root: Path) -> dict[str, object]:
    code, answer = raw_json("describe", "system", cwd=root, timeout=120)
    assert code == 0, answer
    return answer


def _ids(answer: dict[str, object]) -> set[str]:
    return {str(n["id"]) for n in answer["nodes"]}  # type: ignore[attr-defined, index]


def _edges(answer: dict[str, object]) -> set[tuple[str, str, str]]:
    return {(e["source"], e["target"], e["kind"]) for e in answer["edges"]}  # type: ignore[attr-defined, index]


def test_single_is_one_workflow(single_system: Path) -> None:
    answer = _map(single_system)
    assert _ids(answer) == {"workflow:summarize"} and answer["edges"] == []


def test_temporal_draws_the_process_its_workflows_and_the_schedule(temporal_system: Path) -> None:
    answer = _map(temporal_system)
    assert {
        "process:OnboardingProcess",
        "workflow:analyze",
        "workflow:finalize",
        "schedule:daily-report",
    } <= _ids(answer)
    assert {
        ("process:OnboardingProcess", "workflow:analyze", "runs"),
        ("process:OnboardingProcess", "workflow:finalize", "runs"),
        ("schedule:daily-report", "workflow:daily-report", "runs"),
    } <= _edges(answer)
    assert not any(i.startswith("route:") for i in _ids(answer))


def test_full_draws_each_route_with_its_scheme_and_what_it_sends(full_system: Path) -> None:
    answer = _map(full_system)
    nodes = {n["id"]: n for n in answer["nodes"]}  # type: ignore[attr-defined]
    assert nodes["route:request"]["facts"]["scheme"] == "standard-webhooks"
    assert nodes["route:approval"]["facts"]["scheme"] == "github"
    assert nodes["process:ApprovalsProcess"]["facts"]["signals"] == ["approval"]
    assert {
        ("route:request", "process:ApprovalsProcess", "start"),
        ("route:approval", "process:ApprovalsProcess", "signal"),
        ("schedule:weekly-summary", "workflow:weekly-summary", "runs"),
    } <= _edges(answer)
    svg = raw("describe", "system", "--format", "svg", cwd=full_system)
    root = ET.fromstring(svg.stdout)
    drawn = {g.get("data-node") for g in root.iter() if g.get("data-node")}
    assert {"route:request", "route:approval", "process:ApprovalsProcess"} <= drawn


def test_each_readme_carries_the_drawing_of_its_own_system(
    single_system: Path, temporal_system: Path, full_system: Path
) -> None:
    for root in (single_system, temporal_system, full_system):
        done = raw("describe", "system", "--readme", "README.md", "--check", "--json", cwd=root)
        assert done.returncode == 0, done.stdout + done.stderr
        assert json.loads(done.stdout)["current"] is True
        mermaid = raw("describe", "system", "--format", "mermaid", cwd=root).stdout
        assert f"```mermaid\n{mermaid}```" in (root / "README.md").read_text()
