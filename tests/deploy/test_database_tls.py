"""PostgreSQL over TLS in a deployment: the CA from a Secret in every pod that connects, and
`raw deploy check` refusing a password in the config or an external database without TLS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from raw.deploy import check_deployment, render
from raw.deploy.database_tls import MOUNT_PATH, check_database_security
from raw.deploy.plan import build_plan
from raw.errors import ConfigError
from raw.project import Project

from .helpers import copy_system, find, load_all

EXTERNAL = {
    "database": {"mode": "external", "tls_secret": "recruiting-db-tls"},
    # This file is about the database: Temporal's own TLS is tests/deploy/test_temporal_security.py.
    "temporal": {
        "mode": "external",
        "address": "temporal.example.com:7233",
        "allow_insecure": True,
    },
}


def _system(target: Path, coordinator: dict[str, Any] | None = None, **deploy: Any) -> Project:
    project = copy_system(target, **deploy)
    path = project.root / ".raw" / "config.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["system"]["coordinator"].update(coordinator or {})
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return Project(project.root)


def _pod(document: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = document["spec"]
    if document["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    pod: dict[str, Any] = spec["template"]["spec"]
    return pod


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {entry["name"]: entry for entry in container.get("env", [])}


@pytest.fixture(scope="module")
def tls_rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Path]:
    root = tmp_path_factory.mktemp("dbtls") / "recruiting"
    project = _system(
        root,
        {"database_tls": {"sslmode": "verify-full"}},
        schedules="cronjob",
        **EXTERNAL,
    )
    return project, render(project).out


def test_every_pod_that_connects_mounts_the_ca_secret_and_points_libpq_at_it(
    tls_rendered: tuple[Project, Path],
) -> None:
    _, out = tls_rendered
    documents = [doc for path in sorted((out / "k8s").glob("*.yml")) for doc in load_all(path)]
    connecting = [
        find(documents, "Deployment", f"recruiting-{role}")
        for role in ("api", "worker", "dispatcher")
    ]
    connecting += [find(documents, "Job", "recruiting-migrate")]
    connecting += [d for d in documents if d["kind"] == "CronJob"]
    assert len(connecting) == 5
    for document in connecting:
        pod = _pod(document)
        volume = next(v for v in pod["volumes"] if v["name"] == "database-tls")
        assert volume["secret"] == {"secretName": "recruiting-db-tls", "defaultMode": 0o440}
        container = pod["containers"][-1]
        mount = next(m for m in container["volumeMounts"] if m["name"] == "database-tls")
        assert mount == {"name": "database-tls", "mountPath": MOUNT_PATH, "readOnly": True}
        env = _env(container)
        assert env["PGSSLMODE"]["value"] == "verify-full"
        assert env["PGSSLROOTCERT"]["value"] == f"{MOUNT_PATH}/ca.crt"
        assert env["PGSSLKEY"]["value"] == f"{MOUNT_PATH}/tls.key"
        # The URL itself (with its password) still comes from the Secret, by reference.
        assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "DATABASE_URL"
    setup = _pod(find(documents, "Job", "recruiting-temporal-setup"))
    assert all(v["name"] != "database-tls" for v in setup["volumes"])
    # Compose mounts the CA as a Compose secret (no client certificate: client_cert is off).
    compose = yaml.safe_load((out / "docker-compose.yml").read_text(encoding="utf-8"))
    assert compose["secrets"] == {"database-ca": {"file": "./secrets/database-ca.pem"}}
    worker = compose["services"]["worker"]
    assert worker["environment"]["PGSSLROOTCERT"] == "/run/secrets/database-ca"
    assert "PGSSLCERT" not in worker["environment"] and "postgres" not in compose["services"]


def test_the_chart_takes_the_secret_name_as_a_value_and_everything_passes_the_check(
    tls_rendered: tuple[Project, Path],
) -> None:
    project, out = tls_rendered
    chart = next((out / "helm").glob("*/values.yaml"))
    values = yaml.safe_load(chart.read_text(encoding="utf-8"))
    assert values["database"]["tlsSecret"] == "recruiting-db-tls"
    templates = "".join(p.read_text() for p in chart.parent.glob("templates/*.yaml"))
    assert ".Values.database.tlsSecret" in templates
    report = check_deployment(out, project=project)  # hadolint, kubernetes-validate, helm lint
    assert report.ok, [str(f) for f in report.findings]


def test_check_refuses_a_database_password_in_the_config(tmp_path: Path) -> None:
    project = _system(
        tmp_path / "recruiting",
        {"database_url": "postgresql://app:hunter2-pw@db.example.com/app?sslmode=verify-full"},
        **EXTERNAL,
    )
    findings = check_database_security(build_plan(project))
    assert [f.object for f in findings] == ["system.coordinator.database_url"]
    assert "holds the database's password" in findings[0].problem
    assert "hunter2" not in str(findings[0])


@pytest.mark.parametrize(
    ("coordinator", "refused"),
    [
        ({}, False),  # tls_secret: the rendered pods require verify-full
        ({"database_url": "postgresql://app@db.example.com/app"}, True),
        ({"database_url": "postgresql://app@db.example.com/app?sslmode=prefer"}, True),
        ({"database_url": "postgresql://app@db.example.com/app?sslmode=require"}, False),
        ({"database_url": "postgresql://app@127.0.0.1:5432/app"}, False),
        (
            {
                "database_url": "postgresql://app@db.example.com/app",
                "database_tls": {"allow_unencrypted": True},
            },
            False,
        ),
    ],
)
def test_check_refuses_an_external_database_reached_without_tls_unless_allowed(
    tmp_path: Path, coordinator: dict[str, Any], refused: bool
) -> None:
    project = _system(tmp_path / "recruiting", coordinator, **EXTERNAL)
    findings = check_database_security(build_plan(project))
    assert bool(findings) is refused, findings
    if refused:
        assert findings[0].object == "system.coordinator.database_tls.sslmode"
        assert "allow_unencrypted" in findings[0].fix


def test_an_external_database_from_the_secret_alone_must_say_its_sslmode(tmp_path: Path) -> None:
    external = {**EXTERNAL, "database": {"mode": "external"}}
    project = _system(tmp_path / "recruiting", {}, **external)
    findings = check_database_security(build_plan(project))
    assert [f.object for f in findings] == ["system.coordinator.database_tls.sslmode"]
    project = _system(tmp_path / "again", {"database_tls": {"sslmode": "verify-full"}}, **external)
    assert check_database_security(build_plan(project)) == []


def test_a_tls_secret_for_the_in_cluster_database_is_a_config_error(tmp_path: Path) -> None:
    project = _system(tmp_path / "recruiting", {}, database={"tls_secret": "x-db-tls"})
    with pytest.raises(ConfigError, match="tls_secret is for an external database"):
        build_plan(project)
