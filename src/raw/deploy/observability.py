"""OpenTelemetry in the rendered files: the ``OTEL_*`` settings of each part, and a collector.

With ``system.deploy.observability`` set, every part that does traced work (the api as
``<system>-coordinator``, the worker, the dispatcher, the CronJobs' runs) gets:

    OTEL_SERVICE_NAME             <system>-<part>
    OTEL_EXPORTER_OTLP_ENDPOINT   the collector (empty: tracing off)
    OTEL_TRACES_SAMPLER(_ARG)     the sampler
    OTEL_RESOURCE_ATTRIBUTES      k=v,... (deployment.environment, ...)
    OTEL_EXPORTER_OTLP_HEADERS    from the Secret / .env, optional (a vendor's API key)

Compose reads each from ``.env`` with the config's value as the default
(``${OTEL_EXPORTER_OTLP_ENDPOINT:-http://otel-collector:4318}``); ``k8s/`` writes the
config's values; the Helm chart takes them from ``observability.*`` values and writes an
entry only when its value is not empty. Without the section nothing here is rendered:
the files are the same as before it existed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raw.deploy.plan import OTLP_HEADERS
from raw.deploy.values import dump_yaml

if TYPE_CHECKING:
    from raw.config.deploy import ObservabilityDeploy
    from raw.deploy.plan import Plan
    from raw.deploy.values import Values

__all__ = [
    "COLLECTOR_CONFIG",
    "COLLECTOR_SERVICE",
    "HEADERS",
    "PARTS",
    "collector_config",
    "collector_service",
    "compose_env",
    "env_example_lines",
    "kube_env",
    "service_name",
]

PARTS = {"api": "coordinator", "worker": "worker", "dispatcher": "dispatcher", "cron": "cron"}
"""The roles whose work is traced, and the part each is named after."""
HEADERS = OTLP_HEADERS
COLLECTOR_SERVICE = "otel-collector"
COLLECTOR_CONFIG = "otel-collector.yaml"
COLLECTOR_ENDPOINT = f"http://{COLLECTOR_SERVICE}:4318"
_SDK_SAMPLER = "parentbased_always_on"


def service_name(plan: Plan, role: str) -> str:
    return f"{plan.name}-{PARTS[role]}"


def _values(config: ObservabilityDeploy, *, compose: bool) -> list[tuple[str, str, str, str]]:
    """(setting, Helm value, its default from the config, what it means)."""
    own_collector = compose and config.collector  # Compose's: Kubernetes runs none of its own
    endpoint = config.otlp_endpoint or (COLLECTOR_ENDPOINT if own_collector else "")
    arg = "" if config.sampler_arg is None else f"{config.sampler_arg:g}"
    attributes = ",".join(f"{k}={v}" for k, v in config.resource_attributes.items())
    return [
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "observability.otlpEndpoint",
            endpoint,
            "OTLP/HTTP endpoint of the collector, e.g. http://otel-collector:4318; "
            "empty: tracing off.",
        ),
        (
            "OTEL_TRACES_SAMPLER",
            "observability.sampler",
            config.sampler or "",
            "e.g. parentbased_traceidratio; empty: the SDK's parentbased_always_on.",
        ),
        (
            "OTEL_TRACES_SAMPLER_ARG",
            "observability.samplerArg",
            arg,
            "The ratio of the traceidratio samplers, e.g. '0.1'.",
        ),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "observability.resourceAttributes",
            attributes,
            "k=v,... on every span, e.g. deployment.environment=production.",
        ),
    ]


def compose_env(plan: Plan, role: str) -> dict[str, str]:
    """The ``OTEL_*`` of a Compose service, each from ``.env`` with the config's default."""
    config = plan.deploy.observability
    if config is None or role not in PARTS:
        return {}
    env = {"OTEL_SERVICE_NAME": service_name(plan, role)}
    for name, value in _compose_values(config):
        env[name] = f"${{{name}:-{value}}}"
    return env


def _compose_values(config: ObservabilityDeploy) -> list[tuple[str, str]]:
    """Compose's defaults: an empty sampler setting makes the SDK warn, so it gets the
    value the SDK would choose."""
    sdk = {"OTEL_TRACES_SAMPLER": _SDK_SAMPLER, "OTEL_TRACES_SAMPLER_ARG": "1.0"}
    return [
        (name, value or sdk.get(name, "")) for name, _, value, _ in _values(config, compose=True)
    ]


def env_example_lines(plan: Plan) -> list[str]:
    """``.env.example``'s OpenTelemetry lines: each may replace the rendered default."""
    config = plan.deploy.observability
    if config is None:
        return []
    lines = ["# OpenTelemetry (optional): empty keeps what system.deploy.observability rendered"]
    for name, value in _compose_values(config):
        lines += [f"# {name}, default: {value or 'empty'}", f"{name}="]
    return lines


def kube_env(plan: Plan, v: Values, role: str) -> list[dict[str, Any]]:
    """The ``OTEL_*`` env entries of a container (Helm: each only when its value is set)."""
    config = plan.deploy.observability
    if config is None or role not in PARTS:
        return []
    env: list[Any] = [{"name": "OTEL_SERVICE_NAME", "value": service_name(plan, role)}]
    for name, path, value, doc in _values(config, compose=False):
        env += v.env_when(name, path, value, doc)
    return env


def collector_service(plan: Plan) -> dict[str, Any] | None:
    """Compose's OpenTelemetry Collector, when ``collector`` is on."""
    config = plan.deploy.observability
    if config is None or not config.collector:
        return None
    return {
        "image": config.collector_image,
        "command": ["--config=/etc/otelcol-contrib/config.yaml"],
        "volumes": [f"./{COLLECTOR_CONFIG}:/etc/otelcol-contrib/config.yaml:ro"],
        "ports": ["4317:4317", "4318:4318"],
        "restart": "unless-stopped",
    }


def collector_config(plan: Plan) -> str | None:
    """The collector's config: OTLP in (gRPC 4317, HTTP 4318), batched, out to the debug
    exporter and, with ``collector_export``, to a trace store by OTLP/HTTP."""
    config = plan.deploy.observability
    if config is None or not config.collector:
        return None
    exporters: dict[str, Any] = {"debug": {"verbosity": "basic"}}
    if config.collector_export:
        exporters["otlphttp"] = {"endpoint": config.collector_export}
    document = {
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": "0.0.0.0:4317"},
                    "http": {"endpoint": "0.0.0.0:4318"},
                }
            }
        },
        "processors": {"batch": {}},
        "exporters": exporters,
        "service": {
            "pipelines": {
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["batch"],
                    "exporters": list(exporters),
                }
            }
        },
    }
    head = f"# The OpenTelemetry Collector beside {plan.name}: rendered by `raw deploy render`.\n"
    return head + dump_yaml(document)
