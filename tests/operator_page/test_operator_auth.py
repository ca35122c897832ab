"""Signing in to the operator page, its session cookie, and CSRF on the forms that change things.

Over HTTP through httpx's ASGI transport, against the coordinator's real app.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from http.cookies import SimpleCookie

import pytest

from raw.coordinator.operator import auth
from raw.project import Project

from .ops_system import API_TOKEN, serve

OTHER_ORIGIN = {"Origin": "https://evil.example"}


def test_pages_send_a_browser_to_sign_in_and_keep_where_it_was_going(
    ops_project: Callable[..., Project], ops_db_url: str
) -> None:
    async def scenario() -> None:
        async with serve(ops_project(), ops_db_url) as ops:
            answer = await ops.client.get("/operator/dead-letters")
            assert answer.status_code == 303
            assert answer.headers["location"] == "/operator/sign-in?next=%2Foperator%2Fdead-letters"

            form = await ops.client.get("/operator/sign-in", params={"next": "/operator/runs"})
            assert form.status_code == 200
            assert 'name="next" value="/operator/runs"' in form.text
            assert '<label for="token">API token</label>' in form.text
            assert 'type="password"' in form.text

            refresh = await ops.client.get(
                "/operator/dead-letters", headers={"X-Operator-Fragment": "1"}
            )
            assert refresh.status_code == 401  # the page's script: says so, no redirect
            assert "sign in again" in refresh.text

            posted = await ops.client.post("/operator/dead-letters/1/retry", data={"csrf": "x"})
            assert posted.status_code == 401

    asyncio.run(scenario())


def test_the_token_signs_in_with_an_httponly_samesite_strict_cookie_for_the_page_only(
    ops_project: Callable[..., Project], ops_db_url: str
) -> None:
    async def scenario() -> None:
        async with serve(ops_project(), ops_db_url) as ops:
            answer = await ops.client.post(
                "/operator/sign-in",
                data={"token": API_TOKEN, "next": "/operator/runs"},
                headers={"Origin": "http://testserver"},
            )
            assert answer.status_code == 303
            assert answer.headers["location"] == "/operator/runs"
            header = answer.headers["set-cookie"]
            cookie = SimpleCookie(header)[auth.COOKIE]
            assert cookie["httponly"] is True
            assert cookie["samesite"] == "strict"
            assert cookie["path"] == "/operator"
            assert int(cookie["max-age"]) == auth.SESSION_SECONDS
            assert not cookie["secure"]  # plain http here; https would add Secure
            assert API_TOKEN not in header  # the cookie holds a signature, not the token

            page = await ops.client.get("/operator/runs")
            assert page.status_code == 200
            assert "<h1>Failed runs</h1>" in page.text
            assert "Sign out" in page.text
            assert API_TOKEN not in page.text

            # The JSON API takes the bearer token only, never the page's cookie.
            api = await ops.client.get(
                "/api/runs", headers={"Cookie": f"{auth.COOKIE}={cookie.value}"}
            )
            assert api.status_code == 401
            assert api.json()["error"]["type"] == "AuthenticationError"

    asyncio.run(scenario())


def test_a_wrong_token_is_refused_without_echoing_it(
    ops_project: Callable[..., Project], ops_db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    guess = "not-the-token-but-close-0123"

    async def scenario() -> None:
        async with serve(ops_project(), ops_db_url) as ops:
            answer = await ops.sign_in(guess)
            assert answer.status_code == 401
            assert "That is not the API token" in answer.text
            assert guess not in answer.text
            assert 'aria-invalid="true"' in answer.text
            assert "set-cookie" not in answer.headers
            assert (await ops.client.get("/operator")).status_code == 303

    asyncio.run(scenario())
    assert "sign-in refused" in caplog.text
    assert guess not in caplog.text and API_TOKEN not in caplog.text


def test_forged_expired_and_stale_sessions_are_refused() -> None:
    value, session = auth.issue_session(API_TOKEN)
    assert auth.read_session(value, API_TOKEN) == session

    payload, signature = value.split(".")
    assert auth.read_session(f"{payload}.{signature[:-2]}AA", API_TOKEN) is None
    assert auth.read_session(f"{payload}x.{signature}", API_TOKEN) is None
    assert auth.read_session("garbage", API_TOKEN) is None
    assert auth.read_session(value, None) is None  # the token was unset: the page is closed
    assert auth.read_session(value, API_TOKEN + "-rotated") is None  # a new token ends sessions

    old, _ = auth.issue_session(API_TOKEN, now=time.time() - auth.SESSION_SECONDS - 1)
    assert auth.read_session(old, API_TOKEN) is None
    recent, _ = auth.issue_session(API_TOKEN, now=time.time() - auth.SESSION_SECONDS + 60)
    assert auth.read_session(recent, API_TOKEN) is not None

    other, other_session = auth.issue_session(API_TOKEN)
    assert other_session.csrf != session.csrf  # each session has its own CSRF token
    assert auth.csrf_matches(session, session.csrf)
    assert not auth.csrf_matches(session, other_session.csrf)
    assert not auth.csrf_matches(session, None)


def test_sign_in_from_another_site_is_refused_and_next_never_leaves_the_page(
    ops_project: Callable[..., Project], ops_db_url: str
) -> None:
    async def scenario() -> None:
        async with serve(ops_project(), ops_db_url) as ops:
            forged = await ops.client.post(
                "/operator/sign-in", data={"token": API_TOKEN}, headers=OTHER_ORIGIN
            )
            assert forged.status_code == 403
            assert "set-cookie" not in forged.headers

            for target in ("https://evil.example/x", "//evil.example", "/api/runs", "/operatorx"):
                answer = await ops.client.post(
                    "/operator/sign-in",
                    data={"token": API_TOKEN, "next": target},
                    headers={"Origin": "http://testserver"},
                )
                assert answer.status_code == 303
                assert answer.headers["location"] == "/operator", target

    asyncio.run(scenario())


def test_the_page_is_closed_when_no_token_is_set(
    ops_project: Callable[..., Project], ops_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAW_API_TOKEN")

    async def scenario() -> None:
        async with serve(ops_project(), ops_db_url) as ops:
            form = await ops.client.get("/operator/sign-in")
            assert "The operator page is closed: no API token is set in RAW_API_TOKEN" in form.text
            assert 'name="token"' not in form.text
            answer = await ops.sign_in("")
            assert answer.status_code == 503
            assert (await ops.client.get("/operator", headers=ops.bearer())).status_code == 303

    asyncio.run(scenario())


def test_retry_needs_the_sessions_csrf_token_and_the_same_origin(
    ops_project: Callable[..., Project], ops_db_url: str
) -> None:
    async def scenario() -> None:
        async with serve(ops_project(), ops_db_url) as ops:
            await ops.signup("d-1", "ada@example.com")
            record = await ops.kill("d-1", "the CRM was down")
            await ops.sign_in()
            page = await ops.client.get("/operator/dead-letters")
            _, _, rest = page.text.partition('name="csrf" value="')
            csrf = rest.split('"', 1)[0]
            assert len(csrf) > 20
            url = f"/operator/dead-letters/{record}/retry"
            same = {"Origin": "http://testserver"}

            missing = await ops.client.post(url, data={}, headers=same)
            assert missing.status_code == 403
            assert "CSRF token does not belong to your session" in missing.text
            _, other = auth.issue_session(API_TOKEN)
            wrong = await ops.client.post(url, data={"csrf": other.csrf}, headers=same)
            assert wrong.status_code == 403
            cross = await ops.client.post(url, data={"csrf": csrf}, headers=OTHER_ORIGIN)
            assert cross.status_code == 403
            assert "sent from another site" in cross.text
            still = await ops.client.get(
                "/api/inbox", params={"status": "dead"}, headers=ops.bearer()
            )
            assert [r["id"] for r in still.json()["records"]] == [record]

            done = await ops.client.post(url, data={"csrf": csrf}, headers=same)
            assert done.status_code == 303
            assert done.headers["location"] == f"/operator/dead-letters?retried={record}"
            after = await ops.client.get(done.headers["location"])
            assert f"Dead letter {record} went back to the dispatcher." in after.text
            assert "No dead letters." in after.text

            again = await ops.client.post(url, data={"csrf": csrf}, headers=same)
            assert again.headers["location"] == f"/operator/dead-letters?stale={record}"

            out = await ops.client.post("/operator/sign-out", data={}, headers=same)
            assert out.status_code == 403
            out = await ops.client.post("/operator/sign-out", data={"csrf": csrf}, headers=same)
            assert out.status_code == 303
            assert 'raw_operator=""' in out.headers["set-cookie"]

    asyncio.run(scenario())


def test_the_bearer_token_opens_the_pages_and_their_forms_without_a_cookie(
    ops_project: Callable[..., Project], ops_db_url: str
) -> None:
    async def scenario() -> None:
        async with serve(ops_project(), ops_db_url) as ops:
            await ops.signup("d-2", "bob@example.com")
            record = await ops.kill("d-2", "boom")
            page = await ops.client.get("/operator/dead-letters", headers=ops.bearer())
            assert page.status_code == 200
            assert "Sign out" not in page.text
            answer = await ops.client.post(
                f"/operator/dead-letters/{record}/retry", headers=ops.bearer()
            )
            assert answer.status_code == 303  # curl and scripts cannot be made to forge this
            wrong = await ops.client.get("/operator", headers=ops.bearer("x" * 30))
            assert wrong.status_code == 303

    asyncio.run(scenario())


def test_failed_sign_ins_are_throttled_per_address(
    ops_project: Callable[..., Project], ops_db_url: str
) -> None:
    origin = {"Origin": "http://testserver"}

    async def scenario() -> None:
        async with serve(ops_project(), ops_db_url) as ops:
            for _ in range(5):
                wrong = await ops.client.post(
                    "/operator/sign-in", data={"token": "guess"}, headers=origin
                )
                assert wrong.status_code == 401
            refused = await ops.client.post(
                "/operator/sign-in", data={"token": API_TOKEN}, headers=origin
            )
            assert refused.status_code == 429  # even the right token waits now
            assert "Too many failed sign-ins" in refused.text
            assert 1 <= int(refused.headers["Retry-After"]) <= 300

    asyncio.run(scenario())
