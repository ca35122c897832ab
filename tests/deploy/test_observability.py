"""OpenTelemetry in the rendered files: OTEL_* reach each part, and nothing when it is off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from raw.deploy import check_deployment, render
from raw.errors import ConfigError

from .helpers import copy_system, find, load_all

OBSERVED = {
    "otlp_endpoint": "http://otel-collector.observability:4318",
    "sampler": "parentbased_traceidratio",
    "sampler_arg": 0.25,
    "resource_attributes": {"deployment.environment": "production"},
}
PARTS = {"api": "coordinator", "worker": "worker", "dispatcher": "dispatcher"}


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e for e in container.get("env", [])}


def _containers(path: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for doc in load_all(path):
        spec = doc["spec"]
        pod = spec["template"]["spec"] if "template" in spec else None
        if doc["kind"] == "CronJob":
            pod = spec["jobTemplate"]["spec"]["template"]["spec"]
        for container in (pod or {}).get("containers", []):
            found[f"{doc['metadata']['name']}/{container['name']}"] = container
    return found


def test_without_the_section_no_file_mentions_opentelemetry(rendered: Path) -> None:
    for path in rendered.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "OTEL_" not in text and "observability" not in text, path
    assert not (rendered / "otel-collector.yaml").exists()


def test_compose_passes_the_settings_to_each_part_from_dot_env(tmp_path: Path) -> None:
    project = copy_system(tmp_path / "sys", observability=OBSERVED)
    out = render(project).out
    services = load_all(out / "docker-compose.yml")[0]["services"]

    for role, part in PARTS.items():
        env = services[role]["environment"]
        assert env["OTEL_SERVICE_NAME"] == f"recruiting-{part}"
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == (
            "${OTEL_EXPORTER_OTLP_ENDPOINT:-http://otel-collector.observability:4318}"
        )
        assert env["OTEL_TRACES_SAMPLER"] == "${OTEL_TRACES_SAMPLER:-parentbased_traceidratio}"
        assert env["OTEL_TRACES_SAMPLER_ARG"] == "${OTEL_TRACES_SAMPLER_ARG:-0.25}"
        assert env["OTEL_RESOURCE_ATTRIBUTES"] == (
            "${OTEL_RESOURCE_ATTRIBUTES:-deployment.environment=production}"
        )
        assert env["OTEL_EXPORTER_OTLP_HEADERS"] == "${OTEL_EXPORTER_OTLP_HEADERS:-}"
    for one_shot in ("migrate", "temporal-setup"):
        assert not any(k.startswith("OTEL_") for k in services[one_shot]["environment"])
    example = (out / ".env.example").read_text()
    assert "\nOTEL_EXPORTER_OTLP_HEADERS=\n" in example
    assert "\nOTEL_EXPORTER_OTLP_ENDPOINT=\n" in example
    assert "otel-collector" not in services
    assert check_deployment(out, project=project).findings == []


def test_kubernetes_takes_the_values_from_the_config_and_headers_from_the_secret(
    tmp_path: Path,
) -> None:
    project = copy_system(tmp_path / "sys", observability=OBSERVED, schedules="cronjob")
    out = render(project).out
    containers = _containers(out / "k8s" / "deployment.yml")
    containers.update(_containers(out / "k8s" / "cronjobs.yml"))

    for role, part in {**PARTS, "cron": "cron"}.items():
        suffix = "/run" if role == "cron" else f"/{role}"  # a CronJob's container is `run`
        name = next(k for k in containers if k.endswith(suffix))
        env = _env(containers[name])
        assert env["OTEL_SERVICE_NAME"]["value"] == f"recruiting-{part}", name
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == OBSERVED["otlp_endpoint"]
        assert env["OTEL_TRACES_SAMPLER"]["value"] == "parentbased_traceidratio"
        assert env["OTEL_TRACES_SAMPLER_ARG"]["value"] == "0.25"
        assert env["OTEL_RESOURCE_ATTRIBUTES"]["value"] == "deployment.environment=production"
        headers = env["OTEL_EXPORTER_OTLP_HEADERS"]["valueFrom"]["secretKeyRef"]
        assert (headers["key"], headers["optional"]) == ("OTEL_EXPORTER_OTLP_HEADERS", True)
    for job in load_all(out / "k8s" / "jobs.yml"):
        for container in job["spec"]["template"]["spec"]["containers"]:
            assert not any(k.startswith("OTEL_") for k in _env(container)), job["metadata"]
    assert check_deployment(out, project=project).findings == []


def test_the_chart_sets_each_value_only_when_it_is_not_empty(tmp_path: Path) -> None:
    import helm_python

    project = copy_system(tmp_path / "sys", observability={})
    out = render(project).out
    chart = out / "helm" / "recruiting"
    values = yaml.safe_load((chart / "values.yaml").read_text())
    assert values["observability"] == {
        "otlpEndpoint": "",
        "sampler": "",
        "samplerArg": "",
        "resourceAttributes": "",
    }
    assert check_deployment(out, project=project).findings == []

    def worker_env(chosen: dict[str, Any] | None) -> dict[str, Any]:
        with helm_python.Chart.load(chart) as loaded:
            files = loaded.render(chosen, name="recruiting", namespace="default")
        text = next(t for name, t in files.items() if name.endswith("deployment.yaml"))
        documents = [d for d in yaml.safe_load_all(text) if d]
        worker = find(documents, "Deployment", "recruiting-worker")
        return _env(worker["spec"]["template"]["spec"]["containers"][0])

    off = worker_env(None)
    assert off["OTEL_SERVICE_NAME"]["value"] == "recruiting-worker"
    assert not {"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_SAMPLER"} & off.keys()
    on = worker_env({"observability": {"otlpEndpoint": "http://tempo:4318", "samplerArg": "0.5"}})
    assert on["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == "http://tempo:4318"
    assert on["OTEL_TRACES_SAMPLER_ARG"]["value"] == "0.5"
    assert "OTEL_TRACES_SAMPLER" not in on


def test_a_compose_collector_receives_otlp_and_exports_to_the_trace_store(tmp_path: Path) -> None:
    project = copy_system(
        tmp_path / "sys",
        observability={"collector": True, "collector_export": "http://jaeger:4318"},
    )
    out = render(project).out
    services = load_all(out / "docker-compose.yml")[0]["services"]

    collector = services["otel-collector"]
    assert collector["image"].startswith("otel/opentelemetry-collector-contrib:")
    assert collector["volumes"] == ["./otel-collector.yaml:/etc/otelcol-contrib/config.yaml:ro"]
    assert services["worker"]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == (
        "${OTEL_EXPORTER_OTLP_ENDPOINT:-http://otel-collector:4318}"
    )
    config = yaml.safe_load((out / "otel-collector.yaml").read_text())
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"] == "0.0.0.0:4318"
    assert config["exporters"]["otlphttp"] == {"endpoint": "http://jaeger:4318"}
    assert config["service"]["pipelines"]["traces"] == {
        "receivers": ["otlp"],
        "processors": ["batch"],
        "exporters": ["debug", "otlphttp"],
    }
    # Kubernetes runs no collector of its own: its endpoint stays unset.
    worker = _containers(out / "k8s" / "deployment.yml")["recruiting-worker/worker"]
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in _env(worker)
    assert check_deployment(out, project=project).findings == []

    # Switched off again: the collector's file goes with it.
    text = project.config_path.read_text().replace("collector: true", "collector: false")
    project.config_path.write_text(text)
    result = render(type(project)(project.root))
    assert result.removed == ["otel-collector.yaml"]
    assert "otel-collector" not in load_all(out / "docker-compose.yml")[0]["services"]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"otlp_endpoint": "collector:4318"}, "is not an http(s) URL"),
        ({"sampler": "sometimes"}, "sampler"),
        ({"sampler_arg": 2}, "sampler_arg"),
        ({"resource_attributes": {"team": "a,b"}}, "hold ',' or '='"),
        ({"collector_image": "otel/opentelemetry-collector-contrib"}, "is not pinned"),
    ],
)
def test_a_bad_observability_section_is_named(
    tmp_path: Path, section: dict[str, Any], message: str
) -> None:
    project = copy_system(tmp_path / "sys", observability=section)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        render(project)
