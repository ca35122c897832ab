"""The audit log masks secrets in what it records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raw.mcp.audit import AuditLog


def test_secrets_in_arguments_are_masked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAW_LLM_BASE_URL", "https://user:hunter2-password@llm.example/v1")
    log = AuditLog(tmp_path, extra_secrets=["presented-token-123"])
    log.record(
        who="stdio",
        tool="send_webhook",
        arguments={
            "route": "payment",
            "data": {"api_key": "sk-live-abc", "note": "uses presented-token-123 inline"},
            "url": "https://user:hunter2-password@llm.example/v1?token=qwerty",
            "client_secret": "s3cr3t",
        },
        outcome="ok",
        exit_code=0,
    )
    text = (tmp_path / ".raw" / "mcp" / "audit.jsonl").read_text()
    for secret in ("sk-live-abc", "presented-token-123", "hunter2-password", "qwerty", "s3cr3t"):
        assert secret not in text
    entry = json.loads(text)
    assert entry["arguments"]["route"] == "payment"
    assert entry["tool"] == "send_webhook" and entry["who"] == "stdio" and entry["outcome"] == "ok"
