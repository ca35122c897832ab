"""The local storage adapter: objects are files in a folder (default ``.raw/storage``).

Writes are atomic (a temporary file renamed over the old one), so a reader sees
the old object or the new one, never half of one.
"""

from __future__ import annotations

import asyncio
import builtins
import mimetypes
from datetime import UTC, datetime
from pathlib import Path

from raw import tracing
from raw.files import write_atomic
from raw.integrations.errors import ObjectNotFoundError
from raw.integrations.storage import Storage, StoredObject, check_key

__all__ = ["FolderStorage"]


def _is_partial(path: Path) -> bool:
    """A write in progress (``raw.files.write_atomic``'s temporary file)."""
    return path.name.startswith(".") and path.name.endswith(".tmp")


class FolderStorage(Storage):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _object(self, key: str, path: Path, content_type: str | None = None) -> StoredObject:
        stat = path.stat()
        return StoredObject(
            key=key,
            url=path.resolve().as_uri(),
            size=stat.st_size,
            content_type=content_type or mimetypes.guess_type(key)[0],
            last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
        )

    def _put(self, key: str, data: bytes, content_type: str) -> StoredObject:

        path = self.root / check_key(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
        return self._object(key, path, content_type)

    @tracing.traced("storage put", integration="storage", adapter="folder")
    async def put(
        self, key: str, data: bytes | str, content_type: str = "application/octet-stream"
    ) -> StoredObject:
        payload = data.encode("utf-8") if isinstance(data, str) else data
        return await asyncio.to_thread(self._put, key, payload, content_type)

    @tracing.traced("storage get", integration="storage", adapter="folder")
    async def get(self, key: str) -> bytes:
        path = self.root / check_key(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFoundError(key, str(self.root)) from None

    def _list(self, prefix: str) -> builtins.list[StoredObject]:
        if not self.root.is_dir():
            return []
        found = []
        for path in self.root.rglob("*"):
            if path.is_file() and not _is_partial(path):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found.append(self._object(key, path))
        return sorted(found, key=lambda o: o.key)

    async def list(self, prefix: str = "") -> builtins.list[StoredObject]:
        return await asyncio.to_thread(self._list, prefix)
