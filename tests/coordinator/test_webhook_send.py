"""`raw webhook send` against a real HTTP server that checks signatures with raw.coordinator.verify.

The server is a small FastAPI app under uvicorn on 127.0.0.1, in a thread; the
command is the installed `raw` binary in a subprocess, as a user would run it.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from conftest import exited_pid
from raw import clock
from raw.coordinator.verify import SignatureError, SignedRequest, get_scheme

if TYPE_CHECKING:
    from conftest import Project, RunCli

PUBLIC_BASE_URL = "https://hiring.example.com/api"
SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@dataclass
class Route:
    scheme: str
    secrets: list[str]
    public_base_url: str | None = PUBLIC_BASE_URL


@dataclass
class Delivery:
    url: str
    headers: dict[str, str]
    body: bytes
    delivery_id: str | None


@dataclass
class Receiver:
    """The coordinator stand-in: routes to verify, and what each one accepted."""

    url: str
    routes: dict[str, Route] = field(default_factory=dict)
    received: dict[str, list[Delivery]] = field(default_factory=dict)


def receiver_app(receiver: Receiver) -> FastAPI:
    app = FastAPI()

    @app.post("/{path:path}")
    async def receive(path: str, request: Request) -> JSONResponse:
        route = receiver.routes.get("/" + path)
        if route is None:
            return JSONResponse({"error": "no such route"}, status_code=404)
        body = await request.body()
        signed = SignedRequest.from_http(
            request.method,
            str(request.url),
            request.headers,
            body,
            public_base_url=route.public_base_url,
        )
        scheme = get_scheme(route.scheme)
        try:
            scheme.verify(signed, route.secrets, tolerance_seconds=300, now=clock.now())
        except SignatureError as exc:
            return JSONResponse({"error": exc.reason}, status_code=exc.status_code)
        delivery = Delivery(signed.url, dict(request.headers), body, scheme.delivery_id(signed))
        receiver.received.setdefault("/" + path, []).append(delivery)
        return JSONResponse(
            {"accepted": True, "delivery_id": delivery.delivery_id}, status_code=202
        )

    return app


@pytest.fixture(scope="module")
def webhook_receiver() -> Iterator[Receiver]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    state = Receiver(url=f"http://127.0.0.1:{port}")
    config = uvicorn.Config(
        receiver_app(state), log_level="warning", access_log=False, ws="none", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the receiver did not start"
        time.sleep(0.01)
    yield state
    server.should_exit = True
    thread.join(10)
    sock.close()


@dataclass
class Setup:
    paths: dict[str, str]
    env: dict[str, str]


ROUTES = {
    # name: (scheme, content_type, setting, secret)
    "cv-submission": ("standard-webhooks", "json", "RAW_CV_SECRET", SW_SECRET),
    "github-push": ("github", "json", "RAW_GH_SECRET", "gh-webhook-secret"),
    "call-status": ("twilio", "form", "RAW_TWILIO_TOKEN", "twilio-auth-token-1"),
    "call-json": ("twilio", "json", "RAW_TWILIO_TOKEN", "twilio-auth-token-1"),
    "calendar": ("bearer", "json", "RAW_CAL_TOKEN", "cal-shared-token-1"),
}


@pytest.fixture
def routes_setup(project: Project, webhook_receiver: Receiver) -> Setup:
    """A project declaring one route per scheme, at a unique path the receiver verifies."""
    unique = uuid.uuid4().hex[:8]
    paths = {name: f"/webhooks/{name}-{unique}" for name in ROUTES}
    lines = [
        "version: 1",
        "name: test",
        "system:",
        "  coordinator:",
        f"    public_base_url: {PUBLIC_BASE_URL}",
        "    webhooks:",
    ]
    env = {}
    for name, (scheme, content_type, setting, secret) in ROUTES.items():
        lines += [
            f"      - name: {name}",
            f"        path: {paths[name]}",
            f"        scheme: {scheme}",
            f"        content_type: {content_type}",
            f"        secrets: [{setting}, RAW_UNUSED_OLD_SECRET]",
        ]
        env[setting] = secret
        webhook_receiver.routes[paths[name]] = Route(scheme, [secret])
    project.root.joinpath(".raw", "config.yaml").write_text("\n".join(lines) + "\n")
    return Setup(paths, env)


def test_standard_webhooks_delivery_arrives_signed_byte_for_byte(
    routes_setup: Setup, webhook_receiver: Receiver, project: Project, raw_cli: RunCli
) -> None:
    payload = b'{"candidate": "Ada Lovelace",  "email": "ada@example.com"}\n'
    project.root.joinpath("cv.json").write_bytes(payload)
    path = routes_setup.paths["cv-submission"]
    result = raw_cli(
        "webhook",
        "send",
        path,
        "--data",
        "@cv.json",
        "--url",
        webhook_receiver.url,
        "--id",
        "msg_test_1",
        "--json",
        env=routes_setup.env,
    )
    assert result.code == 0, result.stderr
    document = result.json()
    assert document["status_code"] == 202
    assert document["delivery_id"] == "msg_test_1"
    assert document["response"] == {"accepted": True, "delivery_id": "msg_test_1"}
    [delivery] = webhook_receiver.received[path]
    assert delivery.body == payload
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["webhook-signature"].startswith("v1,")
    assert delivery.url == PUBLIC_BASE_URL + path


@pytest.mark.parametrize("name", ["github-push", "call-json", "calendar"])
def test_json_delivery_arrives_signed_for_each_scheme(
    name: str, routes_setup: Setup, webhook_receiver: Receiver, raw_cli: RunCli
) -> None:
    path = routes_setup.paths[name]
    data = '{"id": 7, "status": "booked"}'
    result = raw_cli(
        "webhook",
        "send",
        path,
        "--data",
        data,
        "--url",
        webhook_receiver.url + "/",
        "--json",
        env=routes_setup.env,
    )
    assert result.code == 0, result.stderr
    assert result.json()["status_code"] == 202
    [delivery] = webhook_receiver.received[path]
    assert json.loads(delivery.body) == {"id": 7, "status": "booked"}


def test_twilio_form_delivery_signs_the_public_url(
    routes_setup: Setup, webhook_receiver: Receiver, raw_cli: RunCli
) -> None:
    path = routes_setup.paths["call-status"]
    data = json.dumps({"CallSid": "CA123", "CallStatus": "completed", "Duration": 42})
    result = raw_cli(
        "webhook",
        "send",
        "call-status",
        "--data",
        data,
        "--url",
        webhook_receiver.url,
        "--json",
        env=routes_setup.env,
    )
    assert result.code == 0, result.stderr
    [delivery] = webhook_receiver.received[path]
    assert delivery.headers["content-type"] == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(delivery.body.decode())) == {
        "CallSid": "CA123",
        "CallStatus": "completed",
        "Duration": "42",
    }
    # The webhook_receiver saw 127.0.0.1 and verified against the public URL the sender signed.
    assert delivery.url == PUBLIC_BASE_URL + path


def test_human_output_shows_the_status_and_the_answer(
    routes_setup: Setup, webhook_receiver: Receiver, raw_cli: RunCli
) -> None:
    result = raw_cli(
        "webhook",
        "send",
        "calendar",
        "--data",
        "{}",
        "--url",
        webhook_receiver.url,
        "--id",
        "k-1",
        env=routes_setup.env,
    )
    assert result.code == 0, result.stderr
    assert "-> 202 Accepted" in result.stdout
    assert '"delivery_id": "k-1"' in result.stdout


def test_a_secret_the_coordinator_does_not_hold_is_refused_and_exits_1(
    routes_setup: Setup, webhook_receiver: Receiver, raw_cli: RunCli
) -> None:
    env = {**routes_setup.env, "RAW_GH_SECRET": "not-the-secret"}
    result = raw_cli(
        "webhook",
        "send",
        "github-push",
        "--data",
        "{}",
        "--url",
        webhook_receiver.url,
        "--json",
        env=env,
    )
    assert result.code == 1
    document = result.json()
    assert document["status_code"] == 401
    assert document["response"] == {"error": "signature does not match any active secret"}
    assert routes_setup.paths["github-push"] not in webhook_receiver.received


def test_unknown_route_exits_3_listing_the_known_ones(routes_setup: Setup, raw_cli: RunCli) -> None:
    result = raw_cli("webhook", "send", "/webhooks/nope", "--data", "{}", env=routes_setup.env)
    assert result.code == 3
    assert "/webhooks/nope" in result.stderr
    for name, path in routes_setup.paths.items():
        assert f"{path} ({name})" in result.stderr


def test_no_coordinator_listening_is_a_clear_error(routes_setup: Setup, raw_cli: RunCli) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        result = raw_cli(
            "webhook",
            "send",
            "calendar",
            "--data",
            "{}",
            "--url",
            url,
            "--json",
            env=routes_setup.env,
        )
    assert result.code == 4  # could not reach a service, not "the delivery was refused"
    message = result.json()["error"]["message"]
    assert message.startswith(f"No coordinator answers at {url}")
    assert "--url" in message


def test_unset_secret_setting_is_named_and_exits_2(routes_setup: Setup, raw_cli: RunCli) -> None:
    env = {k: v for k, v in routes_setup.env.items() if k != "RAW_CV_SECRET"}
    result = raw_cli("webhook", "send", "cv-submission", "--data", "{}", env=env)
    assert result.code == 2
    assert "RAW_CV_SECRET" in result.stderr
    assert "export RAW_CV_SECRET=" in result.stderr


@pytest.mark.parametrize(
    ("route", "data", "expected"),
    [
        ("cv-submission", "{not json", "not valid JSON"),
        ("cv-submission", "@missing.json", "Cannot read the --data file"),
        ("call-status", "[1, 2]", "JSON object"),
        ("call-status", '{"nested": {"a": 1}}', "Form field 'nested'"),
    ],
)
def test_bad_data_exits_2(
    route: str, data: str, expected: str, routes_setup: Setup, raw_cli: RunCli
) -> None:
    result = raw_cli("webhook", "send", route, "--data", data, env=routes_setup.env)
    assert result.code == 2
    assert expected in result.stderr


def _record_running_up(project: Project, port: int) -> None:
    """A `raw up` record as raw up writes it, naming this (alive) test process."""
    from raw.project import Project as RawProject
    from raw.up_state import UpState, write_state

    write_state(RawProject(project.root), UpState.here("127.0.0.1", port))


def test_without_url_the_delivery_goes_where_this_project_s_raw_up_listens(
    routes_setup: Setup, webhook_receiver: Receiver, project: Project, raw_cli: RunCli
) -> None:
    _record_running_up(project, int(webhook_receiver.url.rsplit(":", 1)[1]))
    result = raw_cli("webhook", "send", "calendar", "--data", "{}", "--json", env=routes_setup.env)
    assert result.code == 0, result.stderr
    assert result.json()["url"] == webhook_receiver.url + routes_setup.paths["calendar"]
    assert len(webhook_receiver.received[routes_setup.paths["calendar"]]) == 1


def test_without_url_and_no_raw_up_nothing_is_sent_and_it_exits_4(
    routes_setup: Setup, project: Project, raw_cli: RunCli
) -> None:
    # A record left by a raw up that was killed: its process is gone, so it counts as none.
    from raw.project import Project as RawProject
    from raw.up_state import UpState, write_state

    stale = UpState.here("127.0.0.1", 8000).model_copy(update={"pid": exited_pid()})
    write_state(RawProject(project.root), stale)

    result = raw_cli("webhook", "send", "calendar", "--data", "{}", env=routes_setup.env)
    assert result.code == 4, result.stderr
    assert result.stderr.startswith(
        f"Error: No `raw up` is running for the project in {project.root}: start it with "
        "'raw up', or pass --url with the coordinator's base URL"
    ), result.stderr
    assert result.stdout == ""
