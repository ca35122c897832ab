"""system.integrations: strict validation that names the key, setting names, never secrets."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from integrations.conftest import write_config
from raw.config.system import SystemConfig
from raw.errors import ConfigError
from raw.integrations import IntegrationsConfig

if TYPE_CHECKING:
    from conftest import Project


def system_error(root: Path, system_yaml: str) -> str:
    project = write_config(root, system_yaml)
    with pytest.raises(ConfigError) as caught:
        project.config.system  # noqa: B018 - validated on first use
    return str(caught.value)


def test_sections_left_out_are_none_and_an_empty_section_is_local() -> None:
    config = SystemConfig.model_validate({"integrations": {"email": None, "chat": {}}}).integrations

    assert config.email is not None and config.email.adapter == "local"
    assert config.chat is not None and config.chat.adapter == "local"
    assert (config.telephony, config.storage) == (None, None)
    assert SystemConfig().integrations == IntegrationsConfig()


def test_an_unknown_key_is_named_with_the_keys_allowed_there(project: Project) -> None:
    message = system_error(project.root, "integrations:\n  email: {adapter: smtp, hots: x}")

    assert "unknown key 'system.integrations.email.hots'" in message
    assert "allowed: adapter, from_address" in message


def test_an_unknown_section_is_named(project: Project) -> None:
    message = system_error(project.root, "integrations:\n  calendar: {}")

    assert "unknown key 'system.integrations.calendar'" in message
    assert "allowed: email, telephony, storage, chat" in message


def test_an_unknown_adapter_names_the_key_and_the_choices(project: Project) -> None:
    message = system_error(project.root, "integrations:\n  storage: {adapter: gcs}")

    assert "system.integrations.storage.adapter" in message
    assert "'local' or 's3'" in message


def test_a_production_adapter_without_its_required_settings_is_refused(project: Project) -> None:
    assert "system.integrations.email" in system_error(
        project.root, "integrations:\n  email: {adapter: smtp}"
    )
    assert "adapter 'smtp' needs host" in system_error(
        project.root, "integrations:\n  email: {adapter: smtp}"
    )
    assert "adapter 's3' needs bucket" in system_error(
        project.root, "integrations:\n  storage: {adapter: s3}"
    )


def test_a_secret_written_where_a_setting_name_belongs_is_refused_without_echoing_it(
    project: Project,
) -> None:
    message = system_error(
        project.root,
        "integrations:\n  email: {adapter: smtp, host: h, username_setting: U, "
        "password_setting: 'hunter2!'}",
    )

    assert "system.integrations.email.password_setting" in message
    assert "is not a setting name" in message
    assert "hunter2" not in message  # a secret written there is not echoed back


def test_half_a_login_is_refused(project: Project) -> None:
    message = system_error(
        project.root, "integrations:\n  email: {adapter: smtp, host: h, password_setting: P}"
    )

    assert "give both username_setting and password_setting, or neither" in message


def test_bad_addresses_and_numbers_name_the_section(project: Project) -> None:
    assert "not an email address" in system_error(
        project.root, "integrations:\n  email: {from_address: nobody}"
    )
    assert "not an E.164 phone number" in system_error(
        project.root, "integrations:\n  telephony: {from_number: '555-0100'}"
    )


def test_setting_names_lists_what_the_configured_adapters_read() -> None:
    config = IntegrationsConfig.model_validate(
        {
            "email": {
                "adapter": "smtp",
                "host": "smtp.example.com",
                "username_setting": "SMTP_USERNAME",
                "password_setting": "SMTP_PASSWORD",
            },
            "telephony": {"adapter": "twilio"},
            "storage": {
                "adapter": "s3",
                "bucket": "reports",
                "access_key_id_setting": "S3_KEY_ID",
                "secret_access_key_setting": "S3_SECRET",
            },
            "chat": {"adapter": "slack", "webhook_url_setting": "HIRING_SLACK_URL"},
        }
    )

    assert config.setting_names() == [
        "HIRING_SLACK_URL",
        "S3_KEY_ID",
        "S3_SECRET",
        "SMTP_PASSWORD",
        "SMTP_USERNAME",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
    ]


def test_local_adapters_read_only_the_token_that_signs_call_callbacks() -> None:
    config = IntegrationsConfig.model_validate(
        {"email": {}, "telephony": {"auth_token_setting": "CALL_TOKEN"}, "storage": {}, "chat": {}}
    )

    assert config.setting_names() == ["CALL_TOKEN"]
    assert IntegrationsConfig().setting_names() == []


def test_s3_on_the_default_credential_chain_reads_no_setting() -> None:
    config = IntegrationsConfig.model_validate({"storage": {"adapter": "s3", "bucket": "b"}})

    assert config.setting_names() == []


def test_smtp_port_follows_the_security_mode() -> None:
    def port(**settings: object) -> int:
        config = IntegrationsConfig.model_validate(
            {"email": {"adapter": "smtp", "host": "h", **settings}}
        )
        assert config.email is not None
        return config.email.effective_port()

    assert (port(), port(security="tls"), port(security="none"), port(port=2525)) == (
        587,
        465,
        25,
        2525,
    )


def test_importing_the_system_schema_loads_no_integration_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys, raw.config.system\n"
        "heavy = ['aiosmtplib', 'aiosmtpd', 'twilio', 'boto3', 'slack_sdk', 'httpx']\n"
        "print(sorted(m for m in sys.modules if m.startswith('raw.integrations')))\n"
        "print(sorted(m for m in sys.modules if m.startswith('raw.config.')))\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    # Only the sections, from the core's config package: no part loads.
    sections = ["_base", "coordinator", "cron", "database", "deploy", "integrations"]
    sections += ["observability", "orchestrator", "project", "system", "temporal"]
    # project: the raw package's own import (raw.project). original, the original runtime's
    # file format, loads only when a config file is validated (benchmarks/README.md).
    assert out.stdout.splitlines() == [
        "[]",
        str([f"raw.config.{name}" for name in sections]),
        "[]",
    ]
