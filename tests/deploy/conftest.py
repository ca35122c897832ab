"""Fixtures for the deployment tests: a realistic system, rendered once per session."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from raw.deploy import CheckReport, Finding, check_deployment, render
from raw.project import Project

from .helpers import copy_system


@pytest.fixture(scope="session")
def deploy_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return copy_system(tmp_path_factory.mktemp("deploy") / "recruiting")


@pytest.fixture(scope="session")
def rendered(deploy_project: Project) -> Path:
    """deploy/ of the test system, rendered once; tests copy it before changing it."""
    return render(deploy_project).out


@pytest.fixture(scope="session")
def clean_report(deploy_project: Project, rendered: Path) -> CheckReport:
    return check_deployment(rendered, project=deploy_project)


@pytest.fixture
def deploy_copy(rendered: Path, tmp_path: Path) -> Path:
    """A copy of the rendered files, for a test to break."""
    return Path(shutil.copytree(rendered, tmp_path / "deploy"))


Check = Callable[[Path], list[Finding]]


@pytest.fixture
def check(deploy_project: Project) -> Check:
    def run(directory: Path) -> list[Finding]:
        return check_deployment(directory, project=deploy_project).findings

    return run
