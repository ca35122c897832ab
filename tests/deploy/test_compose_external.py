"""Compose with an external, secured Temporal and PostgreSQL (``system.deploy.*.mode: external``).

Two variants of the test system: Temporal Cloud (an API key from ``.env``) beside
Compose's own PostgreSQL, and a self-hosted Temporal with mutual TLS plus a managed
PostgreSQL over TLS with a client certificate (every TLS file a Compose secret).
Each renders without its own Temporal (and PostgreSQL), parses with the strict
Compose parser, passes `raw deploy check` and writes no secret; a Temporal off this
machine reached in the clear is refused unless allowed, and so is a key pasted in.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import compose_spec
import pytest
import trustme
import yaml

from raw.deploy import Finding, check_deployment, render
from raw.project import Project

from .helpers import copy_system, raw

CLOUD_ADDRESS = "recruiting.a1b2c.tmprl.cloud:7233"
MTLS = {
    "server_ca_cert": "certs/ca.pem",
    "client_cert": "certs/client.pem",
    "client_key": "certs/client.key",
    "server_name": "temporal.internal",
}
TEMPORAL_USERS = ("temporal-setup", "schedules-sync", "api", "worker", "dispatcher")
DATABASE_USERS = ("migrate", "api", "worker", "dispatcher")
OWN_TEMPORAL = ("temporal-schema", "temporal", "temporal-namespace", "temporal-ui")


def system(
    target: Path,
    *,
    temporal: dict[str, Any],
    database: dict[str, Any] | None = None,
    connection: dict[str, Any] | None = None,
    database_tls: dict[str, Any] | None = None,
) -> Project:
    project = copy_system(target, temporal=temporal, database=database or {})
    path = project.config_path
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["system"]["orchestrator"]["connection"] = connection or {}
    if database_tls is not None:
        config["system"]["coordinator"]["database_tls"] = database_tls
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return Project(project.root)


def cloud_system(target: Path) -> Project:
    return system(
        target,
        temporal={"mode": "external", "address": CLOUD_ADDRESS},
        connection={"api_key_setting": "TEMPORAL_API_KEY"},
    )


def mtls_system(target: Path) -> Project:
    return system(
        target,
        temporal={"mode": "external", "address": "temporal.internal:7233"},
        connection=MTLS,
        database={"mode": "external", "tls_secret": "recruiting-db-tls", "client_cert": True},
        database_tls={"sslmode": "verify-full"},
    )


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Path]:
    project = cloud_system(tmp_path_factory.mktemp("cloud") / "recruiting")
    return project, render(project).out


@pytest.fixture(scope="module")
def mtls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Path]:
    project = mtls_system(tmp_path_factory.mktemp("mtls") / "recruiting")
    return project, render(project).out


def compose_of(out: Path) -> dict[str, Any]:
    text = (out / "docker-compose.yml").read_text(encoding="utf-8")
    compose_spec.PyCompose.from_yaml(text)  # the strict parser: raises on anything wrong
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def test_temporal_cloud_from_compose_takes_the_api_key_from_env(
    cloud: tuple[Project, Path],
) -> None:
    project, out = cloud
    compose = compose_of(out)
    services = compose["services"]
    assert list(services) == [
        "postgres",
        "migrate",
        "temporal-setup",
        "schedules-sync",
        "api",
        "worker",
        "dispatcher",
    ]
    assert "secrets" not in compose  # an API key is a value, not a file
    for name in TEMPORAL_USERS:
        env = services[name]["environment"]
        assert env["TEMPORAL_ADDRESS"] == CLOUD_ADDRESS
        assert env["TEMPORAL_API_KEY"].startswith("${TEMPORAL_API_KEY:?TEMPORAL_API_KEY is not set")
        assert "TEMPORAL_TLS" not in env  # TLS is on: the config's api_key_setting says so
    assert "TEMPORAL_API_KEY" not in services["migrate"]["environment"]
    # Nothing waits for a Temporal of Compose's own: the setup reaches the Cloud directly.
    assert "depends_on" not in services["temporal-setup"]
    assert services["api"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
        "temporal-setup": {"condition": "service_completed_successfully"},
    }
    example = (out / ".env.example").read_text(encoding="utf-8")
    assert "\nTEMPORAL_API_KEY=\n" in example and "\nPOSTGRES_PASSWORD=\n" in example
    assert check_deployment(out, project=project).findings == []


def test_mutual_tls_and_a_managed_database_mount_each_file_where_its_setting_points(
    mtls: tuple[Project, Path],
) -> None:
    project, out = mtls
    compose = compose_of(out)
    services = compose["services"]
    assert not set(services) & {"postgres", *OWN_TEMPORAL}
    assert "volumes" not in compose
    assert compose["secrets"] == {
        "temporal-ca": {"file": "./secrets/temporal-ca.pem"},
        "temporal-client-cert": {"file": "./secrets/temporal-client.pem"},
        "temporal-client-key": {"file": "./secrets/temporal-client.key"},
        "database-ca": {"file": "./secrets/database-ca.pem"},
        "database-client-cert": {"file": "./secrets/database-client.pem"},
        "database-client-key": {"file": "./secrets/database-client.key"},
    }
    temporal_files = {
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": "/run/secrets/temporal-ca",
        "TEMPORAL_TLS_CLIENT_CERT_PATH": "/run/secrets/temporal-client-cert",
        "TEMPORAL_TLS_CLIENT_KEY_PATH": "/run/secrets/temporal-client-key",
    }
    database_files = {
        "PGSSLMODE": "verify-full",
        "PGSSLROOTCERT": "/run/secrets/database-ca",
        "PGSSLCERT": "/run/secrets/database-client-cert",
        "PGSSLKEY": "/run/secrets/database-client-key",
    }
    for name, service in services.items():
        env = service["environment"]
        mounted = set(service.get("secrets", []))
        # Exactly the services that connect mount each file, and nothing else does.
        expected = set()
        if name in TEMPORAL_USERS:
            expected |= {"temporal-ca", "temporal-client-cert", "temporal-client-key"}
        if name in DATABASE_USERS:
            expected |= {"database-ca", "database-client-cert", "database-client-key"}
        assert mounted == expected, name
        if name in TEMPORAL_USERS:
            assert env["TEMPORAL_ADDRESS"] == "temporal.internal:7233"
            assert temporal_files.items() <= env.items()
        if name in DATABASE_USERS:
            assert database_files.items() <= env.items()
            assert env["DATABASE_URL"].startswith("${DATABASE_URL:?DATABASE_URL is not set")
    assert "depends_on" not in services["migrate"]
    example = (out / ".env.example").read_text(encoding="utf-8")
    assert "\nDATABASE_URL=\n" in example and "POSTGRES_PASSWORD" not in example
    for file in compose["secrets"].values():
        assert file["file"] in example
    assert (out / "secrets" / ".gitignore").read_text(encoding="utf-8").splitlines()[1:] == [
        "*",
        "!.gitignore",
    ]
    assert check_deployment(out, project=project).findings == []


def _put_tls_files(secrets: Path) -> list[str]:
    """Real certificates and keys where the user puts them; their contents, to look for."""
    secrets.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    server = ca.issue_cert("temporal.internal")
    client = ca.issue_cert("recruiting-worker")
    blobs = {
        "temporal-ca.pem": ca.cert_pem.bytes(),
        "temporal-client.pem": client.cert_chain_pems[0].bytes(),
        "temporal-client.key": client.private_key_pem.bytes(),
        "database-ca.pem": ca.cert_pem.bytes(),
        "database-client.pem": client.cert_chain_pems[0].bytes(),
        "database-client.key": server.private_key_pem.bytes(),
    }
    for name, blob in blobs.items():
        (secrets / name).write_bytes(blob)
    return [line for blob in blobs.values() for line in blob.decode().splitlines()[1:-1]]


def test_no_secret_reaches_a_rendered_file_nor_the_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = mtls_system(tmp_path / "recruiting")
    api_key, password = "tmprl-a7f3c9e1-never-written", "pw-5b8d2e-never-written"
    monkeypatch.setenv("TEMPORAL_API_KEY", api_key)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://app:{password}@db.example.com/app")
    contents = _put_tls_files(project.root / "deploy" / "secrets")
    result = render(project)
    rendered = "".join((result.out / name).read_text(encoding="utf-8") for name in result.files)
    assert api_key not in rendered and password not in rendered
    assert not [line for line in contents if line in rendered]
    # The files stay where they are: beside the compose file, out of the image.
    assert (result.out / "secrets" / "temporal-client.key").is_file()
    assert check_deployment(result.out, project=project).findings == []
    ignore = result.out / "Dockerfile.dockerignore"
    ignore.write_text(ignore.read_text().replace("deploy/secrets\n", ""), encoding="utf-8")
    leaked = {f.object for f in check_deployment(result.out, project=project).findings}
    assert "deploy/secrets/temporal-client.key" in leaked


def test_check_refuses_compose_reaching_temporal_in_the_clear_unless_allowed(
    tmp_path: Path,
) -> None:
    external = {"mode": "external", "address": "temporal.internal:7233"}
    plain = system(tmp_path / "plain" / "recruiting", temporal=external)
    out = render(plain).out
    assert compose_of(out)["services"]["worker"]["environment"]["TEMPORAL_ADDRESS"] == (
        "temporal.internal:7233"
    )
    findings = check_deployment(out, project=plain).findings
    assert [(f.object, f.check) for f in findings] == [("system.orchestrator.connection", "system")]
    assert "would be reached without TLS" in findings[0].problem
    result = raw("deploy", "check", cwd=plain.root)
    assert result.code == 1 and "without TLS" in result.stdout + result.stderr

    allowed = system(
        tmp_path / "allowed" / "recruiting", temporal={**external, "allow_insecure": True}
    )
    assert check_deployment(render(allowed).out, project=allowed).findings == []


def compose_edited(
    rendered: tuple[Project, Path], tmp_path: Path, edit: Callable[[dict[str, Any]], None]
) -> list[Finding]:
    """The findings of a copy of the files whose docker-compose.yml ``edit`` changed."""
    project, out = rendered
    copy = Path(shutil.copytree(out, tmp_path / "deploy"))
    path = copy / "docker-compose.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return [f for f in check_deployment(copy, project=project).findings if f.check == "system"]


def test_an_api_key_pasted_into_compose_is_found(
    cloud: tuple[Project, Path], tmp_path: Path
) -> None:
    def paste(data: dict[str, Any]) -> None:
        data["services"]["worker"]["environment"]["TEMPORAL_API_KEY"] = "tmprl-pasted-by-hand"

    findings = compose_edited(cloud, tmp_path, paste)
    assert [(f.object, f.problem) for f in findings] == [
        (
            "services.worker.environment.TEMPORAL_API_KEY",
            "TEMPORAL_API_KEY holds a secret in plain text.",
        )
    ]
    assert "tmprl-pasted-by-hand" not in str(findings[0])


def test_key_material_pasted_into_compose_is_found(
    mtls: tuple[Project, Path], tmp_path: Path
) -> None:
    key = trustme.CA().private_key_pem.bytes().decode()

    def paste(data: dict[str, Any]) -> None:
        data["services"]["api"]["environment"]["TEMPORAL_TLS_CLIENT_KEY_PATH"] = key

    findings = compose_edited(mtls, tmp_path, paste)
    problems = {(f.object, f.problem) for f in findings}
    assert (
        "services.api.environment.TEMPORAL_TLS_CLIENT_KEY_PATH",
        "TEMPORAL_TLS_CLIENT_KEY_PATH holds a secret in plain text.",
    ) in problems


def _unmount_ca(data: dict[str, Any]) -> None:
    worker = data["services"]["worker"]
    worker["secrets"] = [s for s in worker["secrets"] if s != "database-ca"]


def _elsewhere(data: dict[str, Any]) -> None:
    data["services"]["dispatcher"]["environment"]["TEMPORAL_ADDRESS"] = "10.0.0.9:7233"


def _prefer_plain(data: dict[str, Any]) -> None:
    data["services"]["migrate"]["environment"]["PGSSLMODE"] = "prefer"


@pytest.mark.parametrize(
    ("edit", "where", "problem"),
    [
        (
            _unmount_ca,
            "services.worker",
            "does not mount the CA certificate that signed PostgreSQL's (PEM) "
            "(the Compose secret database-ca).",
        ),
        (
            _elsewhere,
            "services.dispatcher.environment.TEMPORAL_ADDRESS",
            "points at 10.0.0.9:7233, not at the system's Temporal temporal.internal:7233.",
        ),
        (
            _prefer_plain,
            "services.migrate.environment.PGSSLMODE",
            "PGSSLMODE is prefer: the database may be reached unencrypted.",
        ),
    ],
)
def test_a_service_that_would_connect_otherwise_than_the_config_says_is_found(
    mtls: tuple[Project, Path],
    tmp_path: Path,
    edit: Callable[[dict[str, Any]], None],
    where: str,
    problem: str,
) -> None:
    findings = compose_edited(mtls, tmp_path, edit)
    assert [(f.object, f.problem) for f in findings] == [(where, problem)]


def test_compose_runs_its_own_temporal_in_the_clear_when_temporal_is_in_cluster(
    tmp_path: Path,
) -> None:
    # The connection settings are for another Temporal (a developer's Cloud namespace):
    # Compose's own server is plain, needs no key, and mounts nothing.
    project = system(
        tmp_path / "recruiting",
        temporal={"mode": "in_cluster"},
        connection={"api_key_setting": "TEMPORAL_API_KEY"},
    )
    out = render(project).out
    compose = compose_of(out)
    worker = compose["services"]["worker"]["environment"]
    assert worker["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert worker["TEMPORAL_TLS"] == "false"
    assert "TEMPORAL_API_KEY" not in worker
    assert set(OWN_TEMPORAL) <= set(compose["services"])
    assert "secrets" not in compose and not (out / "secrets").exists()
    assert check_deployment(out, project=project).findings == []
