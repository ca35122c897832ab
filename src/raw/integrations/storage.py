"""Object storage: what a stored object is, and the interface every adapter implements."""

from __future__ import annotations

import abc
import builtins
from datetime import datetime

from pydantic import BaseModel, Field

from raw.integrations.errors import InvalidObjectKeyError
from raw.integrations.sync import run_sync

__all__ = ["Storage", "StoredObject", "check_key"]


class StoredObject(BaseModel):
    """An object in the store."""

    key: str = Field(description="The key it was stored under, e.g. 'reports/2026-01-05.md'.")
    url: str = Field(description="Where it lives: 's3://bucket/prefix/key' or 'file:///...'.")
    size: int
    content_type: str | None = None
    last_modified: datetime | None = None


def check_key(key: str) -> str:
    """``key`` if it is a clean relative path, the same rule for every adapter."""
    parts = key.split("/")
    if (
        not key
        or "\\" in key
        or "\x00" in key
        or key.startswith("/")
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise InvalidObjectKeyError(key)
    return key


class Storage(abc.ABC):
    """Stores bytes under keys. ``await storage.put(...)``, or ``put_sync`` in sync code."""

    @abc.abstractmethod
    async def put(
        self, key: str, data: bytes | str, content_type: str = "application/octet-stream"
    ) -> StoredObject:
        """Store ``data`` (text is stored as UTF-8) under ``key``, replacing what was there."""

    @abc.abstractmethod
    async def get(self, key: str) -> bytes:
        """The bytes under ``key``; raises :class:`~raw.integrations.errors.ObjectNotFoundError`."""

    @abc.abstractmethod
    async def list(self, prefix: str = "") -> builtins.list[StoredObject]:
        """The objects whose key starts with ``prefix``, sorted by key."""

    def put_sync(
        self, key: str, data: bytes | str, content_type: str = "application/octet-stream"
    ) -> StoredObject:
        return run_sync(self.put(key, data, content_type))

    def get_sync(self, key: str) -> bytes:
        return run_sync(self.get(key))

    def list_sync(self, prefix: str = "") -> builtins.list[StoredObject]:
        return run_sync(self.list(prefix))
