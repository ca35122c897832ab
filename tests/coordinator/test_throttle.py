"""Wrong API tokens are throttled per address and per token, over real HTTP through `raw serve`.

A client cannot choose the address it is counted by: ``X-Forwarded-For`` is believed
only from the proxies in ``RAW_TRUSTED_PROXIES`` (none by default).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from coordinator.webhook_fixtures import API_TOKEN, ENV, Served, raw_serve, subprocess_pythonpath
from raw import clock
from raw.project import Project

LIMIT = 5  # AuthThrottle's default


def sign_in(served: Served, client: httpx.Client, token: str, forwarded: str) -> httpx.Response:
    return client.post(
        "/operator/sign-in",
        data={"token": token},
        headers={"Origin": served.base_url, "X-Forwarded-For": forwarded},
    )


def bearer(token: str, forwarded: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Forwarded-For": forwarded}


def test_rotating_x_forwarded_for_does_not_escape_the_sign_in_throttle(
    hook_project: Project, tmp_path: Path
) -> None:
    with (
        raw_serve(hook_project, tmp_path / "served.db") as served,
        httpx.Client(base_url=served.base_url, timeout=10) as client,
    ):
        for n in range(LIMIT):
            wrong = sign_in(served, client, f"guess-{n}", f"203.0.113.{n}")
            assert wrong.status_code == 401, wrong.text
        refused = sign_in(served, client, "guess-last", "203.0.113.99")
        assert refused.status_code == 429, refused.text
        assert "Too many failed sign-ins" in refused.text
        assert 1 <= int(refused.headers["Retry-After"]) <= 300
        # The same address on the API: even the right token waits now.
        api = client.get("/api/runs", headers=bearer(API_TOKEN, "198.51.100.7"))
        assert api.status_code == 429, api.text
        assert api.json()["error"]["type"] == "TooManyFailuresError"


def test_wrong_bearer_tokens_are_throttled_and_a_trusted_proxys_header_is_honoured(
    hook_project: Project, tmp_path: Path
) -> None:
    with (
        raw_serve(hook_project, tmp_path / "served.db", RAW_TRUSTED_PROXIES="127.0.0.1") as served,
        httpx.Client(base_url=served.base_url, timeout=10) as client,
    ):
        for n in range(LIMIT):
            wrong = client.get("/api/runs", headers=bearer(f"guess-{n}", "10.0.0.1"))
            assert wrong.status_code == 401, wrong.text
        refused = client.get("/api/runs", headers=bearer("guess-last", "10.0.0.1"))
        assert refused.status_code == 429, refused.text
        error = refused.json()["error"]
        assert error["type"] == "TooManyFailuresError"
        assert "Try again in" in error["message"]
        assert 1 <= int(refused.headers["Retry-After"]) <= 300

        # The proxy forwarded another client: that one is not held back.
        fine = client.get("/api/runs", headers=bearer(API_TOKEN, "10.0.0.2"))
        assert fine.status_code == 200, fine.text

        # Wrong bearer tokens on the operator page count too.
        for n in range(LIMIT):
            wrong = client.get("/operator", headers=bearer(f"page-{n}", "10.0.0.3"))
            assert wrong.status_code == 303  # to the sign-in form
        refused = client.get("/operator", headers=bearer("page-last", "10.0.0.3"))
        assert refused.status_code == 429
        assert "Too many failed attempts" in refused.text

        # One token tried from ever new addresses is held back by the token itself.
        for n in range(LIMIT):
            wrong = client.get("/api/runs", headers=bearer("same-guess", f"10.1.0.{n}"))
            assert wrong.status_code == 401, wrong.text
        refused = client.get("/api/runs", headers=bearer("same-guess", "10.1.0.99"))
        assert refused.status_code == 429, refused.text


def test_a_trusted_proxy_setting_that_is_not_an_address_stops_raw_serve(
    hook_project: Project, tmp_path: Path
) -> None:
    env = {"RAW_TRUSTED_PROXIES": "10.0.0.1, the-proxy", "PATH": "/usr/bin:/bin", **ENV}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'served.db'}"
    env["PYTHONPATH"] = subprocess_pythonpath()
    result = subprocess.run(
        [str(Path(sys.executable).with_name("raw")), "serve", "--port", "1"],
        cwd=hook_project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "RAW_TRUSTED_PROXIES" in result.stderr
    assert "'the-proxy' is not an IP address" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_throttle_counts_addresses_and_tokens_and_forgets_after_its_window() -> None:
    from raw.coordinator.throttle import AuthThrottle

    with clock.use(clock.ManualClock()) as now:
        throttle = AuthThrottle(limit=2, window_seconds=60)
        throttle.failed("10.0.0.1", "a")
        throttle.failed("10.0.0.1", "b")
        assert throttle.retry_after("10.0.0.1") > 0
        assert throttle.retry_after("10.0.0.2") == 0  # per address
        assert throttle.retry_after("10.0.0.2", "a") == 0  # "a" failed once
        throttle.failed("10.0.0.3", "a")
        assert throttle.retry_after("10.0.0.4", "a") > 0  # per token
        now.advance(61)
        assert throttle.retry_after("10.0.0.1") == 0
        assert throttle.retry_after("10.0.0.4", "a") == 0
        throttle.failed("10.0.0.1", "c")
        throttle.succeeded("10.0.0.1")
        throttle.failed("10.0.0.1", "d")
        assert throttle.retry_after("10.0.0.1") == 0  # a success clears the address's count


def test_the_throttle_keeps_its_memory_bounded() -> None:
    from raw.coordinator.throttle import AuthThrottle

    throttle = AuthThrottle(limit=5, window_seconds=60, max_keys=100)
    for n in range(1000):
        throttle.failed("10.0.0.1", f"guess-{n}")
    assert len(throttle._failures) <= 101
    assert throttle.retry_after("10.0.0.1") > 0  # the address is never what is forgotten
