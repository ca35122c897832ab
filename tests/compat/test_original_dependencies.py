"""PEP 723 dependencies, installed as the original's `uv run` installed them, offline.

Each test builds a small wheel in its tmp_path and points the installer at that
folder alone (no index, no network), so uv and pip both really install it.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Project, RunCli

USES_IT = """
# /// script
# requires-python = ">=3.10"
# dependencies = ["pydantic>=2", "rawdeptest==1.0"]
# ///
from rawdeptest import VALUE

from raw_runtime import BaseWorkflow, step


class UsesIt(BaseWorkflow):
    @step("read")
    def read(self) -> str:
        return VALUE
"""

PLAIN_USES_IT = """
# /// script
# dependencies = ["rawdeptest>=1"]
# ///
from pathlib import Path

from rawdeptest import VALUE

Path("value.txt").write_text(VALUE)
"""

SATISFIED = """
# /// script
# dependencies = ["pydantic>=2.0", "rich>=13.0"]
# ///
from raw_runtime import BaseWorkflow, step


class Satisfied(BaseWorkflow):
    @step("ok")
    def ok(self) -> str:
        return "ok"
"""

MISSING = """
# /// script
# dependencies = ["rawdepmissing==2.0"]
# ///
print("never")
"""


def build_wheel(folder: Path, name: str = "rawdeptest", version: str = "1.0") -> Path:
    """A pure-Python wheel holding ``{name}.VALUE = "installed {version}"``."""
    folder.mkdir(parents=True, exist_ok=True)
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f'VALUE = "installed {version}"\n',
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: raw-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = "\n".join(record) + "\n"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel


def offline(tmp_path: Path, installer: str = "uv") -> dict[str, str]:
    """Settings that send uv or pip to the test's wheel folder and nowhere else."""
    wheels = tmp_path / "wheels"
    build_wheel(wheels)
    return {
        "RAW_ENVS_DIR": str(tmp_path / "envs"),
        "RAW_DEPS_INSTALLER": installer,
        "UV_NO_INDEX": "1",
        "UV_FIND_LINKS": str(wheels),
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        "UV_OFFLINE": "1",
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheels),
        "PIP_NO_CACHE_DIR": "1",
    }


def envs(tmp_path: Path) -> list[Path]:
    root = tmp_path / "envs"
    return sorted(p for p in root.iterdir() if not p.name.startswith(".")) if root.exists() else []


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_missing_dependency_is_installed_once_and_reused(
    raw_cli: RunCli, project: Project, tmp_path: Path, installer: str
) -> None:
    project.add_workflow("uses-it", USES_IT)
    env = offline(tmp_path, installer)

    first = raw_cli("run", "uses-it", "--json", env=env, timeout=300)
    assert first.code == 0, first.stderr
    assert first.json()["output"] == "installed 1.0"
    [folder] = envs(tmp_path)
    assert (folder / "raw-env.json").is_file()
    assert installer in (folder / "raw-env.json").read_text()

    for wheel in (tmp_path / "wheels").iterdir():  # a second install could not succeed now
        wheel.unlink()
    second = raw_cli("run", "uses-it", "--json", env=env, timeout=300)
    assert second.code == 0, second.stderr
    assert envs(tmp_path) == [folder]


def test_plain_script_gets_its_dependencies_too(
    raw_cli: RunCli, project: Project, tmp_path: Path
) -> None:
    project.add_workflow("plain-uses-it", PLAIN_USES_IT)
    result = raw_cli("run", "plain-uses-it", "--json", env=offline(tmp_path), timeout=300)
    assert result.code == 0, result.stderr
    run_dir = Path(result.json()["run_dir"])
    assert (run_dir / "value.txt").read_text() == "installed 1.0"


def test_dependencies_this_environment_satisfies_install_nothing(
    raw_cli: RunCli, project: Project, tmp_path: Path
) -> None:
    project.add_workflow("satisfied", SATISFIED)
    result = raw_cli("run", "satisfied", "--json", env=offline(tmp_path))
    assert result.code == 0, result.stderr
    assert envs(tmp_path) == []


def test_no_deps_runs_in_this_environment(
    raw_cli: RunCli, project: Project, tmp_path: Path
) -> None:
    project.add_workflow("uses-it", USES_IT)
    result = raw_cli("run", "uses-it", "--no-deps", "--json", env=offline(tmp_path))
    assert result.code == 1
    assert "imports 'rawdeptest', which is not installed" in result.json()["error"]["message"]
    assert envs(tmp_path) == []


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_an_install_that_fails_names_the_package(
    raw_cli: RunCli, project: Project, tmp_path: Path, installer: str
) -> None:
    project.add_workflow("missing", MISSING)
    result = raw_cli("run", "missing", "--json", env=offline(tmp_path, installer), timeout=300)
    assert result.code == 1
    error = result.json()["error"]
    assert error["type"] == "DependencyInstallError"
    assert f"{installer} could not install 'rawdepmissing==2.0'" in error["message"]
    assert "--no-deps" in error["message"]
    assert envs(tmp_path) == []
