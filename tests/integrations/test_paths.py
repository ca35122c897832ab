"""Where the local adapters keep what they record: the project's .raw/, or RAW_LOCAL_STATE_DIR."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from raw.integrations import EmailMessage, LocalServices, for_project


def test_raw_local_state_dir_moves_everything_the_local_adapters_record(
    integ_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "simulation"
    monkeypatch.setenv("RAW_LOCAL_STATE_DIR", str(state))

    async def scenario() -> None:
        async with LocalServices.start(integ_project) as services:
            assert (state / "integrations" / "services.json").exists()
            integrations = for_project(integ_project)
            await integrations.email.send(
                EmailMessage(to="ada@example.com", subject="Hi", text="Hello")
            )
            await integrations.storage.put("reports/today.md", "# Today")
            await integrations.chat.notify("Report ready")
            assert [m.subject for m in services.mail.list()] == ["Hi"]
            assert [n.text for n in services.chat.list()] == ["Report ready"]

    asyncio.run(scenario())

    assert (state / "mail" / "index.jsonl").exists()
    assert (state / "storage" / "reports" / "today.md").read_text() == "# Today"
    assert (state / "chat" / "outbox.jsonl").exists()
    assert not (state / "integrations" / "services.json").exists()
    for name in ("mail", "storage", "chat", "integrations"):
        assert not (integ_project / ".raw" / name).exists()
