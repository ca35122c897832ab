"""The public API of raw.integrations: what `from raw.integrations import ...` offers."""

from __future__ import annotations

import subprocess
import sys

import raw.integrations


def test_every_name_in_all_is_importable() -> None:
    missing = [
        name for name in raw.integrations.__all__ if getattr(raw.integrations, name, None) is None
    ]

    assert missing == []
    assert len(raw.integrations.__all__) == len(set(raw.integrations.__all__))


def test_every_lazily_exported_name_is_in_all() -> None:
    from raw.integrations import _MODULE_OF

    assert sorted(_MODULE_OF) == sorted(raw.integrations.__all__)


def test_importing_the_package_loads_no_adapter_library() -> None:
    code = (
        "import sys, raw.integrations as i\n"
        "i.for_project, i.EmailMessage, i.LocalServices\n"
        "heavy = ['aiosmtplib', 'aiosmtpd', 'twilio', 'boto3', 'slack_sdk']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "[]"
