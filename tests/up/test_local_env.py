"""Development secrets in .raw/local.env: written once for unset settings, reused, never in
production, never over the environment."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from tests.examples.conftest import copy_hiring

from raw.project import Project
from raw.up.local_env import ensure_local_env, load_local_env, secret_settings

NAMES = [
    "HIRING_CALENDAR_SECRET",
    "HIRING_CV_SECRET",
    "HIRING_PORTAL_SECRET",
    "RAW_API_TOKEN",
    "TWILIO_AUTH_TOKEN",
]


@pytest.fixture
def hiring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    for name in [*NAMES, "RAW_ENV"]:
        # setenv first, so monkeypatch records the setting's state before the test and
        # puts it back: ensure_local_env writes os.environ itself, which must not outlive
        # the test (a TWILIO_AUTH_TOKEN left set changes later tests in this process).
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    return Project(copy_hiring(tmp_path / "hiring"))


def test_every_secret_setting_of_the_system_is_known(hiring: Project) -> None:
    wanted = secret_settings(hiring)
    assert sorted(wanted) == NAMES
    assert wanted["HIRING_CV_SECRET"] == "standard-webhooks"


def test_unset_secrets_are_written_once_private_and_reused(
    hiring: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ensure_local_env(hiring) == NAMES
    path = hiring.raw_dir / "local.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = {n: os.environ[n] for n in NAMES}
    assert first["HIRING_CV_SECRET"].startswith("whsec_")
    for name in NAMES:
        monkeypatch.delenv(name)
    assert ensure_local_env(hiring) == []  # nothing new: the file is read back
    assert {n: os.environ[n] for n in NAMES} == first


def test_the_environment_wins(hiring: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAW_API_TOKEN", "from-the-environment-" + "x" * 20)
    written = ensure_local_env(hiring)
    assert "RAW_API_TOKEN" not in written
    assert "RAW_API_TOKEN" not in (hiring.raw_dir / "local.env").read_text()
    assert os.environ["RAW_API_TOKEN"].startswith("from-the-environment-")
    assert load_local_env(hiring) == []


def test_nothing_is_written_outside_development(
    hiring: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAW_ENV", "production")
    assert ensure_local_env(hiring) == []
    assert not (hiring.raw_dir / "local.env").exists()
