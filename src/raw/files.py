"""File plumbing every part of the kit shares: writes that readers never see half done."""

from __future__ import annotations

import os
import threading
from pathlib import Path

__all__ = ["append_file", "write_atomic"]


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` so readers see the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    _write(tmp, data, os.O_TRUNC)
    os.replace(tmp, path)


def append_file(path: str | Path, data: bytes) -> None:
    """Append ``data`` to ``path`` (made if missing) in one open, write and close."""
    _write(path, data, os.O_APPEND)


def _write(path: str | Path, data: bytes, mode: int) -> None:
    # os-level calls: open() would add a stat, a terminal check and a seek to each write.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | mode, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
