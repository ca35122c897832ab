"""A local server that speaks Anthropic's Messages API, for tests.

A Starlette app under uvicorn on 127.0.0.1, in a background thread, answering
``POST /v1/messages`` from a script, so a test drives the real ``anthropic`` client
over real HTTP::

    with AnthropicServer("Hello!", api_key="sk-ant-test") as server:
        llm = AnthropicLLM(api_key="sk-ant-test", base_url=server.base_url)
        assert llm.complete("Say hello") == "Hello!"

Each scripted reply, used once in order, is a string (a text answer), a dict (the
input of a ``tool_use`` answer to the request's first tool: a structured result), or
a tuple ``(status_code, body)`` for an error. A request without the expected
key (``x-api-key``, or a bearer token as later clients send it) is answered 401, as
Anthropic answers it.
"""

from __future__ import annotations

import socket
import threading
from collections import deque
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeAlias

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from raw.ports import free_port

__all__ = ["AnthropicServer", "ScriptedMessage"]

ScriptedMessage: TypeAlias = str | dict[str, Any] | tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class RecordedMessageRequest:
    headers: dict[str, str]
    json: dict[str, Any]


def _error(status: int, kind: str, message: str) -> JSONResponse:
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return JSONResponse(body, status_code=status)


class _Server(uvicorn.Server):
    """uvicorn's server, saying when it listens (an event to wait for, not a poll)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.listening.set()


class AnthropicServer:
    def __init__(self, *replies: ScriptedMessage, api_key: str = "sk-ant-test") -> None:
        self.api_key = api_key
        self.replies: deque[ScriptedMessage] = deque(replies)
        self.requests: list[RecordedMessageRequest] = []
        self.port = free_port()
        app = Starlette(routes=[Route("/v1/messages", self._messages, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = _Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        if not self._server.listening.wait(timeout=10) or not self._server.started:
            raise RuntimeError("The local Messages API server did not start.")
        return self

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def _messages(self, request: Request) -> JSONResponse:
        # Clients send the key as x-api-key or, in later versions, as a bearer token.
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if self.api_key not in (request.headers.get("x-api-key"), bearer):
            return _error(401, "authentication_error", "invalid x-api-key")
        body = await request.json()
        self.requests.append(RecordedMessageRequest(dict(request.headers), body))
        if not self.replies:
            return _error(400, "invalid_request_error", "no reply was queued on the test server")
        reply = self.replies.popleft()
        if isinstance(reply, tuple):
            status, payload = reply
            return JSONResponse(payload, status_code=status)
        number = len(self.requests)
        if isinstance(reply, str):
            content: list[dict[str, Any]] = [{"type": "text", "text": reply}]
            stop = "end_turn"
        else:
            tool = (body.get("tools") or [{"name": "tool"}])[0]["name"]
            content = [{"type": "tool_use", "id": f"toolu_{number}", "name": tool, "input": reply}]
            stop = "tool_use"
        return JSONResponse(
            {
                "id": f"msg_{number}",
                "type": "message",
                "role": "assistant",
                "model": body.get("model", ""),
                "content": content,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": {"input_tokens": 10, "output_tokens": 5},
            }
        )
