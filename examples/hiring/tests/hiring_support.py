"""Helpers for the hiring app's tests: the app in-process and deliveries signed for real."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from raw import clock
from raw.coordinator.app import load_app
from raw.coordinator.sender import encode_body, load_schemes, signed_delivery
from raw.project import Project

ROOT = Path(__file__).resolve().parents[1]
BASE = "http://hiring.test"


class Hiring:
    def __init__(self, client: httpx.AsyncClient, project: Project) -> None:
        self.client = client
        self.project = project

    async def deliver(
        self,
        route_name: str,
        body: dict[str, Any],
        *,
        query: dict[str, str] | None = None,
        secret: str | None = None,
        tamper_query: dict[str, str] | None = None,
    ) -> httpx.Response:
        route = next(
            r for r in self.project.config.system.coordinator.webhooks if r.name == route_name
        )
        content, form = encode_body(body, as_form=route.content_type == "form")
        delivery = signed_delivery(
            route,
            content,
            form,
            base_url=BASE,
            secret=secret or os.environ[route.secrets[0]],
            now=clock.now(),
            public_base_url=BASE,
            query=list((query or {}).items()),
        )
        url = delivery.url
        if tamper_query:
            url = url.split("?")[0] + "?" + "&".join(f"{k}={v}" for k, v in tamper_query.items())
        return await self.client.post(url, content=delivery.body, headers=delivery.headers)

    async def get(self, path: str) -> httpx.Response:
        token = os.environ["RAW_API_TOKEN"]
        return await self.client.get(path, headers={"Authorization": f"Bearer {token}"})


@asynccontextmanager
async def running() -> AsyncIterator[Hiring]:
    project = Project(ROOT)
    load_schemes(project.config.system.coordinator, project.root)
    app = load_app(project)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client,
    ):
        yield Hiring(client, project)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def cv(**overrides: str) -> dict[str, str]:
    return {
        "submission_id": "form-1",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "+442071838750",
        "position": "Backend engineer",
        "cv_text": "Ten years of Python.",
        **overrides,
    }
