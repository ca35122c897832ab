"""`raw deploy render`: the files a system's config gives, and that they pass the check."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raw.deploy import check_deployment, render

from .helpers import copy_system, find, load_all, raw

if TYPE_CHECKING:
    from raw.deploy import CheckReport
    from raw.project import Project

HIRING = Path(__file__).parents[2] / "examples" / "hiring"


def test_render_writes_the_image_compose_k8s_and_a_chart(rendered: Path) -> None:
    files = {p.relative_to(rendered).as_posix() for p in rendered.rglob("*") if p.is_file()}

    assert {
        "Dockerfile",
        "Dockerfile.dockerignore",
        "docker-compose.yml",
        ".env.example",
        "k8s/config.yml",
        "k8s/deployment.yml",
        "k8s/service.yml",
        "k8s/ingress.yml",
        "k8s/postgres.yml",
        "k8s/temporal.yml",
        "k8s/jobs.yml",
        "helm/recruiting/Chart.yaml",
        "helm/recruiting/values.yaml",
        "helm/recruiting/values.schema.json",
        "helm/recruiting/templates/deployment.yaml",
    } <= files
    assert "k8s/cronjobs.yml" not in files  # schedules are Temporal Schedules by default


def test_the_rendered_system_passes_the_check(clean_report: CheckReport) -> None:
    assert clean_report.findings == []
    assert clean_report.checked == {
        "dockerfile": 1,
        "context_files": 6,
        "compose_services": 11,
        "k8s_objects": 15,
        "helm_objects": 15,
    }


def test_raw_deploy_check_passes_through_the_cli(deploy_project: Project, rendered: Path) -> None:
    result = raw("deploy", "check", "--json", cwd=deploy_project.root)

    assert result.code == 0, result.stdout + result.stderr
    doc = result.json()
    assert (doc["ok"], doc["findings"], doc["exit_code"]) == (True, [], 0)
    assert doc["kubernetes_version"] == "1.37.0"
    assert doc["directory"] == str(rendered)


def test_render_json_lists_files_and_the_secret_keys(tmp_path: Path) -> None:
    project = copy_system(tmp_path / "sys")

    result = raw("deploy", "render", "--out", "out", "--json", cwd=project.root)

    assert result.code == 0, result.stderr
    doc = result.json()
    assert doc["out"] == str(project.root / "out")
    assert doc["image"] == "ghcr.io/acme/recruiting:1.2.0"
    assert "k8s/deployment.yml" in doc["files"]
    assert doc["secret_keys"][:5] == [
        "POSTGRES_PASSWORD",
        "RAW_API_TOKEN",
        "RAW_CV_SECRET",
        "RAW_CV_SECRET_OLD",
        "TWILIO_AUTH_TOKEN",
    ]


def test_one_image_serves_every_role_by_its_real_command(rendered: Path) -> None:
    compose = load_all(rendered / "docker-compose.yml")[0]["services"]
    commands = {name: compose[name]["command"] for name in compose if "build" in compose[name]}

    assert commands == {
        "migrate": ["raw", "db", "upgrade"],
        "temporal-setup": ["raw", "engine", "start"],
        "schedules-sync": ["raw", "schedules", "sync"],
        "api": ["raw", "serve", "--host", "0.0.0.0", "--port", "8000"],
        "worker": ["raw", "worker", "--metrics-port", "9464"],
        "dispatcher": ["raw", "dispatcher"],
    }
    assert {compose[name]["image"] for name in commands} == {"ghcr.io/acme/recruiting:1.2.0"}
    assert compose["api"]["environment"]["RAW_DISPATCHER"] == "off"
    assert compose["api"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }
    required = compose["api"]["environment"]["RAW_CV_SECRET"]
    assert required.startswith("${RAW_CV_SECRET:?")
    assert compose["api"]["environment"]["RAW_CV_SECRET_OLD"] == "${RAW_CV_SECRET_OLD:-}"


def test_the_dockerfile_is_multi_stage_pinned_non_root_with_a_health_check(
    rendered: Path,
) -> None:
    text = (rendered / "Dockerfile").read_text()

    assert re.findall(r"^FROM (\S+)", text, re.M) == ["python:3.11.11-slim-bookworm"] * 2
    assert 'RUN pip install --no-cache-dir "raw-systems[coordinator,orchestrator]==0.1.0"' in text
    assert text.index("pip install") < text.index("COPY . /app")  # dependencies: own layer
    assert "USER 10001:10001" in text
    assert "HEALTHCHECK" in text and "/health" in text
    assert "docker build -f deploy/Dockerfile" in text
    assert ".env" in (rendered / "Dockerfile.dockerignore").read_text().splitlines()


def test_kubernetes_objects_reference_secrets_and_never_hold_them(rendered: Path) -> None:
    text = "\n".join(p.read_text() for p in (rendered / "k8s").glob("*.yml"))
    api = find(load_all(rendered / "k8s" / "deployment.yml"), "Deployment", "recruiting-api")
    container = api["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}

    assert "kind: Secret" not in text
    assert env["RAW_CV_SECRET"]["valueFrom"]["secretKeyRef"] == {
        "name": "recruiting-secrets",
        "key": "RAW_CV_SECRET",
    }
    assert env["RAW_CV_SECRET_OLD"]["valueFrom"]["secretKeyRef"]["optional"] is True
    assert env["DATABASE_URL"]["value"] == (
        "postgresql://raw:$(POSTGRES_PASSWORD)@recruiting-postgres:5432/raw"
    )
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def _documented(schema: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The path of every value the schema describes (a group's own values, not a block's)."""
    paths = []
    for key, child in schema.get("properties", {}).items():
        paths.append((*prefix, key))
        if "description" not in child:  # a group, not one value
            paths += _documented(child, (*prefix, key))
    return paths


def test_values_yaml_documents_every_value(rendered: Path) -> None:
    chart = rendered / "helm" / "recruiting"
    lines = (chart / "values.yaml").read_text().splitlines()
    schema = json.loads((chart / "values.schema.json").read_text())
    comment_before: dict[tuple[str, ...], bool] = {}
    stack: list[str] = []
    for index, line in enumerate(lines):
        match = re.match(r"^( *)([A-Za-z]\w*):", line)
        if match:
            depth = len(match.group(1)) // 2
            stack = [*stack[:depth], match.group(2)]
            comment_before[tuple(stack)] = lines[index - 1].lstrip().startswith("#")

    paths = _documented(schema)

    assert len(paths) > 25
    assert [p for p in paths if not comment_before.get(p)] == []
    assert schema["properties"]["worker"]["properties"]["replicas"] == {
        "type": "integer",
        "minimum": 0,
        "description": "Pods running `raw worker --metrics-port 9464`.",
    }
    assert schema["additionalProperties"] is False


def test_cronjob_mechanism_renders_one_cronjob_per_schedule_and_no_sync(tmp_path: Path) -> None:
    project = copy_system(tmp_path / "sys", schedules="cronjob")
    out = render(project).out

    (cronjob,) = load_all(out / "k8s" / "cronjobs.yml")
    assert cronjob["spec"]["schedule"] == "0 8 * * *"
    assert cronjob["spec"]["timeZone"] == "Europe/Paris"
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["raw", "run", "generate-report", "--date", "today"]
    assert "schedules-sync" not in load_all(out / "docker-compose.yml")[0]["services"]
    (setup,) = [j for j in load_all(out / "k8s" / "jobs.yml") if "setup" in j["metadata"]["name"]]
    pod = setup["spec"]["template"]["spec"]
    commands = [c["command"] for c in pod.get("initContainers", []) + pod["containers"]]
    assert ["raw", "schedules", "sync"] not in commands
    assert check_deployment(out, project=project).findings == []


def test_switching_back_to_temporal_schedules_removes_the_cronjobs(tmp_path: Path) -> None:
    project = copy_system(tmp_path / "sys", schedules="cronjob")
    render(project)
    config = project.config_path
    config.write_text(config.read_text().replace("schedules: cronjob", "schedules: temporal"))

    result = render(type(project)(project.root))

    assert "k8s/cronjobs.yml" in result.removed
    assert not (result.out / "k8s" / "cronjobs.yml").exists()
    assert not (result.out / "helm" / "recruiting" / "templates" / "cronjobs.yaml").exists()


def test_external_database_and_temporal(tmp_path: Path) -> None:
    project = copy_system(
        tmp_path / "sys",
        database={"mode": "external"},
        # The official chart's frontend, in the clear inside the cluster: allowed explicitly.
        temporal={
            "mode": "external",
            "address": "temporal-frontend.temporal:7233",
            "allow_insecure": True,
        },
    )
    # An external database is reached over TLS (or says it need not be): see
    # tests/deploy/test_database_tls.py.
    config = project.config_path
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("  coordinator:\n", "  coordinator:\n    database_tls: {sslmode: require}\n"),
        encoding="utf-8",
    )
    project = type(project)(project.root)
    out = render(project).out

    assert not (out / "k8s" / "postgres.yml").exists()
    assert not (out / "k8s" / "temporal.yml").exists()
    (config_map,) = load_all(out / "k8s" / "config.yml")
    assert config_map["data"]["TEMPORAL_ADDRESS"] == "temporal-frontend.temporal:7233"
    worker = find(load_all(out / "k8s" / "deployment.yml"), "Deployment", "recruiting-worker")
    env = {e["name"]: e for e in worker["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "DATABASE_URL"
    assert check_deployment(out, project=project).findings == []


def test_rendering_twice_writes_the_same_bytes(tmp_path: Path) -> None:
    project = copy_system(tmp_path / "sys")
    first = render(project)
    before = {name: (first.out / name).read_bytes() for name in first.files}

    second = render(project)

    assert {name: (second.out / name).read_bytes() for name in second.files} == before


def test_integration_settings_come_from_the_secret(tmp_path: Path) -> None:
    project = copy_system(tmp_path / "sys")
    config = project.config_path
    config.write_text(
        config.read_text()
        + "  integrations:\n"
        + "    email: {adapter: smtp, host: smtp.example.com, from_address: hr@example.com,"
        + " username_setting: SMTP_USER, password_setting: SMTP_PASSWORD}\n"
    )
    project = type(project)(project.root)

    out = render(project).out

    worker = find(load_all(out / "k8s" / "deployment.yml"), "Deployment", "recruiting-worker")
    env = {e["name"]: e for e in worker["spec"]["template"]["spec"]["containers"][0]["env"]}
    for setting in ("SMTP_USER", "SMTP_PASSWORD"):
        assert env[setting]["valueFrom"]["secretKeyRef"]["key"] == setting
        assert f"{setting}=" in (out / ".env.example").read_text()


def test_the_hiring_example_renders_and_passes_the_check(tmp_path: Path) -> None:
    from raw.project import Project

    project = Project(HIRING)
    out = render(project, tmp_path / "deploy").out
    report = check_deployment(out, project=project)

    assert report.findings == []
    assert report.checked["k8s_objects"] > 10
    # It uses integrations (email, calls, storage, chat): the image installs their extra.
    dockerfile = (out / "Dockerfile").read_text()
    assert "raw-systems[coordinator,orchestrator,integrations]==" in dockerfile


def test_workers_serve_the_sdk_metrics_for_prometheus_in_every_format(rendered: Path) -> None:
    worker = find(load_all(rendered / "k8s" / "deployment.yml"), "Deployment", "recruiting-worker")
    template = worker["spec"]["template"]
    assert template["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "9464",
        "prometheus.io/path": "/metrics",
    }
    container = template["spec"]["containers"][0]
    assert container["command"][-3:] == ["worker", "--metrics-port", "9464"]
    assert container["ports"] == [{"name": "metrics", "containerPort": 9464, "protocol": "TCP"}]
    api = find(load_all(rendered / "k8s" / "deployment.yml"), "Deployment", "recruiting-api")
    assert "annotations" not in api["spec"]["template"]["metadata"]  # its /metrics needs the token

    chart = (rendered / "helm" / "recruiting" / "templates" / "deployment.yaml").read_text()
    assert "prometheus.io/port: '9464'" in chart or 'prometheus.io/port: "9464"' in chart
    compose = load_all(rendered / "docker-compose.yml")[0]["services"]
    assert compose["worker"]["expose"] == ["9464"]
    assert compose["worker"]["command"] == ["raw", "worker", "--metrics-port", "9464"]
