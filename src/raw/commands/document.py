"""The result every command function returns: its JSON document and its exit code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Document:
    """``body`` is what ``raw <command> --json`` prints; ``exit_code`` what the command exits.

    ``detail`` carries the objects a front end may need for its human text (never
    part of the document).
    """

    body: dict[str, Any]
    exit_code: int = 0
    detail: Any = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0
