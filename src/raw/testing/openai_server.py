"""A local server that speaks the OpenAI chat-completions API, for tests.

It runs on 127.0.0.1 on a free port in a background thread and answers from a
script, so a test exercises the real client code over real HTTP::

    from raw.testing.openai_server import OpenAIServer, Reply
    from raw.workflow.llm import OpenAICompatibleLLM

    with OpenAIServer("Hello!", api_key="sk-test") as server:
        llm = OpenAICompatibleLLM(base_url=server.base_url, model="m", api_key="sk-test")
        assert llm.complete("Say hello") == "Hello!"
        assert server.requests[0].json["messages"][-1]["content"] == "Say hello"

Each scripted reply, used once in order, is one of:

- a string: the assistant's message content;
- a tuple ``(status_code, json_body, headers)``: an error reply, e.g.
  ``(429, {"error": {"message": "Slow down"}}, {"Retry-After": "2"})``;
- a callable taking the request's JSON body and returning a string or a :class:`Reply`;
- a :class:`Reply`, which can also delay its answer (``Reply("late", delay_seconds=5)``)
  to test timeouts, or call tools (``Reply.calls(("gates", {}), ("read_doc", {...}))``):
  its message then carries ``tool_calls`` and finishes with ``tool_calls``.

With no reply left, the server answers ``default`` when one was given, and
otherwise HTTP 400 with a message saying that no reply was queued.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, TypeAlias

from raw import clock

__all__ = ["OpenAIServer", "RecordedRequest", "Reply", "ScriptedReply"]


@dataclass(frozen=True)
class Reply:
    """One scripted answer.

    With ``status_code`` 200 and no ``body`` the server answers a chat completion
    whose message is ``content``; otherwise it answers ``body`` as JSON.
    """

    content: str | None = None
    status_code: int = 200
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0
    finish_reason: str = "stop"
    usage: Mapping[str, int] | None = None
    tool_calls: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    """``(function name, arguments)`` pairs the assistant calls, in order."""

    @classmethod
    def calls(
        cls,
        *calls: tuple[str, Mapping[str, Any]],
        content: str | None = None,
        usage: Mapping[str, int] | None = None,
    ) -> Reply:
        """An assistant message that calls tools (OpenAI's ``tool_calls``)."""
        return cls(
            content=content, tool_calls=tuple(calls), finish_reason="tool_calls", usage=usage
        )

    @classmethod
    def error(
        cls,
        status_code: int,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        *,
        delay_seconds: float = 0.0,
    ) -> Reply:
        """An error reply; ``body`` defaults to an OpenAI-shaped error."""
        if body is None:
            body = _error_body(f"Scripted error {status_code}.", "server_error")
        return cls(
            status_code=status_code,
            body=body,
            headers=dict(headers or {}),
            delay_seconds=delay_seconds,
        )


ScriptedReply: TypeAlias = (
    str | Reply | tuple[int, Any, Mapping[str, str]] | Callable[[Any], str | Reply]
)
"""What a test may queue: see the module docstring."""


@dataclass(frozen=True)
class RecordedRequest:
    """A request the server received; header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any


class OpenAIServer:
    """An OpenAI-compatible chat-completions server on 127.0.0.1, for tests."""

    def __init__(
        self,
        *replies: ScriptedReply,
        api_key: str | None = None,
        default: ScriptedReply | None = None,
    ) -> None:
        self.api_key = api_key
        self.default = default
        self.requests: list[RecordedRequest] = []
        self.errors: list[BaseException] = []
        """Unexpected exceptions raised while handling requests (for debugging)."""
        self._replies: deque[ScriptedReply] = deque(replies)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._counter = 0

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> Self:
        if self._httpd is not None:
            raise RuntimeError("This OpenAIServer is already running.")
        self._stopping.clear()
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"openai-server-{httpd.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, wake delayed replies and wait for every handler to finish."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- script -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``, the value for RAW_LLM_BASE_URL."""
        if self._httpd is None:
            raise RuntimeError("Start the OpenAIServer (use it in a with block) first.")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def add(self, *replies: ScriptedReply) -> None:
        """Queue more replies, answered after the ones already queued."""
        with self._lock:
            self._replies.extend(replies)

    @property
    def pending(self) -> int:
        """How many queued replies have not been used yet."""
        with self._lock:
            return len(self._replies)

    # --- handling (server threads) ----------------------------------------------------

    def _answer(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            self._counter += 1
            number = self._counter
        authorized = f"Bearer {self.api_key}"
        if self.api_key is not None and request.headers.get("authorization") != authorized:
            return Reply.error(
                401,
                _error_body(
                    "Incorrect API key provided. You can find your API key in your "
                    "account settings.",
                    "invalid_request_error",
                    code="invalid_api_key",
                ),
            )
        if request.method != "POST" or request.path.rstrip("/") != "/v1/chat/completions":
            return Reply.error(
                404,
                _error_body(
                    f"Unknown request {request.method} {request.path}: this server answers "
                    "POST /v1/chat/completions.",
                    "invalid_request_error",
                    code="unknown_url",
                ),
            )
        if not isinstance(request.json, dict):
            return Reply.error(
                400, _error_body("The request body is not a JSON object.", "invalid_request_error")
            )
        with self._lock:
            scripted = self._replies.popleft() if self._replies else self.default
        if scripted is None:
            return Reply.error(
                400,
                _error_body(
                    f"The test server has no reply queued for request #{number}: "
                    "queue one with OpenAIServer(...) or server.add(...).",
                    "test_server_error",
                ),
            )
        reply = _as_reply(scripted, request.json)
        if reply.status_code == 200 and reply.body is None:
            reply = Reply(
                status_code=200,
                body=_completion(number, request.json, reply),
                usage=reply.usage,
                headers=reply.headers,
                delay_seconds=reply.delay_seconds,
            )
        return reply

    def _wait(self, seconds: float) -> None:
        # Wakes early when the server closes, so shutdown never waits on a slow reply.
        self._stopping.wait(seconds)


class _HTTPServer(ThreadingHTTPServer):
    owner: OpenAIServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        # A client that timed out closes its connection before a delayed reply.
        if exc is not None and not isinstance(exc, ConnectionError):
            self.owner.errors.append(exc)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        request = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            json=payload,
        )
        owner = self.server.owner
        reply = owner._answer(request)
        if reply.delay_seconds > 0:
            owner._wait(reply.delay_seconds)
        data = json.dumps(reply.body).encode()
        self.send_response(reply.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read server.requests; stderr stays quiet


def _as_reply(scripted: ScriptedReply, request_json: Any) -> Reply:
    if isinstance(scripted, Reply):
        return scripted
    if isinstance(scripted, str):
        return Reply(scripted)
    if isinstance(scripted, tuple):
        status_code, body, headers = scripted
        return Reply.error(status_code, body, headers)
    produced = scripted(request_json)
    return produced if isinstance(produced, Reply) else Reply(produced)


def _error_body(message: str, type_: str, *, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def _count_tokens(text: str) -> int:
    return len(text.split())


def _completion(number: int, request_json: dict[str, Any], reply: Reply) -> dict[str, Any]:
    content = reply.content or ""
    if reply.usage is not None:
        usage = dict(reply.usage)
    else:
        messages = request_json.get("messages")
        prompt = sum(
            _count_tokens(str(m.get("content") or "") + json.dumps(m.get("tool_calls") or ""))
            for m in (messages if isinstance(messages, list) else [])
            if isinstance(m, dict)
        )
        completion = _count_tokens(content)
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{number}_{index}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
            for index, (name, arguments) in enumerate(reply.tool_calls)
        ]
    else:
        message["content"] = content
    return {
        "id": f"chatcmpl-test-{number}",
        "object": "chat.completion",
        "created": int(clock.now().timestamp()),
        "model": str(request_json.get("model") or "test-model"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": reply.finish_reason,
            }
        ],
        "usage": usage,
    }
