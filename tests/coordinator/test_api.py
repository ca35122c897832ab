"""The REST API over HTTP: the token, readiness, metrics, runs, processes, inbox, deliveries."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import update

from coordinator.webhook_fixtures import (
    ENV,
    PLAIN_CONFIG,
    cv_body,
    dumps,
    running_app,
    standard_headers,
    with_config,
)
from raw.coordinator.app import create_app
from raw.coordinator.db.database import Database
from raw.coordinator.db.models import InboxRecord, RunIndex
from raw.coordinator.errors import InsecureSettingsError
from raw.coordinator.verify import MissingSecretError
from raw.ports import free_port
from raw.project import Project

if TYPE_CHECKING:
    from temporalio.testing import WorkflowEnvironment

    from conftest import RunCli
    from raw.testing.pytest_plugin import WorkerFactory


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'api.db'}"


BEARER = {
    "content-type": "application/json",
    "authorization": f"Bearer {ENV['HOOK_BEARER_SECRET']}",
}


# --- the token ------------------------------------------------------------------------------


def test_api_needs_the_bearer_token_but_probes_and_signed_webhooks_do_not(
    hook_project: Project, tmp_path: Path
) -> None:
    async def scenario() -> None:
        project = with_config(hook_project, PLAIN_CONFIG)
        async with running_app(project, db_url=sqlite_url(tmp_path)) as app:
            for path in ("/api/runs", "/api/inbox", "/api/deliveries", "/metrics"):
                response = await app.client.get(path)
                assert response.status_code == 401, path
                assert response.headers["www-authenticate"] == "Bearer"
                error = response.json()["error"]
                assert error["type"] == "AuthenticationError"
                assert "RAW_API_TOKEN" in error["message"]
                wrong = await app.client.get(
                    path, headers=app.auth("hook-api-token-0123456789abcdeX")
                )
                assert wrong.status_code == 401, path
                assert (await app.client.get(path, headers=app.auth())).status_code == 200, path
            assert (await app.client.get("/health")).status_code == 200
            assert (await app.client.get("/ready")).status_code == 200
            response = await app.client.post(
                "/webhooks/free-form", content=dumps({"id": "d-1"}), headers=BEARER
            )
            assert response.status_code == 202

    asyncio.run(scenario())


def test_api_is_closed_in_development_when_no_token_is_set(
    hook_project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAW_API_TOKEN")

    async def scenario() -> None:
        async with running_app(
            with_config(hook_project, PLAIN_CONFIG), db_url=sqlite_url(tmp_path)
        ) as app:
            response = await app.client.get("/api/runs", headers=app.auth())
            assert response.status_code == 401
            assert "no API token is set" in response.json()["error"]["message"]

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        (None, "no API token is set in RAW_API_TOKEN"),
        ("changeme", "well-known default"),
        ("short-token", "is 11 characters long; at least 32 needed"),
        ("0123456789abcdef", "is 16 characters long; at least 32 needed"),
        ("Password1234567890", "is 18 characters long; at least 32 needed"),
        ("a" * 40, "is guessable"),
        ("0123456789abcdef" * 2, "is guessable"),
        ("Password1234567890" * 2, "is guessable"),
        ("qwertyuiopasdfghjklzxcvbnm1234567890", "is guessable"),
    ],
)
def test_production_refuses_to_start_without_a_strong_token(
    hook_project: Project, monkeypatch: pytest.MonkeyPatch, token: str | None, problem: str
) -> None:
    monkeypatch.setenv("RAW_ENV", "production")
    if token is None:
        monkeypatch.delenv("RAW_API_TOKEN")
    else:
        monkeypatch.setenv("RAW_API_TOKEN", token)
    with pytest.raises(InsecureSettingsError) as caught:
        create_app(hook_project)
    message = str(caught.value)
    assert f"the API token in RAW_API_TOKEN {problem}" in message or problem in message
    assert "Refusing to start in the 'production' environment" in message
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in message
    assert token is None or token not in message


STRONG = {
    "HOOK_SW_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
    "HOOK_SW_SECRET_OLD": "whsec_" + base64.b64encode(secrets.token_bytes(16)).decode(),
    "HOOK_GITHUB_SECRET": secrets.token_hex(20),
    "HOOK_TWILIO_TOKEN": secrets.token_hex(16),
    "HOOK_BEARER_SECRET": secrets.token_urlsafe(32),
    "RAW_API_TOKEN": secrets.token_urlsafe(32),
}
"""A real value of each format: Standard Webhooks, GitHub, Twilio, token_urlsafe(32)."""


def _production(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    monkeypatch.setenv("RAW_ENV", "production")
    for name, value in (STRONG | values).items():
        monkeypatch.setenv(name, value)


def test_production_starts_with_a_strong_token_and_every_webhook_secret(
    hook_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _production(monkeypatch)
    create_app(hook_project)
    monkeypatch.delenv("HOOK_TWILIO_TOKEN")
    with pytest.raises(MissingSecretError, match="HOOK_TWILIO_TOKEN"):
        create_app(hook_project)


@pytest.mark.parametrize(
    ("setting", "value", "problem"),
    [
        ("HOOK_GITHUB_SECRET", "a", "is 1 character long; at least 32 needed"),
        ("HOOK_BEARER_SECRET", "0123456789abcdef", "is 16 characters long"),
        ("HOOK_TWILIO_TOKEN", "Password1234567890Password1234567890", "is guessable"),
        (
            "HOOK_SW_SECRET_OLD",
            "whsec_" + base64.b64encode(b"k" * 8).decode(),
            "holds 8 bytes of key",
        ),
        ("HOOK_SW_SECRET", "whsec_" + base64.b64encode(b"k" * 32).decode(), "is guessable"),
    ],
)
def test_production_refuses_a_weak_webhook_secret_naming_it(
    hook_project: Project,
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    value: str,
    problem: str,
) -> None:
    _production(monkeypatch, **{setting: value})

    with pytest.raises(InsecureSettingsError) as caught:
        create_app(hook_project)

    message = str(caught.value)
    assert f"in {setting} {problem}" in message
    assert f"Set {setting} to a long random value" in message
    assert len(value) < 8 or value not in message  # never the value itself
    if setting.startswith("HOOK_SW"):
        assert "'whsec_' + base64.b64encode(secrets.token_bytes(32))" in message


def test_development_starts_with_weak_secrets(
    hook_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAW_ENV", "development")
    monkeypatch.setenv("HOOK_GITHUB_SECRET", "a")
    monkeypatch.setenv("RAW_API_TOKEN", "0123456789abcdef")

    create_app(hook_project)


def test_raw_serve_refuses_a_one_character_webhook_secret_in_production(
    hook_project: Project, raw_cli: RunCli
) -> None:
    env = ENV | STRONG | {"RAW_ENV": "production", "HOOK_GITHUB_SECRET": "a"}
    result = raw_cli("serve", "--port", str(free_port()), env=env, timeout=60)
    assert result.code == 2, result.stderr
    assert "HOOK_GITHUB_SECRET is 1 character long; at least 32 needed" in result.stderr
    assert "Traceback" not in result.stderr


def test_api_token_can_come_from_another_setting(
    hook_project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = PLAIN_CONFIG.replace(
        "  coordinator:\n", "  coordinator:\n    api_token_setting: HOOK_OPS_TOKEN\n"
    )
    monkeypatch.setenv("HOOK_OPS_TOKEN", "ops-token-0123456789abcdef")

    async def scenario() -> None:
        async with running_app(
            with_config(hook_project, config), db_url=sqlite_url(tmp_path)
        ) as app:
            assert (await app.client.get("/api/runs", headers=app.auth())).status_code == 401
            ok = await app.client.get("/api/runs", headers=app.auth("ops-token-0123456789abcdef"))
            assert ok.status_code == 200

    asyncio.run(scenario())


def test_raw_serve_refuses_to_start_in_production_without_a_token(
    hook_project: Project, raw_cli: RunCli
) -> None:
    env = {k: v for k, v in ENV.items() if k != "RAW_API_TOKEN"} | {"RAW_ENV": "production"}
    result = raw_cli("serve", "--port", str(free_port()), env=env, timeout=60)
    assert result.code == 2, result.stderr
    assert "Refusing to start in the 'production' environment" in result.stderr
    assert "Traceback" not in result.stderr


# --- readiness ------------------------------------------------------------------------------


def test_ready_is_503_naming_the_database_when_it_is_unreachable(
    hook_project: Project, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with running_app(
            with_config(hook_project, PLAIN_CONFIG), db_url=sqlite_url(tmp_path)
        ) as app:
            response = await app.client.get("/ready")
            assert response.status_code == 200
            assert response.json() == {
                "status": "ready",
                "checks": {"database": "ok", "temporal": "not used"},
            }
            working = app.coordinator.db
            unreachable = Database(
                f"postgresql://raw:secret@127.0.0.1:{free_port()}/raw", connect_timeout_seconds=1
            )
            app.coordinator.db = unreachable
            try:
                response = await app.client.get("/ready")
                assert response.status_code == 503
                error = response.json()["error"]
                assert error["type"] == "NotReadyError"
                assert [f["field"] for f in error["fields"]] == ["database"]
                assert "secret" not in response.text  # the URL's password never shows
                assert (await app.client.get("/health")).status_code == 200
                # A webhook meanwhile: 503, so the sender retries; nothing half-stored.
                response = await app.client.post(
                    "/webhooks/free-form", content=dumps({"id": "d-1"}), headers=BEARER
                )
                assert response.status_code == 503
                assert response.json()["error"]["type"] == "DatabaseUnavailableError"
            finally:
                app.coordinator.db = working
                await unreachable.dispose()

    asyncio.run(scenario())


def test_ready_is_503_naming_temporal_when_the_system_has_processes_and_it_is_down(
    hook_project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", f"127.0.0.1:{free_port()}")

    async def scenario() -> None:
        async with running_app(hook_project, db_url=sqlite_url(tmp_path)) as app:
            response = await app.client.get("/ready")
            assert response.status_code == 503
            fields = response.json()["error"]["fields"]
            assert [f["field"] for f in fields] == ["temporal"]
            response = await app.client.get("/api/processes/hiring-process/c-1", headers=app.auth())
            assert response.status_code == 503
            assert response.json()["error"]["type"] == "TemporalUnavailableError"

    asyncio.run(scenario())


# --- processes, against a real Temporal ---------------------------------------------------


def test_process_status_comes_from_temporal_describe_and_its_raw_state_query(
    hook_project: Project,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    raw_dev_server_env: WorkflowEnvironment,
    raw_worker: WorkerFactory,
    raw_task_queue: str,
) -> None:
    from orchestrator.processes import SignalsInput, SignalsProcess

    client = raw_dev_server_env.client
    monkeypatch.setenv("TEMPORAL_ADDRESS", client.service_client.config.target_host)
    process_id = f"signals-process/{uuid.uuid4().hex[:8]}"

    async def scenario() -> None:
        async with running_app(hook_project, db_url=sqlite_url(tmp_path)) as app:
            response = await app.client.get("/ready")
            assert response.json()["checks"] == {"database": "ok", "temporal": "ok"}

            response = await app.client.get(
                "/api/processes/hiring-process/nobody", headers=app.auth()
            )
            assert response.status_code == 404
            assert response.json()["error"]["type"] == "ProcessNotFoundError"

            async with raw_worker(client, workflows=[SignalsProcess]):
                await client.start_workflow(
                    SignalsProcess.run,
                    SignalsInput(names=["booked"], takes=1),
                    id=process_id,
                    task_queue=raw_task_queue,
                )
                response = await app.client.get(f"/api/processes/{process_id}", headers=app.auth())
                assert response.status_code == 200, response.text
                view = response.json()
                assert view["id"] == process_id
                assert view["type"] == "SignalsProcess"
                assert view["status"] == "running"
                assert view["state_error"] is None
                assert isinstance(view["state"], dict)

            app.coordinator.query_timeout_seconds = 0.5  # no worker now: no answer
            response = await app.client.get(f"/api/processes/{process_id}", headers=app.auth())
            assert response.status_code == 200
            assert response.json()["state"] is None
            assert "no answer" in response.json()["state_error"]
            await client.get_workflow_handle(process_id).terminate()

    asyncio.run(scenario())


# --- runs, inbox, deliveries, metrics ------------------------------------------------------


def test_runs_are_listed_filtered_and_shown_from_the_run_index(
    hook_project: Project, tmp_path: Path
) -> None:
    now = datetime.now(UTC)

    def run(run_id: str, workflow: str, status: str, minutes: int) -> RunIndex:
        return RunIndex(
            run_id=run_id,
            workflow=workflow,
            status=status,
            dry=False,
            started_at=now - timedelta(minutes=minutes),
            manifest={"run_id": run_id, "workflow": workflow},
            log_tail="step analyze done\n",
            correlation_id="c" * 32,
        )

    async def scenario() -> None:
        async with running_app(
            with_config(hook_project, PLAIN_CONFIG), db_url=sqlite_url(tmp_path)
        ) as app:
            async with app.db.write() as session:
                session.add_all(
                    [
                        run("r1", "analyze-cv", "succeeded", 3),
                        run("r2", "analyze-cv", "failed", 2),
                        run("r3", "daily-report", "succeeded", 1),
                    ]
                )
            listed = (await app.client.get("/api/runs", headers=app.auth())).json()["runs"]
            assert [r["run_id"] for r in listed] == ["r3", "r2", "r1"]
            response = await app.client.get(
                "/api/runs",
                params={"workflow": "analyze-cv", "status": "succeeded"},
                headers=app.auth(),
            )
            assert [r["run_id"] for r in response.json()["runs"]] == ["r1"]
            response = await app.client.get("/api/runs", params={"limit": 1}, headers=app.auth())
            assert [r["run_id"] for r in response.json()["runs"]] == ["r3"]

            one = (await app.client.get("/api/runs/r2", headers=app.auth())).json()
            assert one["status"] == "failed"
            assert one["manifest"] == {"run_id": "r2", "workflow": "analyze-cv"}
            assert one["log_tail"] == "step analyze done\n"

            missing = await app.client.get("/api/runs/nope", headers=app.auth())
            assert missing.status_code == 404
            assert missing.json()["error"]["type"] == "ResourceNotFoundError"

            bad = await app.client.get("/api/runs", params={"limit": 0}, headers=app.auth())
            assert bad.status_code == 422
            assert bad.json()["error"]["fields"][0]["field"] == "query.limit"

    asyncio.run(scenario())


def test_inbox_is_listed_and_a_dead_letter_is_retried(
    hook_project: Project, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with running_app(
            with_config(hook_project, PLAIN_CONFIG), db_url=sqlite_url(tmp_path)
        ) as app:
            for key in ("d-1", "d-2"):
                response = await app.client.post(
                    "/webhooks/free-form", content=dumps({"id": key}), headers=BEARER
                )
                assert response.status_code == 202
            async with app.db.write() as session:
                await session.execute(
                    update(InboxRecord)
                    .where(InboxRecord.idempotency_key == "free-form:d-1")
                    .values(status="dead", attempts=8, last_error="the workflow failed")
                )
            records = (await app.client.get("/api/inbox", headers=app.auth())).json()["records"]
            assert [r["idempotency_key"] for r in records] == ["free-form:d-2", "free-form:d-1"]
            dead = (
                await app.client.get("/api/inbox", params={"status": "dead"}, headers=app.auth())
            ).json()["records"]
            assert len(dead) == 1 and dead[0]["last_error"] == "the workflow failed"

            response = await app.client.post(
                f"/api/inbox/{dead[0]['id']}/retry", headers=app.auth()
            )
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "pending"
            assert response.json()["attempts"] == 0

            again = await app.client.post(f"/api/inbox/{dead[0]['id']}/retry", headers=app.auth())
            assert again.status_code == 409
            assert again.json()["error"]["type"] == "InboxRecordNotDeadError"
            missing = await app.client.post("/api/inbox/999999/retry", headers=app.auth())
            assert missing.status_code == 404

            bad = await app.client.get("/api/inbox", params={"status": "lost"}, headers=app.auth())
            assert bad.status_code == 422
            assert bad.json()["error"]["fields"][0]["field"] == "query.status"

    asyncio.run(scenario())


def test_deliveries_are_listed_with_secret_looking_fields_hidden(
    hook_project: Project, tmp_path: Path
) -> None:
    body = {
        "id": "d-9",
        "name": "Ada",
        "password": "hunter2",
        "profile": {"api_key": "k-123", "city": "London"},
    }

    async def scenario() -> None:
        async with running_app(
            with_config(hook_project, PLAIN_CONFIG), db_url=sqlite_url(tmp_path)
        ) as app:
            response = await app.client.post(
                "/webhooks/free-form", content=dumps(body), headers=BEARER
            )
            assert response.status_code == 202
            listed = await app.client.get(
                "/api/deliveries", params={"route": "free-form"}, headers=app.auth()
            )
            (delivery,) = listed.json()["deliveries"]
            assert delivery["delivery_key"] == "d-9"
            assert delivery["response"] == response.json()
            assert delivery["body"] == {
                "id": "d-9",
                "name": "Ada",
                "password": "***",
                "profile": {"api_key": "***", "city": "London"},
            }
            assert "hunter2" not in listed.text
            inbox = await app.client.get("/api/inbox", headers=app.auth())
            assert "hunter2" not in inbox.text and "k-123" not in inbox.text

    asyncio.run(scenario())


def test_metrics_count_deliveries_by_outcome_and_the_inbox_by_status(
    hook_project: Project, tmp_path: Path
) -> None:
    async def scenario() -> dict[str, float]:
        async with running_app(hook_project, db_url=sqlite_url(tmp_path)) as app:
            body = dumps(cv_body())
            headers = standard_headers(body)
            await app.client.post("/webhooks/cv", content=body, headers=headers)
            await app.client.post("/webhooks/cv", content=body, headers=headers)
            await app.client.post(
                "/webhooks/cv", content=body, headers={"content-type": "application/json"}
            )
            app.coordinator.metrics.observe_dispatch("cv-submission", "dead", 0.25)
            response = await app.client.get("/metrics", headers=app.auth())
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/plain")
            return _samples(response.text)

    samples = asyncio.run(scenario())
    route = 'route="cv-submission"'
    assert samples[f'raw_webhook_deliveries_total{{outcome="accepted",{route}}}'] == 1
    assert samples[f'raw_webhook_deliveries_total{{outcome="duplicate",{route}}}'] == 1
    assert samples[f'raw_webhook_deliveries_total{{outcome="bad_signature",{route}}}'] == 1
    assert samples['raw_inbox_records{status="pending"}'] == 1
    assert samples['raw_inbox_records{status="dead"}'] == 0
    assert samples[f"raw_dead_letters_total{{{route}}}"] == 1
    assert samples[f'raw_dispatch_latency_seconds_count{{outcome="dead",{route}}}'] == 1


def test_metrics_tell_how_long_the_oldest_due_record_has_waited(
    hook_project: Project, tmp_path: Path
) -> None:
    async def scrape(app: Any) -> float:
        response = await app.client.get("/metrics", headers=app.auth())
        return _samples(response.text)["raw_inbox_oldest_due_seconds"]

    async def scenario() -> list[float]:
        async with running_app(hook_project, db_url=sqlite_url(tmp_path)) as app:
            waited = [await scrape(app)]  # an empty inbox: nothing waits
            body = dumps(cv_body())
            await app.client.post("/webhooks/cv", content=body, headers=standard_headers(body))
            async with app.db.write() as session:  # no dispatcher runs: it waits
                due = datetime.now(UTC) - timedelta(minutes=5)
                await session.execute(update(InboxRecord).values(next_attempt_at=due))
            waited.append(await scrape(app))
            async with app.db.write() as session:  # a retry due later is not behind
                due = datetime.now(UTC) + timedelta(minutes=5)
                await session.execute(update(InboxRecord).values(next_attempt_at=due))
            waited.append(await scrape(app))
            return waited

    empty, behind, later = asyncio.run(scenario())
    assert (empty, later) == (0, 0)
    assert 300 <= behind < 400


def test_metrics_give_the_oldest_pending_age_and_the_dispatch_rate_from_the_database(
    hook_project: Project, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from raw.coordinator.db.models import InboxRecord

    async def scenario() -> tuple[dict[str, float], dict[str, float]]:
        async with running_app(hook_project, db_url=sqlite_url(tmp_path)) as app:
            empty = _samples((await app.client.get("/metrics", headers=app.auth())).text)
            body = dumps(cv_body())
            await app.client.post("/webhooks/cv", content=body, headers=standard_headers(body))
            now = datetime.now(UTC)
            async with app.coordinator.db.write() as session:
                await session.execute(
                    update(InboxRecord).values(created_at=now - timedelta(minutes=10))
                )
                # Done by a dispatcher in another process: seen through the database.
                session.add(
                    InboxRecord(
                        route="cv-submission",
                        action={"kind": "none"},
                        payload={},
                        idempotency_key="elsewhere:1",
                        correlation_id="c-1",
                        status="done",
                        next_attempt_at=now,
                        created_at=now - timedelta(seconds=5),
                        updated_at=now,
                        done_at=now - timedelta(seconds=2),
                    )
                )
            response = await app.client.get("/metrics", headers=app.auth())
            return empty, _samples(response.text)

    empty, samples = asyncio.run(scenario())
    assert empty["raw_inbox_oldest_pending_age_seconds"] == 0
    assert empty["raw_inbox_dispatched_last_minute"] == 0
    assert samples["raw_inbox_oldest_pending_age_seconds"] >= 600
    assert samples["raw_inbox_dispatched_last_minute"] == 1
    assert samples['raw_inbox_records{status="pending"}'] == 1


def _samples(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


# --- the document ---------------------------------------------------------------------------


def test_openapi_documents_webhook_bodies_answers_and_errors(
    hook_project: Project, tmp_path: Path
) -> None:
    async def scenario() -> dict[str, Any]:
        async with running_app(hook_project, db_url=sqlite_url(tmp_path)) as app:
            response = await app.client.get("/openapi.json")
            assert response.status_code == 200
            document: dict[str, Any] = response.json()
            return document

    document = asyncio.run(scenario())
    schemas = document["components"]["schemas"]
    assert {"CVSubmission", "Candidate", "CallStatus", "WebhookAccepted", "ErrorBody"} <= set(
        schemas
    )
    cv = document["paths"]["/webhooks/cv"]["post"]
    assert cv["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CVSubmission"
    }
    assert set(cv["responses"]) >= {"202", "401", "413", "415", "422"}
    form = document["paths"]["/webhooks/call-status"]["post"]["requestBody"]["content"]
    assert list(form) == ["application/x-www-form-urlencoded"]
    assert "/api/inbox/{record_id}/retry" in document["paths"]
    runs = document["paths"]["/api/runs"]["get"]
    assert runs["security"] == [{"HTTPBearer": []}]
    json.dumps(document)  # all of it is JSON


# --- the app: the user's own, the lifespan, the dispatcher --------------------------------

USER_APP = """\
from contextlib import asynccontextmanager

from fastapi import FastAPI

events = []


@asynccontextmanager
async def lifespan(app):
    events.append("user start")
    yield
    events.append("user stop")


app = FastAPI(title="the user's app", lifespan=lifespan)


@app.get("/hello")
async def hello() -> dict:
    return {"hello": "world"}
"""


def test_coordinator_mounts_on_the_users_own_app_named_in_the_config(
    hook_project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    from raw.coordinator.app import load_app

    module = f"hook_user_app_{uuid.uuid4().hex[:8]}"
    (hook_project.root / f"{module}.py").write_text(USER_APP, encoding="utf-8")
    config = PLAIN_CONFIG.replace("  coordinator:\n", f"  coordinator:\n    app: {module}:app\n")
    config = config.replace("version: 1\n", "version: 1\n")
    project = with_config(hook_project, config)
    monkeypatch.setenv("DATABASE_URL", sqlite_url(tmp_path))
    monkeypatch.setenv("RAW_DISPATCHER", "off")

    async def scenario() -> None:
        import httpx

        app = load_app(project)
        user = importlib.import_module(module)
        assert app is user.app
        async with app.router.lifespan_context(app):
            assert user.events == ["user start"]
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                assert (await client.get("/hello")).json() == {"hello": "world"}
                response = await client.post(
                    "/webhooks/free-form", content=dumps({"id": "d-1"}), headers=BEARER
                )
                assert response.status_code == 202
                assert (await client.get("/health")).status_code == 200
                missing = await client.get("/nowhere")
                assert missing.json()["error"]["type"] == "NotFound"  # the one shape, app-wide
        assert user.events == ["user start", "user stop"]

    asyncio.run(scenario())


def test_builtin_dispatcher_runs_in_the_lifespan_and_performs_the_inbox(
    hook_project: Project, tmp_path: Path
) -> None:
    async def scenario() -> None:
        project = with_config(hook_project, PLAIN_CONFIG)
        async with running_app(project, db_url=sqlite_url(tmp_path), run_dispatcher=None) as app:
            assert app.coordinator.dispatcher is not None
            response = await app.client.post(
                "/webhooks/free-form", content=dumps({"id": "d-1"}), headers=BEARER
            )
            assert response.status_code == 202
            for _ in range(200):
                records = (await app.client.get("/api/inbox", headers=app.auth())).json()
                if records["records"][0]["status"] == "done":
                    break
                await asyncio.sleep(0.05)
            assert records["records"][0]["status"] == "done"
            metrics = (await app.client.get("/metrics", headers=app.auth())).text
            assert (
                'raw_dispatch_latency_seconds_count{outcome="done",route="free-form"} 1.0'
                in metrics
            )

    asyncio.run(scenario())


def test_raw_dispatcher_off_keeps_the_builtin_dispatcher_from_starting(
    hook_project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAW_DISPATCHER", "off")

    async def scenario() -> None:
        project = with_config(hook_project, PLAIN_CONFIG)
        async with running_app(project, db_url=sqlite_url(tmp_path), run_dispatcher=None) as app:
            assert app.coordinator.run_dispatcher is False
            assert app.coordinator.dispatcher is None

    asyncio.run(scenario())
