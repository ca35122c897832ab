"""The audit log: one JSON line per changing tool call, in ``.raw/mcp/audit.jsonl``.

Each line says who (the caller: ``stdio``, ``http 127.0.0.1`` or ``raw build``), when,
which tool, its arguments with secrets masked, and the outcome (``ok``, ``failed`` with
the exit code, ``error`` with the error's type, or ``refused``). Lines are appended
under a lock, so concurrent calls never interleave within a line.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

from raw import clock
from raw.local_state import AUDIT_FILE
from raw.redact import MASK, environment_secrets, redact_urls

__all__ = ["AuditLog", "mask_arguments"]

_SECRET_KEY = re.compile(
    r"(secret|token|password|passwd|pwd|api_?key|authorization|credential|signature|private)",
    re.IGNORECASE,
)


def mask_arguments(value: Any, *, secrets: list[str] | None = None) -> Any:
    """``value`` with every secret-looking key's value, URL credential and known secret masked."""
    known = secrets if secrets is not None else environment_secrets()
    if isinstance(value, dict):
        return {
            k: MASK
            if _SECRET_KEY.search(str(k)) and v not in (None, "")
            else mask_arguments(v, secrets=known)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_arguments(v, secrets=known) for v in value]
    if isinstance(value, str):
        text = redact_urls(value)
        for secret in known:
            text = text.replace(secret, MASK)
        return text
    return value


class AuditLog:
    """Appends audit records to ``<root>/.raw/mcp/audit.jsonl``."""

    def __init__(self, root: Path, *, extra_secrets: list[str] | None = None) -> None:
        self.path = root / AUDIT_FILE
        self._secrets = [s for s in (extra_secrets or []) if s]
        self._lock = threading.Lock()

    def record(
        self,
        *,
        who: str,
        tool: str,
        arguments: dict[str, Any] | None,
        outcome: str,
        exit_code: int | None = None,
        error: str | None = None,
    ) -> dict[str, Any]:
        secrets = [*environment_secrets(), *self._secrets]
        entry: dict[str, Any] = {
            "at": clock.now().isoformat(),
            "who": who,
            "tool": tool,
            "arguments": mask_arguments(arguments or {}, secrets=secrets),
            "outcome": outcome,
        }
        if exit_code is not None:
            entry["exit_code"] = exit_code
        if error is not None:
            entry["error"] = mask_arguments(error, secrets=secrets)
        line = json.dumps(entry, ensure_ascii=False, default=str)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
        return entry
