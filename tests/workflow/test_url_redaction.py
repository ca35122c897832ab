"""A password inside a URL setting never reaches what the kit prints, logs or records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from raw.redact import environment_secrets, redact_url, redact_urls
from raw.testing.openai_server import OpenAIServer
from raw.testing.projects import copy_project

HIRING = Path(__file__).resolve().parents[2] / "examples" / "hiring"
RAW_BIN = Path(sys.executable).with_name("raw")
MARKER = "MARKERPASS"
SCORE = json.dumps({"score": 0.9, "qualified": True, "strengths": ["Python"], "concerns": []})


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:pw1234@host:8/v1", "http://user:***@host:8/v1"),
        ("https://:pw1234@host/v1", "https://:***@host/v1"),
        ("https://user@host/v1", "https://user@host/v1"),
        ("https://host/v1?api_key=k1&model=m", "https://host/v1?api_key=***&model=m"),
        (
            "https://h/x?sig=abc&token=t&Password=p&se=2",
            "https://h/x?sig=***&token=***&Password=***&se=2",
        ),
        (
            "postgresql://app:pw@db:5432/app?sslmode=require",
            "postgresql://app:***@db:5432/app?sslmode=require",
        ),
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
    ],
)
def test_a_url_is_shown_without_its_credentials(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_every_url_in_a_message_is_masked() -> None:
    text = "The provider at http://u:secret1@h/v1 failed; retry at https://h/x?key=k2."
    assert (
        redact_urls(text)
        == "The provider at http://u:***@h/v1 failed; retry at https://h/x?key=***."
    )


def test_the_environment_secrets_are_the_url_credentials() -> None:
    env = {"RAW_LLM_BASE_URL": "http://u:p%40ss-word@h/v1", "OTHER": "https://h/?token=abcdef"}
    assert sorted(environment_secrets(env)) == ["abcdef", "p%40ss-word", "p@ss-word"]


def _raw(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RAW_BIN), *args], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_password_in_the_llm_base_url_appears_nowhere_after_runs(tmp_path: Path) -> None:
    root = copy_project(HIRING, tmp_path / "hiring")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAW_")}
    assert _raw(root, env, "db", "upgrade").returncode == 0  # runs then reach the run index
    params = ("--params", "@.raw/workflows/analyze-cv/mocks/params.json", "--json")
    outputs = []
    replies = [SCORE, (401, {"error": {"message": "bad key"}}, {}), "not json at all"]
    with OpenAIServer(*replies) as server:
        host = server.base_url.split("://", 1)[1]
        env |= {
            "RAW_LLM_BASE_URL": f"http://user:{MARKER}@{host}",
            "RAW_LLM_MODEL": "test-model",
            "RAW_LLM_MODE": "provider",
        }
        for expected in (0, 1, 1):  # scored; refused (401); answered no JSON
            done = _raw(root, env, "run", "analyze-cv", *params)
            assert done.returncode == expected, done.stderr
            outputs += [done.stdout, done.stderr]
        assert len(server.requests) >= 3
    gone = env | {"RAW_LLM_BASE_URL": f"http://user:{MARKER}@127.0.0.1:9/v1"}
    unreachable = _raw(root, gone, "run", "analyze-cv", *params)
    assert unreachable.returncode == 1
    outputs += [unreachable.stdout, unreachable.stderr]

    assert "http://user:***@127.0.0.1:9/v1" in unreachable.stdout  # still says where
    assert [o for o in outputs if MARKER in o] == []
    written = [p for p in root.rglob("*") if p.is_file()]
    assert any(p.name == "run.log" for p in written) and any(p.suffix == ".db" for p in written)
    assert [str(p) for p in written if MARKER.encode() in p.read_bytes()] == []


def test_raw_up_names_the_llm_without_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    from raw.cli.up import _llm_line

    monkeypatch.setenv("RAW_LLM_BASE_URL", f"https://user:{MARKER}@llm.example/v1?api_key=K")
    monkeypatch.setenv("RAW_LLM_MODEL", "m")
    monkeypatch.setenv("RAW_LLM_MODE", "provider")

    assert _llm_line() == "LLM: m at https://user:***@llm.example/v1?api_key=***."
