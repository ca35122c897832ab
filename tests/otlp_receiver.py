"""A local OTLP/HTTP receiver: what a collector would get, decoded with opentelemetry-proto.

``with OtlpReceiver() as receiver:`` serves ``POST /v1/traces`` on 127.0.0.1 (the SDK's
OTLP/HTTP exporter posts there when ``OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint``),
decodes each ``ExportTraceServiceRequest`` and keeps every span with its resource's
attributes. :class:`OtlpGrpcReceiver` is the same over OTLP/gRPC
(``OTEL_EXPORTER_OTLP_PROTOCOL=grpc``). Tests wait for the spans they need
(:meth:`OtlpReceiver.wait_for`), never for a guessed time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


@dataclass
class Span:
    """One received span, with its resource's attributes."""

    name: str
    trace_id: str
    span_id: str
    parent_id: str
    kind: int
    start_ns: int
    end_ns: int
    status_code: int
    attributes: dict[str, Any]
    resource: dict[str, Any]
    links: list[tuple[str, str]] = field(default_factory=list)
    """The (trace id, span id) of each span this one links to."""
    children: list[Span] = field(default_factory=list)

    @property
    def service(self) -> str:
        return str(self.resource.get("service.name", "?"))

    @property
    def process(self) -> str:
        """The raw process role and its pid: ``worker/1234``."""
        return f"{self.resource.get('raw.process', '?')}/{self.resource.get('process.pid', '?')}"

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


class _Spans:
    """The spans a receiver got, and waiting for them."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.requests = 0
        self._changed = threading.Condition()

    def _add(self, request: ExportTraceServiceRequest) -> None:
        received = []
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for s in scope_spans.spans:
                    received.append(
                        Span(
                            name=s.name,
                            trace_id=s.trace_id.hex(),
                            span_id=s.span_id.hex(),
                            parent_id=s.parent_span_id.hex(),
                            kind=s.kind,
                            start_ns=s.start_time_unix_nano,
                            end_ns=s.end_time_unix_nano,
                            status_code=s.status.code,
                            attributes={a.key: _value(a.value) for a in s.attributes},
                            resource=resource,
                            links=[(k.trace_id.hex(), k.span_id.hex()) for k in s.links],
                        )
                    )
        with self._changed:
            self.spans += received
            self.requests += 1
            self._changed.notify_all()

    def wait_for(
        self, found: Callable[[list[Span]], Any], *, within: float = 60, what: str = "spans"
    ) -> Any:
        """Wait until ``found(spans)`` is truthy; returns it (fails after ``within`` seconds)."""
        deadline = time.monotonic() + within
        with self._changed:
            while True:
                answer = found(list(self.spans))
                if answer:
                    return answer
                left = deadline - time.monotonic()
                assert left > 0, f"no {what} arrived; got {sorted({s.name for s in self.spans})}"
                self._changed.wait(left)

    def trace(self, trace_id: str) -> list[Span]:
        return [s for s in self.spans if s.trace_id == trace_id]


class OtlpReceiver(_Spans):
    """An OTLP/HTTP trace endpoint on 127.0.0.1, in a thread, for one test."""

    def __init__(self) -> None:
        super().__init__()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path != "/v1/traces":
                    self.send_error(404)
                    return
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                receiver._add(request)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class OtlpGrpcReceiver(_Spans):
    """An OTLP/gRPC trace endpoint on 127.0.0.1 (``TraceService/Export``), for one test.

    The SDK's gRPC exporter reaches it with ``OTEL_EXPORTER_OTLP_PROTOCOL=grpc`` and
    ``OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint`` (``http://``: no TLS).
    """

    def __init__(self) -> None:
        super().__init__()
        receiver = self

        class Service(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(  # noqa: N802 (the service's name)
                self, request: ExportTraceServiceRequest, context: Any
            ) -> ExportTraceServiceResponse:
                receiver._add(request)
                return ExportTraceServiceResponse()

        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Service(), self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self.endpoint = f"http://127.0.0.1:{port}"

    def __enter__(self) -> OtlpGrpcReceiver:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop(grace=None).wait()


def tree(spans: list[Span]) -> list[Span]:
    """The roots of ``spans`` (one trace), each span's children filled in, by start time."""
    by_id = {s.span_id: s for s in spans}
    for s in spans:
        s.children = []
    roots = []
    for s in sorted(spans, key=lambda s: s.start_ns):
        parent = by_id.get(s.parent_id)
        if parent is None:
            roots.append(s)
        else:
            parent.children.append(s)
    return roots


def render(spans: list[Span]) -> str:
    """The trace as an indented tree: name, service, process and duration of each span."""
    lines: list[str] = []

    def walk(nodes: list[Span], depth: int) -> None:
        for s in nodes:
            lines.append(
                f"{'  ' * depth}{s.name}  [{s.service} {s.process}]  {s.duration_ms:.1f} ms"
            )
            walk(s.children, depth + 1)

    walk(tree(spans), 0)
    return "\n".join(lines)
