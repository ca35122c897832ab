"""How long the kit keeps personal data, and erasing one entity's on request.

- :func:`purge` applies each webhook route's ``retention_days``: a delivery's raw
  body is cleared once it is older than that (``body`` set to null,
  ``body_purged_at`` set). The delivery row stays, so repeats are still
  recognised and answered the first answer. ``raw db purge`` runs it; schedule it
  daily.
- :func:`erase_entity` erases what the kit holds about one entity (the
  ``entity_key`` a route's handler stored with its deliveries): the deliveries'
  bodies, the payloads of their finished inbox records (``done`` or ``dead``;
  pending work keeps its payload until it is done), the manifests and log tails
  of the runs those records caused in the run index (kept: identity, status,
  times and where the run's folder was), and those runs' folders on this
  machine (``runs/<run-id>/``: manifest, log, results), found through the index
  (runs are matched by the records' idempotency keys and the deliveries'
  correlation ids). A folder is removed only if its own manifest names the run.
  A run still running is left until it ends; a folder on another machine is
  removed by erasing there too. ``raw db erase <entity-key>`` runs it. Erasing
  again finds nothing more.
"""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import or_, select, update

from raw import clock
from raw.config.coordinator import CoordinatorConfig
from raw.coordinator.db.database import Database
from raw.coordinator.db.models import Delivery, InboxRecord, RunIndex
from raw.errors import RawError
from raw.workflow.recorder import read_manifest

__all__ = [
    "ERASED",
    "EraseReport",
    "PurgeReport",
    "RoutePurge",
    "RunFolderEraseError",
    "erase_entity",
    "purge",
]

ERASED: dict[str, Any] = {"erased": True}
"""What an erased payload or manifest holds instead."""

_FINISHED = ("done", "dead")
_RUN_FIELDS_KEPT = (
    "schema",
    "workflow",
    "run_id",
    "status",
    "dry",
    "timings",
    "environment",
    "run_dir",  # a path of ids only: erasing on the run's own machine finds its folder by it
)


class RunFolderEraseError(RawError):
    """Run folders of an erased entity that could not be removed (the database part is done)."""

    def __init__(self, entity_key: str, failures: list[tuple[Path, str]]) -> None:
        self.entity_key = entity_key
        self.failures = failures
        listed = "; ".join(f"{path}: {reason}" for path, reason in failures)
        super().__init__(
            f"Entity '{entity_key}': its records in the database are erased, but "
            f"{len(failures)} run folder(s) could not be removed ({listed}). Fix the cause "
            "(permissions, a full disk) and run the erase again: it removes what is left."
        )


class RoutePurge(BaseModel):
    route: str
    retention_days: int
    cutoff: datetime
    """Bodies of deliveries received before this time were cleared."""
    purged: int


class PurgeReport(BaseModel):
    now: datetime
    routes: list[RoutePurge]
    kept_forever: list[str]
    """Routes with no ``retention_days``: their bodies are kept."""

    @property
    def purged(self) -> int:
        return sum(r.purged for r in self.routes)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def purge(
    db: Database, coordinator: CoordinatorConfig, *, now: datetime | None = None
) -> PurgeReport:
    """Clear the bodies of deliveries older than their route's ``retention_days``."""
    now = _utc(now or clock.now())
    routes: list[RoutePurge] = []
    kept: list[str] = []
    for hook in coordinator.webhooks:
        if hook.retention_days is None:
            kept.append(hook.name)
            continue
        cutoff = now - timedelta(days=hook.retention_days)
        async with db.write() as session:
            result = await session.execute(
                update(Delivery)
                .where(
                    Delivery.route == hook.name,
                    Delivery.received_at < cutoff,
                    Delivery.body.is_not(None),
                )
                .values(body=None, body_purged_at=now)
                .execution_options(synchronize_session=False)
            )
        count = int(getattr(result, "rowcount", 0) or 0)
        routes.append(
            RoutePurge(
                route=hook.name, retention_days=hook.retention_days, cutoff=cutoff, purged=count
            )
        )
    return PurgeReport(now=now, routes=routes, kept_forever=kept)


class EraseReport(BaseModel):
    entity_key: str
    deliveries: int
    inbox_records: int
    runs: int
    """Runs whose manifest and log tail were erased in the run index."""
    run_folders: int = 0
    """Run folders (manifest, log, results) removed from this machine's disk."""

    @property
    def total(self) -> int:
        return self.deliveries + self.inbox_records + self.runs + self.run_folders


def _erased_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    kept = {k: manifest[k] for k in _RUN_FIELDS_KEPT if k in manifest}
    return {**kept, **ERASED}


async def erase_entity_report(
    db: Database, entity_key: str, *, now: datetime | None = None
) -> EraseReport:
    """Erase one entity's personal data; says how many records of each kind changed."""
    now = _utc(now or clock.now())
    async with db.write() as session:
        deliveries = (
            await session.execute(
                select(Delivery.id, Delivery.correlation_id, Delivery.body).where(
                    Delivery.entity_key == entity_key
                )
            )
        ).all()
        delivery_ids = [d.id for d in deliveries]
        with_body = [d.id for d in deliveries if d.body is not None]
        if with_body:
            await session.execute(
                update(Delivery)
                .where(Delivery.id.in_(with_body))
                .values(body=None, body_purged_at=now)
                .execution_options(synchronize_session=False)
            )

        records = (
            (
                await session.execute(
                    select(InboxRecord).where(
                        InboxRecord.delivery_id.in_(delivery_ids),
                        InboxRecord.status.in_(_FINISHED),
                    )
                )
            )
            .scalars()
            .all()
            if delivery_ids
            else []
        )
        inbox = 0
        for record in records:
            if record.payload != ERASED:
                record.payload = dict(ERASED)
                if record.result is not None:
                    record.result = dict(ERASED)
                inbox += 1

        keys = [r.idempotency_key for r in records]
        correlations = [d.correlation_id for d in deliveries]
        runs = 0
        folders: list[tuple[str, Any]] = []
        if keys or correlations:
            found = (
                (
                    await session.execute(
                        select(RunIndex).where(
                            or_(
                                RunIndex.idempotency_key.in_(keys),
                                RunIndex.correlation_id.in_(correlations),
                            ),
                            RunIndex.status != "running",
                        )
                    )
                )
                .scalars()
                .all()
            )
            for run in found:
                folders.append((run.run_id, run.manifest.get("run_dir")))
                if run.manifest.get("erased") is not True or run.log_tail is not None:
                    run.manifest = _erased_manifest(run.manifest)
                    run.log_tail = None
                    runs += 1
    # After the commit: a folder removed while the erase rolled back would be lost for
    # nothing, and a folder left by a failure is found again by the next erase.
    removed, failures = await asyncio.to_thread(_remove_run_folders, folders)
    if failures:
        raise RunFolderEraseError(entity_key, failures)
    return EraseReport(
        entity_key=entity_key,
        deliveries=len(with_body),
        inbox_records=inbox,
        runs=runs,
        run_folders=removed,
    )


def _remove_run_folders(folders: list[tuple[str, Any]]) -> tuple[int, list[tuple[Path, str]]]:
    """Remove each run's folder if it is here and its manifest names the run.

    Returns how many were removed and the ones that could not be, with why.
    """
    removed = 0
    failures: list[tuple[Path, str]] = []
    for run_id, run_dir in folders:
        if not isinstance(run_dir, str) or not run_dir:
            continue
        folder = Path(run_dir)
        if folder.name != run_id or not folder.is_dir():
            continue  # gone already, or on another machine
        manifest = read_manifest(folder)
        if manifest is None or manifest.get("run_id") != run_id:
            continue  # not the run's folder: never remove what the run did not write
        try:
            shutil.rmtree(folder)
        except OSError as exc:
            failures.append((folder, exc.strerror or type(exc).__name__))
        else:
            removed += 1
    return removed, failures


async def erase_entity(db: Database, entity_key: str, *, now: datetime | None = None) -> int:
    """Erase one entity's personal data on request; returns how many records changed."""
    return (await erase_entity_report(db, entity_key, now=now)).total
