"""Object storage: a local folder, and S3 through boto3 against moto's S3 server."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from integrations.conftest import S3_SECRET, all_log_text
from raw.integrations import (
    FolderStorage,
    InvalidObjectKeyError,
    ObjectNotFoundError,
    S3Storage,
    SettingMissingError,
    StorageConfig,
    StorageError,
    for_project,
)
from raw.integrations.storage import Storage

REPORT = "# Daily report\n\n3 candidates, 1 call.\n"


def exercise(storage: Storage) -> None:
    """What every adapter must do alike: put, get, list by prefix, refuse bad keys."""

    async def scenario() -> None:
        stored = await storage.put("reports/2026-01-05.md", REPORT, "text/markdown")
        await storage.put("reports/2026-01-06.md", b"\x00binary\xff", "application/octet-stream")
        await storage.put("summaries/ada.json", b'{"score": 8}', "application/json")
        await storage.put("reports/2026-01-05.md", REPORT + "updated\n", "text/markdown")

        assert (stored.key, stored.size, stored.content_type) == (
            "reports/2026-01-05.md",
            len(REPORT),
            "text/markdown",
        )
        assert await storage.get("reports/2026-01-05.md") == (REPORT + "updated\n").encode()
        assert await storage.get("reports/2026-01-06.md") == b"\x00binary\xff"
        assert [o.key for o in await storage.list("reports/")] == [
            "reports/2026-01-05.md",
            "reports/2026-01-06.md",
        ]
        assert [o.key for o in await storage.list()] == [
            "reports/2026-01-05.md",
            "reports/2026-01-06.md",
            "summaries/ada.json",
        ]
        with pytest.raises(ObjectNotFoundError, match="reports/missing.md"):
            await storage.get("reports/missing.md")
        for bad in ("../escape.md", "/etc/passwd", "a//b", "a\\b", "", "reports/./x"):
            with pytest.raises(InvalidObjectKeyError):
                await storage.put(bad, b"x")

    asyncio.run(scenario())


def test_folder_storage_puts_gets_and_lists(tmp_path: Path) -> None:
    storage = FolderStorage(tmp_path / "storage")

    exercise(storage)

    report = tmp_path / "storage" / "reports" / "2026-01-05.md"
    assert report.read_text() == REPORT + "updated\n"
    leftovers = [p for p in (tmp_path / "storage").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []  # writes are a rename of a finished file
    [listed] = storage.list_sync("summaries/")
    assert listed.url == (tmp_path / "storage" / "summaries" / "ada.json").resolve().as_uri()
    assert listed.content_type == "application/json"


def test_the_local_adapter_is_the_project_s_storage_folder(integ_project: Path) -> None:
    stored = for_project(integ_project).storage.put_sync(
        "reports/today.md", REPORT, "text/markdown"
    )

    assert (integ_project / ".raw" / "storage" / "reports" / "today.md").read_text() == REPORT
    assert stored.url.startswith("file://")


@pytest.fixture
def integ_bucket(integ_s3: str, monkeypatch: pytest.MonkeyPatch) -> StorageConfig:
    """A new bucket on the moto server, and the config that reaches it with key settings."""
    import boto3

    monkeypatch.setenv("INTEG_S3_KEY_ID", "integ-access-key-id")
    monkeypatch.setenv("INTEG_S3_SECRET", S3_SECRET)
    bucket = f"integ-{uuid.uuid4().hex[:12]}"
    boto3.session.Session().client(
        "s3",
        region_name="us-east-1",
        endpoint_url=integ_s3,
        aws_access_key_id="integ-access-key-id",
        aws_secret_access_key=S3_SECRET,
    ).create_bucket(Bucket=bucket)
    return StorageConfig(
        adapter="s3",
        bucket=bucket,
        prefix="hiring/",
        region="us-east-1",
        endpoint_url=integ_s3,
        access_key_id_setting="INTEG_S3_KEY_ID",
        secret_access_key_setting="INTEG_S3_SECRET",
    )


def test_s3_storage_puts_gets_and_lists_under_its_prefix(integ_bucket: StorageConfig) -> None:
    import boto3

    storage = S3Storage.from_config(integ_bucket)

    exercise(storage)

    raw_client = boto3.session.Session().client(
        "s3",
        region_name="us-east-1",
        endpoint_url=integ_bucket.endpoint_url,
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )
    head = raw_client.head_object(Bucket=integ_bucket.bucket, Key="hiring/reports/2026-01-05.md")
    assert head["ContentType"] == "text/markdown"
    [listed] = storage.list_sync("summaries/")
    assert listed.url == f"s3://{integ_bucket.bucket}/hiring/summaries/ada.json"
    assert listed.size == len(b'{"score": 8}')


def test_an_s3_error_names_the_bucket_problem_never_the_secret(
    integ_bucket: StorageConfig, integ_logs: pytest.LogCaptureFixture
) -> None:
    storage = S3Storage.from_config(
        integ_bucket.model_copy(update={"bucket": "integ-no-such-bucket"})
    )

    with pytest.raises(StorageError) as caught:
        storage.put_sync("reports/x.md", REPORT)

    assert "NoSuchBucket" in str(caught.value)
    assert "could not put 'reports/x.md'" in str(caught.value)
    for text in (str(caught.value), repr(caught.value), all_log_text(integ_logs)):
        assert S3_SECRET not in text


def test_an_unset_s3_key_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INTEG_S3_KEY_ID", raising=False)
    config = StorageConfig(
        adapter="s3",
        bucket="b",
        access_key_id_setting="INTEG_S3_KEY_ID",
        secret_access_key_setting="INTEG_S3_SECRET",
    )

    with pytest.raises(SettingMissingError, match="INTEG_S3_KEY_ID is not set"):
        S3Storage.from_config(config).get_sync("x")
