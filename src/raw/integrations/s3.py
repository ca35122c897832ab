"""The S3 storage adapter, on ``boto3``: AWS S3 or any S3-compatible store (``endpoint_url``).

boto3 blocks, so each call runs in a thread; one client per adapter (boto3
clients are thread-safe, sessions are not). Credentials come from the settings
the config names, else from boto3's default chain (environment, profile, role).
"""

from __future__ import annotations

import asyncio
import builtins
import threading
from collections.abc import Callable
from typing import Any

from raw import tracing
from raw.integrations.config import StorageConfig
from raw.integrations.errors import ObjectNotFoundError, StorageError
from raw.integrations.settings import read_setting
from raw.integrations.storage import Storage, StoredObject, check_key

__all__ = ["S3Storage"]

Credentials = tuple[str, str]


class S3Storage(Storage):
    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        region: str | None = None,
        endpoint_url: str | None = None,
        credentials: Callable[[], Credentials | None] | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.region = region
        self.endpoint_url = endpoint_url
        self._credentials = credentials or (lambda: None)
        self._client: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: StorageConfig) -> S3Storage:
        """The adapter the config describes; settings are read at the first call."""
        assert config.bucket is not None  # the config requires it for adapter s3

        def credentials() -> Credentials | None:
            if config.access_key_id_setting and config.secret_access_key_setting:
                return (
                    read_setting(config.access_key_id_setting, key="storage.access_key_id_setting"),
                    read_setting(
                        config.secret_access_key_setting, key="storage.secret_access_key_setting"
                    ),
                )
            return None

        return cls(
            bucket=config.bucket,
            prefix=config.prefix,
            region=config.region,
            endpoint_url=config.endpoint_url,
            credentials=credentials,
        )

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                # Lazy: needs the integrations extra, which may be missing.
                import boto3  # type: ignore[import-untyped]

                keys = self._credentials()
                self._client = boto3.session.Session().client(
                    "s3",
                    region_name=self.region,
                    endpoint_url=self.endpoint_url,
                    aws_access_key_id=keys[0] if keys else None,
                    aws_secret_access_key=keys[1] if keys else None,
                )
            return self._client

    def _call(self, operation: str, key: str, method: str, **arguments: Any) -> Any:
        # Lazy: needs the integrations extra, which may be missing.
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        try:
            return getattr(self.client(), method)(**arguments)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if operation == "get" and code in ("NoSuchKey", "404", "NotFound"):
                raise ObjectNotFoundError(key, self.where) from None
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            raise StorageError(
                operation, key, f"S3 answered {status} {code}: {error.get('Message', '')}".strip()
            ) from None
        except BotoCoreError as exc:
            raise StorageError(operation, key, str(exc)) from None

    def _put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        full = self.prefix + check_key(key)
        self._call(
            "put",
            key,
            "put_object",
            Bucket=self.bucket,
            Key=full,
            Body=data,
            ContentType=content_type,
        )
        return StoredObject(
            key=key, url=f"s3://{self.bucket}/{full}", size=len(data), content_type=content_type
        )

    @tracing.traced("storage put", integration="storage", adapter="s3")
    async def put(
        self, key: str, data: bytes | str, content_type: str = "application/octet-stream"
    ) -> StoredObject:
        payload = data.encode("utf-8") if isinstance(data, str) else data
        return await asyncio.to_thread(self._put, key, payload, content_type)

    def _get(self, key: str) -> bytes:
        answer = self._call(
            "get", key, "get_object", Bucket=self.bucket, Key=self.prefix + check_key(key)
        )
        with answer["Body"] as body:
            data: bytes = body.read()
        return data

    @tracing.traced("storage get", integration="storage", adapter="s3")
    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._get, key)

    def _list(self, prefix: str) -> builtins.list[StoredObject]:
        found = []
        token: str | None = None
        while True:
            arguments: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix + prefix}
            if token:
                arguments["ContinuationToken"] = token
            page = self._call("list", prefix or "/", "list_objects_v2", **arguments)
            for item in page.get("Contents", []):
                full: str = item["Key"]
                found.append(
                    StoredObject(
                        key=full[len(self.prefix) :],
                        url=f"s3://{self.bucket}/{full}",
                        size=int(item.get("Size", 0)),
                        last_modified=item.get("LastModified"),
                    )
                )
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return sorted(found, key=lambda o: o.key)

    async def list(self, prefix: str = "") -> builtins.list[StoredObject]:
        return await asyncio.to_thread(self._list, prefix)
