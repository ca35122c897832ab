"""Trace ids on the operator page: a link into the trace viewer when one is configured."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from raw.config.observability import ObservabilityConfig, trace_link, trace_url_template
from raw.errors import ConfigError

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"
JAEGER = "http://localhost:16686/trace/{trace_id}"
TEMPO = (
    'https://grafana.example.com/explore?left={"datasource":"tempo",'
    '"queries":[{"query":"{trace_id}","queryType":"traceql"}]}'
)
HONEYCOMB = (
    "https://ui.honeycomb.io/acme/environments/prod/trace?trace_id={trace_id}&span={span_id}"
)


def test_a_trace_id_becomes_the_viewers_link() -> None:
    assert trace_link(TRACE, JAEGER) == f"http://localhost:16686/trace/{TRACE}"
    assert trace_link(TRACE, TEMPO) == (
        'https://grafana.example.com/explore?left={"datasource":"tempo",'
        f'"queries":[{{"query":"{TRACE}","queryType":"traceql"}}]}}'
    )
    assert trace_link(TRACE, HONEYCOMB, SPAN) == (
        f"https://ui.honeycomb.io/acme/environments/prod/trace?trace_id={TRACE}&span={SPAN}"
    )
    assert trace_link(TRACE, HONEYCOMB).endswith("&span=")  # no span: left empty


@pytest.mark.parametrize("value", [None, "", "not-a-trace", TRACE.upper(), TRACE + "0"])
def test_no_link_without_a_template_or_for_what_is_not_a_trace_id(value: str | None) -> None:
    assert trace_link(TRACE, None) is None
    assert trace_link(value, JAEGER) is None


def test_the_setting_wins_over_the_config_and_a_bad_template_is_named() -> None:
    assert trace_url_template(JAEGER, {}) == JAEGER
    assert trace_url_template(JAEGER, {"RAW_TRACE_URL": HONEYCOMB}) == HONEYCOMB
    assert trace_url_template(None, {"RAW_TRACE_URL": "  "}) is None
    with pytest.raises(ConfigError, match="RAW_TRACE_URL: 'http://x/trace' has no {trace_id}"):
        trace_url_template(None, {"RAW_TRACE_URL": "http://x/trace"})
    with pytest.raises(ValueError, match="is not an http\\(s\\) URL template"):
        ObservabilityConfig(trace_url="javascript:alert(1)//{trace_id}")


def _renderer(configured: str | None, environ: dict[str, str]) -> Any:
    from raw.coordinator.operator.context import Operator
    from raw.coordinator.operator.render import Renderer

    system = SimpleNamespace(name="ops", observability=ObservabilityConfig(trace_url=configured))
    coordinator = SimpleNamespace(
        settings=SimpleNamespace(api_token_setting="RAW_API_TOKEN", token=lambda: None),
        config=SimpleNamespace(webhooks=[]),
        db=SimpleNamespace(url="sqlite:///ops.db"),
        project=SimpleNamespace(
            config=SimpleNamespace(system=system, name="ops"), root=Path("/srv/ops")
        ),
    )
    operator = Operator(coordinator, environ=environ)  # type: ignore[arg-type]
    return Renderer(operator, base_path="/operator")


def _fact(renderer: Any, record: object) -> str:
    return str(renderer.env.from_string("{{ trace_fact(r) }}").render(r=record))


def test_the_macro_links_a_records_trace_id_when_a_viewer_is_set() -> None:
    renderer = _renderer(JAEGER, {})
    html = _fact(renderer, SimpleNamespace(trace_id=TRACE))
    assert html == (
        f'<div><dt>Trace</dt><dd><a href="http://localhost:16686/trace/{TRACE}" '
        'rel="noopener noreferrer" title="Open the trace in the trace viewer">'
        f"<code>{TRACE}</code></a></dd></div>"
    )
    tempo = _fact(_renderer(None, {"RAW_TRACE_URL": TEMPO}), {"trace_id": TRACE})
    assert 'href="https://grafana.example.com/explore?left={&#34;datasource&#34;' in tempo


def test_the_macro_shows_plain_text_without_a_viewer_and_nothing_without_a_trace() -> None:
    renderer = _renderer(None, {})
    assert _fact(renderer, SimpleNamespace(trace_id=TRACE)) == (
        f"<div><dt>Trace</dt><dd><code>{TRACE}</code></dd></div>"
    )
    assert _fact(renderer, SimpleNamespace(trace_id=None)) == ""
    assert _fact(renderer, SimpleNamespace(run_id="r-1")) == ""  # a record before tracing
    hostile = "<script>x</script>"
    assert "<script>" not in _fact(_renderer(JAEGER, {}), SimpleNamespace(trace_id=hostile))


def test_a_bad_trace_url_setting_stops_the_operator_page_at_start() -> None:
    with pytest.raises(ConfigError, match="RAW_TRACE_URL"):
        _renderer(None, {"RAW_TRACE_URL": "ftp://viewer/{trace_id}"})
