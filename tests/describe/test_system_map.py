"""`raw describe system` on the hiring example: the model, its JSON, and its three drawings."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from tests.examples.conftest import HIRING, copy_hiring
from tests.scaffold.systems import raw

from raw.describe import SystemMap, build_system_map, to_mermaid, to_svg, to_text
from raw.project import Project

SVG = "{http://www.w3.org/2000/svg}"
ROUTES = ("cv-submission", "calendar-booking", "call-status", "withdrawal")


@pytest.fixture(scope="module")
def hiring_map() -> SystemMap:
    return build_system_map(Project(HIRING))


def test_hiring_map_has_each_part_with_what_it_does(hiring_map: SystemMap) -> None:
    ids = {n.id for n in hiring_map.nodes}
    assert {f"route:{r}" for r in ROUTES} <= ids
    assert {
        "process:HiringProcess",
        "schedule:daily-report",
        "workflow:analyze-cv",
        "workflow:generate-call-summary",
        "workflow:generate-report",
        "integration:email",
        "integration:telephony",
        "integration:storage",
        "integration:chat",
        "entity:candidates",
    } <= ids
    process = hiring_map.node("process:HiringProcess")
    assert process is not None
    assert process.facts["signals"] == ["booked", "call-status", "withdrawn"]
    assert process.facts["workflows"] == ["analyze-cv", "generate-call-summary"]
    assert process.facts["integrations"] == ["email", "storage", "telephony"]
    booking = hiring_map.node("route:calendar-booking")
    assert booking is not None
    assert booking.facts == {"path": "/webhooks/calendar", "scheme": "cal-com", "action": "signal"}
    assert hiring_map.notes == []


def test_hiring_map_arrows_follow_the_config_and_the_code(hiring_map: SystemMap) -> None:
    arrows = {(e.source, e.target, e.kind, e.label) for e in hiring_map.edges}
    assert ("route:cv-submission", "process:HiringProcess", "start", "start") in arrows
    assert (
        "route:calendar-booking",
        "process:HiringProcess",
        "signal",
        "signal 'booked'",
    ) in arrows
    assert ("process:HiringProcess", "workflow:analyze-cv", "runs", "runs") in arrows
    assert ("schedule:daily-report", "workflow:generate-report", "runs", "runs") in arrows
    # Through the activities it calls by name (send_email -> hiring.outbound.email -> .email.send)
    assert ("process:HiringProcess", "integration:email", "uses", "uses") in arrows
    assert ("process:HiringProcess", "integration:telephony", "uses", "uses") in arrows
    assert ("workflow:generate-report", "integration:chat", "uses", "uses") in arrows
    assert not any(t == "integration:chat" and s.startswith("process:") for s, t, _, _ in arrows)


def test_json_lists_nodes_and_edges_by_id() -> None:
    done = raw("describe", "system", "--json", cwd=HIRING, timeout=120)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert set(answer) == {"name", "nodes", "edges", "notes"}
    assert answer["name"] == "hiring"
    node = next(n for n in answer["nodes"] if n["id"] == "route:withdrawal")
    assert set(node) == {"id", "kind", "name", "label", "details", "facts"}
    assert node["kind"] == "route" and node["details"][0] == "POST /webhooks/withdrawal"
    ids = {n["id"] for n in answer["nodes"]}
    for edge in answer["edges"]:
        assert set(edge) == {"source", "target", "kind", "label"}
        assert edge["source"] in ids and edge["target"] in ids


def test_svg_is_well_formed_names_itself_and_draws_each_route_and_process(
    tmp_path: Path,
) -> None:
    out = tmp_path / "hiring.svg"
    done = raw("describe", "system", "--format", "svg", "--output", str(out), cwd=HIRING)
    assert done.returncode == 0, done.stderr
    root = ET.parse(out).getroot()
    assert root.tag == f"{SVG}svg" and root.get("viewBox") and root.get("width") == "100%"
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "System map of hiring"  # type: ignore[union-attr]
    assert "4 webhook routes" in (root.find(f"{SVG}desc").text or "")  # type: ignore[union-attr]
    drawn = {g.get("data-node"): g for g in root.iter(f"{SVG}g") if g.get("data-node")}
    for name in [*ROUTES, "HiringProcess"]:
        node = next(n for i, n in drawn.items() if i and i.endswith(f":{name}"))
        texts = [t.text for t in node.iter(f"{SVG}text")]
        assert texts[0] == name
    arrows = [p for p in root.iter(f"{SVG}path") if p.get("class") == "map-edge"]
    assert len(arrows) == len(build_system_map(Project(HIRING)).edges)
    assert root.find(".//{*}style") is None and all(e.get("style") is None for e in root.iter())


def test_mermaid_has_a_box_per_part_and_an_arrow_per_edge(hiring_map: SystemMap) -> None:
    text = to_mermaid(hiring_map)
    assert text.startswith("flowchart LR\n")
    assert '    process_HiringProcess[["HiringProcess<br/>waits for: booked' in text
    assert "  route_calendar_booking -.->|\"signal 'booked'\"| process_HiringProcess" in text
    assert '  schedule_daily_report -->|"runs"| workflow_generate_report' in text
    assert text.count(" --> ") + text.count(" -.-> ") == 0  # every arrow is labelled
    arrows = [line for line in text.splitlines() if "->|" in line]
    assert len(arrows) == len(hiring_map.edges)


def test_text_lists_every_part_and_arrow(hiring_map: SystemMap) -> None:
    text = to_text(hiring_map)
    assert "Webhook routes:\n  calendar-booking\n      POST /webhooks/calendar\n" in text
    assert "  cv-submission --start--> HiringProcess" in text
    assert "Entity tables:\n  candidates\n" in text


def test_the_hiring_readme_drawing_is_current() -> None:
    done = raw("describe", "system", "--readme", "README.md", "--check", cwd=HIRING)
    assert done.returncode == 0, done.stderr


def test_a_readme_drawing_that_drifted_is_found_and_redrawn(tmp_path: Path) -> None:
    root = copy_hiring(tmp_path / "hiring")
    config = root / ".raw" / "config.yaml"
    config.write_text(
        config.read_text().replace("name: withdrawal", "name: withdraw-request"), encoding="utf-8"
    )
    stale = raw("describe", "system", "--readme", "README.md", "--check", cwd=root)
    assert stale.returncode == 1 and "differs from the system" in stale.stderr
    assert raw("describe", "system", "--readme", "README.md", cwd=root).returncode == 0
    assert "route_withdraw_request" in (root / "README.md").read_text()
    assert raw("describe", "system", "--readme", "README.md", "--check", cwd=root).returncode == 0


def test_a_readme_without_markers_is_refused(tmp_path: Path) -> None:
    root = copy_hiring(tmp_path / "hiring")
    (root / "NOTES.md").write_text("# notes\n", encoding="utf-8")
    done = raw("describe", "system", "--readme", "NOTES.md", cwd=root)
    assert done.returncode == 2 and "has no drawing to replace" in done.stderr


def test_a_process_module_that_cannot_be_found_is_a_note_not_a_failure(tmp_path: Path) -> None:
    root = copy_hiring(tmp_path / "hiring")
    shutil.rmtree(root / "hiring")
    config = root / ".raw" / "config.yaml"
    config.write_text(
        config.read_text().replace("workflows: [hiring.process]", "workflows: [gone.process]"),
        encoding="utf-8",
    )
    system = build_system_map(Project(root))
    assert any("'gone.process' could not be found" in n for n in system.notes)
    # The routes still name their process: drawn, and marked as not found in the code.
    process = system.node("process:HiringProcess")
    assert process is not None and process.facts.get("missing") == "true"
    ET.fromstring(to_svg(system))


def test_an_arrow_that_skips_a_column_crosses_it_between_boxes(hiring_map: SystemMap) -> None:
    root = ET.fromstring(to_svg(hiring_map))
    boxes = {
        g.get("data-node"): g.find(f"{SVG}rect") for g in root.iter(f"{SVG}g") if g.get("data-node")
    }
    arrows = {
        (p.findtext(f"{SVG}title") or ""): p.get("d") or ""
        for p in root.iter(f"{SVG}path")
        if p.get("class") == "map-edge"
    }
    crossing = arrows["HiringProcess uses email"]  # process column -> integrations, past workflows
    assert " H" in crossing
    y = float(crossing.split(" H")[0].split()[-1])  # the height it crosses the column at
    for node_id, rect in boxes.items():
        if node_id and node_id.startswith("workflow:") and rect is not None:
            top, height = float(rect.get("y") or 0), float(rect.get("height") or 0)
            assert not top < y < top + height, f"the arrow runs through {node_id}"


def test_mermaid_labels_cannot_break_out_of_their_quotes() -> None:
    from raw.describe.model import MapNode

    system = SystemMap(
        name="odd",
        nodes=[
            MapNode(
                id="schedule:nightly",
                kind="schedule",
                name="nightly",
                label='say "hi" & <go>',
                details=["cron 0 8 * * 1#2"],
            )
        ],
    )
    text = to_mermaid(system)
    assert '"say #quot;hi#quot; #amp; #lt;go#gt;<br/>cron 0 8 * * 1#35;2"' in text
