"""Settings for the hiring app's tests: a throwaway SQLite database and fresh secrets."""

from __future__ import annotations

import base64
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
for folder in (ROOT, ROOT / "tests"):  # the system's package and these helpers
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
BASE = "http://hiring.test"
SECRETS = {
    "HIRING_CV_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
    "HIRING_CALENDAR_SECRET": secrets.token_hex(24),
    "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
    "HIRING_PORTAL_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
    "RAW_API_TOKEN": secrets.token_urlsafe(32),
}


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    for name in list(os.environ):
        if name.startswith("RAW_") or name in ("DATABASE_URL", "TEMPORAL_ADDRESS"):
            monkeypatch.delenv(name)
    values = {
        **SECRETS,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hiring.db'}",
        "RAW_DISPATCHER": "off",  # these tests look at what a delivery stores, not its action
        "RAW_PUBLIC_BASE_URL": BASE,
        "TEMPORAL_ADDRESS": "127.0.0.1:9",  # nothing listens: process state is reported missing
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    yield values
