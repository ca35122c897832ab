"""`system.deploy`: strict, described, and refusing secrets and impossible combinations."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from raw.deploy import DeployConfig

from .helpers import copy_system, raw


def test_defaults_are_a_complete_deployment() -> None:
    config = DeployConfig()

    assert (config.schedules, config.kubernetes_version, config.port) == (
        "temporal",
        "1.37.0",
        8000,
    )
    assert (config.database.mode, config.temporal.mode) == ("in_cluster", "in_cluster")
    assert (config.api.replicas, config.worker.replicas, config.dispatcher.replicas) == (2, 2, 1)
    assert config.python.extras is None  # derived from what the system uses


@pytest.mark.parametrize(
    ("deploy", "message"),
    [
        ({"env": {"RAW_API_TOKEN": "x"}}, "secret_settings"),
        ({"image": {"tag": "latest"}}, "never 'latest'"),
        ({"image": {"base": "python"}}, "is not pinned"),
        ({"database": {"mode": "external"}}, "external Temporal too"),
        ({"database": {"mode": "external", "client_cert": True}}, "client_cert needs tls_secret"),
        ({"api": {"resources": {"requests": {"cpu": "lots"}}}}, "Kubernetes quantity"),
        ({"kubernetes_version": "latest"}, "Kubernetes version"),
        ({"schedules": "both"}, "'temporal' or 'cronjob'"),
    ],
)
def test_bad_values_are_refused_with_a_reason(deploy: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DeployConfig.model_validate(deploy)


def test_raw_config_check_names_an_unknown_deploy_key(tmp_path: Path) -> None:
    project = copy_system(tmp_path / "sys", replica=3)

    result = raw("config", "check", "--json", cwd=project.root)

    assert result.code == 2
    message = result.json()["error"]["message"]
    assert "unknown key 'system.deploy.replica'" in message
    assert "worker" in message and "schedules" in message  # the keys allowed there


def test_an_external_temporal_without_an_address_stops_render(tmp_path: Path) -> None:
    project = copy_system(
        tmp_path / "sys", database={"mode": "external"}, temporal={"mode": "external"}
    )

    result = raw("deploy", "render", "--json", cwd=project.root)

    assert result.code == 2
    assert "system.deploy.temporal.address" in result.json()["error"]["message"]
    assert not (project.root / "deploy").exists()


def test_a_webhook_secret_given_as_plain_env_stops_render(tmp_path: Path) -> None:
    project = copy_system(tmp_path / "sys", env={"TWILIO_AUTH": "x"})
    config = project.config_path
    config.write_text(config.read_text().replace("- TWILIO_AUTH_TOKEN", "- TWILIO_AUTH"))

    result = raw("deploy", "render", cwd=project.root)

    assert result.code == 2
    assert "system.deploy.env.TWILIO_AUTH is a webhook secret" in result.stderr
