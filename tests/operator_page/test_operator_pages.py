"""The operator page's views over HTTP: what each shows, what it hides, how it answers errors.

Through httpx's ASGI transport against the coordinator's real app and a SQLite file;
processes on Temporal's real dev server (the time-skipping server cannot list).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from raw.coordinator.db.models import InboxRecord, RunIndex
from raw.ports import free_port
from raw.project import Project

from .ops_system import API_TOKEN, HOOK_SECRET, Ops, eventually, serve

if TYPE_CHECKING:
    from temporalio.testing import WorkflowEnvironment

    from raw.testing.pytest_plugin import WorkerFactory


def run_row(run_id: str, status: str, **fields: Any) -> RunIndex:
    values: dict[str, Any] = {
        "run_id": run_id,
        "workflow": "analyze-cv",
        "status": status,
        "dry": False,
        "started_at": datetime.now(UTC) - timedelta(minutes=1),
        "manifest": {"run_id": run_id, "params": {"cv_text": "Python"}, "output": None},
        "log_tail": "step analyze started\n",
        **fields,
    }
    return RunIndex(**values)


async def add(ops: Ops, *rows: Any) -> None:
    async with ops.db.write() as session:
        session.add_all(rows)


def test_overview_counts_entities_inbox_dead_letters_and_failed_runs(
    ops_project: Callable[..., Project], ops_db_url: str
) -> None:
    async def scenario() -> None:
        async with serve(ops_project(), ops_db_url) as ops:
            for n in range(3):
                await ops.signup(f"s-{n}", f"p{n}@example.com")
            await ops.kill("s-0", "the CRM was down")
            await add(ops, run_row("r-ok", "succeeded"), run_row("r-bad", "failed"))
            page = await ops.client.get("/operator", headers=ops.bearer())
            assert page.status_code == 200
            text = page.text
            assert "<title>Overview · ops operator</title>" in text
            assert "people by status (3)" in text
            assert (
                '<span class="badge badge-new">new</span></td><td data-label="Count" class="n">3'
                in text
            )
            assert '<span class="num">1</span> dead letter</a>' in text
            assert '<span class="num">1</span> failed run</a>' in text
            assert '<span class="num">2</span> inbox records to dispatch' in text
            assert "Processes by state" not in text  # this system has no processes

            api = (await ops.client.get("/api/overview", headers=ops.bearer())).json()
            assert api["entities"] == [
                {
                    "name": "people",
                    "table": "ops_people",
                    "counts": {"new": 3},
                    "total": 3,
                    "error": None,
                }
            ]
            assert api["inbox"] == {"pending": 2, "dead": 1}
            assert api["dead_letters"] == 1 and api["failed_runs"] == 1
            assert api["has_processes"] is False

    asyncio.run(scenario())


def test_overview_says_how_to_declare_entities_and_names_a_table_it_cannot_read(
    ops_project: Callable[..., Project], ops_db_url: str, ops_root: Any
) -> None:
    async def scenario() -> None:
        async with serve(ops_project(entities=False), ops_db_url) as ops:
            page = await ops.client.get("/operator", headers=ops.bearer())
            assert "No entity tables are declared" in page.text
            assert "system.coordinator.entities" in page.text
        text = (ops_root / ".raw" / "config.yaml").read_text()
        broken = text.replace(
            "    webhooks:",
            "    entities:\n      - {name: orders, table: no_such_table}\n    webhooks:",
        )
        (ops_root / ".raw" / "config.yaml").write_text(broken)
        async with serve(Project(ops_root), ops_db_url) as ops:
            page = await ops.client.get("/operator", headers=ops.bearer())
            assert page.status_code == 200
            assert "orders by status (0)" in page.text
            assert "no such table: no_such_table" in page.text

    asyncio.run(scenario())


def test_deliveries_show_verification_and_answer_with_secrets_hidden(
    ops_project: Callable[..., Project], ops_db_url: str
) -> None:
    async def scenario() -> None:
        async with serve(ops_project(), ops_db_url) as ops:
            answer = await ops.signup("d-9", "ada@example.com", name="Ada", password="hunter2-xyz")
            refused = await ops.client.post(
                "/webhooks/signup", json={"id": "x"}, headers={"Authorization": "Bearer nope"}
            )
            assert refused.status_code == 401
            page = await ops.client.get("/operator/deliveries", headers=ops.bearer())
            text = page.text
            assert '<h3 id="delivery-1-h">signup' in text
            assert '<span class="badge badge-verified">verified</span> bearer' in text
            assert "202 accepted" in text
            assert answer.json()["correlation_id"] in text
            assert "ada@example.com" in text
            assert "&#34;password&#34;: &#34;***&#34;" in text
            assert "hunter2-xyz" not in text
            assert HOOK_SECRET not in text and API_TOKEN not in text
            # Refused requests are not stored, but counted since start:
            assert "bad signature" in text
            only = await ops.client.get(
                "/operator/deliveries", params={"route": "signup"}, headers=ops.bearer()
            )
            assert 'option value="signup" selected' in only.text

    asyncio.run(scenario())


def test_secret_values_are_scrubbed_from_errors_and_logs(
    ops_project: Callable[..., Project], ops_db_url: str
) -> None:
    async def scenario() -> None:
        async with serve(ops_project(), ops_db_url) as ops:
            await ops.signup("d-1", "ada@example.com")
            await ops.kill("d-1", f"POST failed: Authorization: Bearer {HOOK_SECRET} refused")
            await add(
                ops,
                run_row(
                    "r-leak",
                    "failed",
                    error=f"login with {API_TOKEN} failed",
                    log_tail=f"using token {API_TOKEN}\nboom\n",
                    manifest={
                        "params": {"api_key": "k-123456", "city": "London"},
                        "output": {"session_token": "s-999999"},
                        "steps": [{"name": "analyze", "status": "failed", "duration_ms": 12.0}],
                    },
                ),
            )
            for path in ("/operator/dead-letters", "/operator/runs", "/operator/runs/r-leak"):
                page = await ops.client.get(path, headers=ops.bearer())
                assert page.status_code == 200, path
                assert HOOK_SECRET not in page.text and API_TOKEN not in page.text, path
                assert "***" in page.text, path
            run = (await ops.client.get("/operator/runs/r-leak", headers=ops.bearer())).text
            assert "k-123456" not in run and "s-999999" not in run
            assert "London" in run and "boom" in run
            assert '<td data-label="Step">analyze</td>' in run

    asyncio.run(scenario())


def test_failed_runs_list_only_runs_that_did_not_succeed_with_their_logs(
    ops_project: Callable[..., Project], ops_db_url: str
) -> None:
    async def scenario() -> None:
        async with serve(ops_project(), ops_db_url) as ops:
            await add(
                ops,
                run_row("r-1", "succeeded"),
                run_row(
                    "r-2", "failed", error="the model timed out", log_tail="retrying\nfailed\n"
                ),
                run_row("r-3", "invalid_input", error="--date: use 'today'"),
                run_row("r-4", "running"),
                run_row("r-5", "failed", idempotency_key="hiring-process/c-1:run-9:3"),
            )
            page = (await ops.client.get("/operator/runs", headers=ops.bearer())).text
            for shown in ("r-2", "r-3", "r-5"):
                assert f'href="/operator/runs/{shown}"' in page
            for hidden in ("r-1", "r-4"):
                assert f'href="/operator/runs/{hidden}"' not in page
            assert "the model timed out" in page and "retrying\nfailed" in page
            assert '<a href="/operator/processes/hiring-process/c-1">hiring-process/c-1</a>' in page
            missing = await ops.client.get("/operator/runs/nope", headers=ops.bearer())
            assert missing.status_code == 404
            assert "<h1>Not found</h1>" in missing.text and "No run &#39;nope&#39;" in missing.text

    asyncio.run(scenario())


def test_a_refresh_gets_only_the_live_block_and_every_answer_has_safe_headers(
    ops_project: Callable[..., Project], ops_db_url: str
) -> None:
    async def scenario() -> None:
        async with serve(ops_project(), ops_db_url) as ops:
            await ops.signup("d-1", "ada@example.com")
            whole = await ops.client.get("/operator/deliveries", headers=ops.bearer())
            assert whole.text.startswith("<!doctype html>")
            assert '<div id="live" data-live="3"' in whole.text
            part = await ops.client.get(
                "/operator/deliveries", headers={**ops.bearer(), "X-Operator-Fragment": "1"}
            )
            assert part.status_code == 200
            assert "<html" not in part.text and "<h1>" not in part.text
            assert "Refused since this server started" in part.text
            assert '<span class="badge badge-verified">verified</span>' in part.text
            for answer in (whole, part):
                policy = answer.headers["content-security-policy"]
                assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
                assert answer.headers["cache-control"] == "no-store"
                assert answer.headers["x-frame-options"] == "DENY"
            script = await ops.client.get("/operator/static/operator.js")
            assert script.status_code == 200 and "X-Operator-Fragment" in script.text

    asyncio.run(scenario())


def test_page_errors_are_html_and_api_errors_stay_json(
    ops_project: Callable[..., Project], ops_db_url: str
) -> None:
    async def scenario() -> None:
        async with serve(ops_project(), ops_db_url) as ops:
            page = await ops.client.get("/operator/no-such-view", headers=ops.bearer())
            assert page.status_code == 404
            assert page.headers["content-type"].startswith("text/html")
            assert "<h1>Not found</h1>" in page.text
            api = await ops.client.get("/api/processes", headers=ops.bearer())
            assert api.status_code == 503  # this system has no processes
            assert api.json()["error"]["type"] == "NotReadyError"
            bad = await ops.client.get(
                "/api/processes", params={"state": "lost"}, headers=ops.bearer()
            )
            assert bad.status_code == 422
            assert bad.json()["error"]["fields"][0]["field"] == "query.state"

    asyncio.run(scenario())


def test_without_temporal_the_timeline_shows_the_database_part_and_says_why(
    ops_project: Callable[..., Project], ops_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("TEMPORAL_ADDRESS", f"127.0.0.1:{port}")  # nothing listens there

    async def scenario() -> None:
        async with serve(ops_project(processes=True), ops_db_url) as ops:
            await ops.signup("b-1", "ada@example.com")
            await add(
                ops,
                run_row("r-7", "succeeded", idempotency_key="signals-process/ada@example.com:r:1"),
            )
            page = await ops.client.get(
                "/operator/processes/signals-process/ada@example.com", headers=ops.bearer()
            )
            assert page.status_code == 200
            assert "Webhook signup" in page.text
            assert "signal &#39;booked&#39; waits in the inbox after 0 attempt(s)" in page.text
            assert "RAW run analyze-cv" in page.text
            assert 'class="problem"' in page.text and "Temporal" in page.text
            overview = await ops.client.get("/operator", headers=ops.bearer())
            assert overview.status_code == 200
            assert "Processes by state" in overview.text
            assert "Temporal" in overview.text

    asyncio.run(scenario())


@pytest.mark.slow
def test_processes_come_from_one_visibility_query_and_the_timeline_from_raw_state(
    ops_project: Callable[..., Project],
    ops_db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    raw_dev_server_env: WorkflowEnvironment,
    raw_worker: WorkerFactory,
    raw_task_queue: str,
) -> None:
    from orchestrator.processes import SignalsInput, SignalsProcess

    client = raw_dev_server_env.client
    monkeypatch.setenv("TEMPORAL_ADDRESS", client.service_client.config.target_host)
    monkeypatch.setenv("RAW_TASK_QUEUE", raw_task_queue)
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    pid = f"signals-process/{email}"

    async def scenario() -> None:
        async with (
            raw_worker(client, workflows=[SignalsProcess]),
            serve(ops_project(processes=True), ops_db_url, run_dispatcher=True) as ops,
        ):
            await client.start_workflow(
                SignalsProcess.run,
                SignalsInput(names=["booked"], takes=2, timeout_hours=48),
                id=pid,
                task_queue=raw_task_queue,
            )
            await client.start_workflow(
                SignalsProcess.run,
                SignalsInput(names=["booked"], takes=0),
                id=f"signals-process/done-{email}",
                task_queue=raw_task_queue,
            )
            await ops.signup("b-1", email)

            async def listed() -> Any:
                answer = await ops.client.get("/api/processes", headers=ops.bearer())
                rows = {p["id"]: p for p in answer.json()["processes"]}
                done = rows.get(f"signals-process/done-{email}", {}).get("status")
                waiting = rows.get(pid, {}).get("waiting_for")
                # Both listed as they settle: the worker ends the second one a moment later.
                return rows if waiting == "booked" and done == "completed" else None

            rows = await eventually(listed)
            assert rows[pid]["status"] == "running"
            assert rows[pid]["state"] is None  # the list never asks a process its state
            assert rows[f"signals-process/done-{email}"]["status"] == "completed"

            page = await ops.client.get(
                "/operator/processes", params={"state": "running"}, headers=ops.bearer()
            )
            assert f'href="/operator/processes/{quote(pid, safe="/")}"' in page.text
            assert "done-" not in page.text
            assert '<td data-label="Waiting for">booked</td>' in page.text

            async def counted() -> Any:
                answer = (await ops.client.get("/api/overview", headers=ops.bearer())).json()
                by_state = answer["processes"]["by_state"]
                return answer if by_state == {"running": 1, "completed": 1} else None

            overview = await eventually(counted)
            assert overview["running"]["processes"][0]["id"] == pid

            async def signalled() -> Any:
                answer = await ops.client.get(f"/api/timeline/{pid}", headers=ops.bearer())
                timeline = answer.json()
                kinds = [e["kind"] for e in timeline["entries"]]
                hooks = [e for e in timeline["entries"] if e["kind"] == "webhook"]
                done = [e["status"] for e in hooks] == ["done"]
                return timeline if "signal" in kinds and done else None

            timeline = await eventually(signalled)
            assert [e["kind"] for e in timeline["entries"]][:1] == ["started"]
            webhook = next(e for e in timeline["entries"] if e["kind"] == "webhook")
            assert webhook["title"] == "Webhook signup"
            assert timeline["entities"] == [{"name": "people", "key": email, "status": "new"}]
            wait = next(e for e in timeline["entries"] if e["kind"] == "wait")
            assert wait["until"] is not None

            html = await ops.client.get(f"/operator/processes/{pid}", headers=ops.bearer())
            assert "Signal &#39;booked&#39; received" in html.text
            assert "Waits for &#39;booked&#39;" in html.text and "Deadline:" in html.text
            assert "Webhook signup" in html.text
            await client.get_workflow_handle(pid).terminate()

    asyncio.run(scenario())


def test_scrub_hides_every_secret_the_coordinator_knows_and_secret_looking_settings() -> None:
    from types import SimpleNamespace

    from raw.coordinator.operator.context import Operator

    coordinator = SimpleNamespace(
        settings=SimpleNamespace(api_token_setting="RAW_API_TOKEN", token=lambda: API_TOKEN),
        config=SimpleNamespace(webhooks=[SimpleNamespace(secrets=["OPS_HOOK_SECRET"])]),
        db=SimpleNamespace(url="postgresql+psycopg://raw:db-pass-4242@db.internal/raw"),
    )
    operator = Operator(
        coordinator,  # type: ignore[arg-type]
        environ={
            "OPS_HOOK_SECRET": HOOK_SECRET,
            "STRIPE_API_KEY": "sk_live_0123456789",
            "SHORT_TOKEN": "abc",  # too short to scrub without mangling ordinary words
            "HOME": "/home/ops",
        },
    )
    text = (
        f"token {API_TOKEN}; hook {HOOK_SECRET}; db db-pass-4242; stripe sk_live_0123456789; "
        "abc in /home/ops"
    )
    assert operator.scrub(text) == "token ***; hook ***; db ***; stripe ***; abc in /home/ops"
    assert operator.scrub(None) is None


HOSTILE = "<script>alert('x')</script>"


def test_hostile_text_is_escaped_in_every_view(
    ops_project: Callable[..., Project], ops_db_url: str
) -> None:
    """A sender's `<script>` (in a key, an email, a name) and a run's error holding one
    reach every view as text, never as markup; every answer carries the CSP."""

    async def scenario() -> None:
        async with serve(ops_project(), ops_db_url) as ops:
            await ops.signup(f"k-{HOSTILE}", f"{HOSTILE}@example.com", name=HOSTILE)
            await ops.kill(f"k-{HOSTILE}", f"failed on {HOSTILE}")
            await add(ops, run_row("r-x", "failed", error=HOSTILE, log_tail=HOSTILE))
            views = ["/operator", "/operator/deliveries", "/operator/dead-letters"]
            views += ["/operator/runs", "/operator/runs/r-x", "/operator/outbox"]
            for view in views:
                page = await ops.client.get(view, headers=ops.bearer())
                assert page.status_code == 200, (view, page.text[:300])
                assert "<script>alert" not in page.text, view
                assert "content-security-policy" in page.headers, view
            deliveries = (await ops.client.get("/operator/deliveries", headers=ops.bearer())).text
            assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in deliveries
            run = (await ops.client.get("/operator/runs/r-x", headers=ops.bearer())).text
            assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in run

    asyncio.run(scenario())


def test_a_runs_and_a_dead_letters_trace_id_are_shown(
    ops_project: Callable[..., Project], ops_db_url: str
) -> None:
    traced = "4bf92f3577b34da6a3ce929d0e0e4736"
    now = datetime.now(UTC)

    async def scenario() -> None:
        async with serve(ops_project(), ops_db_url) as ops:
            await add(
                ops,
                run_row("r-traced", "failed", trace_id=traced),
                run_row("r-plain", "failed"),
                InboxRecord(
                    route="cv-submission",
                    action={"kind": "none"},
                    payload={},
                    idempotency_key="cv-submission:t-1",
                    correlation_id="c-1",
                    status="dead",
                    attempts=3,
                    next_attempt_at=now,
                    created_at=now,
                    updated_at=now,
                    traceparent=f"00-{traced}-00f067aa0ba902b7-01",
                    trace_id=traced,
                ),
            )
            fact = f"<dt>Trace</dt><dd><code>{traced}</code></dd>"  # no trace_url: plain text
            run = (await ops.client.get("/operator/runs/r-traced", headers=ops.bearer())).text
            assert fact in run
            plain = (await ops.client.get("/operator/runs/r-plain", headers=ops.bearer())).text
            assert "<dt>Trace</dt>" not in plain
            dead = (await ops.client.get("/operator/dead-letters", headers=ops.bearer())).text
            assert fact in dead
            assert "00f067aa0ba902b7" not in dead  # the traceparent stays inside
            inbox = (await ops.client.get("/api/inbox", headers=ops.bearer())).json()
            assert [r["trace_id"] for r in inbox["records"]] == [traced]

    asyncio.run(scenario())
