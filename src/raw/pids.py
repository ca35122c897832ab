"""Is the process a state file names still the one that wrote it?

``os.kill(pid, 0)`` alone says yes for a zombie (a killed process whose parent died
too waits for an init that may never reap it, as in containers) and for a pid the
kernel has since given to another process. On Linux, ``/proc/<pid>/stat`` tells
both apart: its state letter, and its start time (clock ticks since boot), which a
state file records beside the pid. Elsewhere the pid alone is trusted.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["alive", "start_ticks"]


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name, or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()


def _ticks(fields: list[str]) -> int | None:
    try:
        return int(fields[19])  # field 22 of stat; the 3rd (the state) is fields[0]
    except (IndexError, ValueError):
        return None


def start_ticks(pid: int) -> int | None:
    """When ``pid`` started, in clock ticks since boot (Linux), else None."""
    fields = _stat_fields(pid)
    return _ticks(fields) if fields else None


def alive(pid: int, started: int | None = None) -> bool:
    """Whether ``pid`` runs (a zombie does not), and, given ``started``, is the same process."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    fields = _stat_fields(pid)
    if fields is None:
        return True  # no /proc: trust the pid
    if fields[:1] == ["Z"]:
        return False
    return started is None or _ticks(fields) == started
