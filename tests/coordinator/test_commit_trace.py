"""The group commit's transaction is traced: a child of its caller alone, linked when shared.

Both tests export over real OTLP/HTTP to :mod:`tests.otlp_receiver`. The first runs
`raw serve` and sends one signed delivery: the route's own write transaction
(``store deliveries``) must be a child of the route's request span, with the SQL
statements inside it. The second drives :class:`GroupCommit` in a subprocess of its own
(tracing is per process) so that two callers' items share one transaction for certain,
not by luck of timing: the first transaction holds the writer until both are queued.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from tests.otlp_receiver import OtlpReceiver, Span

from coordinator.webhook_fixtures import cv_body, dumps, raw_serve, standard_headers

if TYPE_CHECKING:
    from raw.project import Project

STORE = "store deliveries"


def _sql(span: Span) -> bool:
    return bool(span.attributes.get("db.system", span.attributes.get("db.system.name")))


def test_a_routes_write_transaction_is_a_child_of_its_request_span(
    hook_project: Project, tmp_path: Path
) -> None:
    with OtlpReceiver() as receiver:
        otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
        with raw_serve(hook_project, tmp_path / "served.db", **otel) as served:
            body = dumps(cv_body())
            answer = httpx.post(
                f"{served.base_url}/webhooks/cv",
                content=body,
                headers=standard_headers(body, msg_id="msg_traced"),
                timeout=10,
            )
            assert answer.status_code == 202, answer.text

            def stored(spans: list[Span]) -> list[Span] | None:
                store = next((s for s in spans if s.name == STORE), None)
                if store is None:
                    return None
                trace = [s for s in spans if s.trace_id == store.trace_id]
                names = {s.name for s in trace}
                done = "POST /webhooks/cv" in names and any(_sql(s) for s in trace)
                return trace if done else None

            trace = receiver.wait_for(stored, what="the route's write transaction")
    by_id = {s.span_id: s for s in trace}
    store = next(s for s in trace if s.name == STORE)
    route = by_id[store.parent_id]
    assert route.name == "POST /webhooks/cv" and route.parent_id == ""
    assert store.attributes["raw.batch.size"] == 1 and store.links == []
    assert store.service == "raw-coordinator"
    inside = [s for s in trace if s.parent_id == store.span_id]
    assert inside and all(_sql(s) for s in inside), [s.name for s in inside]
    verbs = {s.name.split()[0] for s in inside}
    assert "INSERT" in verbs, verbs  # the delivery and its inbox record


SHARED = """
import asyncio

import sqlalchemy
from sqlalchemy import text

from raw import tracing
from raw.coordinator.db.group_commit import GroupCommit

assert tracing.setup("coordinator")
tracing.instrument_sqlalchemy()
engine = sqlalchemy.create_engine("sqlite://")  # through the module: instrumented
with engine.begin() as connection:
    connection.execute(text("CREATE TABLE items (value TEXT)"))


async def main() -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def write(items):
        if items == ["a"]:  # the first transaction holds the writer...
            started.set()
            await release.wait()
        if "bad" in items:
            raise ValueError("a bad item")
        with engine.begin() as connection:
            for value in items:
                connection.execute(text("INSERT INTO items VALUES (:v)"), {"v": value})
        return items

    group = GroupCommit(write, name="test commit")

    async def caller(value):
        with tracing.span(f"route {value}"):
            try:
                return await group.submit(value)
            except ValueError:
                return "failed"

    first = asyncio.create_task(caller("a"))
    await started.wait()
    later = [asyncio.create_task(caller(v)) for v in ("b", "c", "bad")]
    while len(group._queue) < 3:  # ...until the others are queued behind it
        await asyncio.sleep(0)
    release.set()
    print(await first, *(await asyncio.gather(*later)))


asyncio.run(main())
tracing.shutdown()
"""


def test_a_shared_transaction_is_a_trace_of_its_own_linked_to_each_caller(
    tmp_path: Path,
) -> None:
    with OtlpReceiver() as receiver:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "RAW_"))}
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.endpoint
        env.pop("TRACEPARENT", None)
        done = subprocess.run(
            [sys.executable, "-c", SHARED],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["a", "b", "c", "failed"]
        spans = receiver.wait_for(
            lambda spans: len([s for s in spans if s.name == "test commit"]) == 5 and spans,
            what="five transactions",
        )
    routes = {s.name.split()[1]: s for s in spans if s.name.startswith("route ")}
    commits = [s for s in spans if s.name == "test commit"]
    by_size: dict[int, list[Span]] = {}
    for commit in commits:
        by_size.setdefault(commit.attributes["raw.batch.size"], []).append(commit)
    # The shared one (b, c and bad) failed: a trace of its own, linked to its three callers,
    # not a child of the route that happened to start the writer.
    [shared] = by_size[3]
    assert shared.parent_id == "" and shared.status_code == 2  # ERROR
    assert shared.trace_id not in {r.trace_id for r in routes.values()}
    callers = {(r.trace_id, r.span_id) for name, r in routes.items() if name != "a"}
    assert set(shared.links) == callers
    # Alone (a first; then b, c and bad again, each in a transaction of its own): a child
    # of its caller's span, with its SQL inside it.
    alone = by_size[1]
    assert sorted(by_size) == [1, 3] and len(alone) == 4
    for commit in alone:
        route = next(r for r in routes.values() if r.span_id == commit.parent_id)
        assert commit.trace_id == route.trace_id and commit.links == []
        sql = [s for s in spans if s.parent_id == commit.span_id and _sql(s)]
        sql = [s for s in sql if s.name != "connect"]  # the pool's, when it opens one
        if route.name == "route bad":
            assert commit.status_code == 2 and not sql
        else:
            assert commit.status_code != 2
            assert [s.name.split()[0] for s in sql] == ["INSERT"], [s.name for s in sql]
    assert {r.span_id for r in routes.values()} == {c.parent_id for c in alone}
