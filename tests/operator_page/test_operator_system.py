"""The System view over HTTP: the system map with its live figures, each part a link.

Through httpx's ASGI transport against the coordinator's real app and a SQLite file.
The browser test (tests/operator_page/test_operator_browser.py) draws it for the hiring
example under `raw up`, with real processes waiting for signals.
"""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from raw.coordinator.db.models import RunIndex
from raw.ports import free_port
from raw.project import Project

from .ops_system import serve

SVG = "{http://www.w3.org/2000/svg}"


def drawing(html: str) -> ET.Element:
    found = re.search(r"<svg\b.*?</svg>", html, re.S)
    assert found is not None, "no drawing on the page"
    return ET.fromstring(found.group(0))


def box(svg: ET.Element, node_id: str) -> ET.Element:
    return next(g for g in svg.iter(f"{SVG}g") if g.get("data-node") == node_id)


def texts(element: ET.Element) -> list[str]:
    return [t.text or "" for t in element.iter(f"{SVG}text")]


def test_system_view_draws_deliveries_dead_letters_and_rows_each_a_link(
    ops_project: Callable[..., Project], ops_db_url: str
) -> None:
    async def scenario() -> None:
        async with serve(ops_project(), ops_db_url) as ops:
            await ops.signup("s-1", "ada@example.com")
            await ops.signup("s-2", "grace@example.com")
            await ops.kill("s-1", "the CRM was down")
            page = await ops.client.get("/operator/system", headers=ops.bearer())
            assert page.status_code == 200
            assert '<a href="/operator/system" aria-current="page">System</a>' in page.text
            assert "<title>System · ops operator</title>" in page.text
            svg = drawing(page.text)
            assert svg.get("role") == "group" and svg.get("viewBox")
            route = box(svg, "route:signup")
            assert texts(route)[:2] == ["signup", "POST /webhooks/signup"]
            assert "0.2 deliveries/min (2 in 10 min)" in texts(route)
            assert "1 dead letter" in texts(route)
            hrefs = {a.get("href"): texts(a) for a in route.iter(f"{SVG}a")}
            assert hrefs["/operator/deliveries?route=signup"] == ["signup"]
            assert hrefs["/operator/dead-letters"] == ["1 dead letter"]
            dead = next(t for t in route.iter(f"{SVG}text") if t.text == "1 dead letter")
            assert dead.get("fill") == "#a4001d"  # an alert
            people = box(svg, "entity:people")
            assert "2 rows" in texts(people)
            assert "ops_people" in " ".join(texts(people))
            assert 'href="/operator#h-entities"' in page.text

            answer = await ops.client.get("/api/system", headers=ops.bearer())
            assert answer.status_code == 200
            body = answer.json()
            assert body["deliveries"] == {"signup": 2} and body["dead_letters"] == {"signup": 1}
            assert {n["id"] for n in body["system"]["nodes"]} == {"route:signup", "entity:people"}

            fragment = await ops.client.get(
                "/operator/system", headers={**ops.bearer(), "X-Operator-Fragment": "1"}
            )
            assert fragment.text.lstrip().startswith(("<figure", "<p")) or "<svg" in fragment.text
            assert "<html" not in fragment.text  # only the live block, swapped in place

    asyncio.run(scenario())


def test_failed_runs_of_the_last_hour_are_counted_on_their_workflow(
    ops_project: Callable[..., Project], ops_db_url: str, ops_root: object
) -> None:
    from pathlib import Path

    assert isinstance(ops_root, Path)
    (ops_root / ".raw" / "workflows" / "analyze-cv").mkdir(parents=True)
    (ops_root / ".raw" / "workflows" / "analyze-cv" / "run.py").write_text("", encoding="utf-8")
    now = datetime.now(UTC)

    def run(run_id: str, status: str, minutes_ago: int) -> RunIndex:
        return RunIndex(
            run_id=run_id,
            workflow="analyze-cv",
            status=status,
            dry=False,
            started_at=now - timedelta(minutes=minutes_ago),
            manifest={"run_id": run_id},
        )

    async def scenario() -> None:
        async with serve(ops_project(), ops_db_url) as ops:
            async with ops.db.write() as session:
                session.add_all(
                    [run("r-1", "failed", 5), run("r-2", "failed", 90), run("r-3", "succeeded", 1)]
                )
            page = await ops.client.get("/operator/system", headers=ops.bearer())
            workflow = box(drawing(page.text), "workflow:analyze-cv")
            assert "1 failed run in the last hour" in texts(workflow)
            assert {a.get("href") for a in workflow.iter(f"{SVG}a")} == {"/operator/runs"}

    asyncio.run(scenario())


def test_the_map_is_drawn_when_temporal_is_away_and_says_why_processes_are_not_counted(
    ops_project: Callable[..., Project], ops_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", f"127.0.0.1:{free_port()}")  # nothing listens there

    async def scenario() -> None:
        async with serve(ops_project(processes=True), ops_db_url) as ops:
            page = await ops.client.get("/operator/system", headers=ops.bearer())
            assert page.status_code == 200
            assert "Processes could not be counted" in page.text
            svg = drawing(page.text)
            arrows = [p for p in svg.iter(f"{SVG}path") if p.get("class") == "map-edge"]
            assert [a.findtext(f"{SVG}title") for a in arrows] == [
                "signup signal 'booked' SignalsProcess"
            ]

    asyncio.run(scenario())
