"""OpenTelemetry tracing: off unless the standard ``OTEL_*`` settings switch it on.

On when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is
set, unless ``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none``. Then
:func:`setup` installs the SDK's ``TracerProvider`` with the OTLP exporter behind a
``BatchSpanProcessor``: OTLP/HTTP, or OTLP/gRPC when ``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL``
(or ``OTEL_EXPORTER_OTLP_PROTOCOL``) is ``grpc``; another value (``http/json``) is said
once and exported over OTLP/HTTP. The SDK itself reads the other standard settings
(``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER``,
``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_BSP_*``). Without ``OTEL_SERVICE_NAME`` each
process is named for its role (``raw-coordinator``, ``raw-dispatcher``, ``raw-worker``,
``raw-run``); the ``raw.process`` resource attribute carries the role either way.

Off means off: with no endpoint set nothing here imports OpenTelemetry, and each
helper returns at once (a look at two environment variables). With the endpoint set
but the ``observability`` extra missing, one warning says so and the process runs
untraced.

The first :func:`setup` of a process decides (``raw serve``, ``raw dispatcher``,
``raw worker`` call it at start; a run calls it with ``run`` when nothing did), and the
spans are flushed at exit (:func:`shutdown`, also called by ``raw.console.leave``).

The helpers the kits use: :func:`span` (a span around a block, optionally parented to
a W3C ``traceparent``), :func:`start_span` (one ended later, e.g. a run or a step),
:func:`current_traceparent`, :func:`current_trace_id`, :func:`traced` (a decorator for
an integration call) and :func:`record_span` (a span for work that already ended, e.g.
an LLM request). Attributes must never carry secrets, prompts or message bodies.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from raw import clock
from raw._loggers import logger

__all__ = [
    "ENDPOINT_SETTINGS",
    "TRACEPARENT_SETTING",
    "PROTOCOL_SETTINGS",
    "OpenSpan",
    "current_trace_id",
    "current_traceparent",
    "enabled",
    "instrument_fastapi",
    "instrument_httpx",
    "instrument_sqlalchemy",
    "passthrough_modules",
    "protocol",
    "record_span",
    "setup",
    "shutdown",
    "span",
    "start_span",
    "temporal_interceptors",
    "traced",
    "untraced",
    "wanted",
]

ENDPOINT_SETTINGS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
"""Either one switches tracing on (the OTLP/HTTP exporter reads them as the SDK documents)."""

PROTOCOL_SETTINGS = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
"""The exporter's protocol, the first set wins: ``grpc`` or ``http/protobuf`` (the default)."""

TRACEPARENT_SETTING = "TRACEPARENT"
"""The environment variable that carries a W3C traceparent to a child process (a run)."""

_log = logger("raw.tracing")
_lock = threading.Lock()
_decided = False
_provider: Any = None
_instrumented: set[str] = set()

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def wanted(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the environment asks for traces (no OpenTelemetry import: a look at the env)."""
    env = os.environ if environ is None else environ
    if not any(env.get(name, "").strip() for name in ENDPOINT_SETTINGS):
        return False
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = [e.strip().lower() for e in env.get("OTEL_TRACES_EXPORTER", "").split(",")]
    return not (any(exporters) and all(e in ("none", "") for e in exporters))


def enabled() -> bool:
    """Whether this process exports traces (:func:`setup` succeeded)."""
    return _provider is not None


def setup(role: str) -> bool:
    """Switch tracing on for this process if the environment asks; True when it is on.

    ``role`` names the process (``coordinator``, ``dispatcher``, ``worker``, ``run``):
    the default service name is ``raw-<role>``. The first call decides; later calls
    return its answer.
    """
    global _decided, _provider
    if _decided:
        return _provider is not None
    with _lock:
        if _decided:
            return _provider is not None
        _decided = True
        if not wanted():
            return False
        try:
            # Lazy: off means no OpenTelemetry module is loaded; on, only once.
            from opentelemetry import trace
            from opentelemetry.sdk.resources import SERVICE_NAME, Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor

            exporter = _exporter()
        except ImportError as exc:
            _log.warning(
                "OTEL_EXPORTER_OTLP_ENDPOINT is set, but the observability extra is not "
                "installed (%s is missing): this process runs untraced. Install it with "
                "pip install 'raw-systems[observability]'.",
                exc.name,
            )
            return False
        resource = Resource.create({"raw.process": role, "process.pid": os.getpid()})
        if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
            resource = resource.merge(Resource({SERVICE_NAME: f"raw-{role}"}))
        provider = TracerProvider(resource=resource)  # the sampler from OTEL_TRACES_SAMPLER
        provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        _provider = provider
        atexit.register(shutdown)
    instrument_httpx()  # every part calls out over httpx: LLMs, telephony, the coordinator
    return True


def protocol(environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The OTLP protocol asked for, and the setting that asked (``http/protobuf`` unset)."""
    env = os.environ if environ is None else environ
    for name in PROTOCOL_SETTINGS:
        value = env.get(name, "").strip().lower()
        if value:
            return value, name
    return "http/protobuf", ""


def _exporter() -> Any:
    """The OTLP span exporter for the protocol setting: gRPC, else HTTP (warning once why)."""
    asked, setting = protocol()
    if asked == "grpc":
        try:
            # Lazy: only reached when tracing is on and gRPC is asked for.
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcExporter,
            )
        except ImportError as exc:
            _log.warning(
                "%s=grpc, but the OTLP/gRPC exporter is not installed (%s is missing): "
                "exporting over OTLP/HTTP instead. Install it with pip install "
                "'raw-systems[observability]'.",
                setting,
                exc.name,
            )
        else:
            return GrpcExporter()
    elif asked != "http/protobuf":
        _log.warning(
            "%s=%s is not supported (grpc and http/protobuf are): exporting over "
            "OTLP/HTTP (http/protobuf) instead.",
            setting,
            asked,
        )
    # Lazy: only reached when tracing is on.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def shutdown() -> None:
    """Flush the spans not yet exported and stop exporting (at exit; safe to call twice)."""
    global _provider
    provider, _provider = _provider, None
    if provider is not None:
        try:
            provider.shutdown()
        except Exception as exc:  # a collector that went away must not fail the exit
            _log.warning("Could not flush the last spans: %s", exc)


def _on() -> bool:
    """Tracing is on here: set up already, or wanted and set up now as a run's process."""
    if _provider is not None:
        return True
    if _decided or not wanted():
        return False
    return setup("run")


def _tracer() -> Any:
    # Lazy: only reached when tracing is on.
    from opentelemetry import trace

    return trace.get_tracer("raw")


def _context_of(traceparent: str | None) -> Any:
    """The OpenTelemetry context a W3C traceparent names (None: none given)."""
    if not traceparent:
        return None
    # Lazy: only reached when tracing is on.
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator().extract({"traceparent": traceparent})


def _clean(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (attributes or {}).items() if v is not None}


class OpenSpan:
    """A span started by :func:`start_span`, made current with :meth:`attach`, ended once."""

    def __init__(self, span: Any) -> None:
        self._span = span
        self._ended = False

    @property
    def trace_id(self) -> str:
        return format(self._span.get_span_context().trace_id, "032x")

    def attach(self) -> Any:
        """Make this span the current one (in this context) until :meth:`detach`."""
        # Lazy: only reached when tracing is on.
        from opentelemetry import context, trace

        return context.attach(trace.set_span_in_context(self._span))

    @staticmethod
    def detach(token: Any) -> None:
        # Lazy: only reached when tracing is on.
        from opentelemetry import context

        context.detach(token)

    def set(self, **attributes: Any) -> None:
        for name, value in _clean(attributes).items():
            self._span.set_attribute(name, value)

    def end(self, *, error: BaseException | str | None = None, **attributes: Any) -> None:
        """Set ``attributes``, mark an error (its type only: messages can quote data), end."""
        if self._ended:
            return
        self._ended = True
        # Lazy: only reached when tracing is on.
        from opentelemetry.trace import Status, StatusCode

        self.set(**attributes)
        if error is not None:
            kind = error if isinstance(error, str) else type(error).__name__
            self._span.set_attribute("error.type", kind)
            self._span.set_status(Status(StatusCode.ERROR, kind))
        self._span.end()


def start_span(
    name: str,
    *,
    attributes: Mapping[str, Any] | None = None,
    parent: str | None = None,
    root: bool = False,
    links: Iterable[str | None] = (),
) -> OpenSpan | None:
    """Start a span (a child of the current one, or of ``parent``); None when tracing is off.

    With no current span and no ``parent`` the span reads ``TRACEPARENT`` (a process
    started for a traced caller), else it starts a trace of its own. ``root``: a trace
    of its own whatever is current (when no ``parent`` is given). ``links``: the W3C
    traceparents of spans this one relates to without being their child (OTel span
    links; None and invalid ones are skipped), e.g. the requests a shared batch serves.
    """
    if not _on():
        return None
    # Lazy: only reached when tracing is on.
    from opentelemetry import context as otel_context
    from opentelemetry import trace

    context = _context_of(parent)
    if context is None and root:
        context = otel_context.Context()  # no parent: a new trace
    elif context is None and not trace.get_current_span().get_span_context().is_valid:
        context = _context_of(os.environ.get(TRACEPARENT_SETTING))
    linked = [trace.get_current_span(_context_of(tp)).get_span_context() for tp in links if tp]
    return OpenSpan(
        _tracer().start_span(
            name,
            context=context,
            attributes=_clean(attributes),
            links=[trace.Link(c) for c in linked if c.is_valid],
        )
    )


@contextlib.contextmanager
def span(
    name: str,
    *,
    attributes: Mapping[str, Any] | None = None,
    parent: str | None = None,
    root: bool = False,
    links: Iterable[str | None] = (),
) -> Iterator[OpenSpan | None]:
    """A current span around the block (None when off); an exception marks it failed."""
    opened = start_span(name, attributes=attributes, parent=parent, root=root, links=links)
    if opened is None:
        yield None
        return
    token = opened.attach()
    try:
        yield opened
    except BaseException as exc:
        opened.end(error=exc)
        raise
    finally:
        opened.detach(token)
        opened.end()


def traced(name: str, *, integration: str, adapter: str) -> Callable[[F], F]:
    """Trace an async integration call as ``name``, with its integration and adapter only."""
    attributes = {"raw.integration": integration, "raw.adapter": adapter}

    def decorate(func: F) -> F:
        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not _on():
                return await func(*args, **kwargs)
            with span(name, attributes=attributes):
                return await func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def record_span(
    name: str,
    *,
    started_monotonic: float,
    attributes: Mapping[str, Any] | None = None,
    error: BaseException | None = None,
) -> None:
    """A span for work that began at ``started_monotonic`` (``raw.clock``) and ends now."""
    if not _on():
        return
    elapsed = max(clock.monotonic() - started_monotonic, 0.0)
    end_ns = int(clock.now().timestamp() * 1e9)
    opened = _tracer().start_span(
        name, start_time=end_ns - int(elapsed * 1e9), attributes=_clean(attributes)
    )
    if error is not None:
        # Lazy: only reached when tracing is on.
        from opentelemetry.trace import Status, StatusCode

        opened.set_attribute("error.type", type(error).__name__)
        opened.set_status(Status(StatusCode.ERROR, type(error).__name__))
    opened.end(end_time=end_ns)


def current_traceparent() -> str | None:
    """The W3C traceparent of the current span, or None (off, or no span)."""
    if _provider is None:
        return None
    # Lazy: only reached when tracing is on.
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    if not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get("traceparent")


def current_trace_id() -> str | None:
    """The 32-hex trace id of the current span, or None (off, or no span)."""
    if _provider is None:
        return None
    # Lazy: only reached when tracing is on.
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace id inside a W3C traceparent (``00-<trace id>-<span id>-<flags>``), or None."""
    parts = (traceparent or "").split("-")
    if len(parts) == 4 and len(parts[1]) == 32 and parts[1] != "0" * 32:
        return parts[1]
    return None


# -- the official instrumentations and Temporal's interceptor, when on


def _once(name: str) -> bool:
    with _lock:
        if name in _instrumented:
            return False
        _instrumented.add(name)
        return True


def instrument_fastapi(app: Any) -> None:
    """FastAPI's instrumentation on ``app`` (a server span per request), when on."""
    if _provider is None or getattr(app.state, "raw_traced", False):
        return
    # Lazy: only reached when tracing is on.
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # The probes and metrics are polled all day: spans of them would bury the deliveries.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="/health,/ready,/metrics")
    app.state.raw_traced = True


def instrument_sqlalchemy() -> None:
    """SQLAlchemy's instrumentation for the engines created from now on, when on."""
    if _provider is None or not _once("sqlalchemy"):
        return
    # Lazy: only reached when tracing is on.
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # 0.66b2 declares sqlalchemy < 2.1 and would refuse 2.1 with a warning; the engine
    # events it hooks are unchanged in 2.1 (tests/test_tracing.py sees its spans).
    SQLAlchemyInstrumentor().instrument(skip_dep_check=True)


@contextlib.contextmanager
def untraced() -> Iterator[None]:
    """No instrumentation's spans inside the block (a poll that runs all day), when on."""
    if _provider is None:
        yield
        return
    # Lazy: only reached when tracing is on.
    from opentelemetry.instrumentation.utils import suppress_instrumentation

    with suppress_instrumentation():
        yield


def instrument_httpx() -> None:
    """httpx's instrumentation for every client, when on."""
    if _provider is None or not _once("httpx"):
        return
    # Lazy: only reached when tracing is on.
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor().instrument()


def temporal_interceptors() -> list[Any]:
    """Temporal's ``TracingInterceptor`` for a client (its workers inherit it), when on."""
    if not _on():
        return []
    # Lazy: only reached when tracing is on.
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


def passthrough_modules() -> tuple[str, ...]:
    """Modules a workflow sandbox must pass through for the interceptor's workflow side."""
    return ("opentelemetry",) if _on() else ()
