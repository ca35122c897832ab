"""raw.integrations loads its adapters' libraries only when they are used.

Its exported names are checked with every part's in tests/test_public_api.py.
"""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_package_loads_no_adapter_library() -> None:
    code = (
        "import sys, raw.integrations as i\n"
        "i.for_project, i.EmailMessage, i.LocalServices\n"
        "heavy = ['aiosmtplib', 'aiosmtpd', 'twilio', 'boto3', 'slack_sdk']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "[]"
