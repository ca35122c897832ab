"""raw.logs: one line format for every long-running part, trace ids from the active span."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from raw import logs
from raw.errors import UsageError


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    kit_level = logging.getLogger("raw").level
    uvicorn = [logging.getLogger(name) for name in logs.UVICORN_LOGGERS]
    saved = [(list(u.handlers), u.propagate, u.level) for u in uvicorn]
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("raw").setLevel(kit_level)
    for logger, (kept, propagate, was) in zip(uvicorn, saved, strict=True):
        logger.handlers[:] = kept
        logger.propagate = propagate
        logger.setLevel(was)
    logs._state.clear()


def _record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("raw.test", logging.WARNING, __file__, 1, message, args, None)


def test_a_json_line_has_the_fields_a_collector_needs() -> None:
    line = logs.JsonFormatter("dispatcher", environ={}).format(_record("claimed %d", 3))

    doc = json.loads(line)
    assert doc["level"] == "warning"
    assert doc["logger"] == "raw.test"
    assert doc["message"] == "claimed 3"
    assert doc["part"] == "dispatcher"
    assert doc["timestamp"].endswith("Z") and doc["timestamp"][:4].isdigit()
    assert "trace_id" not in doc and "exception" not in doc


def test_a_line_inside_an_active_span_carries_that_spans_ids() -> None:
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("test")
    json_formatter = logs.JsonFormatter("worker", environ={})
    text_formatter = logs.TextFormatter(environ={})
    with tracer.start_as_current_span("run analyze-cv") as span:
        context = span.get_span_context()
        inside = json.loads(json_formatter.format(_record("inside")))
        text = text_formatter.format(_record("inside"))
    outside = json.loads(json_formatter.format(_record("outside")))

    assert inside["trace_id"] == format(context.trace_id, "032x")
    assert inside["span_id"] == format(context.span_id, "016x")
    assert len(inside["trace_id"]) == 32 and len(inside["span_id"]) == 16
    assert text.endswith(f"trace_id={inside['trace_id']} span_id={inside['span_id']}")
    assert "trace_id" not in outside


def test_with_tracing_off_logging_never_loads_opentelemetry() -> None:
    script = textwrap.dedent("""
        import logging, sys
        from raw import console, logs
        logs.configure("coordinator", "json")
        logging.getLogger("raw.coordinator").warning("a line")
        console.err("raw serve: a line of the command")
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("raw.coordinator").exception("failed")
        loaded = sorted(m for m in sys.modules if m.startswith("opentelemetry"))
        print(loaded)
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [line["message"] for line in lines] == [
        "a line",
        "raw serve: a line of the command",
        "failed",
    ]
    assert "ValueError: boom" in lines[2]["exception"]
    assert all("trace_id" not in line for line in lines)


def test_secrets_never_reach_a_line() -> None:
    environ = {
        "RAW_API_TOKEN": "tok-0123456789abcdef",
        "RAW_CV_SECRET": "whsec_supersecret",
        "DATABASE_URL": "postgresql://raw:pg-password-42@db:5432/raw",
        "PWD": "/srv/app",
    }
    formatter = logs.JsonFormatter("coordinator", environ=environ)
    try:
        raise RuntimeError("token tok-0123456789abcdef refused")
    except RuntimeError:
        record = _record(
            "connecting to %s with %s in %s",
            "postgresql://raw:pg-password-42@db:5432/raw",
            "whsec_supersecret",
            "/srv/app",
        )
        record.exc_info = sys.exc_info()
    line = formatter.format(record)
    text = logs.TextFormatter(environ=environ).format(record)

    for secret in ("tok-0123456789abcdef", "whsec_supersecret", "pg-password-42"):
        assert secret not in line and secret not in text
    doc = json.loads(line)
    assert doc["message"] == "connecting to postgresql://raw:***@db:5432/raw with *** in /srv/app"
    assert "token *** refused" in doc["exception"]


def test_uvicorns_access_lines_are_structured_and_lose_query_secrets(
    restore_logging: None,
) -> None:
    out = io.StringIO()
    access = logging.getLogger("uvicorn.access")
    access.propagate = False  # as uvicorn's own logging config leaves it
    access.addHandler(logging.NullHandler())
    logs.configure("coordinator", "json", stream=out)
    access.setLevel(logging.INFO)
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "GET",
        "/operator?token=abcdef123456&page=2",
        "1.1",
        200,
    )

    doc = json.loads(out.getvalue())
    assert doc["http"] == {
        "client": "127.0.0.1:5000",
        "method": "GET",
        "path": "/operator?token=***&page=2",
        "status": 200,
    }
    assert "abcdef123456" not in out.getvalue()
    assert doc["logger"] == "uvicorn.access" and doc["part"] == "coordinator"
    assert access.handlers == [] and access.propagate


def test_configure_keeps_one_handler_and_the_kits_info_lines(restore_logging: None) -> None:
    first, second = io.StringIO(), io.StringIO()
    logs.configure("worker", "text", stream=first)
    logs.configure("worker", "json", stream=second)
    logging.getLogger("raw.workflow").info("step done")
    logging.getLogger("some.library").info("chatter")  # third parties: warnings and up

    assert first.getvalue() == ""
    assert [json.loads(line)["message"] for line in second.getvalue().splitlines()] == ["step done"]
    assert logs.structured()


def test_the_format_comes_from_the_flag_then_the_setting_then_the_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(logs.ENV, raising=False)
    assert logs.resolve_format() == "text"
    assert logs.resolve_format(None, "json") == "json"
    monkeypatch.setenv(logs.ENV, "JSON")
    assert logs.resolve_format(None, "text") == "json"
    assert logs.resolve_format("text", "json") == "text"
    monkeypatch.setenv(logs.ENV, "xml")
    with pytest.raises(UsageError, match="RAW_LOG_FORMAT is 'xml': give one of text, json"):
        logs.resolve_format()


def test_a_plain_line_is_wrapped_for_raw_up() -> None:
    doc = json.loads(logs.json_line("hello", part="api", logger="raw.up.api"))
    assert (doc["message"], doc["part"], doc["logger"], doc["level"]) == (
        "hello",
        "api",
        "raw.up.api",
        "info",
    )
