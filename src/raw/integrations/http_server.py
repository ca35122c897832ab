"""A small HTTP server for the local services that speak HTTP: a Starlette app under uvicorn.

The phone simulator (and the tests' fake Slack) need a real HTTP server on the
caller's event loop. One handler takes every request (:class:`HttpRequest`) and
answers an :class:`HttpResponse`; bodies are capped, a handler's exception
answers 500 and is logged. uvicorn runs embedded: it leaves the process's signal
handlers and logging configuration alone, writes no access log, and a port in use
raises ``OSError`` from ``start``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HttpRequest", "HttpResponse", "HttpServer"]

logger = logging.getLogger("raw.integrations.http")

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str
    headers: dict[str, str]
    """Names lower-cased; a repeated header keeps its last value."""
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.target).query, keep_blank_values=True))

    def form(self) -> list[tuple[str, str]]:
        """The form fields in order, repeated names kept."""
        return parse_qsl(self.body.decode("utf-8", errors="replace"), keep_blank_values=True)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, document: Any) -> HttpResponse:
        return cls(status, json.dumps(document).encode(), "application/json")


Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]


class _BodyTooLarge(Exception):
    pass


class _QuietProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol without the access log (a URL may carry a secret)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.access_log = False


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the host process (raw up, a test) keeps its own signal handlers


class HttpServer:
    """``await HttpServer(handler).start(host, port)``; ``await server.close()`` ends it."""

    def __init__(self, handler: Handler, *, max_body_bytes: int = 1_048_576) -> None:
        self.handler = handler
        self.max_body_bytes = max_body_bytes
        self.app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=_METHODS)])
        self._socket: socket.socket | None = None
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, host: str, port: int) -> HttpServer:
        self._socket = socket.create_server((host, port))  # OSError here: the port is taken
        config = uvicorn.Config(
            self.app,
            http=_QuietProtocol,
            lifespan="off",
            log_config=None,  # the process's logging stays as it is
            server_header=False,
            date_header=False,
        )
        server = self._server = _EmbeddedServer(config)
        self._task = asyncio.create_task(server.serve(sockets=[self._socket]))
        while not server.started and not self._task.done():
            await asyncio.sleep(0.005)
        if self._task.done():
            await self._task  # its error
        return self

    @property
    def port(self) -> int:
        assert self._socket is not None, "start() the server first"
        port: int = self._socket.getsockname()[1]
        return port

    async def close(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._server = self._task = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    async def _endpoint(self, request: Request) -> Response:
        try:
            body = await self._body(request)
        except _BodyTooLarge:
            return _response(HttpResponse(413, b"request body too large"))
        query = request.scope.get("query_string", b"").decode("latin-1")
        target = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        incoming = HttpRequest(
            method=request.method,
            target=f"{target}?{query}" if query else target,
            headers=dict(request.headers.items()),
            body=body,
        )
        try:
            answer = await self.handler(incoming)
        except Exception:
            logger.exception("%s %s failed", incoming.method, incoming.path)
            answer = HttpResponse.json(500, {"message": "internal error"})
        return _response(answer)

    async def _body(self, request: Request) -> bytes:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.max_body_bytes:
                raise _BodyTooLarge
        return bytes(body)


def _response(answer: HttpResponse) -> Response:
    headers = {"content-type": answer.content_type, **answer.headers}
    return Response(answer.body, status_code=answer.status, headers=headers)
