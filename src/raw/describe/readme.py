"""The system map's Mermaid drawing inside a README, between two markers.

Generated READMEs carry the drawing between ``<!-- raw describe system -->`` and
``<!-- /raw describe system -->``; ``raw describe system --readme README.md`` writes
it again from the config and the code, and ``--check`` says whether it drifted.
"""

from __future__ import annotations

import re

from raw.describe.mermaid import to_mermaid
from raw.describe.model import SystemMap

__all__ = ["BEGIN", "END", "readme_block", "replace_block"]

BEGIN = "<!-- raw describe system: drawn from .raw/config.yaml and the code; do not edit -->"
END = "<!-- /raw describe system -->"
_BLOCK = re.compile(r"<!-- raw describe system\b[^\n]*-->\n.*?<!-- /raw describe system -->", re.S)


def readme_block(system: SystemMap) -> str:
    """The markers and the fenced drawing between them."""
    return f"{BEGIN}\n{to_mermaid(system, fenced=True)}{END}"


def replace_block(text: str, system: SystemMap) -> str | None:
    """``text`` with its drawing replaced by the map's; None when it has no markers."""
    if _BLOCK.search(text) is None:
        return None
    block = readme_block(system)
    return _BLOCK.sub(lambda _: block, text, count=1)
