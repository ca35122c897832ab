"""A small HTTP/1.1 server on asyncio and ``h11`` for the local services that speak HTTP.

The phone simulator (and the tests' fake Slack) need a real HTTP server, on the
caller's event loop, with nothing beyond the base install: ``h11`` (httpx's own
HTTP/1.1 parser) does the protocol, this module the sockets. Keep-alive works,
bodies are capped, a handler's exception answers 500 and is logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import h11

__all__ = ["HttpRequest", "HttpResponse", "HttpServer"]

logger = logging.getLogger("raw.integrations.http")

_REASONS = {200: b"OK", 201: b"Created", 202: b"Accepted", 204: b"No Content"}


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


class HttpServer:
    """``await HttpServer(handler).start(host, port)``; ``await server.close()`` ends it."""

    def __init__(self, handler: Handler, *, max_body_bytes: int = 1_048_576) -> None:
        self.handler = handler
        self.max_body_bytes = max_body_bytes
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self, host: str, port: int) -> HttpServer:
        self._server = await asyncio.start_server(self._connection, host, port)
        return self

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the server first"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._writers):  # idle keep-alive connections
            writer.close()
        await self._server.wait_closed()
        self._server = None

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                request = await self._read_request(conn, reader)
                if request is None:
                    break
                if isinstance(request, HttpResponse):  # refused while reading
                    await self._send(conn, writer, request)
                    break
                try:
                    response = await self.handler(request)
                except Exception:
                    logger.exception("%s %s failed", request.method, request.path)
                    response = HttpResponse.json(500, {"message": "internal error"})
                await self._send(conn, writer, response)
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    break
                conn.start_next_cycle()
        except (h11.RemoteProtocolError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _next_event(self, conn: h11.Connection, reader: asyncio.StreamReader) -> Any:
        while True:
            event = conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            conn.receive_data(await reader.read(65536))

    async def _read_request(
        self, conn: h11.Connection, reader: asyncio.StreamReader
    ) -> HttpRequest | HttpResponse | None:
        event = await self._next_event(conn, reader)
        if not isinstance(event, h11.Request):
            return None  # the client closed the connection
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in event.headers}
        body = bytearray()
        while True:
            part = await self._next_event(conn, reader)
            if isinstance(part, h11.Data):
                body += part.data
                if len(body) > self.max_body_bytes:
                    return HttpResponse(413, b"request body too large")
            elif isinstance(part, h11.EndOfMessage):
                break
            else:
                return None
        return HttpRequest(
            method=event.method.decode("ascii"),
            target=event.target.decode("latin-1"),
            headers=headers,
            body=bytes(body),
        )

    async def _send(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, response: HttpResponse
    ) -> None:
        headers = [
            ("content-type", response.content_type),
            ("content-length", str(len(response.body))),
            *response.headers.items(),
        ]
        data = conn.send(
            h11.Response(
                status_code=response.status,
                headers=headers,
                reason=_REASONS.get(response.status, b""),
            )
        )
        data = (data or b"") + (conn.send(h11.Data(data=response.body)) or b"")
        data += conn.send(h11.EndOfMessage()) or b""
        writer.write(data)
        await writer.drain()
