"""Finding Debian's Chromium for the browser tests, and the flags it runs headless with."""

from __future__ import annotations

import shutil
from pathlib import Path

INSTALL_HINT = "sudo apt-get install -y chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""The flags Debian's chromium runs headless with here (NOTES.md, Browsers)."""


def chromium_executable() -> str | None:
    """``chromium`` on the PATH, else /usr/bin/chromium, else None."""
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
