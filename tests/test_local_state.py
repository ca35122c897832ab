"""What `.raw/` holds that is local state is git-ignored: in new projects, generated systems
and the examples; after the real local integrations wrote to it, `git status` shows nothing."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from raw.coordinator.run_mirror import DEFAULT_DATABASE_FILE
from raw.integrations import EmailMessage, for_project
from raw.integrations.config import ChatConfig, StorageConfig
from raw.integrations.mail_catcher import MAIL_DIR
from raw.integrations.phone_simulator import CALLS_FILE
from raw.integrations.services import STATE_FILE
from raw.local_state import LOCAL_STATE, gitignore
from raw.orchestrator.engine import ENGINE_DIR
from raw.up.local_env import LOCAL_ENV

ROOT = Path(__file__).resolve().parents[1]
RAW = str(Path(sys.executable).with_name("raw"))

# A file in each place the kit's parts write under .raw/ (their own constants where they
# have one), and files a project commits.
WRITTEN = [
    str(MAIL_DIR / "index.jsonl"),
    str(CALLS_FILE),
    str(STATE_FILE),
    f"{StorageConfig().path}/reports/2026-12-07.csv",
    ChatConfig().outbox,
    f".raw/{ENGINE_DIR}/engine.db",
    f".raw/{LOCAL_ENV}",
    f".raw/{DEFAULT_DATABASE_FILE}",
    f".raw/{DEFAULT_DATABASE_FILE}-wal",
    ".raw/gates/20261207T020000Z-abc123/summary.json",
    ".raw/simulate/20261207T020000Z-abc123/timeline.jsonl",
    ".raw/cache/config.json",
    ".raw/runs/20261207T020000Z-abc123/manifest.json",
    ".raw/workflows/analyze/runs/20261207T020000Z-abc123/manifest.json",
]
COMMITTED = [
    ".raw/config.yaml",
    ".raw/workflows/chat/run.py",  # a workflow may be named like a local-state folder
    ".raw/workflows/storage/mocks/params.json",
    ".raw/histories/hiring-process/r-1.json",
]


def git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )


def ignored(root: Path, paths: list[str]) -> set[str]:
    """Which of ``paths`` git ignores in the repository at ``root`` (tracked or not)."""
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        cwd=root,
        input="\n".join(paths) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode in (0, 1), done.stderr  # 1: none of them is ignored
    return set(done.stdout.split())


def repository_with(tmp_path: Path, gitignore_text: str) -> Path:
    root = tmp_path / "repo"
    (root / ".raw").mkdir(parents=True)
    (root / ".raw" / ".gitignore").write_text(gitignore_text, encoding="utf-8")
    assert git(root, "init", "-q").returncode == 0
    return root


@pytest.mark.parametrize(
    "source",
    ["new projects", "examples/hiring", "examples/quickstart"],
)
def test_every_place_the_kit_writes_is_ignored_and_the_project_is_not(
    source: str, tmp_path: Path
) -> None:
    text = (
        gitignore() if source == "new projects" else (ROOT / source / ".raw/.gitignore").read_text()
    )
    root = repository_with(tmp_path, text)
    assert ignored(root, WRITTEN) == set(WRITTEN)
    assert ignored(root, COMMITTED) == set()


def test_the_list_covers_what_copy_project_leaves_out() -> None:
    from raw.testing.projects import LOCAL_STATE as COPY_SKIPS

    for name in COPY_SKIPS:
        assert f"/{name}" in LOCAL_STATE or f"/{name}/" in LOCAL_STATE


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_after_the_local_integrations_wrote_git_status_shows_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("RAW_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LOCAL_TWILIO_TOKEN", "local-twilio-auth-token-0123456789")
    made = subprocess.run(
        [RAW, "new", "system", "shop", "--pattern", "single", "--dir", str(tmp_path / "shop")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    root = tmp_path / "shop"
    config = root / ".raw" / "config.yaml"
    config.write_text(
        config.read_text()
        + textwrap.dedent(
            """
            system:
              name: shop
              integrations:
                email: {from_address: "Shop <shop@example.com>"}
                telephony:
                  auth_token_setting: LOCAL_TWILIO_TOKEN
                  from_number: "+15005550006"
                  simulator: {callback_delay_seconds: null}
                storage: {}
                chat: {}
            """
        )
    )
    assert git(root, "init", "-q").returncode == 0
    assert git(root, "add", "-A").returncode == 0
    assert git(root, "commit", "-qm", "shop").returncode == 0

    with subprocess.Popen(
        [RAW, "integrations", "serve", "--json"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as serving:
        try:
            assert serving.stdout is not None
            text, ready = "", None
            while ready is None:  # serve --json prints one document, then runs on
                line = serving.stdout.readline()
                assert line, f"raw integrations serve ended: {text}"
                text += line
                with contextlib.suppress(ValueError):
                    ready = json.loads(text)
            assert ready["status"] == "ready", ready
            integrations = for_project(root)
            integrations.email.send_sync(
                EmailMessage(to="ada@example.com", subject="Your order", text="Order 17 shipped.")
            )
            integrations.telephony.place_call_sync(
                "+33612345678",
                status_callback_url="http://127.0.0.1:9/webhooks/call-status",
                twiml="<Response><Say>Hi</Say></Response>",
            )
            integrations.storage.put_sync("invoices/17.txt", "Ada Lovelace, 12 Main St")
            integrations.chat.notify_sync("Ada Lovelace ordered 17")
        finally:
            serving.send_signal(signal.SIGTERM)
            serving.wait(timeout=30)
    ran = subprocess.run(
        [RAW, "run", "shop", "--dry"], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr

    written = sorted(str(p.relative_to(root)) for p in (root / ".raw").rglob("*") if p.is_file())
    for folder in ("mail", "calls", "storage", "chat", "workflows/shop/runs"):
        assert any(w.startswith(f".raw/{folder}/") for w in written), (folder, written)
    status = git(root, "status", "--porcelain", "--untracked-files=all")
    assert status.returncode == 0 and status.stdout == "", status.stdout
