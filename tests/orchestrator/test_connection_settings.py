"""Where each Temporal connection setting comes from, and the secrets the config refuses.

No server here: these check the settings the kit would connect with
(``resolve_target``) and the config's refusals. Connections through TLS, mutual TLS
and an API key are in test_secure_temporal.py.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from raw.errors import ConfigError
from raw.orchestrator.connect import Target, resolve_target
from raw.orchestrator.security import TemporalProfileError
from raw.project import Project as RawProject
from raw.project import find_project

if TYPE_CHECKING:
    from conftest import Project, RunCli

SECRET = "tmprl-secret-value-0123456789"


@pytest.fixture(autouse=True)
def _no_temporal_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("TEMPORAL_")]:
        monkeypatch.delenv(name)


def configure(project: Project, orchestrator: str) -> RawProject:
    body = textwrap.indent(textwrap.dedent(orchestrator).strip(), " " * 4)
    (project.root / ".raw" / "config.yaml").write_text(
        f"version: 1\nsystem:\n  orchestrator:\n{body}\n", encoding="utf-8"
    )
    return find_project(project.root)


def target(project: Project, orchestrator: str) -> Target:
    return resolve_target(configure(project, orchestrator))


def test_environment_wins_over_config_which_wins_over_the_profile(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    profile = tmp_path / "temporal.toml"
    profile.write_text(
        '[profile.prod]\naddress = "profile.example:7233"\nnamespace = "from-profile"\n'
        '[profile.prod.tls]\nserver_ca_cert_path = "/profile/ca.pem"\n'
        'client_cert_path = "/profile/client.pem"\nclient_key_path = "/profile/client.key"\n',
        encoding="utf-8",
    )
    orchestrator = f"""
        connection:
          profile: prod
          config_file: {profile}
          client_cert: certs/client.pem
          client_key: certs/client.key
    """
    from_profile = target(project, orchestrator)
    assert from_profile.address == "profile.example:7233"
    assert from_profile.namespace == "from-profile"
    assert from_profile.source == f"profile 'prod' of {profile}"
    security = from_profile.security
    assert security.tls
    assert security.server_ca_cert is not None
    assert security.server_ca_cert.path == Path("/profile/ca.pem")
    assert security.client_cert is not None  # the config's, relative to the project
    assert security.client_cert.path == project.root / "certs" / "client.pem"
    assert security.client_cert.setting == "system.orchestrator.connection.client_cert"

    monkeypatch.setenv("TEMPORAL_ADDRESS", "env.example:7233")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "from-env")
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", "/env/client.pem")
    from_env = target(project, orchestrator)
    assert (from_env.address, from_env.source) == ("env.example:7233", "TEMPORAL_ADDRESS")
    assert from_env.namespace == "from-env"
    assert from_env.security.client_cert is not None
    assert from_env.security.client_cert.path == Path("/env/client.pem")
    assert from_env.security.client_cert.setting == "TEMPORAL_TLS_CLIENT_CERT_PATH"

    monkeypatch.setenv("RAW_TEMPORAL_NAMESPACE", "from-raw")
    assert target(project, orchestrator).namespace == "from-raw"


def test_a_namespace_in_the_config_wins_over_the_profiles(project: Project, tmp_path: Path) -> None:
    profile = tmp_path / "temporal.toml"
    profile.write_text('[profile.default]\naddress = "p:7233"\nnamespace = "p"\n', "utf-8")
    got = target(project, f"namespace: mine\nconnection:\n  config_file: {profile}")
    assert (got.address, got.namespace) == ("p:7233", "mine")


def test_an_address_without_security_settings_connects_in_the_clear(
    project: Project,
) -> None:
    got = target(project, "address: temporal.internal:7233")
    assert got.security.tls is False
    assert got.security.connect_kwargs(got.address) == {"tls": False}


def test_an_api_key_turns_tls_on_and_is_never_in_a_repr(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPORAL_API_KEY", SECRET)
    got = target(project, "address: ns.acct.tmprl.cloud:7233")
    assert got.security.tls and got.security.tls_from == "TEMPORAL_API_KEY"
    assert got.security.connect_kwargs(got.address)["api_key"] == SECRET
    assert SECRET not in repr(got) and SECRET not in str(got.security.describe())
    assert got.security.describe()["api_key"] == "set (from TEMPORAL_API_KEY)"


def test_a_named_api_key_setting_is_read(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIRING_TEMPORAL_KEY", SECRET)
    got = target(project, "address: a:7233\nconnection:\n  api_key_setting: HIRING_TEMPORAL_KEY")
    assert got.security.api_key == SECRET
    assert got.security.api_key_from == "HIRING_TEMPORAL_KEY"


def test_a_profile_file_that_does_not_exist_is_named(project: Project, tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(TemporalProfileError, match="does not exist") as caught:
        target(project, f"connection:\n  profile: prod\n  config_file: {missing}")
    assert "system.orchestrator.connection.config_file" in str(caught.value)
    assert isinstance(caught.value, ConfigError)


def test_a_profile_file_with_an_error_is_not_quoted(project: Project, tmp_path: Path) -> None:
    broken = tmp_path / "temporal.toml"
    broken.write_text(f'[profile.prod]\napi_key = "{SECRET}\n', encoding="utf-8")
    with pytest.raises(TemporalProfileError, match="not valid TOML") as caught:
        target(project, f"connection:\n  profile: prod\n  config_file: {broken}")
    assert SECRET not in str(caught.value)


# --- secrets the config refuses ---------------------------------------------------------


@pytest.mark.parametrize(
    ("connection", "expected"),
    [
        (f"api_key: {SECRET}", "'api_key' would put an API key in .raw/config.yaml"),
        (
            "client_key: |\n    -----BEGIN PRIVATE KEY-----\n    " + SECRET,
            "'client_key' holds key material, not a path",
        ),
        (f"client_key_data: {SECRET}", "'client_key_data' would put a client key"),
        (f"api_key_setting: {SECRET}", "api_key_setting is the name of a setting"),
    ],
)
def test_an_inline_secret_is_refused_without_being_repeated(
    project: Project, raw_cli: RunCli, connection: str, expected: str
) -> None:
    configure(project, "address: a:7233\nconnection:\n  " + connection)
    result = raw_cli("config", "check")
    assert result.code == 2, result.stdout + result.stderr
    assert expected in result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_a_client_certificate_needs_its_key(project: Project) -> None:
    with pytest.raises(ConfigError, match="needs both client_cert and client_key"):
        configure(project, "connection:\n  client_cert: c.pem").config.system  # noqa: B018


def test_config_check_shows_where_settings_come_from_never_a_key(
    project: Project, raw_cli: RunCli
) -> None:
    configure(
        project,
        "address: a:7233\nconnection:\n  server_ca_cert: ca.pem\n  api_key_setting: K",
    )
    result = raw_cli(
        "config",
        "check",
        "--json",
        env={"TEMPORAL_API_KEY": SECRET, "TEMPORAL_TLS_SERVER_NAME": "temporal.example"},
    )
    assert result.code == 0, result.stderr
    orchestrator = result.json()["orchestrator"]
    assert orchestrator["connection"] == {"server_ca_cert": "ca.pem", "api_key_setting": "K"}
    assert orchestrator["temporal_env"] == {
        "TEMPORAL_TLS_SERVER_NAME": "temporal.example",
        "TEMPORAL_API_KEY": "(set)",
    }
    assert SECRET not in result.stdout
