"""A secured external Temporal in the rendered deployment: TLS files and API key from Secrets.

Two variants of the test system: a self-hosted Temporal with mutual TLS (the CA, the
client certificate and its key mounted from a Secret) and Temporal Cloud (the API key
from the system's Secret). Each renders, passes `raw deploy check` (hadolint,
kubernetes-validate, helm lint, the system rules), and writes no secret; a Temporal
off this machine reached in the clear is refused unless allowed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import helm_python
import pytest
import yaml

from raw.deploy import Finding, check_deployment, render
from raw.project import Project

from .helpers import copy_system, dump_all, load_all, raw

MTLS = {
    "server_ca_cert": "certs/ca.pem",
    "client_cert": "certs/client.pem",
    "client_key": "certs/client.key",
    "server_name": "temporal.internal",
}
CLOUD = {"api_key_setting": "TEMPORAL_API_KEY"}


def secured_system(
    target: Path, connection: dict[str, Any], address: str, **temporal: Any
) -> Project:
    project = copy_system(
        target,
        temporal={"mode": "external", "address": address, **temporal},
        database={"mode": "external"},
    )
    path = project.root / ".raw" / "config.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["system"]["orchestrator"]["connection"] = connection
    # The managed database is reached over TLS too: deploy check refuses it in the clear.
    config["system"]["coordinator"]["database_tls"] = {"sslmode": "require"}
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return Project(project.root)


@pytest.fixture(scope="module")
def mtls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Path]:
    project = secured_system(
        tmp_path_factory.mktemp("mtls") / "recruiting", MTLS, "temporal.internal:7233"
    )
    return project, render(project).out


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Path]:
    project = secured_system(
        tmp_path_factory.mktemp("cloud") / "recruiting",
        CLOUD,
        "recruiting.a1b2c.tmprl.cloud:7233",
    )
    return project, render(project).out


def deployments(out: Path) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in load_all(out / "k8s" / "deployment.yml")}


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return found


def env_of(spec: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e for e in spec["env"]}


def test_mutual_tls_mounts_the_tls_secret_where_the_settings_point(
    mtls: tuple[Project, Path],
) -> None:
    project, out = mtls
    config = load_all(out / "k8s" / "config.yml")[0]["data"]
    assert config["TEMPORAL_TLS_SERVER_CA_CERT_PATH"] == "/etc/raw/temporal-tls/ca.crt"
    assert config["TEMPORAL_TLS_CLIENT_CERT_PATH"] == "/etc/raw/temporal-tls/tls.crt"
    assert config["TEMPORAL_TLS_CLIENT_KEY_PATH"] == "/etc/raw/temporal-tls/tls.key"
    for role in ("api", "worker", "dispatcher"):
        deployment = deployments(out)[f"recruiting-{role}"]
        mounts = container(deployment)["volumeMounts"]
        assert {"name": "temporal-tls", "mountPath": "/etc/raw/temporal-tls", "readOnly": True} in (
            mounts
        )
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        assert volumes["temporal-tls"]["secret"]["secretName"] == "recruiting-temporal-tls"
        assert "TEMPORAL_TLS_CLIENT_KEY_PATH" in env_of(container(deployment))
    jobs = {j["metadata"]["name"]: j for j in load_all(out / "k8s" / "jobs.yml")}
    setup = next(j for name, j in jobs.items() if "temporal-setup" in name)
    for c in setup["spec"]["template"]["spec"]["containers"]:
        assert any(m["mountPath"] == "/etc/raw/temporal-tls" for m in c["volumeMounts"])
    # The key material itself is nowhere in the files: it stays in the cluster's Secret.
    assert "PRIVATE KEY" not in "".join(
        p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file()
    )
    report = check_deployment(out, project=project)
    assert report.findings == []


def test_the_chart_takes_the_tls_secret_as_a_value(mtls: tuple[Project, Path]) -> None:
    _, out = mtls
    chart = out / "helm" / "recruiting"
    values = yaml.safe_load((chart / "values.yaml").read_text(encoding="utf-8"))
    assert values["temporal"]["tlsSecret"] == "recruiting-temporal-tls"
    assert "kubectl create secret generic recruiting-temporal-tls" in (
        chart / "values.yaml"
    ).read_text(encoding="utf-8")
    values["temporal"]["tlsSecret"] = "shared-temporal-client"
    rendered = helm_python.Chart.load(str(chart)).render(values)
    deployment = next(text for path, text in rendered.items() if path.endswith("deployment.yaml"))
    assert 'secretName: "shared-temporal-client"' in deployment


def test_temporal_cloud_takes_the_api_key_from_the_secret(cloud: tuple[Project, Path]) -> None:
    project, out = cloud
    for role in ("api", "worker", "dispatcher"):
        spec = container(deployments(out)[f"recruiting-{role}"])
        key = env_of(spec)["TEMPORAL_API_KEY"]
        assert key["valueFrom"]["secretKeyRef"] == {
            "name": "recruiting-secrets",
            "key": "TEMPORAL_API_KEY",
        }
        assert all(m["name"] != "temporal-tls" for m in spec["volumeMounts"])
    notes = (out / "helm" / "recruiting" / "templates" / "NOTES.txt").read_text(encoding="utf-8")
    assert "TEMPORAL_API_KEY" in notes
    assert check_deployment(out, project=project).findings == []


def test_compose_reaches_the_cloud_too_with_the_key_from_env(cloud: tuple[Project, Path]) -> None:
    # More on Compose: tests/deploy/test_compose_external.py.
    _, out = cloud
    compose = yaml.safe_load((out / "docker-compose.yml").read_text(encoding="utf-8"))
    assert "temporal" not in compose["services"]
    worker = compose["services"]["worker"]["environment"]
    assert worker["TEMPORAL_ADDRESS"] == "recruiting.a1b2c.tmprl.cloud:7233"
    assert worker["TEMPORAL_API_KEY"].startswith("${TEMPORAL_API_KEY:?")
    assert "TEMPORAL_TLS" not in worker


def worker_edited(
    rendered: tuple[Project, Path], tmp_path: Path, edit: Callable[[dict[str, Any]], None]
) -> list[Finding]:
    """The findings of a copy of the files whose worker container ``edit`` changed."""
    project, out = rendered
    copy = Path(shutil.copytree(out, tmp_path / "deploy"))
    path = copy / "k8s" / "deployment.yml"
    documents = load_all(path)
    worker = next(d for d in documents if d["metadata"]["name"] == "recruiting-worker")
    edit(worker["spec"]["template"]["spec"]["containers"][0])
    dump_all(path, documents)
    return check_deployment(copy, project=project).findings


def test_an_api_key_written_into_a_deployment_is_found(
    cloud: tuple[Project, Path], tmp_path: Path
) -> None:
    def paste_key(spec: dict[str, Any]) -> None:
        spec["env"] = [
            {"name": "TEMPORAL_API_KEY", "value": "tmprl-pasted-by-hand"}
            if e["name"] == "TEMPORAL_API_KEY"
            else e
            for e in spec["env"]
        ]

    findings = worker_edited(cloud, tmp_path, paste_key)
    assert any(
        f.object.endswith("env TEMPORAL_API_KEY") and "holds a secret in plain text" in f.problem
        for f in findings
    ), findings


def test_a_deployment_without_the_tls_mount_is_found(
    mtls: tuple[Project, Path], tmp_path: Path
) -> None:
    def unmount(spec: dict[str, Any]) -> None:
        spec["volumeMounts"] = [m for m in spec["volumeMounts"] if m["name"] != "temporal-tls"]

    findings = worker_edited(mtls, tmp_path, unmount)
    problems = [f.problem for f in findings if f.file.startswith("k8s/")]
    assert "does not mount Temporal's TLS files at /etc/raw/temporal-tls." in problems


def test_check_refuses_an_external_temporal_in_the_clear_unless_allowed(tmp_path: Path) -> None:
    plain = secured_system(tmp_path / "plain" / "recruiting", {}, "temporal.internal:7233")
    out = render(plain).out
    findings = check_deployment(out, project=plain).findings
    assert [(f.object, f.check) for f in findings] == [("system.orchestrator.connection", "system")]
    assert "temporal.internal:7233 would be reached without TLS" in findings[0].problem
    assert "allow_insecure: true" in findings[0].fix
    result = raw("deploy", "check", cwd=plain.root)
    assert result.code == 1 and "without TLS" in result.stdout + result.stderr

    allowed = secured_system(
        tmp_path / "allowed" / "recruiting", {}, "temporal.internal:7233", allow_insecure=True
    )
    assert check_deployment(render(allowed).out, project=allowed).findings == []


def test_an_inline_api_key_stops_render_and_check(tmp_path: Path) -> None:
    project = secured_system(
        tmp_path / "recruiting", {"api_key": "tmprl-inline-secret"}, "a.tmprl.cloud:7233"
    )
    for command in ("render", "check"):
        result = raw("deploy", command, cwd=project.root)
        assert result.code == 2, result.stdout + result.stderr
        assert "secrets never go in the config file" in result.stderr
        assert "tmprl-inline-secret" not in result.stdout + result.stderr
