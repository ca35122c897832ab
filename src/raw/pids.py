"""Is the process a state file names still the one that wrote it?

``os.kill(pid, 0)`` alone says yes for a zombie (a killed process whose parent died
too waits for an init that may never reap it, as in containers) and for a pid the
kernel has since given to another process. ``psutil`` tells both apart: the
process's status, and its start time, which a state file records beside the pid
(in clock ticks since boot, as Linux's ``/proc/<pid>/stat`` counts them, so files
written by earlier versions still match).
"""

from __future__ import annotations

import os

import psutil

__all__ = ["alive", "start_ticks"]

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _ticks(process: psutil.Process) -> int:
    return round((process.create_time() - psutil.boot_time()) * _TICKS_PER_SECOND)


def start_ticks(pid: int) -> int | None:
    """When ``pid`` started, in clock ticks since boot, or None if it cannot be told."""
    try:
        return _ticks(psutil.Process(pid))
    except (psutil.Error, ValueError):
        return None


def alive(pid: int, started: int | None = None) -> bool:
    """Whether ``pid`` runs (a zombie does not), and, given ``started``, is the same process."""
    if pid <= 0:
        return False
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return started is None or _ticks(process) == started
    except psutil.NoSuchProcess:  # ZombieProcess too
        return False
    except psutil.AccessDenied:
        return True  # another user's process: trust the pid
