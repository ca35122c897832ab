"""How long the kit keeps personal data, and erasing one entity's on request.

- :func:`purge` applies each webhook route's ``retention_days``: a delivery's raw
  body is cleared once it is older than that (``body`` set to null,
  ``body_purged_at`` set). The delivery row stays, so repeats are still
  recognised and answered the first answer. ``raw db purge`` runs it; schedule it
  daily.
- :func:`erase_entity` erases what the kit holds about one entity (the
  ``entity_key`` a route's handler stored with its deliveries): the deliveries'
  bodies, the payloads of their finished inbox records (``done`` or ``dead``;
  pending work keeps its payload until it is done), and the manifests and log
  tails of the runs those records caused (kept: identity, status and times).
  ``raw db erase <entity-key>`` runs it. Erasing again finds nothing more.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import or_, select, update

from raw import clock
from raw.coordinator.db.database import Database
from raw.coordinator.db.models import Delivery, InboxRecord, RunIndex
from raw.system import CoordinatorConfig

__all__ = ["ERASED", "EraseReport", "PurgeReport", "RoutePurge", "erase_entity", "purge"]

ERASED: dict[str, Any] = {"erased": True}
"""What an erased payload or manifest holds instead."""

_FINISHED = ("done", "dead")
_RUN_FIELDS_KEPT = ("schema", "workflow", "run_id", "status", "dry", "timings", "environment")


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

    @property
    def total(self) -> int:
        return self.deliveries + self.inbox_records + self.runs


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
                if run.manifest.get("erased") is not True or run.log_tail is not None:
                    run.manifest = _erased_manifest(run.manifest)
                    run.log_tail = None
                    runs += 1
    return EraseReport(
        entity_key=entity_key, deliveries=len(with_body), inbox_records=inbox, runs=runs
    )


async def erase_entity(db: Database, entity_key: str, *, now: datetime | None = None) -> int:
    """Erase one entity's personal data on request; returns how many records changed."""
    return (await erase_entity_report(db, entity_key, now=now)).total
