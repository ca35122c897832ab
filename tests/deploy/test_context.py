"""The build context: `raw deploy check` fails when the image would hold local state or
secrets, on a real project folder after `raw up`-style local state was written."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from raw.deploy import check_deployment, render
from raw.deploy.context import build_context
from raw.integrations.email import EmailMessage
from raw.integrations.factory import for_project
from raw.integrations.services import LocalServices
from raw.local_state import KIT_STATE
from raw.project import Project
from raw.testing.projects import copy_project
from raw.up.local_env import ensure_local_env, secret_settings

from .helpers import RAW_BIN, raw

HIRING = Path(__file__).resolve().parents[2] / "examples" / "hiring"

BEFORE = """\
.git
.venv
**/__pycache__
**/*.py[co]
.pytest_cache
.mypy_cache
.ruff_cache
.raw/cache
.raw/temporal
.raw/histories
.raw/*.db*
.raw/workflows/*/runs
.env
**/.env
**/.env.*
deploy/helm
deploy/k8s
"""
"""The ignore file `raw deploy render` wrote before local state had one list."""


async def _use_the_local_integrations(root: Path) -> None:
    """Email, a call, a stored object and a notification, as a running system makes them."""
    async with LocalServices.start(root) as services:
        integrations = for_project(root)
        await integrations.email.send(
            EmailMessage(to=["ada@customer.example"], subject="Your interview", text="Hello Ada")
        )
        await integrations.storage.put("cvs/ada.txt", b"Ada Lovelace's CV")
        await integrations.chat.notify("Ada applied")
        await integrations.telephony.place_call(
            "+15005550001", status_callback_url=f"{services.phone_url}/ignored", twiml="<Response/>"
        )


@pytest.fixture
def used_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """The hiring example after raw up-style use: secrets, database, email, calls, runs."""
    project = Project(copy_project(HIRING, tmp_path / "hiring"))
    for name in [*secret_settings(project), "RAW_ENV", "RAW_LOCAL_STATE_DIR"]:
        monkeypatch.setenv(name, "")  # recorded, so what ensure_local_env sets is undone
        monkeypatch.delenv(name)
    assert ensure_local_env(project)
    asyncio.run(_use_the_local_integrations(project.root))
    for args in (["db", "upgrade"], ["run", "generate-report", "--dry"]):
        done = subprocess.run(
            [str(RAW_BIN), *args], cwd=project.root, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
    return project


def test_a_build_context_holding_local_state_fails_the_check_until_rendered_again(
    used_project: Project,
) -> None:
    root = used_project.root
    written = {p.relative_to(root).as_posix() for p in (root / ".raw").rglob("*") if p.is_file()}
    for expected in (
        ".raw/local.env",
        ".raw/coordinator.db",
        ".raw/mail/index.jsonl",
        ".raw/calls/calls.jsonl",
        ".raw/storage/cvs/ada.txt",
        ".raw/chat/outbox.jsonl",
    ):
        assert expected in written
    assert any("/runs/" in path for path in written)
    render(used_project)
    ignore = root / "deploy" / "Dockerfile.dockerignore"
    ignore.write_text(BEFORE, encoding="utf-8")

    before = raw("deploy", "check", "--json", cwd=root)

    assert before.code == 1, before.stderr
    named = {f["object"]: f for f in before.json()["findings"] if f["file"] == ignore.name}
    for leaked in (
        ".raw/local.env",
        ".raw/mail/index.jsonl",
        ".raw/calls/calls.jsonl",
        ".raw/storage/cvs/ada.txt",
        ".raw/chat/outbox.jsonl",
    ):
        assert leaked in named, sorted(named)
    secrets = named[".raw/local.env"]
    assert "development secrets" in secrets["problem"]
    assert "Add the line '.raw/local.env' to Dockerfile.dockerignore" in secrets["fix"]
    assert ".raw/coordinator.db" not in named  # the old file kept databases out already
    human = raw("deploy", "check", cwd=root)
    assert human.code == 1
    assert ".raw/local.env" in human.stdout and "Traceback" not in human.stderr

    assert raw("deploy", "render", cwd=root).code == 0
    after = raw("deploy", "check", "--json", cwd=root)

    assert (after.code, after.json()["findings"]) == (0, []), after.stdout
    sent = build_context(root, root / "deploy" / "Dockerfile").files
    kept = {".raw/.gitignore", ".raw/config.yaml"}
    raw_files = [p for p in sent if p.startswith(".raw/") and not p.startswith(".raw/workflows/")]
    assert sorted(raw_files) == sorted(kept)
    assert not [p for p in sent if "/runs/" in p]
    assert "hiring/process.py" in sent  # the system's code still goes in


def test_without_an_ignore_file_everything_local_is_named(used_project: Project) -> None:
    out = render(used_project).out
    (out / "Dockerfile.dockerignore").unlink()
    (used_project.root / ".env").write_text("HIRING_CV_SECRET=x\n", encoding="utf-8")

    findings = check_deployment(out, project=used_project).findings

    named = {f.object for f in findings if f.file == "Dockerfile.dockerignore"}
    assert {".raw/local.env", ".raw/coordinator.db", ".env"} <= named
    assert all("raw deploy render" in f.fix for f in findings if f.object in named)


def test_a_root_dockerignore_with_an_exception_lets_a_secret_back_in(
    used_project: Project, tmp_path: Path
) -> None:
    out = render(used_project, tmp_path / "elsewhere").out  # no ignore file beside it
    (out / "Dockerfile.dockerignore").unlink()
    (used_project.root / ".dockerignore").write_text(
        ".raw/**\n!.raw/config.yaml\n!.raw/workflows\n.raw/workflows/*/runs\n!.raw/local.env\n",
        encoding="utf-8",
    )

    findings = check_deployment(out, project=used_project).findings

    leaked = [f for f in findings if f.file.endswith(".dockerignore")]
    assert [f.object for f in leaked] == [".raw/local.env"]
    assert leaked[0].file == str(Path("..") / "hiring" / ".dockerignore")


def test_local_state_moved_by_the_config_is_kept_out_too(tmp_path: Path) -> None:
    project = Project(copy_project(HIRING, tmp_path / "hiring"))
    config = project.config_path.read_text(encoding="utf-8")
    project.config_path.write_text(
        config.replace(
            "    storage:\n      adapter: local\n",
            "    storage:\n      adapter: local\n      path: data/objects\n",
        ),
        encoding="utf-8",
    )
    project = Project(project.root)
    (project.root / "data" / "objects").mkdir(parents=True)
    (project.root / "data" / "objects" / "cv.txt").write_text("a CV", encoding="utf-8")
    out = render(project).out
    assert "data/objects" in (out / "Dockerfile.dockerignore").read_text().splitlines()
    assert "data/objects/cv.txt" not in build_context(project.root, out / "Dockerfile").files


def test_every_kind_of_local_state_is_in_the_rendered_ignore_file(rendered: Path) -> None:
    lines = (rendered / "Dockerfile.dockerignore").read_text().splitlines()

    assert [entry.pattern for entry in KIT_STATE if entry.pattern not in lines] == []
