"""The coordinator's Prometheus metrics, in a registry of each app's own.

- ``raw_webhook_deliveries_total{route, outcome}``: every webhook request by how it
  ended (``accepted``, ``duplicate``, ``ignored`` (taken in, its handler said to do
  nothing), ``unsupported_media_type``, ``too_large``,
  ``bad_signature``, ``invalid_body``, ``missing_key``, ``bad_request``, ``error``).
- ``raw_inbox_records{status}``: inbox depth by status, read from the database at
  each scrape (so it also counts records written by other processes).
- ``raw_inbox_oldest_due_seconds``: how long the oldest pending record that is due
  has waited to be claimed, read at each scrape (0 when none waits). It stays under
  a second or so while the dispatchers keep up; growing under load, they fall behind
  (see docs/scaling.md, "Dispatcher capacity").
- ``raw_dispatch_latency_seconds{route, outcome}``: how long the dispatcher's
  actions take (outcome ``done``, ``retry``, ``dead`` or ``lost``); the dispatcher
  reports through its ``on_dispatch`` hook, :meth:`CoordinatorMetrics.observe_dispatch`.
- ``raw_dead_letters_total{route}``: records the dispatcher gave up on;
  ``raw_inbox_records{status="dead"}`` is how many are dead now.
- ``raw_inbox_oldest_pending_age_seconds``: how long the oldest record waiting to be
  dispatched has waited (0 when none waits), read from the database at each scrape.
- ``raw_inbox_dispatched_last_minute``: inbox records done in the last minute, by any
  dispatcher (the app's own or ``raw dispatcher`` processes), read from the database
  at each scrape: the dispatch rate wherever the dispatchers run.

What to watch, and the worker's own metrics beside these: docs/observability.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from raw.coordinator.errors import MissingDeliveryKeyError, status_for

__all__ = ["CONTENT_TYPE", "INBOX_STATUSES", "CoordinatorMetrics", "outcome_for"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
INBOX_STATUSES = ("pending", "in_progress", "done", "dead")

_OUTCOMES = {
    400: "bad_request",
    401: "bad_signature",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_body",
}


def outcome_for(exc: BaseException) -> str:
    """The ``outcome`` label of a refused or failed delivery."""
    if isinstance(exc, MissingDeliveryKeyError):
        return "missing_key"
    return _OUTCOMES.get(status_for(exc), "error")


class CoordinatorMetrics:
    """The metrics of one coordinator; ``render()`` is the ``/metrics`` body."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "raw_webhook_deliveries",
            "Webhook requests by route and outcome.",
            ["route", "outcome"],
            registry=self.registry,
        )
        self.inbox_depth = Gauge(
            "raw_inbox_records",
            "Inbox records by status.",
            ["status"],
            registry=self.registry,
        )
        self.oldest_due = Gauge(
            "raw_inbox_oldest_due_seconds",
            "How long the oldest due pending inbox record has waited to be claimed.",
            registry=self.registry,
        )
        self.dispatch_latency = Histogram(
            "raw_dispatch_latency_seconds",
            "Time the dispatcher took to perform an inbox record's action.",
            ["route", "outcome"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "raw_dead_letters",
            "Inbox records dead-lettered after their last attempt.",
            ["route"],
            registry=self.registry,
        )
        self.oldest_pending = Gauge(
            "raw_inbox_oldest_pending_age_seconds",
            "Age of the oldest inbox record waiting to be dispatched (0: none waits).",
            registry=self.registry,
        )
        self.dispatched_last_minute = Gauge(
            "raw_inbox_dispatched_last_minute",
            "Inbox records done in the last minute, by every dispatcher.",
            registry=self.registry,
        )
        for status in INBOX_STATUSES:
            self.inbox_depth.labels(status=status).set(0)

    def delivery(self, route: str, outcome: str) -> None:
        self.deliveries.labels(route=route, outcome=outcome).inc()

    def observe_dispatch(self, route: str, outcome: str, seconds: float) -> None:
        """The dispatcher's ``on_dispatch`` hook: one action of ``route`` ended as ``outcome``."""
        self.dispatch_latency.labels(route=route, outcome=outcome).observe(seconds)
        if outcome == "dead":
            self.dead_letters.labels(route=route).inc()

    def set_inbox_depth(self, counts: Mapping[str, int]) -> None:
        for status in {*INBOX_STATUSES, *counts}:
            self.inbox_depth.labels(status=status).set(counts.get(status, 0))

    def set_oldest_due(self, seconds: float) -> None:
        self.oldest_due.set(max(seconds, 0.0))

    def set_inbox_flow(
        self, *, oldest_pending_age_seconds: float, dispatched_last_minute: int
    ) -> None:
        """What the database says at a scrape: the backlog's age and the dispatch rate."""
        self.oldest_pending.set(max(oldest_pending_age_seconds, 0.0))
        self.dispatched_last_minute.set(dispatched_last_minute)

    def render(self) -> bytes:
        return generate_latest(self.registry)
